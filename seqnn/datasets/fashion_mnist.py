"""Fashion-MNIST (Xiao, Rasul & Vollgraf, Zalando Research): 60,000 + 10,000 clothing images, 28×28, uint8.

A drop-in replacement for MNIST with the same file names and layout. Licence:
MIT. Files are looked up in ``path``, ``$SEQNN_DATA_DIR/fashion_mnist``
(or ``fashion-mnist``) and the cache, and downloaded when absent (see
:mod:`seqnn.datasets.idx_dataset`). ``$SEQNN_DATA_DIR`` itself is not
searched: it usually holds MNIST, whose files have the same names.
"""
from __future__ import annotations

import os

import numpy as np

from . import idx_dataset
from .download import FileHashes
from .mnist import FILES  # the same four file names as MNIST's

NAME = "fashion_mnist"
# SHA-256 of the published .gz archives (github.com/zalandoresearch/fashion-mnist, data/fashion/, whose
# README gives their MD5s). Source: Keras's keras/src/datasets/fashion_mnist.py (FILE_HASHES); the same
# four values appear in independent loaders (e.g. batchup's fashion_mnist.py, Flux's FashionMNIST). No
# hash of the uncompressed files is published, so an uncompressed copy is checked structurally only
# (with a warning).
SHA256 = {
    "train-images-idx3-ubyte": FileHashes(gz="3aede38d61863908ad78613f6a32ed271626dd12800ba2636569512369268a84"),
    "train-labels-idx1-ubyte": FileHashes(gz="a04f17134ac03560a47e3764e11b92fc97de4d1bfaf8ba1a3aa29af54cc90845"),
    "t10k-images-idx3-ubyte": FileHashes(gz="346e55b948d973a97e58d2351dde16a484bd415d4595297633bb08f03db6a073"),
    "t10k-labels-idx1-ubyte": FileHashes(gz="67da17c76eaffca5446c3361aaab5c3cd6d1c2608764d35dfb1850b086bf8dd5"),
}
MIRRORS = [
    "https://storage.googleapis.com/tensorflow/tf-keras-datasets/",           # Keras's copy
    "http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/",           # Zalando's own
    "https://github.com/zalandoresearch/fashion-mnist/raw/master/data/fashion/",
]
CLASS_NAMES = ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
               "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"]


def load_data(path: str | os.PathLike | None = None
              ) -> tuple[tuple[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]]:
    """``((x_train, y_train), (x_test, y_test))``: uint8 images (n, 28, 28) and uint8 labels 0..9.

    Labels index :data:`CLASS_NAMES` (0 T-shirt/top … 9 Ankle boot). Raises
    ValueError as :func:`seqnn.datasets.mnist.load_data` does.

    Example::

        (x_train, y_train), _ = seqnn.datasets.fashion_mnist.load_data()
        fashion_mnist.CLASS_NAMES[y_train[0]]   # a class name
    """
    return idx_dataset.load(NAME, FILES, SHA256, MIRRORS, path, subdirs=("fashion-mnist",))
