"""Models: Sequential and its training loops; ``load_model`` as Keras's ``keras.models`` has it."""
from ..saving import load_model, save_model
from .sequential import Sequential

__all__ = ["Sequential", "load_model", "save_model"]
