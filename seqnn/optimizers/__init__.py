"""Optimizers, by class (``optimizers.Adam(1e-3)``) or by name (``"adam"``, case-insensitive).

Every optimizer takes Keras's base arguments: ``learning_rate`` (a float or a
:mod:`~seqnn.optimizers.schedules` schedule), ``weight_decay`` (decoupled),
``clipnorm`` / ``clipvalue`` / ``global_clipnorm`` (at most one) and ``name``.
"""
from . import schedules
from .adadelta import Adadelta
from .adagrad import Adagrad
from .adam import Adam, AdamW
from .adamax import Adamax
from .base import Optimizer, get, register, registry, serialize
from .nadam import Nadam
from .rmsprop import RMSprop
from .sgd import SGD

__all__ = ["SGD", "Adadelta", "Adagrad", "Adam", "AdamW", "Adamax", "Nadam", "Optimizer", "RMSprop", "get", "register",
           "registry", "schedules", "serialize"]
