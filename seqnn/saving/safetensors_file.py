"""Reading and writing one ``.safetensors`` file, with every failure turned into a clear ValueError.

A safetensors file is an 8-byte little-endian header length, a JSON header
(tensor names → dtype, shape, byte range; plus ``__metadata__``, a str→str
map) and the raw little-endian tensor bytes. Loading never executes code from
the file (no pickle, no eval).

The reader checks the whole header before it touches the data: every entry's
dtype, shape and byte range, that the ranges tile the data exactly, and that
each range holds ``prod(shape) * itemsize`` bytes. So a header can only
describe tensors that the file's own bytes hold: no declared size can make
the reader allocate more than the file is, and the arrays it returns are
read-only views of those bytes.
"""
from __future__ import annotations

import math
import os
import struct

import numpy as np

from . import json_text
from .atomic import atomic_write

# safetensors' own limit on the header (100 MB): a longer one is damage, not a model.
MAX_HEADER_BYTES = 100_000_000
# numpy's limit on dimensions.
MAX_DIMS = 64
DTYPES = {"F64": np.dtype("<f8"), "F32": np.dtype("<f4"), "F16": np.dtype("<f2"),
          "I64": np.dtype("<i8"), "I32": np.dtype("<i4"), "I16": np.dtype("<i2"), "I8": np.dtype("i1"),
          "U64": np.dtype("<u8"), "U32": np.dtype("<u4"), "U16": np.dtype("<u2"), "U8": np.dtype("u1"),
          "BOOL": np.dtype("?")}
_ENTRY_KEYS = {"dtype", "shape", "data_offsets"}
# What a file saved by Keras itself starts with: a ``.keras`` archive or a Keras 2 ``.h5`` file.
_OTHER_FORMATS = ((b"PK\x03\x04", "a Keras archive (zip)"),
                  (b"\x89HDF\r\n\x1a\n", "an HDF5 file (Keras's .h5 or .weights.h5)"))


def write(path: str | os.PathLike, tensors: dict[str, np.ndarray], metadata: dict[str, str]) -> None:
    """Write tensors and metadata to ``path`` atomically."""
    from safetensors.numpy import save

    data = save({k: np.ascontiguousarray(v) for k, v in tensors.items()}, metadata=metadata)
    atomic_write(path, lambda f: f.write(data))


def read(path: str | os.PathLike) -> tuple[dict[str, np.ndarray], dict[str, str]]:
    """(tensors, metadata) from ``path``; ValueError naming the file and the problem if it is not valid.

    The tensors are read-only views of the file's bytes; copy one to change it.
    """
    path = os.fspath(path)
    if not os.path.exists(path):
        raise FileNotFoundError(f"no such weights file: {path}")
    if os.path.isdir(path):
        raise ValueError(f"{path}: is a directory, not a safetensors file")
    with open(path, "rb") as f:
        raw = f.read()
    header, data_start = _header(raw, path)
    data = memoryview(raw)[data_start:]
    tensors = {}
    for name, (dtype, shape, begin, end) in header.items():
        tensors[name] = np.frombuffer(data[begin:end], dtype=dtype).reshape(shape)
    return tensors, header.metadata


class _Header(dict):
    """name → (dtype, shape, begin, end), with the file's ``__metadata__`` alongside."""

    metadata: dict[str, str]


def read_header(raw: bytes, path: str) -> dict:
    """The checked header of a file's bytes: name → (dtype, shape, begin, end); ``.metadata`` the map."""
    return _header(raw, path)[0]


