"""Checking and normalizing the batch that ``update_state`` receives.

Every metric accepts the target layouts Keras accepts and refuses anything else
with a ``ValueError`` that names the argument, what was expected and what came.
``where`` (e.g. ``"metric 'precision' (Precision)"``) starts each message, so a
user with several metrics knows which one refused the batch.

Target layouts, for predictions ``y_pred`` of shape (n, …, C):

- the same shape as ``y_pred`` (one-hot, multi-hot or per-output targets);
- integer class labels of shape (n, …) or (n, …, 1), which classification
  metrics expand to one-hot over the C columns (for C = 1 they are the 0/1
  target itself).
"""
from __future__ import annotations

import numpy as np


def array(where: str, value, arg: str) -> np.ndarray:
    """``value`` as a numeric numpy array; strings and objects are refused."""
    a = np.asarray(value)
    if a.dtype.kind not in "biuf":
        raise TypeError(f"{where}: {arg} must be numeric, got an array of dtype {a.dtype}")
    return a


def batch(where: str, y_true, y_pred) -> tuple[np.ndarray, np.ndarray]:
    """Both arrays, each with a batch axis, and of one length."""
    y_true, y_pred = array(where, y_true, "y_true"), array(where, y_pred, "y_pred")
    for arg, a in (("y_true", y_true), ("y_pred", y_pred)):
        if a.ndim == 0:
            raise ValueError(f"{where}: {arg} must have a batch axis (shape (n, ...)), got a scalar")
    if len(y_true) != len(y_pred):
        raise ValueError(f"{where}: y_true has {len(y_true)} samples but y_pred has {len(y_pred)}; "
                         "they need one row per sample")
    return y_true, y_pred


def sample_weights(where: str, sample_weight, n: int) -> np.ndarray | None:
    """Per-sample weights of shape (n,) as float64, from None, a scalar, (n,) or (n, 1)."""
    if sample_weight is None:
        return None
    w = array(where, sample_weight, "sample_weight").astype(np.float64)
    if w.ndim == 0:
        return np.full(n, float(w))
    if w.ndim == 2 and w.shape[1] == 1:
        w = w[:, 0]
    if w.shape != (n,):
        raise ValueError(f"{where}: sample_weight must be a scalar or one weight per sample, shape ({n},) "
                         f"or ({n}, 1); got shape {w.shape}")
    return w


def columns(where: str, y_pred: np.ndarray) -> np.ndarray:
    """Predictions as (n, C) float64: (n,) is one column (a binary output)."""
    if y_pred.ndim == 1:
        return y_pred.reshape(-1, 1).astype(np.float64)
    if y_pred.ndim != 2:
        raise ValueError(f"{where}: y_pred must have shape (n, classes) or (n,), got shape {y_pred.shape}")
    if y_pred.shape[1] == 0:
        raise ValueError(f"{where}: y_pred has no columns (shape {y_pred.shape})")
    return y_pred.astype(np.float64)


def labels(where: str, y: np.ndarray, num_classes: int, arg: str = "y_true") -> np.ndarray:
    """Whole-number class ids in [0, num_classes) as int64, keeping ``y``'s shape."""
    if y.dtype.kind == "f":
        if not np.all(np.isfinite(y)) or not np.array_equal(y, np.round(y)):
            raise ValueError(f"{where}: {arg} must hold whole-number class labels, got non-integer values "
                             f"such as {y[~np.isfinite(y) | (y != np.round(y))].flat[0]!r}")
    ids = y.astype(np.int64)
    if ids.size and (ids.min() < 0 or ids.max() >= num_classes):
        bad = ids[(ids < 0) | (ids >= num_classes)].flat[0]
        raise ValueError(f"{where}: {arg} labels must lie in [0, {num_classes - 1}] for {num_classes} "
                         f"classes, got {int(bad)}")
    return ids


def targets_like(where: str, y_true: np.ndarray, y_pred: np.ndarray) -> np.ndarray:
    """``y_true`` as float64 with ``y_pred``'s shape: as is, or one-hot from integer labels."""
    pred_shape, c = y_pred.shape, y_pred.shape[-1] if y_pred.ndim > 1 else 1
    if y_true.shape == pred_shape:
        return y_true.astype(np.float64)
    sparse = y_true.shape == pred_shape[:-1] or (
        y_true.shape[:-1] == pred_shape[:-1] and y_true.ndim == y_pred.ndim and y_true.shape[-1] == 1)
    if y_pred.ndim == 1 and y_true.shape == (len(y_pred), 1):
        return y_true.reshape(-1).astype(np.float64)
    if y_pred.ndim > 1 and sparse:
        y = y_true.reshape(pred_shape[:-1])
        if c == 1:
            return y.reshape(pred_shape).astype(np.float64)
        out = np.zeros(pred_shape, dtype=np.float64)
        np.put_along_axis(out, labels(where, y, c)[..., None], 1.0, axis=-1)
        return out
    want = f"{pred_shape} like y_pred"
    if y_pred.ndim > 1 and c > 1:
        want += f", or integer labels of shape {pred_shape[:-1]} or {(*pred_shape[:-1], 1)}"
    raise ValueError(f"{where}: y_true must have shape {want}; got shape {y_true.shape}")


def class_ids(where: str, y_true: np.ndarray, num_classes: int) -> np.ndarray:
    """True class per sample, (n,) int64: integer labels, or the argmax of one-hot rows."""
    if y_true.ndim == 2 and y_true.shape[1] == num_classes and num_classes > 1:
        return np.argmax(y_true, axis=1)
    if y_true.ndim == 1 or (y_true.ndim == 2 and y_true.shape[1] == 1):
        return labels(where, y_true.reshape(-1), num_classes)
    raise ValueError(f"{where}: y_true must be integer labels of shape (n,) or (n, 1), or one-hot rows of "
                     f"shape (n, {num_classes}); got shape {y_true.shape}")
