"""UCI optical-recognition handwritten digits: 1,797 images of 8×8 pixels, values 0..16.

The data ships inside the package (``data/digits.bin.gz``, 44 KB), so it loads
offline in milliseconds; see ``data/README.md`` for its source, licence
(CC BY 4.0, E. Alpaydin & C. Kaynak) and byte layout.

The train/test split is fixed and involves no random numbers, so it is the
same on every machine and for every global seed: for each digit, the test set
takes 36 samples spread evenly through that digit's samples in file order
(positions ``(2k + 1) * n // 72`` for k = 0..35, where n is the digit's count).
That gives 1,437 training and 360 test samples, each digit 36 times in the
test set. Both parts keep the file's order.

Example::

    (x_train, y_train), (x_test, y_test) = seqnn.datasets.digits.load_data()
    x_train.shape, x_test.shape   # (1437, 8, 8), (360, 8, 8)
"""
from __future__ import annotations

import gzip
import hashlib
import importlib.resources
import zlib

import numpy as np

N_SAMPLES = 1797
N_CLASSES = 10
TEST_PER_CLASS = 36
_SHAPE = (8, 8)
_PIXEL_MAX = 16
_SHA256 = "d64ddccfe8e7f02b6067073443e8195f125aef554fb827ee64b600179fafce7f"
_DATA_FILE = importlib.resources.files(__package__).joinpath("data", "digits.bin.gz")


def load_data() -> tuple[tuple[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]]:
    """``((x_train, y_train), (x_test, y_test))``: uint8 images (n, 8, 8) with values 0..16, uint8 labels.

    1,437 training and 360 test samples (36 of each digit), split by the fixed
    rule in this module's docstring. Every call returns fresh arrays.

    Raises:
        ValueError: the packaged data file is damaged (its SHA-256 does not match).
    """
    x, y = _decode(_DATA_FILE.read_bytes(), str(_DATA_FILE))
    test = test_mask(y)
    return (x[~test], y[~test]), (x[test], y[test])


def test_mask(y: np.ndarray) -> np.ndarray:
    """Boolean mask of the test samples: per class, TEST_PER_CLASS evenly spaced positions."""
    mask = np.zeros(len(y), dtype=bool)
    for c in range(N_CLASSES):
        members = np.flatnonzero(y == c)
        k = np.arange(TEST_PER_CLASS)
        # integer arithmetic only, so the split cannot drift with numpy's RNG or float rounding
        mask[members[(2 * k + 1) * len(members) // (2 * TEST_PER_CLASS)]] = True
    return mask


def _decode(blob: bytes, name: str) -> tuple[np.ndarray, np.ndarray]:
    digest = hashlib.sha256(blob).hexdigest()
    if digest != _SHA256:
        raise ValueError(f"{name}: digits data file is corrupt or was modified (SHA-256 {digest}, "
                         f"expected {_SHA256}); reinstall seqnn")
    try:
        raw = gzip.decompress(blob)
    except (OSError, EOFError, zlib.error) as e:  # unreachable with the right hash; kept as a guard
        raise ValueError(f"{name}: corrupt gzip data ({e})") from None
    n_pixels = N_SAMPLES * _SHAPE[0] * _SHAPE[1]
    if len(raw) != n_pixels + N_SAMPLES:
        raise ValueError(f"{name}: expected {n_pixels + N_SAMPLES} bytes of data, got {len(raw)}")
    x = np.frombuffer(raw, np.uint8, count=n_pixels).reshape(N_SAMPLES, *_SHAPE).copy()
    y = np.frombuffer(raw, np.uint8, offset=n_pixels).copy()
    return x, y
