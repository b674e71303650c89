"""Model ⇄ weights file: tensor naming, metadata, strict checking.

Layout of a file written by :func:`save_model` (see the design notes):

* ``layers.<i>.<param>``: every weight of layer i of ``model.layers``
  (a Dense kernel is [in, out]);
* ``optimizer.<slot>.layers.<i>.<param>``: optimizer state per parameter,
  ``optimizer.step`` (updates applied, int64) and any other scalar state the
  optimizer keeps (``optimizer.<name>``, float64);
* ``__metadata__``: ``format="seqnn"``, the library version, ``model_config``
  and ``compile_config`` as JSON strings, and ``training_state`` (JSON) for
  resumable checkpoints.
"""
from __future__ import annotations

import json
import os
from typing import Any

import numpy as np

from .._version import __version__
from ..registry import custom_object_scope
from . import safetensors_file
from .file_names import check_save_path

FORMAT = "seqnn"


class WeightsMismatchError(ValueError):
    """A weights file does not hold exactly the tensors the model expects."""


def weight_tensors(model) -> dict[str, np.ndarray]:
    return {f"layers.{i}.{key}": np.array(layer.backend.to_numpy(value))
            for i, layer in enumerate(model.layers) for key, value in layer.params.items()}


def optimizer_tensors(model) -> dict[str, np.ndarray]:
    optimizer = getattr(model, "optimizer", None)
    if optimizer is None or not optimizer.built:
        return {}
    out = {f"optimizer.{name}": np.array(optimizer.backend.to_numpy(value))
           for name, value in optimizer.variables().items()}
    for name, value in optimizer.state_scalars().items():
        # Shape (1,): safetensors stores no 0-d tensors.
        out[f"optimizer.{name}"] = np.array([value], dtype=np.int64 if name == "step" else np.float64)
    return out


def save_model(model, path: str | os.PathLike, include_optimizer: bool = True,
               training_state: dict | None = None, extra_tensors: dict[str, np.ndarray] | None = None) -> None:
    """Write the whole model (config, weights, optimizer state) to one ``.safetensors`` file, atomically.

    ``training_state`` (JSON-able) and ``extra_tensors`` (names outside
    ``layers.``/``optimizer.``) are BackupAndRestore's additions.
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
        from ..optimizers import serialize

        metadata["compile_config"] = json.dumps({**model.compile_config,
                                                 "optimizer": serialize(model.optimizer)})
    if training_state is not None:
        metadata["training_state"] = json.dumps(training_state)
    safetensors_file.write(path, tensors, metadata)


def save_weights(model, path: str | os.PathLike) -> None:
    """Write only the weights (``layers.<i>.<param>``), atomically."""
    path = check_save_path(path, "save_weights")
    if not model.built:
        raise ValueError("save_weights: the model has no weights yet; build it first")
    safetensors_file.write(path, weight_tensors(model), {"format": FORMAT, "seqnn_version": __version__})


def check_names_and_shapes(expected: dict[str, tuple], found: dict[str, np.ndarray], path: str,
                           require_float: bool = True) -> None:
    """One error naming every missing tensor, every extra tensor and every shape mismatch."""
    missing = sorted(set(expected) - set(found))
    extra = sorted(set(found) - set(expected))
    shapes = [f"{k}: model {expected[k]}, file {tuple(found[k].shape)}" for k in sorted(set(expected) & set(found))
              if tuple(found[k].shape) != tuple(expected[k])]
    not_float = (safetensors_file.float_dtype_problems({k: found[k] for k in expected if k in found})
                 if require_float else [])
    problems = []
    if missing:
        problems.append(f"missing tensors: {', '.join(missing)}")
    if extra:
        problems.append(f"unexpected tensors: {', '.join(extra)}")
    if shapes:
        problems.append(f"shape mismatches: {'; '.join(shapes)}")
    if not_float:
        problems.append(f"non-floating-point weights: {', '.join(not_float)}")
    if problems:
        raise WeightsMismatchError(f"{path} does not match the model: " + " | ".join(problems))


def load_weights_into(model, path: str | os.PathLike) -> None:
    """Set the model's weights from a file; strict: nothing is changed unless every tensor fits."""
    path = os.fspath(path)
    if not model.built:
        raise ValueError("load_weights: build the model first (Input, build(), or fit), so its weight "
                         "shapes are known")
    tensors, _ = safetensors_file.read(path)
    weights = {k: v for k, v in tensors.items() if not k.startswith("optimizer.")}
    expected = {f"layers.{i}.{key}": tuple(v.shape) for i, layer in enumerate(model.layers)
                for key, v in layer.params.items()}
    check_names_and_shapes(expected, weights, path)
    model.set_weights([weights[name] for name in expected])


