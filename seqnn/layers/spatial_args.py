"""Argument checks and shape arithmetic shared by the convolution, pooling and padding layers.

Every spatial layer works on channels-last inputs (batch, *spatial, channels)
and hands the backend 2-D geometry; a 1-D layer is the 2-D one with a height
of 1 (so its strides, dilation and padding get a leading 1 / (0, 0)).
Padding follows Keras: "valid" adds nothing; "same" gives ceil(size/stride)
outputs with the total padding max((out − 1)·stride + extent − size, 0) split
as total//2 before and the rest after (TensorFlow's rule); "causal" (Conv1D)
puts extent − 1 before, nothing after. extent = dilation·(kernel − 1) + 1.
A transposed convolution's output size follows Keras 3 (see
:func:`transpose_geometry`).
"""
from __future__ import annotations

from typing import Any, Sequence


def normalize_tuple(value: Any, rank: int, name: str, owner: str, minimum: int = 1) -> tuple:
    """An int or a sequence of ``rank`` ints (each >= minimum) as a tuple."""
    if isinstance(value, bool):
        raise TypeError(f"{owner} {name} must be an int or a tuple of {rank} ints, got {value!r}")
    if isinstance(value, int):
        values = (value,) * rank
    else:
        try:
            values = tuple(value)
        except TypeError:
            raise TypeError(f"{owner} {name} must be an int or a tuple of {rank} ints, got {value!r}") from None
    if (len(values) != rank
            or any(isinstance(v, bool) or not isinstance(v, int) or v < minimum for v in values)):
        raise ValueError(f"{owner} {name} must be an int or a tuple of {rank} ints >= {minimum}, got {value!r}")
    return values


def normalize_padding(value: Any, owner: str, allowed: Sequence[str] = ("valid", "same")) -> str:
    mode = value.lower() if isinstance(value, str) else value
    if mode not in allowed:
        raise ValueError(f"{owner} padding must be one of {', '.join(repr(a) for a in allowed)}, got {value!r}")
    return mode


def check_data_format(value: Any, owner: str) -> str:
    """Only channels-last layouts exist in seqnn (Keras's default)."""
    if value not in (None, "channels_last"):
        raise ValueError(f"{owner} data_format must be 'channels_last' (or None), got {value!r}; "
                         "seqnn images are (batch, height, width, channels)")
    return "channels_last"


def check_input_shape(input_shape: tuple, rank: int, owner: str) -> None:
    """Inputs of rank ``rank`` + 2 with known spatial sizes and channels."""
    names = {1: "(batch, steps, channels)", 2: "(batch, height, width, channels)"}[rank]
    if len(input_shape) != rank + 2:
        raise ValueError(f"{owner} expects inputs of rank {rank + 2} {names}, got shape {tuple(input_shape)}")
    if any(d is None or d < 1 for d in input_shape[1:]):
        raise ValueError(f"{owner} needs known, positive sizes {names}, got shape {tuple(input_shape)}")


