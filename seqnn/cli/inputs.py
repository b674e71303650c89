"""Inputs for ``seqnn-predict``: files of samples (and labels), fitted to the model's input shape.

Supported: ``.npy`` (memory-mapped), ``.npz`` (arrays ``x`` [and ``y``] or
Keras's ``x_test``/``y_test``), ``.csv`` (numeric, with a header; ``--target``
names a label column), IDX (``.gz`` or raw), and images: PGM built in,
PNG/JPEG/... with Pillow. The type comes from the extension, else from the
file's first bytes.
"""
from __future__ import annotations

import math
import os

import numpy as np

from .. import datasets
from ..datasets.idx import read_idx
from . import images
from .args import column
from .errors import UsageError

SUPPORTED = ".npy, .npz, .csv, IDX (.gz or raw), .pgm, or .png/.jpg with Pillow (the 'images' extra)"
_ROWS_CHECKED_AT_ONCE = 4096


def kind_of(path: str) -> str:
    """"npy" | "npz" | "csv" | "idx" | "image", from the extension or the first bytes."""
    name = os.path.basename(path).lower()
    ext = os.path.splitext(name)[1]
    if ext in (".npy", ".npz", ".csv"):
        return ext[1:]
    if ext == ".idx" or "-ubyte" in name or name.endswith((".idx.gz", ".idx1", ".idx3")):
        return "idx"
    if ext in images.PGM_EXTENSIONS + images.PILLOW_EXTENSIONS:
        return "image"
    with open(path, "rb") as f:
        head = f.read(8)
    if head.startswith(b"\x93NUMPY"):
        return "npy"
    if head.startswith(b"PK\x03\x04"):
        return "npz"
    if head.startswith(b"\x1f\x8b") or head[:2] == b"\x00\x00":
        return "idx"
    if head[:2] in (b"P2", b"P5"):
        return "image"
    raise UsageError(f"{path}: unsupported input type; expected {SUPPORTED}")


def read_samples(path: str, expected_shape: tuple, target: str | None = None, split: str = "test"):
    """``(x, labels or None)`` from one input file, ``x`` shaped (n, *expected_shape)."""
    if not os.path.exists(path):
        raise UsageError(f"INPUT: no such file: {path}")
    kind = kind_of(path)
    labels = None
    if target is not None and kind != "csv":
        raise UsageError(f"--target applies to CSV input, but {path} is {kind}")
    if kind == "npy":
        x = datasets.open_npy(path, "INPUT")
    elif kind == "npz":
        loaded = datasets.load_npz(path)
        if isinstance(loaded[0], tuple):
            x, labels = loaded[0] if split == "train" else loaded[1]
        else:
            x, labels = loaded
    elif kind == "csv":
        loaded = datasets.load_csv(path, target=column(target)) if target is not None else datasets.load_csv(path)
        x, labels = loaded if target is not None else (loaded, None)
    elif kind == "idx":
        x = read_idx(path)
    else:
        channels = expected_shape[-1] if len(expected_shape) == 3 else None
        # the model's values per sample bound the pixels worth decoding (fit_to_model checks the shape)
        max_pixels = math.prod(expected_shape) // (channels or 1)
        x = images.read_image(path, channels, max_pixels)[None]
    x = fit_to_model(x, expected_shape, path, kind)
    _check_samples(x, path)
    return x, (None if labels is None else _check_labels(labels, path))


def read_labels(path: str) -> np.ndarray:
    """Labels for ``--labels``: .npy, IDX or a one-column CSV with a header."""
    if not os.path.exists(path):
        raise UsageError(f"--labels: no such file: {path}")
    kind = kind_of(path)
    if kind == "npy":
        labels = np.asarray(datasets.open_npy(path, "--labels"))
    elif kind == "idx":
        labels = read_idx(path)
    elif kind == "csv":
        labels = datasets.load_csv(path)
    else:
        raise UsageError(f"--labels: {path} is {kind}; expected .npy, IDX or a one-column .csv")
    if labels.ndim == 0:
        raise UsageError(f"--labels: {path} holds a single value (shape ()); expected one label per sample")
    labels = labels.reshape(len(labels), -1) if labels.ndim > 1 else labels
    if labels.ndim == 2 and labels.shape[1] == 1:
        labels = labels[:, 0]
    return _check_labels(labels, path)


def _check_samples(x: np.ndarray, path: str) -> None:
    """At least one sample, and finite values: the model would refuse either without naming the file."""
    if len(x) == 0:
        raise UsageError(f"{path}: holds no samples")
    if x.dtype.kind == "f":
        for start in range(0, len(x), _ROWS_CHECKED_AT_ONCE):  # a slice at a time: x may be a memory map
            bad = np.flatnonzero(~np.isfinite(x[start:start + _ROWS_CHECKED_AT_ONCE].reshape(-1)))
            if bad.size:
                sample = start + int(bad[0]) // max(1, math.prod(x.shape[1:]))
                raise UsageError(f"{path}: sample {sample} holds NaN or inf; predict needs finite values")


def _check_labels(labels: np.ndarray, path: str) -> np.ndarray:
    """Labels from a file are numbers and finite (whether they fit the model is checked with it)."""
    labels = np.asarray(labels)
    if labels.dtype.kind not in "biuf":
        raise UsageError(f"{path}: labels of dtype {labels.dtype.str}; expected numbers")
    if labels.dtype.kind == "f" and not np.all(np.isfinite(labels)):
        raise UsageError(f"{path}: the labels hold NaN or inf")
    return labels


def fit_to_model(x: np.ndarray, expected: tuple, path: str, kind: str = "") -> np.ndarray:
    """``x`` as a batch of samples of the model's input shape (one sample gains a batch axis;
    samples with the same number of values are reshaped), or a UsageError saying what differs."""
    expected = tuple(int(d) for d in expected)
    if x.dtype.kind not in "biuf":
        raise UsageError(f"{path}: expected numeric data, got dtype {x.dtype}")
    shape, size = tuple(x.shape), math.prod(expected)
    if shape[1:] == expected:
        return x
    if shape == expected:  # one sample without its batch axis
        return x[None]
    if x.ndim > 1 and math.prod(shape[1:]) == size:
        return x.reshape(len(x), *expected)
    if x.ndim == 1 and size == 1:
        return x.reshape(len(x), *expected)
    if x.ndim == 1 and x.size == size:
        return x.reshape(1, *expected)
    hint = ""
    if kind == "csv" and x.ndim == 2 and x.shape[1] == size + 1:
        hint = "; if one column holds the labels, name it with --target"
    raise UsageError(f"{path}: wrong shape for this model: it takes samples of shape {expected} ({size} values "
                     f"each), the input holds {len(x) if x.ndim else 1} sample(s) of shape {shape[1:]}{hint}")
