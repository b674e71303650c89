"""Arrays from ``.npz`` files (``numpy.savez``), read without unpickling anything."""
from __future__ import annotations

import os
import zipfile
import zlib

import numpy as np

SPLIT_KEYS = ("x_train", "y_train", "x_test", "y_test")


def load_npz(path: str | os.PathLike, x_key: str | None = None, y_key: str | None = None):
    """Read the arrays of an ``.npz`` file in one of two layouts.

    * Keras's layout (``x_train``, ``y_train``, ``x_test``, ``y_test``, as in
      Keras's ``mnist.npz``): returns ``((x_train, y_train), (x_test, y_test))``.
    * One dataset (``x`` and ``y``): returns ``(x, y)``.

    ``x_key`` / ``y_key`` pick other array names and always return ``(x, y)``
    (``y`` is None when only ``x_key`` is given).

    Object (pickled) arrays are refused: loading them could run code.

    Raises:
        ValueError: not a readable ``.npz`` file, a missing key (the message
            lists the keys the file has), pickled data, or x and y of
            different lengths.

    Example::

        np.savez("data.npz", x=x, y=y)
        x, y = load_npz("data.npz")
    """
    path = os.fspath(path)
    arrays = _read_all(path)
    if x_key is None and y_key is None:
        if all(k in arrays for k in SPLIT_KEYS):
            train = _pair(arrays, "x_train", "y_train", path)
            test = _pair(arrays, "x_test", "y_test", path)
            return train, test
        if "x" in arrays and "y" in arrays:
            return _pair(arrays, "x", "y", path)
        raise ValueError(f"{path}: expected arrays x and y, or x_train, y_train, x_test and y_test; the file has "
                         f"{sorted(arrays) or 'no arrays'} (pass x_key= and y_key= to pick others)")
    if x_key is None:
        raise ValueError("load_npz: y_key needs x_key too")
    if y_key is None:
        return _get(arrays, x_key, path), None
    return _pair(arrays, x_key, y_key, path)


def _read_all(path: str) -> dict[str, np.ndarray]:
    with open(path, "rb") as f:
        magic = f.read(6)
    if magic.startswith(b"\x93NUMPY"):
        raise ValueError(f"{path}: a .npy file (one array), not an .npz archive")
    if not magic.startswith((b"PK\x03\x04", b"PK\x05\x06")):
        raise ValueError(f"{path}: not an .npz file (no zip header)")
    try:
        with np.load(path, allow_pickle=False) as npz:
            return {key: np.asarray(npz[key]) for key in npz.files}
    except ValueError as e:
        if "pickle" in str(e).lower():
            raise ValueError(f"{path}: holds pickled (object) arrays, which are not loaded for safety; "
                             "save plain numeric arrays") from None
        raise ValueError(f"{path}: not a readable .npz file ({e})") from None
    except (OSError, EOFError, zipfile.BadZipFile, zlib.error, KeyError) as e:
        raise ValueError(f"{path}: not a readable .npz file ({e})") from None


def _get(arrays: dict, key: str, path: str) -> np.ndarray:
    if key not in arrays:
        raise ValueError(f"{path}: no array {key!r}; the file has {sorted(arrays)}")
    return arrays[key]


def _pair(arrays: dict, x_key: str, y_key: str, path: str) -> tuple[np.ndarray, np.ndarray]:
    x, y = _get(arrays, x_key, path), _get(arrays, y_key, path)
    if x.ndim == 0 or y.ndim == 0 or len(x) != len(y):
        raise ValueError(f"{path}: {x_key} {x.shape} and {y_key} {y.shape} must hold the same number of samples")
    return x, y