def axis_padding(size: int, kernel: int, stride: int, dilation: int, mode: str) -> tuple[int, int]:
    """(before, after) padding of one axis for "valid", "same" or "causal"."""
    extent = dilation * (kernel - 1) + 1
    if mode == "valid":
        return (0, 0)
    if mode == "causal":
        return (extent - 1, 0)
    out = -(-size // stride)
    total = max((out - 1) * stride + extent - size, 0)
    return (total // 2, total - total // 2)


def spatial_geometry(owner: str, sizes: Sequence[int], kernel: Sequence[int], strides: Sequence[int],
                     dilation: Sequence[int], mode: str, what: str = "kernel_size"):
    """Padding pairs and output sizes per axis; a window that does not fit raises ValueError."""
    padding, out = [], []
    for size, k, s, d in zip(sizes, kernel, strides, dilation):
        before, after = axis_padding(size, k, s, d, mode)
        extent = d * (k - 1) + 1
        if size + before + after < extent:
            dilated = f" (dilated to {tuple(d * (k - 1) + 1 for k, d in zip(kernel, dilation))})" \
                if any(d > 1 for d in dilation) else ""
            raise ValueError(f"{owner} {what} {tuple(kernel)}{dilated} is larger than the input "
                             f"{tuple(sizes)} with padding={mode!r}; use padding='same' or a smaller {what}")
        padding.append((before, after))
        out.append((size + before + after - extent) // s + 1)
    return tuple(padding), tuple(out)


def transpose_geometry(owner: str, sizes: Sequence[int], kernel: Sequence[int], strides: Sequence[int],
                       dilation: Sequence[int], mode: str, output_padding: Sequence[int] | None):
    """Output sizes of a transposed convolution and the padding of the convolution it is the adjoint of.

    Per axis, with e = dilation·(kernel − 1) + 1 and op the output padding,
    the output size is Keras 3's:

    * "valid": (size − 1)·stride + e + op, op defaulting to max(e, stride) − e;
    * "same": size·stride without ``output_padding``, else (size − 1)·stride + e mod 2 + op.

    Keras (its JAX and numpy backends) pads the stride-dilated input by
    (left, right) and correlates it with the flipped kernel: "valid" has
    left = e − 1, right = e − 1 + op; "same" has a total p = stride + e − 2
    (p = e + e mod 2 − 2 + op with ``output_padding``), left = min(⌈p/2⌉, e − 1)
    and right = p − left. Output row o then receives input row i through kernel
    tap a where o = i·stride + a·dilation − before, before = e − 1 − left: the
    transposed convolution is the input gradient of a convolution of the
    output-sized image padded by (before, e − 1 − right). That after-padding is
    negative when the last output rows receive no input (output_padding, or a
    stride larger than the kernel); they stay zero, and the convolution reads
    them with after = 0 and still has ``size`` outputs because −after < stride.

    Returns (padding pairs, output sizes); an output size below 1 raises ValueError.
    """
    padding, out = [], []
    for axis, (size, k, s, d) in enumerate(zip(sizes, kernel, strides, dilation)):
        e = d * (k - 1) + 1
        op = None if output_padding is None else output_padding[axis]
        if mode == "valid":
            left = e - 1
            right = e - 1 + (max(e, s) - e if op is None else op)
        else:
            total = s + e - 2 if op is None else e + e % 2 - 2 + op
            left = min(total // 2 + total % 2, e - 1)
            right = total - left
        size_out = (size - 1) * s + left + right - e + 2
        if size_out < 1:
            raise ValueError(f"{owner} output would be empty: input sizes {tuple(sizes)} with kernel_size "
                             f"{tuple(kernel)}, strides {tuple(strides)}, padding={mode!r} and output_padding "
                             f"{output_padding} give {size_out} along axis {axis + 1}")
        after = e - 1 - right
        assert -after < s, "output_padding < strides keeps the unreached output rows under one stride"
        padding.append((e - 1 - left, max(after, 0)))
        out.append(size_out)
    return tuple(padding), tuple(out)


def margin_pair(value: Any, owner: str, name: str, what: str) -> tuple[int, int]:
    """An int (both sides) or a (before, after) pair of non-negative ints."""
    if isinstance(value, int) and not isinstance(value, bool):
        pair = (value, value)
    else:
        try:
            pair = tuple(value)
        except TypeError:
            pair = ()
    if len(pair) != 2 or any(isinstance(v, bool) or not isinstance(v, int) or v < 0 for v in pair):
        raise ValueError(f"{owner} {name} for {what} must be an int or a (before, after) pair of "
                         f"non-negative ints, got {value!r}")
    return pair


def margins_2d(value: Any, owner: str, name: str) -> tuple[tuple[int, int], tuple[int, int]]:
    """Keras's 2-D padding / cropping amounts: an int (all four sides), (rows, cols) applied
    symmetrically, or ((top, bottom), (left, right))."""
    if isinstance(value, int) and not isinstance(value, bool):
        value = (value, value)
    try:
        rows, cols = value
    except (TypeError, ValueError):
        raise ValueError(f"{owner} {name} must be an int, (rows, cols) or ((top, bottom), (left, right)), "
                         f"got {value!r}") from None
    return margin_pair(rows, owner, name, "rows"), margin_pair(cols, owner, name, "columns")


def as_2d(rank: int, values: tuple, fill):
    """A 1-D layer's per-axis values with the height axis's ``fill`` in front."""
    return (fill, *values) if rank == 1 else tuple(values)


def as_image(rank: int, a):
    """A 1-D layer's (batch, steps, channels) array as a (batch, 1, steps, channels) view; 2-D arrays unchanged."""
    return a.reshape(a.shape[0], 1, *a.shape[1:]) if rank == 1 else a

