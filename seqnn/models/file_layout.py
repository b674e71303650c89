"""How a model is laid out in a ``.safetensors`` file, and writing it.

Layout of a file written by :func:`save_model` (see the design notes):

* ``layers.<i>.<param>``: every weight of layer i of ``model.layers``
  (a Dense kernel is [in, out]; a nested model's weights are
  ``layers.<i>.layers.<j>.<param>``);
* ``optimizer.<slot>.layers.<i>.<param>``: optimizer state per parameter,
  ``optimizer.step`` (updates applied, int64) and any other scalar state the
  optimizer keeps (``optimizer.<name>``, float64);
* ``__metadata__``: ``format="seqnn"``, the library version, ``model_config``
  and ``compile_config`` as JSON strings, ``training_input_range`` (JSON
  ``[min, max]`` of the inputs fit trained on, see :mod:`seqnn.models.input_range`)
  and ``training_state`` (JSON) for resumable checkpoints (see :mod:`seqnn.models.backup`).

The file itself is written by :mod:`seqnn.saving` (atomically).
"""
from __future__ import annotations

import json
import os

import numpy as np

from .. import optimizers
from .._version import __version__
from ..file_names import check_save_path
from ..saving import safetensors_file
from . import input_range

FORMAT = "seqnn"
OPTIMIZER_PREFIX = "optimizer."
# A training backup's own tensors: the running metrics' and the callbacks' arrays.
BACKUP_PREFIXES = ("metrics.", "callbacks.")


def weight_shapes(model) -> dict[str, tuple]:
    """``layers.<i>.<param>`` → shape, for every weight (placeholders included: nothing is read)."""
    return {path: tuple(layer.params[key].shape) for path, layer, key in model.weight_entries()}


def weight_tensors(model) -> dict[str, np.ndarray]:
    return {path: np.array(layer.backend.to_numpy(layer.params[key]))
            for path, layer, key in model.weight_entries()}


def optimizer_tensors(model) -> dict[str, np.ndarray]:
    optimizer = getattr(model, "optimizer", None)
    if optimizer is None or not optimizer.built:
        return {}
    out = {OPTIMIZER_PREFIX + name: np.array(optimizer.backend.to_numpy(value))
           for name, value in optimizer.variables().items()}
    for name, value in optimizer.state_scalars().items():
        # Shape (1,): safetensors stores no 0-d tensors.
        out[OPTIMIZER_PREFIX + name] = np.array([value], dtype=np.int64 if name == "step" else np.float64)
    return out


def save_model(model, path: str | os.PathLike, include_optimizer: bool = True,
               training_state: dict | None = None, extra_tensors: dict[str, np.ndarray] | None = None) -> None:
    """Write the whole model (config, weights, optimizer state) to one ``.safetensors`` file, atomically.

    ``training_state`` (JSON-able) and ``extra_tensors`` (names outside
    ``layers.``/``optimizer.``) are what a training backup adds.
    """
    path = check_save_path(path, "save")
    if not model.built:
        raise ValueError("save: the model has no weights yet; build it (Input, build(), or fit) first")
    tensors = weight_tensors(model)
    if include_optimizer and model.compiled:
        model._prepare()
        tensors.update(optimizer_tensors(model))
    tensors.update(extra_tensors or {})
    metadata = {"format": FORMAT, "seqnn_version": __version__,
                "model_config": json.dumps(model.get_config())}
    if model.compiled:
        # The optimizer's config now, not at compile time: callbacks may have changed its learning rate.
        metadata["compile_config"] = json.dumps({**model.compile_config,
                                                 "optimizer": optimizers.serialize(model.optimizer)})
    if model.training_input_range is not None:
        metadata[input_range.METADATA_KEY] = input_range.to_metadata(model.training_input_range)
    if training_state is not None:
        metadata["training_state"] = json.dumps(training_state)
    safetensors_file.write(path, tensors, metadata)


def save_weights(model, path: str | os.PathLike) -> None:
    """Write only the weights (``layers.<i>.<param>``), atomically."""
    path = check_save_path(path, "save_weights")
    if not model.built:
        raise ValueError("save_weights: the model has no weights yet; build it first")
    safetensors_file.write(path, weight_tensors(model), {"format": FORMAT, "seqnn_version": __version__})
