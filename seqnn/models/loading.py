"""Rebuilding a model from a file: ``load_model``, ``load_weights`` and ``model_from_json``.

Whatever the bytes, a loader returns a model or raises ``ValueError`` (or a
subclass) whose message names the file and the problem; ``OSError`` only
comes from the operating system (a missing or unreadable file). In order:

1. :mod:`seqnn.saving` checks the file as safetensors; every tensor it
   returns is backed by the file's own bytes.
2. The JSON metadata is parsed with limits (:mod:`seqnn.saving.json_text`).
3. The layers are built from ``model_config`` without allocating or
   initialising a weight (:mod:`seqnn.layers.unallocated`); a config that
   cannot build a layer is reported with its place in the file
   (``model_config.layers[2]``) and the layer's class and name.
4. Every weight's declared shape is compared with the file's tensors, and
   only then is memory given to the weights, filled from the file. A
   247-byte file that declares ``Dense(10**7)`` costs nothing but the error.
"""
from __future__ import annotations

import inspect
import math
import os
import re
from typing import Any

import numpy as np

from ..argument_checks import check_bool
from ..errors import BackendUnavailableError
from ..layers import registry as layer_registry
from ..layers.unallocated import shapes_only
from ..registry import custom_object_scope
from ..saving import json_text, safetensors_file
from ..saving.tensor_checks import check_names_and_shapes
from . import input_range
from .file_layout import BACKUP_PREFIXES, FORMAT, OPTIMIZER_PREFIX, weight_shapes
from .sequential import Sequential


def load_model(filepath: str | os.PathLike, compile: bool = True, custom_objects: dict | None = None,
               safe_mode: bool = True):
    """Rebuild a model from a file written by ``model.save``: architecture, weights, compile setup, optimizer state.

    Args:
        filepath: the ``.safetensors`` file (any name: seqnn reads what it wrote).
        compile: also compile it as it was saved and restore the optimizer state.
        custom_objects: ``{name: class}`` for custom layers, losses, metrics,
            optimizers... that the file names, in force for this load only.
        safe_mode: accepted for Keras scripts; loading never runs code from a file.
    """
    path = file_argument(filepath, "load_model")
    check_bool(compile, "load_model", "compile")
    try:
        with custom_object_scope(custom_objects):  # checked before the file is read
            return _load_model(path, compile)
    except MemoryError:
        raise ValueError(f"{path}: not enough memory to load the {_size(path)} bytes of this file") from None


def _load_model(path: str, compile: bool):
    tensors, metadata = safetensors_file.read(path)
    if metadata.get("format") != FORMAT:
        raise ValueError(f"{path}: not a seqnn model file (its metadata has no format='seqnn'; "
                         "a file from another tool can be read with model.load_weights if its tensor names match)")
    config = metadata_json(metadata, "model_config", path)
    compile_config = metadata_json(metadata, "compile_config", path) if compile and "compile_config" in metadata \
        else None
    with shapes_only():
        model = model_from_config(config, f"{path}: model_config")
        if compile_config is not None:
            compile_from_config(model, compile_config, f"{path}: compile_config")
    model.training_input_range = input_range.from_metadata(metadata, path)
    weights = _weights_of(tensors, metadata)
    if not model.built:
        if weights:
            raise ValueError(f"{path}: holds weights but its model config has no input shape")
        return model
    expected = weight_shapes(model)
    check_names_and_shapes(expected, weights, path)
    for name, layer, key in model.weight_entries():
        layer.fill_weight(key, weights[name])
    optimizer_state = {k[len(OPTIMIZER_PREFIX):]: v for k, v in tensors.items() if k.startswith(OPTIMIZER_PREFIX)}
    if optimizer_state and model.compiled:
        restore_optimizer(model, optimizer_state, path)
    return model


def _weights_of(tensors: dict, metadata: dict) -> dict:
    """The file's tensors but the optimizer's, and a training backup's metric and callback arrays."""
    skip = (OPTIMIZER_PREFIX, *BACKUP_PREFIXES) if "training_state" in metadata else (OPTIMIZER_PREFIX,)
    return {k: v for k, v in tensors.items() if not k.startswith(skip)}


def load_weights_into(model, filepath: str | os.PathLike) -> None:
    """Set the model's weights from a file; strict: nothing is changed unless every tensor fits."""
    path = file_argument(filepath, "load_weights")
    if not model.built:
        raise ValueError("load_weights: build the model first (Input, build(), or fit), so its weight "
                         "shapes are known")
    try:
        tensors, metadata = safetensors_file.read(path)
    except MemoryError:
        raise ValueError(f"{path}: not enough memory to load the {_size(path)} bytes of this file") from None
    weights = _weights_of(tensors, metadata)
    expected = weight_shapes(model)
    check_names_and_shapes(expected, weights, path)
    model.set_weights([weights[name] for name in expected])


