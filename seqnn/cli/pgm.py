"""PGM images (``P2`` text or ``P5`` binary, 8- or 16-bit), parsed strictly and in bounded memory.

A truncated file, a bad header or a pixel above the header's maxval is a
:class:`~seqnn.datasets.DataFileError` naming the file. Header numbers are
limited to what can describe a real image, and a text raster is parsed a
slice at a time, so reading costs a few times the file's size at most.
"""
from __future__ import annotations

import re

import numpy as np

from ..datasets.errors import DataFileError

_GAP = re.compile(rb"(?:\s|#[^\n]*(?:\n|\Z))*")  # bytes patterns: \s and \d are ASCII only
_NUMBER = re.compile(rb"\d+")
_MAX_HEADER_DIGITS = 9  # a side of up to a billion pixels; int() of a longer run is slow and meaningless
_MAX_VALUE_DIGITS = 5  # pixel values are at most 65535 (a 16-bit PGM)
_P2_SLICE = 1 << 16
_SPACE = re.compile(rb"\s")


def read_pgm(path: str) -> np.ndarray:
    """A PGM image (P2 or P5) as uint8 (maxval < 256) or uint16, shape (height, width)."""
    with open(path, "rb") as f:
        blob = f.read()
    magic = blob[:2]
    if magic not in (b"P2", b"P5"):
        raise DataFileError(path, f"not a PGM image (expected magic P2 or P5, got {magic!r})")
    fields, pos = [], 2
    for field in ("width", "height", "maxval"):
        pos = _GAP.match(blob, pos).end()  # whitespace, and '#' comments up to the end of the line
        number = _NUMBER.match(blob, pos)
        if number is None:
            raise DataFileError(path, f"bad PGM header (expected the {field}, a decimal number, at byte {pos})")
        if len(number.group()) > _MAX_HEADER_DIGITS:
            raise DataFileError(path, f"bad PGM header: the {field} has {len(number.group())} digits")
        fields.append(int(number.group()))
        pos = number.end()
    width, height, maxval = fields
    if width <= 0 or height <= 0 or not 0 < maxval < 65536:
        raise DataFileError(path, f"bad PGM header: width {width}, height {height}, maxval {maxval}")
    count = width * height
    if magic == b"P5":
        if pos >= len(blob) or not blob[pos:pos + 1].isspace():
            raise DataFileError(path, "bad PGM header (no whitespace before the pixel data)")
        data = blob[pos + 1:]
        dtype = np.dtype(np.uint8) if maxval < 256 else np.dtype(">u2")
        need = count * dtype.itemsize
        if len(data) < need:
            raise DataFileError(path, f"truncated PGM: {width}x{height} needs {need} bytes of pixels, "
                                      f"found {len(data)}")
        pixels = np.frombuffer(data, dtype, count=count)
    else:
        pixels = _p2_values(blob, pos, count, f"{width}x{height}", path)
    if pixels.max(initial=0) > maxval:
        raise DataFileError(path, f"pixel values must be in 0..{maxval} (the header's maxval), got "
                                  f"{int(pixels.min())}..{int(pixels.max())}")
    return pixels.astype(np.uint8 if maxval < 256 else np.uint16).reshape(height, width)


def _p2_values(blob: bytes, pos: int, count: int, size: str, path: str) -> np.ndarray:
    """The first ``count`` whitespace-separated decimal values after ``pos``, parsed a slice at a time:
    splitting the whole raster at once costs a bytes object per value, twenty times the file."""
    room = max(0, (len(blob) - pos) // 2)  # every value takes a separator before it and a digit
    if count > room:
        raise DataFileError(path, f"truncated PGM: {size} needs {count} values, the file has room for {room}")
    values = np.empty(count, np.uint32)
    filled, start = 0, pos
    while filled < count and start < len(blob):
        end = min(len(blob), start + _P2_SLICE)
        if end < len(blob):  # never cut a value in two
            space = _SPACE.search(blob, end)
            end = space.start() if space else len(blob)
        tokens = blob[start:end].split()
        start = end
        if any(len(t) > _MAX_VALUE_DIGITS or not t.isdigit() for t in tokens):
            raise DataFileError(path, "a P2 PGM must hold whitespace-separated integers 0..65535")
        take = min(len(tokens), count - filled)
        values[filled:filled + take] = [int(t) for t in tokens[:take]]
        filled += take
    if filled < count:
        raise DataFileError(path, f"truncated PGM: {size} needs {count} values, found {filled}")
    return values
