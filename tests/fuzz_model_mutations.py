"""Mutations of model, weights and backup files for the fuzz suite.

Blind byte edits (from :mod:`fuzz_mutations`) find what nobody thought of;
the edits here know the safetensors layout and get past its checks to the
code behind them: the tensor entries (dtype, shape, ``data_offsets``, huge
declared sizes), headers spliced from two files, and the JSON documents in
the metadata (``model_config``, ``compile_config``, ``training_state``),
whose values, types, keys and nesting are changed while the file stays a
valid safetensors file. Every function takes a ``random.Random``, so a case
is reproduced from its seed alone.
"""
import copy
import json
import math
import struct

import fuzz_mutations as M

METADATA_DOCUMENTS = ("model_config", "compile_config", "training_state")
DTYPES = ["F32", "F64", "F16", "I64", "I32", "U8", "BOOL", "BF16", "F8_E4M3", "X", "", 32]
HUGE = [2**31, 2**32, 2**53, 2**62, 2**63 - 1, 2**63, 2**64, 2**64 + 1, 10**18, 10**40, 10**300]
NASTY = [None, True, False, 0, 1, -1, 2, 3, 7, 0.5, -0.0, 1e-300, 1e308, float("inf"), float("-inf"), float("nan"),
         *HUGE, -2**63, "", "x", "1", "0.1", "None", "null", "auto", "numpy", "metal", "float16", "float64",
         "__class__", "__init__", "__dict__", "layers.0.kernel", "optimizer.step", "metrics.0.total",
         "Dense", "Sequential", "InputLayer", "Conv2D", "Dropout", "BatchNormalization", "Flatten", "Reshape",
         "Adam", "SGD", "mse", "accuracy", "relu", "softmax", "glorot_uniform", "l2", "EarlyStopping",
         "PCG64", "splitmix64", "\u0000", "\ud800", "a" * 300, [], {}, [0], [[]], [None], [2**64], [-1, -1],
         {"class_name": "Dense"}, {"class_name": "Dense", "config": {"units": 10**9}}, {"class_name": 5},
         {"class_name": "Sequential", "config": {"layers": []}}]


# ------------------------------------------------------------------ the file's parts ---
def parts(data: bytes) -> tuple[dict, bytes] | None:
    """(header, tensor bytes) of a file whose header still parses as a JSON object, else None."""
    if len(data) < 8:
        return None
    (length,) = struct.unpack("<Q", data[:8])
    try:
        header = json.loads(data[8:8 + length])
    except (ValueError, RecursionError):
        return None
    return (header, data[8 + length:]) if isinstance(header, dict) else None


def assemble(header: dict, tensor_bytes: bytes, rng=None) -> bytes:
    text = json.dumps(header, separators=(",", ":")).encode("utf-8", "surrogatepass")
    if rng is not None and rng.random() < 0.1:
        text += b" " * rng.randrange(8)  # the format pads headers with spaces
    return struct.pack("<Q", len(text)) + text + tensor_bytes


# ------------------------------------------------------------------ JSON documents ---
def nasty_value(rng, depth: int = 0):
    """A value from the list above, or a small random structure of them."""
    r = rng.random()
    if r < 0.7 or depth > 2:
        return copy.deepcopy(rng.choice(NASTY))  # a copy: later edits must not change the list, or loop
    if r < 0.85:
        return [nasty_value(rng, depth + 1) for _ in range(rng.randint(0, 3))]
    return {rng.choice(["name", "units", "config", "class_name", "x", "", "shape", "epoch"]): nasty_value(rng, depth + 1)
            for _ in range(rng.randint(0, 3))}


def _nodes(document) -> list[tuple]:
    """Every (container, key) in a JSON document, found without recursion."""
    out, stack = [], [document]
    while stack:
        node = stack.pop()
        items = node.items() if isinstance(node, dict) else enumerate(node) if isinstance(node, list) else ()
        for key, value in items:
            out.append((node, key))
            if isinstance(value, (dict, list)):
                stack.append(value)
    return out