def model_from_json(json_string: str, custom_objects: dict | None = None):
    """An uncompiled, freshly initialised model from ``model.to_json()`` (Keras's ``keras.models.model_from_json``)."""
    if not isinstance(json_string, (str, bytes, bytearray)):
        raise TypeError(f"model_from_json: json_string must be a str, got {type(json_string).__name__}")
    try:
        config = json_text.parse(json_string, "json_string")
    except ValueError as e:
        raise ValueError(f"model_from_json: not a JSON model config ({e})") from None
    with custom_object_scope(custom_objects):
        return model_from_config(config, "model_from_json")


# ------------------------------------------------------------- configs ---
def model_from_config(config: Any, where: str) -> Sequential:
    """A Sequential from ``get_config()`` or ``to_json()`` output; errors start with ``where``.

    Every construction error is reported with the entry's place
    (``<where>.layers[2]``) and its class and name, whatever the constructor raised.
    """
    if isinstance(config, dict) and config.get("class_name") == "Sequential" and "config" in config:
        config, where = config["config"], f"{where}.config"  # to_json()'s {"class_name": "Sequential", ...}
    if not isinstance(config, dict) or not isinstance(config.get("layers"), list):
        raise ValueError(f"{where}: a Sequential config is a dict with a 'layers' list (from get_config()), "
                         f"got {_short(config)}")
    name, trainable = config.get("name"), config.get("trainable", True)
    if name is not None and not isinstance(name, str):
        raise ValueError(f"{where}.name: expected a string, got {_short(name)}")
    if not isinstance(trainable, bool):
        raise ValueError(f"{where}.trainable: expected true or false, got {_short(trainable)}")
    model = Sequential(name=name, trainable=trainable)
    for index, entry in enumerate(config["layers"]):
        field = f"{where}.layers[{index}]"
        layer = _layer_from_entry(entry, field)
        try:
            model.add(layer)
        except Exception as e:  # whatever a layer's build makes of the file's values, the file is at fault
            raise ValueError(f"{field} ({_describe(entry)}): {_reason(e)}") from None
    return model


def _layer_from_entry(entry: Any, field: str):
    if not isinstance(entry, dict) or not isinstance(entry.get("class_name"), str):
        raise ValueError(f"{field}: expected {{\"class_name\": <layer class>, \"config\": {{...}}}}, "
                         f"got {_short(entry)}")
    inner = entry.get("config", {})
    if inner is None:
        inner = {}
    if not isinstance(inner, dict):
        raise ValueError(f"{field}.config: expected a dict of arguments for {entry['class_name']}, "
                         f"got {_short(inner)}")
    try:
        cls = layer_registry.lookup(entry["class_name"])
    except ValueError as e:
        raise ValueError(f"{field}: {e}") from None
    if isinstance(cls, type) and issubclass(cls, Sequential):
        return model_from_config(inner, f"{field}.config")
    if "name" in inner and not isinstance(inner["name"], str):
        raise ValueError(f"{field}.config.name: expected a string, got {_short(inner['name'])}")
    try:
        return cls.from_config(inner) if hasattr(cls, "from_config") else cls(**inner)
    except Exception as e:  # a constructor's TypeError, ValueError, OverflowError...: all from the file's values
        raise ValueError(f"{field} ({_describe(entry)}): bad config: {_reason(e)}{_typos(cls, inner, e)}") from None


def accepted_arguments(cls: type) -> set[str] | None:
    """The keyword arguments ``cls(...)`` takes, following ``**kwargs`` up the classes it is passed to.

    A layer's ``**kwargs`` usually go to its base class (``Layer.__init__``
    takes ``name``, ``trainable``, ``input_shape``...), so after a
    constructor's TypeError a key no class in the chain declares is named as
    the likely typo. None when a constructor takes ``*args`` (it maps them
    itself).
    """
    names: set[str] = set()
    for klass in cls.__mro__:
        init = klass.__dict__.get("__init__")
        if init is None:
            continue
        try:
            parameters = list(inspect.signature(init).parameters.values())[1:]  # without self
        except (TypeError, ValueError):
            return None  # a constructor we cannot read: the constructor itself will judge
        if any(p.kind == p.VAR_POSITIONAL for p in parameters):
            return None  # arguments mapped by hand: the constructor itself knows
        names.update(p.name for p in parameters if p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY))
        if not any(p.kind == p.VAR_KEYWORD for p in parameters):
            return names
    return names


def _typos(cls: Any, config: dict, error: Exception) -> str:
    """After a constructor's TypeError, the config's keys that no constructor in the chain declares."""
    accepted = accepted_arguments(cls) if isinstance(error, TypeError) and isinstance(cls, type) else None
    unknown = sorted(set(config) - accepted) if accepted is not None else []
    if not unknown or all(repr(key) in str(error) for key in unknown):  # the constructor named them already
        return ""
    return f"; unknown arguments {', '.join(map(repr, unknown))} ({cls.__name__} takes {', '.join(sorted(accepted))})"


