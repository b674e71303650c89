"""Models: Sequential and its training loops; ``load_model`` as Keras's ``keras.models`` has it."""
from .file_layout import save_model
from .loading import load_model, model_from_json
from .sequential import Sequential

__all__ = ["Sequential", "load_model", "model_from_json", "save_model"]