def edit_json(document, rng):
    """The document with one value changed, removed, added, retyped, renamed, moved or nested deeper."""
    nodes = _nodes(document)
    if not nodes:
        return nasty_value(rng)
    container, key = rng.choice(nodes)
    value = container[key]
    op = rng.randrange(10)
    if op == 0:
        container[key] = nasty_value(rng)
    elif op == 1:
        del container[key]
    elif op == 2:
        if isinstance(container, dict):
            container[rng.choice(["extra", "name", "units", "_x", key + "_"])] = nasty_value(rng)
        else:
            container.insert(rng.randrange(len(container) + 1), nasty_value(rng))
    elif op == 3 and isinstance(container, list):
        container.insert(rng.randrange(len(container) + 1), json.loads(json.dumps(value)))
    elif op == 4:  # a number nudged or blown up
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            container[key] = rng.choice([-value, value + 1, value - 1, value * 10**9, value * 2**64, 2**63 - value,
                                         float(value), int(value) if math.isfinite(value) and abs(value) < 1e300 else 0])
        else:
            container[key] = rng.choice([0, -1, 2**64])
    elif op == 5:  # the type changed
        container[key] = rng.choice([str(value), [value], {"value": value}, None, bool(value) if not
                                     isinstance(value, (dict, list)) else len(value)])
    elif op == 6 and isinstance(container, dict):  # a key misspelt
        container[rng.choice([key.upper(), key[:-1], key + "s", "_" + key])] = container.pop(key)
    elif op == 7:  # nested deeper, sometimes far deeper than a file needs
        depth = rng.choice([1, 2, 10, 63, 64, 65, 100, 500])  # deeper still: the raw texts in edit_metadata
        for _ in range(depth):
            value = [value] if rng.random() < 0.5 else {"v": value}
        container[key] = value
    elif op == 8 and isinstance(container, list) and len(container) > 1:
        i, j = rng.randrange(len(container)), rng.randrange(len(container))
        container[i], container[j] = container[j], container[i]
    else:  # another part of the document copied here
        other_container, other_key = rng.choice(nodes)
        container[key] = json.loads(json.dumps(other_container[other_key]))
    return document


def edit_metadata(data: bytes, rng) -> bytes:
    """Change one metadata JSON document (or its raw text) while the file stays valid safetensors."""
    split = parts(data)
    if split is None:
        return M.blind(data, rng)
    header, tensor_bytes = split
    metadata = header.get("__metadata__")
    if not isinstance(metadata, dict) or not metadata:
        return M.blind(data, rng)
    key = rng.choice([k for k in METADATA_DOCUMENTS if k in metadata] or list(metadata))
    text = metadata[key]
    if not isinstance(text, str):
        return M.blind(data, rng)
    r = rng.random()
    if r < 0.8:
        try:
            document = json.loads(text)
            for _ in range(rng.choice([1, 1, 1, 2, 3])):
                document = edit_json(document, rng)
            text = json.dumps(document)
        except ValueError:
            text = json.dumps(nasty_value(rng))
        except RecursionError:  # nested deeper than json.dumps goes: the text is deep enough as it is
            text = "[" * 2000 + "]" * 2000
    elif r < 0.9:  # the JSON text itself damaged
        text = M.blind(text.encode(), rng).decode("utf-8", "replace")
    else:
        text = rng.choice(["", "{", "[" * 100_000, "1e999999", "1" * 5000, "NaN", "null", "\"x\"", "[]", "{}"])
    if rng.random() < 0.05:
        metadata.pop(key)
        metadata[rng.choice(["format", "seqnn_version", "x"])] = text
    else:
        metadata[key] = text
    if rng.random() < 0.05:
        metadata["format"] = rng.choice(["keras", "", "SEQNN"])
    return assemble(header, tensor_bytes, rng)


