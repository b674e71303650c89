"""Keras's ``serialize_keras_object`` / ``deserialize_keras_object`` (``seqnn.saving`` offers them too).

Any seqnn object with ``get_config`` (a layer, loss, metric, optimizer,
schedule, regularizer, initializer, activation) becomes a plain JSON-able
dict and back::

    config = seqnn.saving.serialize_keras_object(seqnn.regularizers.L1(0.005))
    # {"module": "seqnn.regularizers", "class_name": "L1", "config": {"l1": 0.005}}
    seqnn.saving.deserialize_keras_object(config)

``module`` tells apart classes of one name in two kinds (the loss and the
metric ``MeanSquaredError``).
"""
from __future__ import annotations

from typing import Any

from . import registry as registry_module


def _package(cls: type) -> str:
    """ "seqnn.losses" for seqnn.losses.regression.MeanSquaredError; a user's module as it is."""
    parts = cls.__module__.split(".")
    return ".".join(parts[:2]) if parts[0] == "seqnn" else cls.__module__


def serialize_keras_object(obj: Any) -> Any:
    """``{"module", "class_name", "config"}`` for an object with ``get_config``; None, str and numbers as they are."""
    if obj is None or isinstance(obj, (str, int, float, bool)):
        return obj
    if not hasattr(obj, "get_config"):
        raise TypeError(f"serialize_keras_object: {type(obj).__name__} has no get_config(); expected a seqnn "
                        f"layer, loss, metric, optimizer, schedule, regularizer, initializer or activation")
    return {"module": _package(type(obj)), "class_name": type(obj).__name__, "config": obj.get_config()}


def deserialize_keras_object(config: Any, custom_objects: dict | None = None) -> Any:
    """The object that :func:`serialize_keras_object` described (its class must be registered or in custom_objects)."""
    if config is None or isinstance(config, (str, int, float, bool)):
        return config
    if not isinstance(config, dict) or not isinstance(config.get("class_name"), str):
        raise ValueError(f"deserialize_keras_object: expected a dict with 'class_name' and 'config', got {config!r}")
    with registry_module.custom_object_scope(custom_objects):
        candidates = [r for r in registry_module.all_registries() if config["class_name"] in r]
        module = config.get("module")
        if module is not None and len(candidates) > 1:
            candidates = [r for r in candidates if r.base is not None and _package(r.base) == module] or candidates
        if not candidates:
            raise ValueError(f"deserialize_keras_object: unknown class {config['class_name']!r}; register it or "
                             "pass it in custom_objects")
        return candidates[0].from_config({"class_name": config["class_name"], "config": config.get("config", {})})

