"""Text for ``Sequential.summary()``, laid out as Keras 3 prints it.

One boxed row per layer (no InputLayer row), long cells wrapped onto more
lines, then the parameter counts with their size in memory::

    Model: "sequential"
    ┏━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━┳━━━━━━━━━━━━━━━━━━━━━━━━┳━━━━━━━━━━━━━━━┓
    ┃ Layer (type)                    ┃ Output Shape           ┃       Param # ┃
    ┡━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━╇━━━━━━━━━━━━━━━━━━━━━━━━╇━━━━━━━━━━━━━━━┩
    │ dense (Dense)                   │ (None, 64)             │         4,160 │
    └─────────────────────────────────┴────────────────────────┴───────────────┘
     Total params: 4,160 (16.25 KB)
     Trainable params: 4,160 (16.25 KB)
     Non-trainable params: 0 (0.00 B)

Keras draws this with ``rich``; seqnn draws the same characters itself.
"""
from __future__ import annotations

import math
import shutil
import textwrap

import numpy as np

_POSITIONS = (0.45, 0.80, 1.0)  # Keras's column boundaries, as fractions of the line
_HEADER = ("Layer (type)", "Output Shape", "Param #")


def default_line_length() -> int:
    """Keras's default: 88 columns, narrower on a narrower terminal (80 when not a terminal → 76)."""
    return min(88, shutil.get_terminal_size().columns - 4)


def _cell_widths(line_length: int) -> list[int]:
    """Text widths of the three cells; borders and a space each side fill the rest of the line."""
    first, second = (int(p * line_length) for p in _POSITIONS[:2])
    # 4 borders and a space each side of each cell: the widths add up to line_length - 10.
    widths = [first - 3, second - first - 4, line_length - second - 3]
    if min(widths) < 4:
        raise ValueError(f"summary: line_length={line_length} is too narrow; use at least 40")
    return widths


# (left, middle, right, fill) of each rule, and the cell borders, as Keras (rich) draws them.
_BOXES = {"top": ("┏", "┳", "┓", "━"), "header": "┃", "below_header": ("┡", "╇", "┩", "━"),
          "between": ("├", "┼", "┤", "─"), "cell": "│", "bottom": ("└", "┴", "┘", "─")}
_ASCII = {"top": ("+", "+", "+", "="), "header": "|", "below_header": ("+", "+", "+", "="),
          "between": ("+", "+", "+", "-"), "cell": "|", "bottom": ("+", "+", "+", "-")}


def _rule(widths: list[int], left: str, middle: str, right: str, fill: str) -> str:
    return left + middle.join(fill * (w + 2) for w in widths) + right


def _row(cells: list[str], widths: list[int], border: str, right_aligned: tuple = (2,)) -> list[str]:
    wrapped = [textwrap.wrap(cell, w, break_on_hyphens=False) or [""] for cell, w in zip(cells, widths)]
    lines = []
    for i in range(max(len(w) for w in wrapped)):
        parts = []
        for column, (cell_lines, w) in enumerate(zip(wrapped, widths)):
            text = cell_lines[i] if i < len(cell_lines) else ""
            parts.append(text.rjust(w) if column in right_aligned else text.ljust(w))
        lines.append(border + border.join(f" {p} " for p in parts) + border)
    return lines


def _shape(layer) -> str:
    return str(tuple(layer.output_shape)).replace(",)", ")") if layer.built else "?"


def _params(layer) -> str:
    return f"{layer.count_params():,}" if layer.built else "0 (unbuilt)"


def readable_size(num_bytes: float) -> str:
    """1024-based, two decimals, as Keras: "0.00 B", "16.25 KB", "1.27 MB"."""
    for unit in ("B", "KB", "MB", "GB", "TB"):
        if num_bytes < 1024 or unit == "TB":
            return f"{num_bytes:.2f} {unit}"
        num_bytes /= 1024


def _count_and_size(arrays) -> tuple[int, int]:
    arrays = list(arrays)
    count = sum(math.prod(a.shape) for a in arrays)
    return count, sum(math.prod(a.shape) * np.dtype(a.dtype).itemsize for a in arrays)


def can_draw_boxes(stream) -> bool:
    """Whether ``stream`` can print the box-drawing characters (not a cp1252 Windows pipe, say)."""
    try:
        # A stream without an encoding (StringIO, doctest's) stores text as it is.
        "┏━┃│┡╇┩├┼┤└┴┘".encode(getattr(stream, "encoding", None) or "utf-8")
    except (UnicodeEncodeError, LookupError):
        return False
    return True


def format_summary(model, line_length: int | None = None, boxes: bool = True) -> str:
    """The summary text; ``boxes=False`` draws the table with ASCII characters instead."""
    b = _BOXES if boxes else _ASCII
    widths = _cell_widths(line_length or default_line_length())
    lines = [f'Model: "{model.name}"', _rule(widths, *b["top"])]
    lines += _row(list(_HEADER), widths, b["header"])
    lines.append(_rule(widths, *b["below_header"]))
    for i, layer in enumerate(model.layers):
        if i:
            lines.append(_rule(widths, *b["between"]))
        lines += _row([f"{layer.name} ({type(layer).__name__})", _shape(layer), _params(layer)], widths, b["cell"])
    lines.append(_rule(widths, *b["bottom"]))

    built = [layer for layer in model.layers if layer.built]
    every = [layer.params[key] for layer in built for key in layer.params]
    trainable = [layer.params[key] for layer in built for key in layer.trainable_names] if model.trainable else []
    total_count, total_size = _count_and_size(every)
    trainable_count, trainable_size = _count_and_size(trainable)
    counts = [("Trainable params", trainable_count, trainable_size),
              ("Non-trainable params", total_count - trainable_count, total_size - trainable_size)]
    optimizer = getattr(model, "optimizer", None) if model.compiled else None
    if optimizer is not None and optimizer.built:
        optimizer_count, optimizer_size = _count_and_size(optimizer.variables().values())
        counts.append(("Optimizer params", optimizer_count, optimizer_size))
        total_count, total_size = total_count + optimizer_count, total_size + optimizer_size
    lines += [f" {label}: {count:,} ({readable_size(size)})"
              for label, count, size in [("Total params", total_count, total_size), *counts]]
    return "\n".join(lines)
