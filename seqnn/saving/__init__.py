"""Saving and loading models and weights as ``.safetensors`` files (atomic writes, strict reads)."""
from ..registry import custom_object_scope
from .file_names import KerasFileNameWarning
from .model_file import WeightsMismatchError, load_model, load_weights_into, save_model, save_weights
from .objects import deserialize_keras_object, model_from_json, serialize_keras_object

__all__ = ["KerasFileNameWarning", "WeightsMismatchError", "custom_object_scope", "deserialize_keras_object",
           "load_model", "load_weights_into", "model_from_json", "save_model", "save_weights",
           "serialize_keras_object"]
