"""Reading IDX files (the MNIST format), gzip-compressed or raw, strictly and in bounded memory.

An IDX file is a 4-byte magic (two zero bytes, a type code, the number of
dimensions), one big-endian uint32 per dimension, then the values. A file
whose size does not match its header is an error, never a short array. The
declared size is checked against what the file can hold before anything is
allocated, and the values are decompressed straight into the returned array
(see :mod:`.file_content`).
"""
from __future__ import annotations

import math
import os

import numpy as np

from .declared_shapes import beyond_numpy
from .errors import DataFileError
from .file_content import FileContent

_TYPES = {0x08: np.dtype(np.uint8), 0x09: np.dtype(np.int8), 0x0B: np.dtype(">i2"),
          0x0C: np.dtype(">i4"), 0x0D: np.dtype(">f4"), 0x0E: np.dtype(">f8")}


def read_idx(path: str | os.PathLike) -> np.ndarray:
    """The array stored in an IDX file (``.gz`` or raw); :class:`DataFileError` if it is not a valid one."""
    with FileContent.open(path) as content:
        return read_idx_content(content)


def parse_idx(raw: bytes, name: str = "<bytes>") -> np.ndarray:
    """The array in IDX bytes (gzip or raw) already in memory; ``name`` labels the errors."""
    with FileContent.of_bytes(raw, name) as content:
        return read_idx_content(content)


def read_idx_content(content: FileContent) -> np.ndarray:
    """The array in an open :class:`FileContent`, which must end where the array does."""
    name = content.path
    magic = content.read(4)
    if len(magic) < 4 or magic[0] != 0 or magic[1] != 0 or magic[2] not in _TYPES or magic[3] == 0:
        raise DataFileError(name, f"not an IDX file (bad magic number {magic.hex() or 'empty'})")
    dtype, ndim = _TYPES[magic[2]], magic[3]
    header = 4 + 4 * ndim
    dims = content.read(4 * ndim)
    if len(dims) < 4 * ndim:
        raise DataFileError(name, f"truncated IDX header ({4 + len(dims)} bytes, need {header})")
    shape = tuple(int.from_bytes(dims[i:i + 4], "big") for i in range(0, 4 * ndim, 4))
    declared = header + math.prod(shape) * dtype.itemsize  # Python ints: no overflow, whatever the header says
    if declared > content.max_size:
        raise DataFileError(name, _too_big(shape, declared, content))
    if beyond_numpy(shape, dtype.itemsize):  # an empty array numpy still refuses: (0, 2**32-1, 2**32-1, ...)
        raise DataFileError(name, f"header says shape {shape}: more than numpy can index")
    data = content.read_up_to(declared - header)
    if len(data) < declared - header:
        raise DataFileError(name, f"IDX data truncated: header says shape {shape} ({declared} bytes), "
                                  f"the {'decompressed ' if content.compressed else ''}data has "
                                  f"{header + len(data)} bytes")
    if not content.at_end():
        raise DataFileError(name, f"IDX data has trailing bytes: header says shape {shape} ({declared} bytes), "
                                  "the data goes on beyond that")
    array = data.view(dtype).reshape(shape)  # the buffer itself: no copy
    if dtype.itemsize > 1:
        array = array.byteswap(inplace=True).view(dtype.newbyteorder("="))  # in place: no second copy
    return array


def _too_big(shape: tuple, declared: int, content: FileContent) -> str:
    if content.compressed:
        return (f"header says shape {shape} ({declared} bytes), but {content.file_size} bytes of gzip data can "
                f"hold at most {content.max_size}")
    return f"IDX data truncated: header says shape {shape} ({declared} bytes), file has {content.file_size} bytes"
