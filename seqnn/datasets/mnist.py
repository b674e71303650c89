"""MNIST handwritten digits (LeCun, Cortes & Burges): 60,000 + 10,000 images, 28×28, uint8.

Licence: CC BY-SA 3.0. Files are looked up (``path``, ``$SEQNN_DATA_DIR``,
the cache) and downloaded when absent as described in
:mod:`seqnn.datasets.idx_dataset`; every file is verified by SHA-256.
"""
from __future__ import annotations

import os

import numpy as np

from . import idx_dataset
from .download import FileHashes

NAME = "mnist"
FILES = {
    "x_train": "train-images-idx3-ubyte",
    "y_train": "train-labels-idx1-ubyte",
    "x_test": "t10k-images-idx3-ubyte",
    "y_test": "t10k-labels-idx1-ubyte",
}
# gz: SHA-256 of the original archives (yann.lecun.com, byte-identical on both mirrors below), as published
# by TensorFlow Datasets / Keras and repeated by torchvision-based projects. raw: SHA-256 of the
# uncompressed IDX files, which stays valid for any recompressed or uncompressed copy.
SHA256 = {
    "train-images-idx3-ubyte": FileHashes(
        gz="440fcabf73cc546fa21475e81ea370265605f56be210a4024d2ca8f203523609",
        raw="ba891046e6505d7aadcbbe25680a0738ad16aec93bde7f9b65e87a2fc25776db"),
    "train-labels-idx1-ubyte": FileHashes(
        gz="3552534a0a558bbed6aed32b30c495cca23d567ec52cac8be1a0730e8010255c",
        raw="65a50cbbf4e906d70832878ad85ccda5333a97f0f4c3dd2ef09a8a9eef7101c5"),
    "t10k-images-idx3-ubyte": FileHashes(
        gz="8d422c7b0a1c1c79245a5bcf07fe86e33eeafee792b84584aec276f5a2dbc4e6",
        raw="0fa7898d509279e482958e8ce81c8e77db3f2f8254e26661ceb7762c4d494ce7"),
    "t10k-labels-idx1-ubyte": FileHashes(
        gz="f7ae60f92e00ec6debd23a6088c31dbd2371eca3ffa0defaefb259924204aec6",
        raw="ff7bcfd416de33731a308c3f266cc351222c34898ecbeaf847f06e48f7ec33f2"),
}
MIRRORS = [
    "https://storage.googleapis.com/cvdf-datasets/mnist/",  # Google's copy (TensorFlow tutorials)
    "https://ossci-datasets.s3.amazonaws.com/mnist/",       # PyTorch's copy (torchvision)
]
CLASS_NAMES = [str(i) for i in range(10)]


def load_data(path: str | os.PathLike | None = None
              ) -> tuple[tuple[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]]:
    """``((x_train, y_train), (x_test, y_test))``: uint8 images (n, 28, 28) and uint8 labels 0..9.

    Files (the four IDX files, ``.gz`` or uncompressed) are looked up in
    ``path``, then ``$SEQNN_DATA_DIR/mnist`` and ``$SEQNN_DATA_DIR``, then
    ``$XDG_CACHE_HOME/seqnn/datasets/mnist`` (``~/.cache/...`` without it); when none holds them they are
    downloaded into the cache. Each file is checked against its SHA-256.

    Raises:
        ValueError: a file is corrupt, truncated or fails its SHA-256 check,
            or (``DatasetNotFoundError``) the files are absent and cannot be
            downloaded; the message says which files to put where.

    Example::

        (x_train, y_train), (x_test, y_test) = seqnn.datasets.mnist.load_data()
        x_train.shape   # (60000, 28, 28)
    """
    return idx_dataset.load(NAME, FILES, SHA256, MIRRORS, path, data_dir_itself=True)