def compile_from_config(model: Sequential, config: Any, where: str) -> None:
    if not isinstance(config, dict):
        raise ValueError(f"{where}: expected a dict of compile() arguments, got {_short(config)}")
    try:
        model.compile(**config)
    except BackendUnavailableError as e:  # callers fall back to compile=False on this machine
        raise BackendUnavailableError(f"{where}: {e}") from None
    except Exception as e:
        raise ValueError(f"{where}: {_reason(e)}") from None


def restore_optimizer(model, state: dict, path: str) -> None:
    """Put the file's optimizer tensors into the compiled model's optimizer, after checking all of them."""
    model._prepare()
    set_optimizer_state(model, state, check_optimizer_state(model, state, path))


def check_optimizer_state(model, state: dict, path: str) -> dict:
    """Check the file's optimizer tensors (names without ``optimizer.``) against the prepared model's
    optimizer; returns its scalar state as Python numbers. Changes nothing."""
    optimizer = model.optimizer
    variables = optimizer.variables()
    scalar_names = set(optimizer.state_scalars())
    expected = {OPTIMIZER_PREFIX + name: tuple(v.shape) for name, v in variables.items()}
    expected.update({OPTIMIZER_PREFIX + name: (1,) for name in scalar_names})
    found = {OPTIMIZER_PREFIX + k: v for k, v in state.items()}
    check_names_and_shapes(expected, found, path, require_float=False)
    problems = [f"{OPTIMIZER_PREFIX}{name} ({state[name].dtype})" for name in variables
                if state[name].dtype.kind != "f"]
    problems += [f"{OPTIMIZER_PREFIX}{name} ({state[name].dtype})" for name in scalar_names
                 if state[name].dtype.kind not in "iuf"]
    if problems:
        raise ValueError(f"{path}: optimizer state of the wrong type: {', '.join(sorted(problems))}")
    negative = sorted(f"{OPTIMIZER_PREFIX}{name}" for name in variables
                      if name.split(".", 1)[0] in optimizer.non_negative_slots and np.any(state[name] < 0))
    if negative:
        raise ValueError(f"{path}: optimizer state out of range: {_listing(negative)} hold negative values, "
                         f"which {type(optimizer).__name__} never stores there")
    scalars = {name: state[name][0].item() for name in scalar_names}
    bad = [f"{OPTIMIZER_PREFIX}{name} = {value!r}" for name, value in scalars.items()
           if not math.isfinite(value) or (name == "step" and (value < 0 or not float(value).is_integer()))]
    if bad:
        raise ValueError(f"{path}: optimizer state out of range (step must be a whole number >= 0, the rest "
                         f"finite): {', '.join(sorted(bad))}")
    return scalars


def set_optimizer_state(model, state: dict, scalars: dict) -> None:
    """Apply what :func:`check_optimizer_state` accepted."""
    optimizer = model.optimizer
    optimizer.set_state_scalars(scalars)
    for name, view in optimizer.variables().items():
        optimizer.backend.copy_into(view, state[name].astype(view.dtype, copy=False))


def metadata_json(metadata: dict, key: str, path: str) -> Any:
    if key not in metadata:
        raise ValueError(f"{path}: metadata {key!r} is missing")
    return json_text.parse(metadata[key], f"{path}: metadata {key!r}")


# -------------------------------------------------------------- helpers ---
def file_argument(filepath: Any, what: str) -> str:
    """``filepath`` as a str, or a TypeError naming the argument."""
    if not isinstance(filepath, (str, os.PathLike)):
        raise TypeError(f"{what}: filepath must be a str or os.PathLike, got {type(filepath).__name__}: "
                        f"{_short(filepath)}")
    path = os.fspath(filepath)
    if not isinstance(path, str):
        raise TypeError(f"{what}: filepath must be text, got bytes: {path!r}")
    if not path:
        raise ValueError(f"{what}: filepath is empty")
    return path


def _describe(entry: dict) -> str:
    name = entry.get("config", {}).get("name") if isinstance(entry.get("config"), dict) else None
    return f"{entry['class_name']} {name!r}" if isinstance(name, str) else entry["class_name"]


def _reason(error: BaseException) -> str:
    """The error's message without Python's ``Dense.__init__()`` prefix, or its type when it has none."""
    text = re.sub(r"^[\w.]+\(\) ", "", str(error)) or type(error).__name__
    return text if isinstance(error, (ValueError, TypeError)) else f"{type(error).__name__}: {text}"


def _listing(names: list[str]) -> str:
    return ", ".join(names[:10]) + (f" ... ({len(names) - 10} more)" if len(names) > 10 else "")


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 100 else text[:97] + "..."


def _size(path: str) -> int:
    try:
        return os.path.getsize(path)
    except OSError:
        return 0
