"""Weighted confusion counts of binary decisions at many thresholds at once.

A decision is positive when the score is strictly above the threshold,
``score > t`` (Keras's rule; NaN is never positive). For T thresholds and n
scores, the counts at every threshold come from one pass over the scores:

    kᵢ     = #{t : t < sᵢ}              (searchsorted into the sorted thresholds)
    TP(t₍ⱼ₎) = Σ_{i: kᵢ > j} wᵢ·[yᵢ]    (a reversed cumulative sum of a histogram of k)
    FN(t₍ⱼ₎) = Σ_{i: kᵢ ≤ j} wᵢ·[yᵢ]    (the forward cumulative sum, so TP + FN is exact)

and likewise FP / TN with the negatives. Cost O(n log T), state O(T).
"""
from __future__ import annotations

from typing import Any

import numpy as np

# Keras's stand-in for −∞: the default threshold when only top-k decides.
NEG_INF = -1e10


def parse_thresholds(thresholds: Any, default: float) -> list[float]:
    """Keras's ``parse_init_thresholds``: None → [default]; a number or a list, each in [0, 1]."""
    if thresholds is None:
        return [float(default)]
    values = [thresholds] if np.ndim(thresholds) == 0 else list(np.asarray(thresholds).reshape(-1))
    if not values:
        raise ValueError("thresholds must hold at least one value, got an empty list")
    try:
        values = [float(t) for t in values]
    except (TypeError, ValueError):
        raise ValueError(f"thresholds must be numbers in [0, 1], got {thresholds!r}") from None
    bad = [t for t in values if not 0.0 <= t <= 1.0]
    if bad:
        raise ValueError(f"thresholds must lie in [0, 1], got {bad[0]!r}")
    return values


def threshold_counts(truth: np.ndarray, scores: np.ndarray, weights: np.ndarray | None,
                     thresholds: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(TP, FP, TN, FN), each of shape (T,), for flat ``truth`` (bool) and ``scores`` at each threshold.

    ``thresholds`` may come in any order; the counts follow that order.
    """
    thresholds = np.asarray(thresholds, dtype=np.float64)
    order = np.argsort(thresholds, kind="stable")
    scores = np.where(np.isnan(scores), -np.inf, scores)
    above = np.searchsorted(thresholds[order], scores, side="left")
    w = np.ones(scores.shape, dtype=np.float64) if weights is None else weights
    counts = []
    for mask in (truth, ~truth):
        hist = np.bincount(above, weights=np.where(mask, w, 0.0), minlength=len(thresholds) + 1)
        positive = np.cumsum(hist[::-1])[::-1][1:]
        negative = np.cumsum(hist)[:-1]
        counts.append((_unsort(positive, order), _unsort(negative, order)))
    (tp, fn), (fp, tn) = counts
    return tp, fp, tn, fn


def _unsort(values: np.ndarray, order: np.ndarray) -> np.ndarray:
    out = np.empty_like(values)
    out[order] = values
    return out


def keep_top_k(scores: np.ndarray, k: int) -> np.ndarray:
    """Scores with all but each row's k highest set to −∞ (ties go to the lower index, as Keras)."""
    ranked = np.argsort(-scores, axis=-1, kind="stable")[..., :k]
    kept = np.full(scores.shape, -np.inf)
    np.put_along_axis(kept, ranked, np.take_along_axis(scores, ranked, axis=-1), axis=-1)
    return kept


def safe_divide(numerator, denominator):
    """numerator / denominator, 0 where the denominator is 0 (Keras's divide_no_nan)."""
    numerator = np.asarray(numerator, dtype=np.float64)
    denominator = np.asarray(denominator, dtype=np.float64)
    out = np.zeros(np.broadcast(numerator, denominator).shape)
    np.divide(numerator, denominator, out=out, where=denominator != 0)
    return out