def _metadata_json(metadata: dict, key: str, path: str) -> Any:
    try:
        return json.loads(metadata[key])
    except (KeyError, json.JSONDecodeError) as e:
        raise ValueError(f"{path}: metadata {key!r} is missing or not valid JSON ({e})") from None


def load_model(path: str | os.PathLike, compile: bool = True, custom_objects: dict | None = None):
    """Rebuild a model from a file written by ``model.save``: architecture, weights, compile setup, optimizer state."""
    from ..models import Sequential

    path = os.fspath(path)
    tensors, metadata = safetensors_file.read(path)
    if metadata.get("format") != FORMAT:
        raise ValueError(f"{path}: not a seqnn model file (its metadata has no format='seqnn'; "
                         "a file from another tool can be read with model.load_weights if its tensor names match)")
    with custom_object_scope(custom_objects):
        model = Sequential.from_config(_metadata_json(metadata, "model_config", path))
        weights = {k: v for k, v in tensors.items() if not k.startswith("optimizer.")}
        if not model.built:
            if weights:
                raise ValueError(f"{path}: holds weights but its model config has no input shape")
            return model
        if compile and "compile_config" in metadata:
            model.compile(**_metadata_json(metadata, "compile_config", path))
    expected = {f"layers.{i}.{key}": tuple(v.shape) for i, layer in enumerate(model.layers)
                for key, v in layer.params.items()}
    check_names_and_shapes(expected, weights, path)
    model.set_weights([weights[name] for name in expected])
    optimizer_state = {k[len("optimizer."):]: v for k, v in tensors.items() if k.startswith("optimizer.")}
    if optimizer_state and model.compiled:
        restore_optimizer(model, optimizer_state, path)
    return model


def restore_into(model, path: str | os.PathLike) -> tuple[dict[str, str], dict[str, np.ndarray]]:
    """Load weights and optimizer state into an existing compiled model, strictly.

    Returns the file's metadata and its tensors outside ``layers.`` and
    ``optimizer.`` (BackupAndRestore's extras). Nothing changes unless every
    weight and optimizer tensor fits.
    """
    path = os.fspath(path)
    tensors, metadata = safetensors_file.read(path)
    if metadata.get("format") != FORMAT:
        raise ValueError(f"{path}: not a seqnn file (its metadata has no format='seqnn')")
    weights = {k: v for k, v in tensors.items() if k.startswith("layers.")}
    expected = {f"layers.{i}.{key}": tuple(v.shape) for i, layer in enumerate(model.layers)
                for key, v in layer.params.items()}
    check_names_and_shapes(expected, weights, path)
    optimizer_state = {k[len("optimizer."):]: v for k, v in tensors.items() if k.startswith("optimizer.")}
    model.set_weights([weights[name] for name in expected])
    restore_optimizer(model, optimizer_state, path)
    extra = {k: v for k, v in tensors.items() if not k.startswith(("layers.", "optimizer."))}
    return metadata, extra


def restore_optimizer(model, state: dict[str, np.ndarray], path: str) -> None:
    model._prepare()
    optimizer = model.optimizer
    variables = optimizer.variables()
    scalar_names = set(optimizer.state_scalars())
    expected = {name: tuple(v.shape) for name, v in variables.items()}
    expected.update({name: (1,) for name in scalar_names})
    check_names_and_shapes({f"optimizer.{k}": v for k, v in expected.items()},
                           {f"optimizer.{k}": v for k, v in state.items()}, path, require_float=False)
    for name, view in variables.items():
        optimizer.backend.copy_into(view, state[name].astype(view.dtype, copy=False))
    optimizer.set_state_scalars({name: state[name][0].item() for name in scalar_names})