def _header(raw: bytes, path: str) -> tuple[_Header, int]:
    for magic, what in _OTHER_FORMATS:
        if raw.startswith(magic):
            raise ValueError(f"{path}: {what}, not a safetensors file; seqnn reads the safetensors files it "
                             "writes (whatever their name), not Keras's own formats")
    if len(raw) < 8:
        raise ValueError(f"{path}: truncated file ({len(raw)} bytes): not a safetensors file")
    (length,) = struct.unpack("<Q", raw[:8])
    if length > len(raw) - 8:
        raise ValueError(f"{path}: truncated or not a safetensors file: header length {length} exceeds the "
                         f"{len(raw) - 8} bytes that follow")
    if length > MAX_HEADER_BYTES:
        raise ValueError(f"{path}: not a safetensors file: header length {length} is over the format's limit "
                         f"of {MAX_HEADER_BYTES} bytes")
    try:
        text = raw[8:8 + length].decode("utf-8")
    except UnicodeDecodeError as e:
        raise ValueError(f"{path}: corrupt safetensors header (UnicodeDecodeError: {e})") from None
    parsed = json_text.parse(text, f"{path}: corrupt safetensors header")
    if not isinstance(parsed, dict):
        raise ValueError(f"{path}: corrupt safetensors header (not a JSON object but {type(parsed).__name__})")
    header = _Header()
    header.metadata = _metadata(parsed.pop("__metadata__", {}), path)
    data_size = len(raw) - 8 - length
    for name, info in parsed.items():
        header[name] = _entry(name, info, path)
    _check_tiling(header, data_size, len(raw), 8 + length, path)
    return header, 8 + length


def _metadata(metadata, path: str) -> dict[str, str]:
    if not isinstance(metadata, dict) or not all(isinstance(v, str) for v in metadata.values()):
        raise ValueError(f"{path}: corrupt safetensors header (__metadata__ must map strings to strings)")
    return metadata


def _entry(name: str, info, path: str) -> tuple[np.dtype, tuple[int, ...], int, int]:
    where = f"{path}: corrupt safetensors header entry {name!r}"
    if not isinstance(info, dict) or set(info) != _ENTRY_KEYS:
        got = sorted(info) if isinstance(info, dict) else type(info).__name__
        raise ValueError(f"{where}: expected the keys {sorted(_ENTRY_KEYS)}, got {got}")
    dtype = info["dtype"]
    if not isinstance(dtype, str) or dtype not in DTYPES:
        raise ValueError(f"{where}: dtype {dtype!r} is not one seqnn reads ({', '.join(DTYPES)})")
    shape = info["shape"]
    if (not isinstance(shape, list) or len(shape) > MAX_DIMS
            or not all(_is_count(d) for d in shape)):
        raise ValueError(f"{where}: shape must be a list of at most {MAX_DIMS} non-negative integers, "
                         f"got {_short(shape)}")
    offsets = info["data_offsets"]
    if not isinstance(offsets, list) or len(offsets) != 2 or not all(_is_count(o) for o in offsets) \
            or offsets[0] > offsets[1]:
        raise ValueError(f"{where}: data_offsets must be [begin, end] with 0 <= begin <= end, "
                         f"got {_short(offsets)}")
    begin, end = offsets
    # Python integers: a product of huge dimensions cannot overflow here.
    needed = math.prod(shape) * DTYPES[dtype].itemsize
    if needed != end - begin:
        raise ValueError(f"{where}: shape {shape} of {dtype} takes {needed} bytes but data_offsets "
                         f"[{begin}, {end}] hold {end - begin}")
    return DTYPES[dtype], tuple(shape), begin, end


def _check_tiling(header: _Header, data_size: int, file_size: int, data_start: int, path: str) -> None:
    """The byte ranges must follow one another from 0 to the end of the file, as the format requires."""
    position = 0
    for name, (_, _, begin, end) in sorted(header.items(), key=lambda item: (item[1][2], item[1][3])):
        if begin != position:
            what = "overlaps the previous tensor" if begin < position else f"leaves a gap at byte {position}"
            raise ValueError(f"{path}: corrupt safetensors header: tensor {name!r} at data_offsets "
                             f"[{begin}, {end}] {what}")
        position = end
    if position > data_size:
        raise ValueError(f"{path}: truncated file: tensor data ends at byte {data_start + position}, "
                         f"file has {file_size} bytes")
    if position < data_size:
        raise ValueError(f"{path}: corrupt safetensors file: {data_size - position} bytes after the last tensor")


def _is_count(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0


def _short(value) -> str:
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."

