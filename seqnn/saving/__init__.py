"""Saving and loading models and weights as ``.safetensors`` files (atomic writes, strict reads)."""
from .model_file import WeightsMismatchError, load_model, load_weights_into, save_model, save_weights

__all__ = ["WeightsMismatchError", "load_model", "load_weights_into", "save_model", "save_weights"]
