"""File I/O for weights and models: safetensors files, atomic writes, strict name and shape checks.

The modules here import nothing else from seqnn (so a file format change
cannot reach the models, and loading them cannot reach back into training):

* :mod:`.safetensors_file`: reading (every header field checked against the
  file's own bytes) and writing one ``.safetensors`` file;
* :mod:`.atomic`: replacing a file atomically, and removing what a killed
  write left;
* :mod:`.json_text`: JSON from files, parsed with limits;
* :mod:`.tensor_checks`: the tensors a file holds against the ones expected.

Turning a model into a file and back is the models' business
(:mod:`seqnn.models.file_layout`, :mod:`seqnn.models.loading`). Keras scripts
import ``keras.saving.load_model`` and its neighbours, so those names are
offered here too, looked up on first use rather than imported.
"""
from __future__ import annotations

import importlib

from .tensor_checks import WeightsMismatchError

# Keras's ``keras.saving`` names → the seqnn module that defines each.
_ELSEWHERE = {
    "load_model": "seqnn.models.loading",
    "load_weights_into": "seqnn.models.loading",
    "model_from_json": "seqnn.models.loading",
    "save_model": "seqnn.models.file_layout",
    "save_weights": "seqnn.models.file_layout",
    "custom_object_scope": "seqnn.registry",
    "serialize_keras_object": "seqnn.serialization",
    "deserialize_keras_object": "seqnn.serialization",
    "KerasFileNameWarning": "seqnn.file_names",
}

__all__ = ["KerasFileNameWarning", "WeightsMismatchError", "custom_object_scope", "deserialize_keras_object",
           "load_model", "load_weights_into", "model_from_json", "save_model", "save_weights",
           "serialize_keras_object"]


def __getattr__(name: str):
    module = _ELSEWHERE.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value  # looked up once
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *_ELSEWHERE})