# ------------------------------------------------------------------ tensor entries ---
def edit_tensor_entry(data: bytes, rng) -> bytes:
    """Lie about one tensor: its dtype, shape (up to sizes no memory holds), offsets, name; or add one."""
    split = parts(data)
    if split is None:
        return M.blind(data, rng)
    header, tensor_bytes = split
    names = [k for k in header if k != "__metadata__"]
    if not names:
        header["layers.0.kernel"] = {"dtype": "F32", "shape": [rng.choice(HUGE), 4], "data_offsets": [0, 0]}
        return assemble(header, tensor_bytes)
    name = rng.choice(names)
    entry = header[name]
    if not isinstance(entry, dict):
        header[name] = nasty_value(rng)
        return assemble(header, tensor_bytes)
    op = rng.randrange(9)
    if op == 0:
        entry["dtype"] = rng.choice(DTYPES)
    elif op == 1 and isinstance(entry.get("shape"), list):
        shape = entry["shape"]
        if shape and rng.random() < 0.7:
            shape[rng.randrange(len(shape))] = rng.choice(HUGE + [0, -1, 1, "4", 2.0, None])
        else:
            entry["shape"] = rng.choice([[], [0], [rng.choice(HUGE)] * rng.randint(1, 4), [1] * 65, "x"])
    elif op == 2 and isinstance(entry.get("data_offsets"), list) and len(entry["data_offsets"]) == 2:
        begin, end = entry["data_offsets"]
        entry["data_offsets"] = rng.choice([[end, begin], [begin, end + rng.choice([1, 4, 2**64])],
                                            [begin - 4, end - 4], [0, rng.choice(HUGE)], [begin], [begin, end, 0],
                                            [str(begin), end], [begin, float(end)], [-1, end]])
    elif op == 3:  # a shape and range consistent with each other and huge: the file cannot hold it
        size = rng.choice(HUGE)
        entry.update(dtype="F32", shape=[size], data_offsets=[0, 4 * size])
    elif op == 4:
        entry.pop(rng.choice(["dtype", "shape", "data_offsets"]))
    elif op == 5:
        entry[rng.choice(["extra", "DTYPE"])] = 1
    elif op == 6:  # renamed: to another tensor's name's neighbour, or a path into the model's attributes
        header[rng.choice(["layers.9.kernel", "layers.0.kernel.x", "optimizer.m.layers.0.kernel", "metrics.0.total",
                           "callbacks.0.best_weights.0", "layers.-1.bias", "layers.00.bias", "__metadata__x",
                           name + "_", name.upper()])] = header.pop(name)
    elif op == 7 and len(names) > 1:  # two tensors swap places
        other = rng.choice(names)
        header[name], header[other] = header[other], header[name]
    else:  # a second entry over the same bytes
        header[name + ".copy"] = json.loads(json.dumps(entry))
    return assemble(header, tensor_bytes, rng)


def splice_headers(data: bytes, other: bytes, rng) -> bytes:
    """One file's header with another's tensor bytes, or some of another's entries and metadata."""
    a, b = parts(data), parts(other)
    if a is None or b is None:
        return M.splice(data, other, rng)
    (header_a, bytes_a), (header_b, bytes_b) = a, b
    op = rng.randrange(3)
    if op == 0:
        return assemble(header_a, bytes_b)
    if op == 1:
        for key in rng.sample(sorted(header_b), k=min(len(header_b), rng.randint(1, 3))):
            header_a[key] = header_b[key]
        return assemble(header_a, bytes_a)
    metadata_a, metadata_b = header_a.get("__metadata__"), header_b.get("__metadata__")
    if isinstance(metadata_a, dict) and isinstance(metadata_b, dict) and metadata_b:
        key = rng.choice(sorted(metadata_b))
        metadata_a[key] = metadata_b[key]
    return assemble(header_a, bytes_a)


def mutate(data: bytes, rng, seeds) -> bytes:
    """One case: mostly format-aware edits, some blind ones, now and then both."""
    r = rng.random()
    if r < 0.45:
        data = edit_metadata(data, rng)
    elif r < 0.65:
        data = edit_tensor_entry(data, rng)
    elif r < 0.75:
        data = splice_headers(data, rng.choice(seeds), rng)
    elif r < 0.8:
        data = M.splice(data, rng.choice(seeds), rng)
    else:
        data = M.blind(data, rng)
    if rng.random() < 0.1:
        data = M.blind(data, rng, count=1)
    return data
