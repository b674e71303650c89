"""Losses, by class (``losses.Huber(delta=2.0)``), by name (``"mse"``) or by Keras's function
(``losses.mean_squared_error``, which returns the loss of each sample)."""
from .base import Loss, get, register, registry, serialize
from .crossentropy import BinaryCrossentropy, CategoricalCrossentropy, SparseCategoricalCrossentropy
from .functions import (binary_crossentropy, categorical_crossentropy, categorical_hinge, cosine_similarity, hinge,
                        huber, kl_divergence, kld, log_cosh, logcosh, mae, mape, mean_absolute_error,
                        mean_absolute_percentage_error, mean_squared_error, mean_squared_logarithmic_error, mse,
                        msle, poisson, sparse_categorical_crossentropy, squared_hinge)
from .margin import CategoricalHinge, Hinge, SquaredHinge
from .probabilistic import KLDivergence, Poisson
from .regression import (CosineSimilarity, Huber, LogCosh, MeanAbsoluteError, MeanAbsolutePercentageError,
                         MeanSquaredError, MeanSquaredLogarithmicError)

MSE = MeanSquaredError
MAE = MeanAbsoluteError
MAPE = MeanAbsolutePercentageError
MSLE = MeanSquaredLogarithmicError
KLD = KLDivergence

__all__ = [
    "BinaryCrossentropy", "CategoricalCrossentropy", "CategoricalHinge", "CosineSimilarity", "Hinge", "Huber",
    "KLD", "KLDivergence", "Loss", "LogCosh", "MAE", "MAPE", "MSE", "MSLE", "MeanAbsoluteError",
    "MeanAbsolutePercentageError", "MeanSquaredError", "MeanSquaredLogarithmicError", "Poisson",
    "SparseCategoricalCrossentropy", "SquaredHinge",
    "binary_crossentropy", "categorical_crossentropy", "categorical_hinge", "cosine_similarity", "hinge", "huber",
    "kl_divergence", "kld", "log_cosh", "logcosh", "mae", "mape", "mean_absolute_error",
    "mean_absolute_percentage_error", "mean_squared_error", "mean_squared_logarithmic_error", "mse", "msle",
    "poisson", "sparse_categorical_crossentropy", "squared_hinge",
    "get", "register", "registry", "serialize",
]
