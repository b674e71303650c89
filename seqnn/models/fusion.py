"""Fusing a model's neighbouring steps into one, for speed and numerical stability.

* A final softmax (sigmoid) followed by the matching cross-entropy on
  probabilities becomes one stable op on logits; ``predict`` still applies
  the activation.
* A ReLU followed by max pooling runs after the pooling, on fewer values.

Fusion is decided when a model is prepared for training and undone whenever
its structure changes; a layer called alone always computes all of itself.
"""
from __future__ import annotations

from .. import activations


class Fusion:
    """The fusion state of a Sequential model (which provides ``_layers``)."""

    def _fuse_activation_into_loss(self, loss):
        """The loss to train with: on logits when the last layer's activation is the one it absorbs."""
        last = self._layers[-1]
        act = last.output_activation
        if (act is not None and loss.fusable_activation == getattr(act, "name", None)
                and not getattr(loss, "from_logits", True)):
            last.defer_output_activation(True)
            self._deferred_layer, self._deferred_activation = last, act
            return loss.with_logits()
        return loss

    def _undo_fusion(self) -> None:
        layer = getattr(self, "_deferred_layer", None)
        if layer is not None:
            layer.defer_output_activation(False)
        self._deferred_layer = self._deferred_activation = None
        for layer, pool in getattr(self, "_relu_pool_pairs", ()):
            layer.defer_output_activation(False)
            pool.take_relu(False)
        self._relu_pool_pairs = []

    def _fuse_relu_into_max_pooling(self) -> None:
        """A ReLU followed by max pooling runs after the pooling, on 4x fewer values (2x2 windows).

        The results are bit-identical (see ``MaxPooling2D.take_relu``); only the
        model's own passes are fused, ``layer(x)`` alone still applies its ReLU.
        """
        for layer, following in zip(self._layers, self._layers[1:]):
            if (type(layer.output_activation) is activations.ReLU
                    and getattr(following, "commutes_with_relu", False)):
                layer.defer_output_activation(True)
                following.take_relu(True)
                self._relu_pool_pairs.append((layer, following))

