"""JSON from files, parsed with limits so that no text can cost more than a ValueError.

``json.loads`` recurses once per nesting level and raises ``RecursionError``
at about a thousand; nesting below that still reaches code that walks the
result recursively. Files seqnn writes nest a few levels (a model config
inside a model config adds three), so anything deeper than
:data:`MAX_DEPTH` is refused, as are duplicate keys (which would hide one of
two values) and integers too long to convert.
"""
from __future__ import annotations

import json
from typing import Any

MAX_DEPTH = 64


def parse(text: str | bytes, what: str) -> Any:
    """The value in ``text``; a ValueError starts with ``what`` (e.g. "m.safetensors: metadata 'model_config'")."""
    try:
        value = json.loads(text, object_pairs_hook=_no_duplicates)
    except RecursionError:
        raise ValueError(f"{what}: nested too deeply to be a seqnn file (more than {MAX_DEPTH} levels)") from None
    except (UnicodeDecodeError, json.JSONDecodeError) as e:
        raise ValueError(f"{what}: not valid JSON ({type(e).__name__}: {e})") from None
    except (ValueError, TypeError) as e:  # duplicate keys, integers over Python's digit limit, non-text input
        raise ValueError(f"{what}: not valid JSON ({e})") from None
    depth = nesting_depth(value)
    if depth > MAX_DEPTH:
        raise ValueError(f"{what}: nested too deeply to be a seqnn file ({depth} levels; at most {MAX_DEPTH})")
    return value


def nesting_depth(value: Any) -> int:
    """How many lists and dicts deep ``value`` goes (0 for a number or a string), without recursing."""
    deepest, stack = 0, [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, dict):
            children = item.values()
        elif isinstance(item, list):
            children = item
        else:
            continue
        deepest = max(deepest, depth)
        if depth > MAX_DEPTH:
            break  # already too deep: the exact figure does not matter
        stack.extend((child, depth + 1) for child in children)
    return deepest


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict:
    out = dict(pairs)
    if len(out) != len(pairs):
        seen, duplicates = set(), []
        for key, _ in pairs:
            if key in seen:
                duplicates.append(key)
            seen.add(key)
        raise ValueError(f"duplicate keys {sorted(set(duplicates))[:5]}")
    return out
