"""Losses, by class (``losses.Huber(delta=2.0)``) or by name (``"mse"``)."""
from .base import Loss, get, register, registry, serialize
from .crossentropy import BinaryCrossentropy, CategoricalCrossentropy, SparseCategoricalCrossentropy
from .regression import Huber, MeanAbsoluteError, MeanSquaredError

MSE = MeanSquaredError
MAE = MeanAbsoluteError

__all__ = [
    "BinaryCrossentropy", "CategoricalCrossentropy", "Huber", "Loss", "MAE", "MSE",
    "MeanAbsoluteError", "MeanSquaredError", "SparseCategoricalCrossentropy",
    "get", "register", "registry", "serialize",
]
