"""Sequential: a stack of layers, built, compiled and trained as one model.

The builder is chainable (``add`` and ``compile`` return the model) and the
Keras style works unchanged (``Sequential([...])``, ``model.add(...)`` on its
own line). Parameters are created as soon as the input shape is known: from an
``Input``, from a first layer's ``input_shape=``, from ``build(shape)``, or
from the first batch that ``fit``/``predict`` sees. Until ``compile`` picks a
backend they live on the numpy backend in float32; compile moves them.
"""
from __future__ import annotations

import json
import sys
from typing import Any, Sequence

import numpy as np

from .. import backends, distribute, losses, optimizers
from ..argument_checks import check_bool, check_name, describe, is_integer
from ..errors import NotCompiledError
from ..naming import unique_name
from ..registry import custom_object_scope
from ..layers import Layer, InputLayer
from ..layers import registry as layer_registry
from ..layers.shape_args import is_sequence, sample_shape
from ..layers import serialize as serialize_layer
from .build_rollback import unbuilt_on_error
from .compile_metrics import CompileMetrics
from .fusion import Fusion
from .nesting import NestedModel
from .summary import can_draw_boxes, format_summary
from .trainer import Trainer

_DTYPES = ("float32", "float64")
# Keras compile() arguments that change nothing here: seqnn always runs eagerly.
_IGNORED_COMPILE_ARGS = ("run_eagerly", "steps_per_execution", "jit_compile", "auto_scale_loss")


