"""A Sequential model used as one layer of another (Keras's transfer-learning pattern).

    base = keras.Sequential([keras.Input((28, 28, 1)), layers.Conv2D(8, 3), layers.Flatten()])
    base.trainable = False                       # freeze it ...
    model = keras.Sequential([base, layers.Dense(10, activation="softmax")])   # ... and add a head

The outer model calls the inner one's ``forward``/``backward`` like any
layer's. Its parameters are the inner layers' own arrays, named by path
(``layers.0.layers.1.kernel`` in weight files), and ``trainable = False`` on
a model freezes every layer inside it, as in Keras. The flat parameter arena
and the regularizers work on the innermost layers (see ``weight_entries``).
"""
from __future__ import annotations

from ..layers import Layer


class NestedModel(Layer):
    """The Layer interface of Sequential. Sequential provides ``_layers``, ``input_layer`` and the loops."""

    def weight_entries(self, prefix: str = "layers", trainable_only: bool = False,
                       frozen: bool = False) -> list[tuple[str, Layer, str]]:
        """``(path, innermost layer, key)`` for every weight, in Keras's order, through nested models.

        With ``trainable_only``, only weights that train: the layer and every
        model around it are trainable (``frozen`` says an outer one is not).
        """
        frozen = frozen or not self.trainable
        entries = []
        for index, layer in enumerate(self._layers):
            path = f"{prefix}.{index}"
            if isinstance(layer, NestedModel):
                entries += layer.weight_entries(f"{path}.layers", trainable_only, frozen)
            elif not trainable_only:
                entries += [(f"{path}.{key}", layer, key) for key in layer.params]
            elif not frozen:
                entries += [(f"{path}.{key}", layer, key) for key in layer.trainable_names]
        return entries

    def innermost_layers(self) -> list[Layer]:
        out = []
        for layer in self._layers:
            out += layer.innermost_layers() if isinstance(layer, NestedModel) else [layer]
        return out

    # ------------------------------------------------- Layer's attributes ---
    @property
    def params(self) -> dict:
        """Every weight inside, by path relative to this model (read-only: a new dict each time)."""
        return {path: layer.params[key] for path, layer, key in self.weight_entries()}

    @property
    def trainable_names(self) -> list[str]:
        return [path for path, _, _ in self.weight_entries(trainable_only=True)]

    @property
    def input_shape_hint(self) -> tuple | None:
        """The inner Input's shape: a model that knows its input shape gives it to the outer one."""
        return None if self.input_layer is None else tuple(self.input_layer.shape)

    @property
    def param_regularizers(self) -> dict:
        return {}  # the innermost layers' regularizers are applied by the outermost model

    @property
    def output_activation(self):
        return self._layers[-1].output_activation if self._layers else None

    def defer_output_activation(self, defer: bool) -> None:
        self._layers[-1].defer_output_activation(defer)

    def default_name(self) -> str:
        return "sequential"

    # ------------------------------------------------------ Layer's methods ---
    def build_for(self, input_shape, backend, dtype: str):
        self.backend, self.dtype = backend, dtype
        self.build(input_shape)
        return self.output_shape

    def move_to(self, backend, dtype: str) -> None:
        self.backend, self.dtype = backend, dtype
        for layer in self._layers:
            layer.move_to(backend, dtype)

    def forward(self, x, training: bool = False):
        return self._forward(x, training)

    def backward(self, dy, need_input_grad: bool = True):
        first = next((i for i, layer in enumerate(self._layers) if layer.trainable_names), len(self._layers))
        for i in range(len(self._layers) - 1, -1, -1):
            need = need_input_grad or i > first
            if not need and i < first:
                return None  # nothing below trains and the outer model needs no gradient
            dy = self._layers[i].backward(dy, need_input_grad=need)
        return dy

    def reseed(self, seed: int) -> None:
        """Reseed the random layers inside (``fit(seed=...)`` on the outer model)."""
        self._reseed_layers(seed)
