"""Reading and writing one ``.safetensors`` file, with every failure turned into a clear ValueError.

A safetensors file is an 8-byte little-endian header length, a JSON header
(tensor names → dtype, shape, byte range; plus ``__metadata__``, a str→str
map) and the raw little-endian tensor bytes. Loading never executes code from
the file (no pickle, no eval).
"""
from __future__ import annotations

import json
import os
import struct

import numpy as np

from .atomic import atomic_write



def write(path: str | os.PathLike, tensors: dict[str, np.ndarray], metadata: dict[str, str]) -> None:
    """Write tensors and metadata to ``path`` atomically."""
    from safetensors.numpy import save

    data = save({k: np.ascontiguousarray(v) for k, v in tensors.items()}, metadata=metadata)
    atomic_write(path, lambda f: f.write(data))


def read(path: str | os.PathLike) -> tuple[dict[str, np.ndarray], dict[str, str]]:
    """(tensors, metadata) from ``path``; ValueError naming the problem if it is not a valid file."""
    path = os.fspath(path)
    if not os.path.exists(path):
        raise FileNotFoundError(f"no such weights file: {path}")
    with open(path, "rb") as f:
        raw = f.read()
    header = read_header(raw, path)
    from safetensors import SafetensorError
    from safetensors.numpy import load

    try:
        tensors = load(raw)
    except (SafetensorError, ValueError, TypeError) as e:
        raise ValueError(f"{path}: not a valid safetensors file ({e})") from None
    return tensors, header.get("__metadata__") or {}


# What a file saved by Keras itself starts with: a ``.keras`` archive or a Keras 2 ``.h5`` file.
_OTHER_FORMATS = ((b"PK\x03\x04", "a Keras archive (zip)"), (b"\x89HDF\r\n\x1a\n", "an HDF5 file (Keras's .h5 or .weights.h5)"))


def read_header(raw: bytes, path: str) -> dict:
    """The JSON header, checked for the damage a crash or another tool can cause."""
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
    try:
        header = json.loads(raw[8:8 + length].decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as e:
        raise ValueError(f"{path}: corrupt safetensors header ({e.__class__.__name__}: {e})") from None
    if not isinstance(header, dict):
        raise ValueError(f"{path}: corrupt safetensors header (not a JSON object)")
    metadata = header.get("__metadata__", {})
    if not isinstance(metadata, dict) or not all(isinstance(v, str) for v in metadata.values()):
        raise ValueError(f"{path}: corrupt safetensors header (__metadata__ must map strings to strings)")
    end = 0
    for name, info in header.items():
        if name == "__metadata__":
            continue
        if not isinstance(info, dict) or not {"dtype", "shape", "data_offsets"} <= set(info):
            raise ValueError(f"{path}: corrupt safetensors header entry for {name!r}")
        end = max(end, int(info["data_offsets"][1]))
    if 8 + length + end > len(raw):
        raise ValueError(f"{path}: truncated file: tensor data ends at byte {8 + length + end}, "
                         f"file has {len(raw)} bytes")
    return header


def float_dtype_problems(tensors: dict[str, np.ndarray]) -> list[str]:
    """Names of tensors that are not floating point (weights must be)."""
    return [f"{k} ({v.dtype})" for k, v in tensors.items() if v.dtype.kind != "f"]
