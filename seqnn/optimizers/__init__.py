"""Optimizers, by class (``optimizers.Adam(1e-3)``) or by name (``"adam"``)."""
from . import schedules
from .adam import Adam, AdamW
from .base import Optimizer, get, register, registry, serialize

__all__ = ["Adam", "AdamW", "Optimizer", "get", "register", "registry", "schedules", "serialize"]
