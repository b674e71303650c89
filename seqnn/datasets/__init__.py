"""Datasets and data loading.

* ``digits`` (embedded, offline), ``mnist`` and ``fashion_mnist`` (files on
  disk or downloaded and SHA-256-verified): ``load_data()`` returns Keras's
  ``((x_train, y_train), (x_test, y_test))``.
* :func:`load_csv` (numeric CSV with a header), :func:`load_npz`,
  :func:`train_test_split` (with ``stratify=``).
* :class:`DataFileError`: the ValueError every reader raises for a file that
  is not what it claims to be (it names the file and the problem).
* :class:`BatchLoader`: batches from arrays, ``np.memmap`` or ``.npy`` files
  for data larger than memory; pass it to ``fit`` / ``evaluate`` / ``predict``.
"""
from . import digits, fashion_mnist, mnist
from .errors import DataFileError
from .idx_dataset import DatasetNotFoundError
from .loader import BatchLoader, open_npy
from .npz import load_npz
from .split import train_test_split
from .tabular import load_csv

__all__ = ["BatchLoader", "DataFileError", "DatasetNotFoundError", "digits", "fashion_mnist", "load_csv", "load_npz",
           "mnist", "open_npy", "train_test_split"]
