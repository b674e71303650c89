"""Models: Sequential and its training loops; ``load_model`` as Keras's ``keras.models`` has it."""
from ..saving import load_model, model_from_json, save_model
from .sequential import Sequential

__all__ = ["Sequential", "load_model", "model_from_json", "save_model"]
