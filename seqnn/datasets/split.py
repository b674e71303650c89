"""train_test_split: scikit-learn's function (same arguments, same output order), stratification included."""
from __future__ import annotations

import math
from typing import Any

import numpy as np

from .. import random as sn_random


def train_test_split(*arrays: Any, test_size: float | int | None = None, train_size: float | int | None = None,
                     shuffle: bool = True, stratify: Any = None, seed: int | None = None,
                     random_state: int | None = None) -> list[np.ndarray]:
    """Split arrays (same first dimension) into random train and test parts.

    Returns ``[a_train, a_test, b_train, b_test, ...]`` as scikit-learn does.
    Sizes are fractions in (0, 1) or sample counts; with neither given the
    test part is 25 %. A fractional test size is rounded up, a train size
    down. ``stratify`` (class labels, usually ``y``) keeps each class's share
    in both parts. ``seed`` (or scikit-learn's ``random_state``) fixes the
    split; without one it follows the global seed
    (``seqnn.utils.set_random_seed``). ``shuffle=False`` takes the first
    samples for training and the last for testing.

    Example::

        x_train, x_test, y_train, y_test = train_test_split(x, y, test_size=0.2, stratify=y, seed=0)
    """
    if not arrays:
        raise ValueError("train_test_split: pass at least one array")
    if seed is not None and random_state is not None and seed != random_state:
        raise ValueError("train_test_split: give seed or random_state, not two different values")
    seed = seed if seed is not None else random_state
    arrays = [a if isinstance(a, np.ndarray) else np.asarray(a) for a in arrays]
    lengths = [len(a) if a.ndim else None for a in arrays]
    if None in lengths or len(set(lengths)) != 1:
        raise ValueError(f"train_test_split: all arrays need the same number of samples, got lengths {lengths}")
    n = lengths[0]
    n_train, n_test = _sizes(n, test_size, train_size)
    rng = sn_random.generator(seed)
    if stratify is not None:
        if not shuffle:
            raise ValueError("train_test_split: stratify needs shuffle=True")
        train, test = _stratified(np.asarray(stratify), n, n_train, n_test, rng)
    elif shuffle:
        order = rng.permutation(n)
        train, test = order[:n_train], order[n_train:n_train + n_test]
    else:
        train, test = np.arange(n_train), np.arange(n - n_test, n)
    out = []
    for a in arrays:
        out += [a[train], a[test]]
    return out


def _sizes(n: int, test_size, train_size) -> tuple[int, int]:
    if test_size is None and train_size is None:
        test_size = 0.25

    def count(size, name, rounding):
        if size is None:
            return None
        if isinstance(size, bool) or not isinstance(size, (int, float, np.integer, np.floating)):
            raise TypeError(f"{name} must be a fraction in (0, 1) or a number of samples, got {size!r}")
        if isinstance(size, (float, np.floating)):
            if not 0.0 < size < 1.0:
                raise ValueError(f"{name} must be in (0, 1) as a fraction, got {size}")
            return int(rounding(size * n))
        if not 0 < size < n:
            raise ValueError(f"{name}={size} must be between 1 and {n - 1} samples (there are {n})")
        return int(size)

    n_test = count(test_size, "test_size", math.ceil)
    n_train = count(train_size, "train_size", math.floor)
    n_test = n - n_train if n_test is None else n_test
    n_train = n - n_test if n_train is None else n_train
    if n_train + n_test > n:
        raise ValueError(f"train_size + test_size = {n_train} + {n_test} samples, more than the {n} there are")
    if n_train < 1 or n_test < 1:
        raise ValueError(f"a split of {n} samples into {n_train} train and {n_test} test leaves one part empty; "
                         "change test_size / train_size")
    return n_train, n_test


def _stratified(labels: np.ndarray, n: int, n_train: int, n_test: int, rng) -> tuple[np.ndarray, np.ndarray]:
    if len(labels) != n:
        raise ValueError(f"stratify has {len(labels)} labels for {n} samples")
    if labels.ndim > 1:  # one-hot rows (or any multi-column label): stratify by the whole row
        labels = np.unique(labels.reshape(n, -1), axis=0, return_inverse=True)[1].reshape(-1)
    classes, inverse, counts = np.unique(labels, return_inverse=True, return_counts=True)
    if counts.min() < 2:
        raise ValueError(f"stratify: class {classes[counts.argmin()]!r} has only 1 sample; each class needs at "
                         "least 2 to appear in both parts")
    if n_test < len(classes) or n_train < len(classes):
        raise ValueError(f"stratify: {len(classes)} classes need at least {len(classes)} samples in each part, "
                         f"got {n_train} train and {n_test} test")
    test_counts = _allocate(n_test, counts, rng)
    train_counts = _allocate(n_train, counts - test_counts, rng)
    train, test = [], []
    for c in range(len(classes)):
        members = rng.permutation(np.flatnonzero(inverse == c))
        test.append(members[:test_counts[c]])
        train.append(members[test_counts[c]:test_counts[c] + train_counts[c]])
    return rng.permutation(np.concatenate(train)), rng.permutation(np.concatenate(test))


def _allocate(total: int, capacity: np.ndarray, rng) -> np.ndarray:
    """Split ``total`` over classes in proportion to ``capacity`` (largest remainders, ties at random)."""
    share = total * capacity / capacity.sum()
    out = np.minimum(np.floor(share).astype(np.int64), capacity)
    remainder = share - out
    while out.sum() < total:
        room = out < capacity
        order = np.lexsort((rng.random(len(out)), -remainder))  # largest remainder first, random among ties
        for c in order:
            if room[c] and out.sum() < total:
                out[c] += 1
                room[c] = False
        remainder = np.zeros_like(remainder)
    return out
