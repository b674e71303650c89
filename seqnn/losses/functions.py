"""Keras's loss functions: ``losses.mean_squared_error(y_true, y_pred)`` → the loss of each sample.

Keras exports every loss twice, as a class (``MeanSquaredError``) and as a
function returning the unreduced values, and Keras 2 scripts pass the
function to compile: ``compile(loss=keras.losses.categorical_crossentropy)``.
Here each function runs its class with ``reduction="none"`` on host (numpy)
data, so each loss has one formula, and :func:`seqnn.losses.get` maps the
function back to its class: ``compile`` trains with the class's fused
gradient and saves it by name.

Each function returns ℓ, one float per sample (shape (N,)), in y_pred's
float dtype (float64 for other inputs); the formulas are in the classes'
docstrings. For outputs of rank 2 these are Keras's values. For outputs of
rank above 2 Keras keeps the extra axes (shape (N, d₁, …)); seqnn returns
their mean, the loss each sample trains with. Keras 2's short names
``mse``, ``mae``, ``mape``, ``msle``, ``kld`` and ``logcosh`` are the same
functions.

Example::

    seqnn.losses.categorical_crossentropy([[0, 1, 0], [0, 0, 1]], [[0.05, 0.95, 0], [0.1, 0.8, 0.1]])
    # array([0.05129329, 2.30258509])
    model.compile(optimizer="adam", loss=seqnn.losses.categorical_crossentropy)  # trains CategoricalCrossentropy()
"""
from __future__ import annotations

import inspect
from typing import Any, Callable

import numpy as np

from .base import Loss, computed_by
from .crossentropy import BinaryCrossentropy, CategoricalCrossentropy, SparseCategoricalCrossentropy
from .margin import CategoricalHinge, Hinge, SquaredHinge
from .probabilistic import KLDivergence, Poisson
from .regression import (CosineSimilarity, Huber, LogCosh, MeanAbsoluteError, MeanAbsolutePercentageError,
                         MeanSquaredError, MeanSquaredLogarithmicError)


def _check_last_axis(fn: str, axis: Any, y_pred: Any) -> None:
    """seqnn's cross-entropies work along the last axis only; refuse any other ``axis``."""
    rank = np.ndim(y_pred)
    if isinstance(axis, bool) or not isinstance(axis, (int, np.integer)) or axis not in (-1, rank - 1):
        raise ValueError(f"{fn}: axis must be the last axis (-1, or {rank - 1} for y_pred of rank {rank}), "
                         f"got axis={axis!r}")


# ------------------------------------------------------ cross-entropies ---
@computed_by(BinaryCrossentropy)
def binary_crossentropy(y_true, y_pred, from_logits: bool = False, label_smoothing: float = 0.0,
                        axis: int = -1) -> np.ndarray:
    """``ℓᵢ = −mean_j [tᵢⱼ·log pᵢⱼ + (1 − tᵢⱼ)·log(1 − pᵢⱼ)]``, p = sigmoid(y_pred) with ``from_logits``.

    See :class:`~seqnn.losses.BinaryCrossentropy`; ``axis`` (the axis of the
    mean) must be the last one.
    """
    _check_last_axis("binary_crossentropy", axis, y_pred)
    loss = BinaryCrossentropy(from_logits=from_logits, label_smoothing=label_smoothing, reduction="none")
    return loss(y_true, y_pred)


@computed_by(CategoricalCrossentropy)
def categorical_crossentropy(y_true, y_pred, from_logits: bool = False, label_smoothing: float = 0.0,
                             axis: int = -1) -> np.ndarray:
    """``ℓᵢ = −Σ_c tᵢ_c·log pᵢ_c`` for one-hot (or soft) targets t, p = softmax(y_pred) with from_logits.

    See :class:`~seqnn.losses.CategoricalCrossentropy`; ``axis`` (the class
    axis) must be the last one.
    """
    _check_last_axis("categorical_crossentropy", axis, y_pred)
    loss = CategoricalCrossentropy(from_logits=from_logits, label_smoothing=label_smoothing, reduction="none")
    return loss(y_true, y_pred)


@computed_by(SparseCategoricalCrossentropy)
def sparse_categorical_crossentropy(y_true, y_pred, from_logits: bool = False, ignore_class: int | None = None,
                                    axis: int = -1) -> np.ndarray:
    """``ℓᵢ = −log pᵢ,yᵢ`` for integer labels y, p = softmax(y_pred) with from_logits.

    See :class:`~seqnn.losses.SparseCategoricalCrossentropy`; ``axis`` (the
    class axis) must be the last one, and Keras's ``ignore_class`` is not
    supported (only None).
    """
    _check_last_axis("sparse_categorical_crossentropy", axis, y_pred)
    if ignore_class is not None:
        raise ValueError(f"sparse_categorical_crossentropy: ignore_class is not supported by seqnn (leave it at "
                         f"None), got ignore_class={ignore_class!r}")
    return SparseCategoricalCrossentropy(from_logits=from_logits, reduction="none")(y_true, y_pred)


