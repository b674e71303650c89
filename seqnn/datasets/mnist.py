"""MNIST handwritten digits (LeCun, Cortes & Burges): 60,000 + 10,000 images, 28×28, uint8."""
from __future__ import annotations

import os

import numpy as np

from .idx import read_idx

FILES = {
    "x_train": "train-images-idx3-ubyte",
    "y_train": "train-labels-idx1-ubyte",
    "x_test": "t10k-images-idx3-ubyte",
    "y_test": "t10k-labels-idx1-ubyte",
}


def _cache_dir(name: str) -> str:
    return os.path.join(os.path.expanduser("~"), ".cache", "seqnn", "datasets", name)


def find_dir(name: str, files: dict, path: str | None) -> str:
    """The first of ``path``, $SEQNN_DATA_DIR, the cache that holds every file (gz or raw)."""
    candidates = [p for p in (path, os.environ.get("SEQNN_DATA_DIR"), _cache_dir(name)) if p]
    for directory in candidates:
        if all(_locate(directory, stem) for stem in files.values()):
            return directory
    listing = ", ".join(f"{stem}.gz" for stem in files.values())
    raise ValueError(f"{name}: files not found. Put {listing} (gzip or raw) in one of: "
                     + "; ".join(candidates))


def _locate(directory: str, stem: str) -> str | None:
    for candidate in (stem + ".gz", stem):
        full = os.path.join(directory, candidate)
        if os.path.isfile(full):
            return full
    return None


def load_files(name: str, files: dict, path: str | None):
    directory = find_dir(name, files, path)
    arrays = {key: read_idx(_locate(directory, stem)) for key, stem in files.items()}
    for split in ("train", "test"):
        x, y = arrays[f"x_{split}"], arrays[f"y_{split}"]
        if x.ndim != 3 or y.ndim != 1 or len(x) != len(y):
            raise ValueError(f"{name}: {split} images {x.shape} and labels {y.shape} do not match")
    return (arrays["x_train"], arrays["y_train"]), (arrays["x_test"], arrays["y_test"])


def load_data(path: str | None = None) -> tuple[tuple[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]]:
    """``((x_train, y_train), (x_test, y_test))``: uint8 images (n, 28, 28) and uint8 labels.

    Files are looked up in ``path``, then ``$SEQNN_DATA_DIR``, then
    ``~/.cache/seqnn/datasets/mnist``.
    """
    return load_files("mnist", FILES, path)
