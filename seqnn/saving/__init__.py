"""Saving and loading models and weights as ``.safetensors`` files (atomic writes, strict reads)."""
from ..registry import custom_object_scope
from .file_names import KerasFileNameWarning
from .model_file import WeightsMismatchError, load_model, load_weights_into, save_model, save_weights

__all__ = ["KerasFileNameWarning", "WeightsMismatchError", "custom_object_scope", "load_model", "load_weights_into",
           "save_model", "save_weights"]
