"""Builders for model, weights and backup files, valid and hostile, for the loader tests and the fuzz suite.

A safetensors file is an 8-byte header length, a JSON header and the tensor
bytes; these helpers take a real file apart and put it back together with a
header changed by hand, so a test can make it lie (huge declared shapes,
offsets past the end, deep nesting, wrong types) while the rest stays valid.
"""
import json
import struct
import tracemalloc

import numpy as np

import seqnn as sn

L = sn.layers


def small_model(compiled=True, dropout=True):
    """A tiny trained-shape model: Dense, (Dropout), Dense, with an Adam optimizer when compiled."""
    sn.utils.set_random_seed(0)
    layers = [L.Input((4,)), L.Dense(5, activation="relu")] + ([L.Dropout(0.2)] if dropout else []) + \
        [L.Dense(3, activation="softmax")]
    model = sn.Sequential(layers, name="small")
    if compiled:
        model.compile(optimizer=sn.optimizers.Adam(1e-2), loss="sparse_categorical_crossentropy",
                      metrics=["accuracy"])
    return model


def split(raw: bytes) -> tuple[dict, bytes]:
    """(header as a dict, tensor bytes) of a valid file."""
    (length,) = struct.unpack("<Q", raw[:8])
    return json.loads(raw[8:8 + length]), raw[8 + length:]


def join(header, data: bytes = b"", raw_header: bytes | None = None) -> bytes:
    """A file from a header (dict, or raw bytes) and tensor bytes."""
    text = raw_header if raw_header is not None else json.dumps(header, separators=(",", ":")).encode()
    return struct.pack("<Q", len(text)) + text + data


def with_metadata(raw: bytes, **values) -> bytes:
    """The file with metadata keys replaced (a value that is not a str is written as JSON)."""
    header, data = split(raw)
    metadata = header.setdefault("__metadata__", {})
    for key, value in values.items():
        if value is None:
            metadata.pop(key, None)
        else:
            metadata[key] = value if isinstance(value, str) else json.dumps(value)
    return join(header, data)


def metadata_json(raw: bytes, key: str):
    return json.loads(split(raw)[0]["__metadata__"][key])


def model_file(config: dict, compile_config: dict | None = None, tensors: dict | None = None) -> bytes:
    """A seqnn model file made by hand: any config, any tensors (name → array)."""
    metadata = {"format": "seqnn", "model_config": json.dumps(config, separators=(",", ":"))}
    if compile_config is not None:
        metadata["compile_config"] = json.dumps(compile_config)
    header, chunks, offset = {"__metadata__": metadata}, [], 0
    dtypes = {np.dtype("float32"): "F32", np.dtype("float64"): "F64", np.dtype("int64"): "I64"}
    for name, array in (tensors or {}).items():
        array = np.ascontiguousarray(array)
        header[name] = {"dtype": dtypes[array.dtype], "shape": list(array.shape),
                        "data_offsets": [offset, offset + array.nbytes]}
        chunks.append(array.tobytes())
        offset += array.nbytes
    return join(header, b"".join(chunks))


def dense_bomb(units=10**7, inputs=10) -> bytes:
    """A model file of a few hundred bytes whose config declares a Dense layer of ``inputs * units`` weights."""
    return model_file({"name": "bomb", "layers": [{"class_name": "InputLayer", "config": {"shape": [inputs]}},
                                                  {"class_name": "Dense", "config": {"units": units}}]})


def nested(depth: int, leaf="0") -> str:
    """JSON text nested ``depth`` lists deep."""
    return "[" * depth + leaf + "]" * depth


def peak_memory(fn) -> tuple[object, int]:
    """(what fn returned or the exception it raised, peak bytes allocated meanwhile, as tracemalloc sees it).

    numpy reports its array memory to tracemalloc, so a weight allocated
    from a declared shape shows up here.
    """
    tracemalloc.start()
    try:
        try:
            result = fn()
        except Exception as e:  # the caller judges which exceptions are allowed
            result = e
        return result, tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