# ------------------------------------ losses whose options are the class's ---
def _function_of(cls: type[Loss], name: str, formula: str, **options: Any) -> Callable[..., np.ndarray]:
    """``name(y_true, y_pred, **options)``: the values of ``cls(reduction="none", **options)``.

    ``options`` are the class's constructor arguments that the Keras function
    takes too, with their defaults; they may be passed by position, as in Keras.
    """
    def parameter(key, default=inspect.Parameter.empty):
        return inspect.Parameter(key, inspect.Parameter.POSITIONAL_OR_KEYWORD, default=default)

    signature = inspect.Signature([parameter("y_true"), parameter("y_pred"),
                                   *(parameter(key, value) for key, value in options.items())])

    def per_sample(*args, **kwargs) -> np.ndarray:
        bound = signature.bind(*args, **kwargs)  # a TypeError for a wrong call, as from a def
        bound.apply_defaults()
        arguments = dict(bound.arguments)
        y_true, y_pred = arguments.pop("y_true"), arguments.pop("y_pred")
        return cls(reduction="none", **arguments)(y_true, y_pred)

    per_sample.__name__ = per_sample.__qualname__ = name
    per_sample.__signature__ = signature
    per_sample.__doc__ = f"``{formula}``\n\nSee :class:`~seqnn.losses.{cls.__name__}`."
    return computed_by(cls)(per_sample)


mean_squared_error = _function_of(MeanSquaredError, "mean_squared_error", "ℓᵢ = mean_j (pᵢⱼ − tᵢⱼ)²")
mean_absolute_error = _function_of(MeanAbsoluteError, "mean_absolute_error", "ℓᵢ = mean_j |pᵢⱼ − tᵢⱼ|")
mean_absolute_percentage_error = _function_of(MeanAbsolutePercentageError, "mean_absolute_percentage_error",
                                              "ℓᵢ = 100·mean_j |tᵢⱼ − pᵢⱼ| / max(|tᵢⱼ|, ε), ε = 1e-7")
mean_squared_logarithmic_error = _function_of(MeanSquaredLogarithmicError, "mean_squared_logarithmic_error",
                                              "ℓᵢ = mean_j (log(max(pᵢⱼ, ε) + 1) − log(max(tᵢⱼ, ε) + 1))², ε = 1e-7")
huber = _function_of(Huber, "huber", "ℓᵢ = mean_j h(pᵢⱼ − tᵢⱼ), h(d) = d²/2 for |d| ≤ δ, else δ·(|d| − δ/2)",
                     delta=1.0)
log_cosh = _function_of(LogCosh, "log_cosh", "ℓᵢ = mean_j log(cosh(pᵢⱼ − tᵢⱼ)), computed stably")
cosine_similarity = _function_of(CosineSimilarity, "cosine_similarity",
                                 "ℓᵢ = −Σ_axis t̂ᵢ·p̂ᵢ, x̂ = x / max(‖x‖, ε) along axis", axis=-1)
kl_divergence = _function_of(KLDivergence, "kl_divergence",
                             "ℓᵢ = Σ_c tᵢ_c·log(tᵢ_c / pᵢ_c), t and p clipped to [ε, 1], ε = 1e-7")
poisson = _function_of(Poisson, "poisson", "ℓᵢ = mean_j (pᵢⱼ − tᵢⱼ·log(pᵢⱼ + ε)), ε = 1e-7")
hinge = _function_of(Hinge, "hinge", "ℓᵢ = mean_j max(1 − tᵢⱼ·pᵢⱼ, 0), labels t in {−1, 1} ({0, 1} mapped to them)")
squared_hinge = _function_of(SquaredHinge, "squared_hinge",
                             "ℓᵢ = mean_j max(1 − tᵢⱼ·pᵢⱼ, 0)², labels t in {−1, 1} ({0, 1} mapped to them)")
categorical_hinge = _function_of(CategoricalHinge, "categorical_hinge",
                                 "ℓᵢ = max(max_c (1 − tᵢ_c)·pᵢ_c − Σ_c tᵢ_c·pᵢ_c + 1, 0), one-hot t")


# Keras 2's short names (Keras 3 keeps them under keras._legacy).
mse = mean_squared_error
mae = mean_absolute_error
mape = mean_absolute_percentage_error
msle = mean_squared_logarithmic_error
kld = kl_divergence
logcosh = log_cosh
