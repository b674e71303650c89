"""Arrays from ``.npz`` files (``numpy.savez``), read without unpickling anything."""
from __future__ import annotations

import os

import numpy as np

from .errors import DataFileError
from .npz_archive import NpzArchive

SPLIT_KEYS = ("x_train", "y_train", "x_test", "y_test")


def load_npz(path: str | os.PathLike, x_key: str | None = None, y_key: str | None = None):
    """Read the arrays of an ``.npz`` file in one of two layouts.

    * Keras's layout (``x_train``, ``y_train``, ``x_test``, ``y_test``, as in
      Keras's ``mnist.npz``): returns ``((x_train, y_train), (x_test, y_test))``.
    * One dataset (``x`` and ``y``): returns ``(x, y)``.

    ``x_key`` / ``y_key`` pick other array names and always return ``(x, y)``
    (``y`` is None when only ``x_key`` is given).

    Object (pickled) arrays are refused: loading them could run code. Only
    the arrays returned are read, each checked against the archive's sizes
    before it is allocated (see :mod:`.npz_archive`).

    Raises:
        ValueError: a missing key (the message lists the keys the file has);
            :class:`DataFileError` (a ValueError) for a file that is not a
            readable ``.npz`` archive, pickled data, or x and y of different
            lengths.

    Example::

        np.savez("data.npz", x=x, y=y)
        x, y = load_npz("data.npz")
    """
    path = os.fspath(path)
    _check_magic(path)
    with NpzArchive(path) as archive:
        keys = archive.keys
        if x_key is None and y_key is None:
            if all(k in keys for k in SPLIT_KEYS):
                train = _pair(archive, "x_train", "y_train")
                test = _pair(archive, "x_test", "y_test")
                return train, test
            if "x" in keys and "y" in keys:
                return _pair(archive, "x", "y")
            raise ValueError(f"{path}: expected arrays x and y, or x_train, y_train, x_test and y_test; the file "
                             f"has {sorted(keys) or 'no arrays'} (pass x_key= and y_key= to pick others)")
        if x_key is None:
            raise ValueError("load_npz: y_key needs x_key too")
        if y_key is None:
            return _get(archive, x_key), None
        return _pair(archive, x_key, y_key)


def _check_magic(path: str) -> None:
    with open(path, "rb") as f:
        magic = f.read(6)
    if magic.startswith(b"\x93NUMPY"):
        raise DataFileError(path, "a .npy file (one array), not an .npz archive")
    if not magic.startswith((b"PK\x03\x04", b"PK\x05\x06")):
        raise DataFileError(path, "not an .npz file (no zip header)")


def _get(archive: NpzArchive, key: str) -> np.ndarray:
    if key not in archive.keys:
        raise ValueError(f"{archive.path}: no array {key!r}; the file has {sorted(archive.keys)}")
    return archive.read(key)


def _pair(archive: NpzArchive, x_key: str, y_key: str) -> tuple[np.ndarray, np.ndarray]:
    x, y = _get(archive, x_key), _get(archive, y_key)
    if x.ndim == 0 or y.ndim == 0 or len(x) != len(y):
        raise DataFileError(archive.path, f"{x_key} {x.shape} and {y_key} {y.shape} must hold the same number of "
                                          "samples")
    return x, y