class Sequential(Trainer, Fusion, NestedModel):
    """A linear stack of layers.

    Example::

        model = (sn.Sequential(name="mlp")
                 .add(sn.layers.Input((784,)))
                 .add(sn.layers.Dense(128, activation="relu"))
                 .add(sn.layers.Dense(10, activation="softmax"))
                 .compile(optimizer="adam", loss="sparse_categorical_crossentropy",
                          metrics=["accuracy"]))
    """

    def __init__(self, layers: Sequence[Layer] | None = None, name: str | None = None,
                 trainable: bool = True):
        if layers is not None and (isinstance(layers, (str, bytes, dict, Layer)) or not hasattr(layers, "__iter__")):
            hint = "; use .add() for one layer" if isinstance(layers, Layer) else ""
            raise TypeError(f"Sequential: layers must be a list of layers (or None), got "
                            f"{type(layers).__name__}: {layers!r}"[:200] + hint)
        self.name = check_name(name, "Sequential") or unique_name("sequential")
        self.trainable = check_bool(trainable, "Sequential", "trainable")
        self.input_layer: InputLayer | None = None
        self._layers: list[Layer] = []
        # Which layers and names are in the model, kept beside _layers so that add() costs the same for
        # the 10,000th layer as for the first (a model file can hold that many).
        self._layer_ids: set[int] = set()
        self._names_taken: set[str] = set()
        self._next_suffix: dict[str, int] = {}  # where the search for a free "<name>_<i>" resumes (equal names)
        self.backend = backends.get("numpy")
        self.dtype = "float32"
        self.compiled = False
        self.compile_config: dict | None = None
        self._compile_metrics = CompileMetrics()
        self._distribution = distribute.LOCAL  # one process until compile(distribution=...)
        # (min, max) of every input value fit has trained on, kept in the model file; predict warns
        # when its inputs lie far outside (see seqnn.models.input_range). None until the first fit.
        self.training_input_range: tuple[float, float] | None = None
        self._step_tuners: dict = {}  # what the backend learns about running this model's steps fast
        self._buffer_rows = 0  # the most rows run through the layers at once (their buffers' size)
        self.stop_training = False
        self.history = None
        self._reset_training_state()
        if layers is not None:
            for layer in layers:
                self.add(layer)

    # -------------------------------------------------------------- layers ---
    @property
    def layers(self) -> list[Layer]:
        """The layers, without the Input (as in Keras)."""
        return list(self._layers)

    @property
    def built(self) -> bool:
        """Whether every layer has its parameters (after an Input, ``build`` or a first batch)."""
        return bool(self._layers) and all(layer.built for layer in self._layers)

    @property
    def input_shape(self) -> tuple | None:
        """The input's shape with the batch dimension as None, e.g. ``(None, 8, 8)``; None while unknown."""
        if self.input_layer is not None:
            return self.input_layer.batch_shape
        return self._layers[0].input_shape if self._layers and self._layers[0].built else None

    @property
    def output_shape(self) -> tuple | None:
        """The last layer's output shape, e.g. ``(None, 10)``; None until the model is built."""
        return self._layers[-1].output_shape if self.built else None

    def add(self, layer: Layer) -> "Sequential":
        """Append a layer (or set the Input); returns the model, so calls chain."""
        if isinstance(layer, InputLayer):
            if self._layers or self.input_layer is not None:
                raise ValueError("an Input can only be the first entry of a Sequential model")
            self.input_layer = layer
            return self
        if not isinstance(layer, Layer):
            raise TypeError(f"add() takes a seqnn layer, got {type(layer).__name__}: {layer!r}")
        if layer is self:
            raise ValueError("a model cannot be added to itself")
        if id(layer) in self._layer_ids:
            raise ValueError(f"layer {layer.name!r} is already in this model; create a new layer instead")
        name, input_layer = layer.name, self.input_layer
        layer.name = self._unique_name(layer.name)
        if not self._layers and self.input_layer is None and layer.input_shape_hint is not None:
            self.input_layer = InputLayer(shape=layer.input_shape_hint)
        self._layers.append(layer)
        self._layer_ids.add(id(layer))
        self._names_taken.add(layer.name)
        self._structure_changed()
        shape = self._shape_before(len(self._layers) - 1)
        if shape is not None:
            try:
                with unbuilt_on_error(self, start=len(self._layers) - 1):
                    self._build_layers(shape, start=len(self._layers) - 1)
            except BaseException:
                # A layer that cannot take the previous one's output is refused, not kept half-added
                # (it would leave the model unbuildable).
                self._layers.pop()
                self._layer_ids.discard(id(layer))
                self._names_taken.discard(layer.name)
                layer.name, self.input_layer = name, input_layer
                self._structure_changed()
                raise
        return self

    def get_layer(self, name: str | None = None, index: int | None = None) -> Layer:
        """The layer called ``name``, or at position ``index`` of ``layers`` (Keras's ``get_layer``)."""
        if (name is None) == (index is None):
            raise ValueError("get_layer() takes a layer name or an index, not both and not neither; "
                             f"got name={name!r}, index={index!r}")
        if index is not None:
            if not is_integer(index):
                raise TypeError(f"get_layer: index must be an integer, got {describe(index)}")
            if not -len(self._layers) <= index < len(self._layers):
                raise ValueError(f"get_layer: index {index} is out of range for a model with "
                                 f"{len(self._layers)} layers")
            return self._layers[index]
        for layer in self._layers:
            if layer.name == name:
                return layer
        raise ValueError(f"get_layer: no layer named {name!r}; the layers are "
                         f"{', '.join(repr(layer.name) for layer in self._layers) or 'none'}")

    def pop(self) -> Layer:
        """Remove and return the last layer (Keras's ``pop``)."""
        if not self._layers:
            raise ValueError("pop() on a model with no layers")
        self._structure_changed()
        layer = self._layers.pop()
        self._layer_ids.discard(id(layer))
        self._names_taken.discard(layer.name)
        self._next_suffix.clear()  # a suffix below the resume points may be free again
        return layer

    def _unique_name(self, base: str) -> str:
        """``base``, or ``base_<i>`` with the first i free (names as the layers had them when added)."""
        def taken(name: str) -> bool:
            return name in self._names_taken or (self.input_layer is not None and name == self.input_layer.name)

        if not taken(base):
            return base
        # Resuming where the last search for this base stopped keeps n layers of one name O(n), not O(n²).
        i = self._next_suffix.get(base, 1)
        while taken(f"{base}_{i}"):
            i += 1
        self._next_suffix[base] = i + 1
        return f"{base}_{i}"

    def _shape_before(self, index: int) -> tuple | None:
        """Input shape of layer ``index`` if known."""
        if index == 0:
            return self.input_layer.batch_shape if self.input_layer is not None else None
        previous = self._layers[index - 1]
        return previous.output_shape if previous.built else None

    def _structure_changed(self) -> None:
        self._undo_fusion()
        self._prepared_for = None

    # --------------------------------------------------------------- build ---
    def build(self, input_shape: Sequence[int | None] | None = None) -> None:
        """Create every layer's parameters for ``input_shape`` (batch dimension first, may be None)."""
        if not self._layers:
            raise ValueError("cannot build a model with no layers; add() some first")
        if input_shape is None:
            if self.input_layer is None:
                raise ValueError("build() needs an input_shape, e.g. build((None, 784)), or an Input layer")
            input_shape = self.input_layer.batch_shape
        if not is_sequence(input_shape) or len(input_shape) < 2:
            raise ValueError(f"build: input_shape must be a tuple (batch size or None, *shape of one sample), "
                             f"e.g. (None, 784), got {describe(input_shape)}")
        input_shape = (None, *sample_shape(tuple(input_shape)[1:], "build:", "input_shape[1:]"))
        with unbuilt_on_error(self):  # a layer that refuses the shape leaves the model as it was
            if self.input_layer is None:
                self.input_layer = InputLayer(shape=input_shape[1:])
            elif tuple(self.input_layer.shape) != tuple(input_shape[1:]):
                raise ValueError(f"input_shape {input_shape} does not match the model's Input "
                                 f"{self.input_layer.batch_shape}")
            self._build_layers(input_shape, start=0)

    def _build_layers(self, input_shape: tuple, start: int) -> None:
        shape = input_shape
        for layer in self._layers[start:]:
            if layer.built and tuple(layer.input_shape) == tuple(shape):
                if layer.backend is not self.backend or layer.dtype != self.dtype:
                    layer.move_to(self.backend, self.dtype)
            else:
                if layer.built:
                    raise ValueError(f"layer {layer.name!r} was built for inputs {layer.input_shape} but "
                                     f"receives {shape} in this model")
                try:
                    layer.build_for(shape, self.backend, self.dtype)
                except ValueError as e:
                    raise ValueError(f"layer {layer.name!r} ({type(layer).__name__}): {e}") from None
            shape = layer.output_shape
        self._structure_changed()

    # ------------------------------------------------------------- compile ---
    def compile(self, optimizer: Any = "rmsprop", loss: Any = None, metrics: Sequence[Any] | None = None,
                loss_weights: Any = None, weighted_metrics: Any = None, backend: Any = "auto",
                dtype: str = "float32", distribution: Any = None, **keras_args: Any) -> "Sequential":
        """Bind a loss, an optimizer, metrics and a compute backend; returns the model.

        Args:
            optimizer: name ("adam") or :class:`seqnn.optimizers.Optimizer`.
            loss: name or :class:`seqnn.losses.Loss`. When the model ends in
                softmax (sigmoid) and the loss is the matching cross-entropy on
                probabilities, the pair is fused into the stable logits form.
            metrics: names, functions or :class:`seqnn.metrics.Metric` objects, unweighted;
                "accuracy" is resolved from the loss and output shape as Keras does.
            weighted_metrics: the same, weighted by ``sample_weight`` and ``class_weight``.
            backend: "auto" | "numpy" | "metal" or a Backend.
            dtype: "float32" (default) or "float64" (for gradient checks).
            distribution: None (one process) or ``seqnn.distribute.DataParallel()``
                to train over the processes of ``mpiexec -n N`` (see
                :mod:`seqnn.distribute`). Not part of ``compile_config``: a saved
                model loads as a one-process model.

        ``run_eagerly``, ``steps_per_execution``, ``jit_compile`` and
        ``auto_scale_loss`` are accepted for Keras scripts and change nothing.
        """
        for key in keras_args:
            if key not in _IGNORED_COMPILE_ARGS:
                raise TypeError(f"compile() got an unexpected argument {key!r}")
        if loss_weights is not None:
            raise ValueError("loss_weights applies to multi-output models, which Sequential is not; "
                             "leave it as None")
        dtype = np.dtype(dtype).name if dtype in _DTYPES or dtype in (np.float32, np.float64) else dtype
        if dtype not in _DTYPES:
            raise ValueError(f"dtype must be 'float32' or 'float64', got {dtype!r}")
        resolved_backend = backends.get(backend)
        if dtype not in resolved_backend.float_dtypes:
            raise ValueError(f"dtype={dtype!r} is not supported by the {resolved_backend.name} backend, which "
                             f"computes in {', '.join(resolved_backend.float_dtypes)}")
        resolved_loss = losses.get(loss)
        if optimizer is None:  # the registry reads None as "none", which a model that trains cannot have
            raise TypeError("compile: optimizer must be an optimizer name (e.g. 'adam'), a config dict or a "
                            "seqnn.optimizers.Optimizer, got None (leave it out for the default, 'rmsprop')")
        resolved_optimizer = optimizers.get(optimizer)
        compile_metrics = CompileMetrics(metrics, weighted_metrics)
        resolved_distribution = distribute.get(distribution)
        self.backend, self.dtype = resolved_backend, dtype
        self._distribution = resolved_distribution
        if self.built:
            self._build_layers(self._layers[0].input_shape, start=0)
        else:
            for layer in self._layers:
                if layer.built:
                    layer.move_to(self.backend, self.dtype)
        self.loss, self.optimizer = resolved_loss, resolved_optimizer
        self._compile_metrics = compile_metrics
        self.compiled = True
        self.compile_config = {
            "optimizer": optimizers.serialize(resolved_optimizer),
            "loss": None if resolved_loss is None else losses.serialize(resolved_loss),
            **compile_metrics.config,
            "backend": resolved_backend.name if isinstance(backend, str) and backend != "auto" else "auto",
            "dtype": dtype,
        }
        self._reset_training_state()
        return self

    def _reset_training_state(self) -> None:
        self._undo_fusion()
        self._prepared_for = None
        self.arena = None
        self._train_loss = None

    @property
    def compiled_metrics(self) -> list:
        """The metrics that fit/evaluate update, unweighted ones first (resolved once the model is built)."""
        return self._compile_metrics.metrics

    @property
    def metrics_names(self) -> list[str]:
        """``["loss", *metric names]``: the order of ``evaluate()``'s list and the logs' keys.

        (Keras 2's meaning; Keras 3 lists its internal trackers instead.)
        """
        if not self.compiled:
            return []
        return ([] if self.loss is None else ["loss"]) + self._compile_metrics.keys

    def _require_compiled(self, what: str) -> None:
        if not self.compiled:
            raise NotCompiledError(f"call compile() before {what}(); e.g. "
                                   "model.compile(optimizer='adam', loss='sparse_categorical_crossentropy')")

    def _signature(self) -> tuple:
        # What the arena depends on: the layers, where they live, which weights train (through nested
        # models), and the weight arrays themselves (another model's arena may have taken them over).
        return (tuple((id(layer), id(layer.backend), layer.dtype) for layer in self.innermost_layers()),
                tuple((path, id(layer.params[key])) for path, layer, key in self.weight_entries(trainable_only=True)))

    def _prepare(self) -> None:
        """Resolve what compile could not before the model was built: fusion, metrics, the arena."""
        if self._prepared_for == self._signature():
            return
        self._undo_fusion()
        for layer in self._layers:
            if isinstance(layer, NestedModel):  # trained alone before, it may have handed its softmax to its loss
                layer._undo_fusion()
                layer._prepared_for = None
        self._train_loss = None
        if self.loss is not None:
            self._train_loss = self._fuse_activation_into_loss(self.loss).bind(self.backend)
            self._compile_metrics.bind(self.loss, self.output_shape)
        self._fuse_relu_into_max_pooling()
        from ..parameters import ParameterArena

        self.arena = ParameterArena(self.backend, self.dtype, self.weight_entries(trainable_only=True))
        self.optimizer.build(self.arena)
        self._first_trainable = next((i for i, layer in enumerate(self._layers) if layer.trainable_names),
                                     len(self._layers))
        self._regularized = [layer for layer in self.innermost_layers() if layer.param_regularizers]
        self._prepared_for = self._signature()

    # -------------------------------------------------------------- config ---
    def get_config(self) -> dict:
        """The architecture as plain JSON data: the name and every layer's ``{"class_name", "config"}``.

        Weights and the compile setup are not part of it;
        :meth:`from_config` rebuilds an uncompiled model with fresh weights.
        """
        entries = [serialize_layer(self.input_layer)] if self.input_layer is not None else []
        entries += [serialize_layer(layer) for layer in self._layers]
        return {"name": self.name, "trainable": self.trainable, "layers": entries}

    @classmethod
    def from_config(cls, config: dict | str, custom_objects: dict | None = None) -> "Sequential":
        """Rebuild an (uncompiled) model from ``get_config()`` output, ``to_json()`` output, or its JSON.

        A config that cannot build a layer raises ValueError naming the entry
        (``Sequential.from_config.layers[2]``), its class and the problem.
        """
        from .loading import model_from_config, model_from_json

        if isinstance(config, str):
            return model_from_json(config, custom_objects=custom_objects)
        with custom_object_scope(custom_objects):
            return model_from_config(config, "Sequential.from_config")

    def to_json(self) -> str:
        """``get_config()`` as a JSON string, wrapped as Keras writes it (``{"class_name": "Sequential", ...}``).

        ``seqnn.models.model_from_json`` (or :meth:`from_config`) reads it back.
        """
        return json.dumps({"class_name": "Sequential", "config": self.get_config()})

    # ------------------------------------------------------------- weights ---
    def _require_built(self, what: str) -> None:
        if not self.built:
            raise ValueError(f"{what}: the model is not built yet; give it an Input, call build(input_shape), "
                             "or run it on data first")

    def get_weights(self) -> list[np.ndarray]:
        """Copies of every weight, layer by layer, each layer in Keras's order (kernel, bias, ...)."""
        self._require_built("get_weights")
        return [w for layer in self._layers for w in layer.get_weights()]

    def set_weights(self, weights: Sequence[Any]) -> None:
        """Set every weight from a list in ``get_weights()`` order; shapes are checked first."""
        self._require_built("set_weights")
        if isinstance(weights, (str, bytes, dict, np.ndarray)) or not hasattr(weights, "__iter__"):
            raise TypeError(f"set_weights: weights must be a list of arrays (per layer: kernel, bias, ...), "
                            f"got {describe(weights)}")
        weights = list(weights)
        expected = sum(len(layer.params) for layer in self._layers)
        if len(weights) != expected:
            raise ValueError(f"set_weights: expected {expected} arrays (per layer: kernel, bias, ...), "
                             f"got {len(weights)}")
        position, plan = 0, []
        for layer in self._layers:
            chunk = weights[position:position + len(layer.params)]
            for (key, param), value in zip(layer.params.items(), chunk):
                if tuple(np.shape(value)) != tuple(param.shape):
                    raise ValueError(f"set_weights: {layer.name}.{key} expects shape {tuple(param.shape)}, "
                                     f"got {tuple(np.shape(value))}")
            plan.append((layer, chunk))
            position += len(layer.params)
        for layer, chunk in plan:  # all shapes checked: nothing is half-set on error
            layer.set_weights(chunk)

    @property
    def weights(self) -> list:
        """Every parameter array of every layer, trainable or not: the arrays themselves (``get_weights`` copies)."""
        return [w for layer in self._layers for w in layer.weights]

    @property
    def trainable_weights(self) -> list:
        """The weights the optimizer updates: those of trainable layers, without frozen ones or moving statistics."""
        return [layer.params[key] for _, layer, key in self.weight_entries(trainable_only=True)]

    def count_params(self) -> int:
        """The number of weights (trainable or not), without the optimizer's state; the model must be built."""
        self._require_built("count_params")
        return sum(layer.count_params() for layer in self._layers)

    # --------------------------------------------------------- persistence ---
    def save(self, filepath, include_optimizer: bool = True) -> None:
        """Write the model (config, weights, compile setup, optimizer state) to one ``.safetensors`` file.

        The write is atomic: a crash leaves the previous file or the new one.
        ``seqnn.load_model(filepath)`` rebuilds the model from the file alone.
        Under data-parallel training only rank 0 writes (the others return at once).
        """
        from .file_layout import save_model

        check_bool(include_optimizer, "save", "include_optimizer")
        if not self._distribution.is_chief:
            return  # data-parallel: rank 0 writes the one file (seqnn.distribute)
        save_model(self, filepath, include_optimizer=include_optimizer)

    def save_weights(self, filepath) -> None:
        """Write the weights only (``layers.<i>.<param>`` tensors), atomically (data-parallel: on rank 0 only)."""
        from .file_layout import save_weights

        if not self._distribution.is_chief:
            return  # data-parallel: rank 0 writes the one file (seqnn.distribute)
        save_weights(self, filepath)

    def load_weights(self, filepath) -> None:
        """Load weights by tensor name; missing, unexpected and misshapen tensors are all named in one error."""
        from .loading import load_weights_into

        load_weights_into(self, filepath)

    def backup_training(self, filepath) -> None:
        """During ``fit`` (from a callback): write everything needed to resume exactly from here, atomically.

        The file is a model file (``seqnn.load_model`` reads it) with the
        loop's position, random state, running metrics and the callbacks'
        state added. :class:`~seqnn.callbacks.BackupAndRestore` calls it.
        """
        from .backup import backup_training

        if not self._distribution.is_chief:
            return  # data-parallel: rank 0 writes the one file (seqnn.distribute)
        backup_training(self, filepath)

    def restore_training(self, filepath) -> None:
        """From a callback's ``on_train_begin``: resume this fit from a file ``backup_training`` wrote.

        The whole file is checked against this model and this fit first; a
        backup that does not fit raises ValueError naming the file and the
        problem and changes nothing. The state is applied once every
        callback's ``on_train_begin`` has run.
        """
        from .backup import restore_training

        restore_training(self, filepath)

    def summary(self, line_length: int | None = None, print_fn=None, **keras_args) -> None:
        """Print layer names, output shapes and parameter counts as Keras 3 does (to ``print_fn`` if given).

        ``line_length`` defaults to Keras's: 88 columns, less on a narrower terminal.
        Keras's ``positions``, ``expand_nested``, ``show_trainable`` and
        ``layer_range`` are accepted and ignored.
        """
        for key in keras_args:
            if key not in ("positions", "expand_nested", "show_trainable", "layer_range"):
                raise TypeError(f"summary() got an unexpected argument {key!r}")
        if line_length is not None and not (is_integer(line_length) and line_length > 0):
            raise ValueError(f"summary: line_length must be a positive integer or None, got {describe(line_length)}")
        if print_fn is not None and not callable(print_fn):
            raise TypeError(f"summary: print_fn must be a function of one string (or None), got {describe(print_fn)}")
        boxes = print_fn is not None or can_draw_boxes(sys.stdout)
        (print_fn or print)(format_summary(self, line_length, boxes=boxes))

    def __repr__(self) -> str:
        return f"<Sequential name={self.name!r} layers={len(self._layers)}>"


layer_registry.add("Sequential", Sequential)  # a model inside a model's config is a layer entry
