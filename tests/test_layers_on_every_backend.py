"""Every layer gives the numpy backend's numbers on every other backend, forward and backward.

The layer gradient tests prove each layer's calculus on numpy in float64 (by
finite differences); this module proves that the same layer code computes
the same thing on the backends that run in float32 only or implement only the
core ops: the core-only backend (every fused op by its default) and Metal on
the emulated device. Each layer is built on numpy and on the backend under
test with the same weights and seed, run forward (in training and at
inference) and backward on the same input and upstream gradient, and its
output, input gradient and parameter gradients are compared in float32.
"""
import numpy as np
import pytest
from core_only_backend import CoreOnly
from metal_device import emulated_backend

import seqnn as sn
from seqnn import layers

BACKENDS = {"core-only": CoreOnly, "metal-emulator": lambda: emulated_backend(256)}

# (layer factory, input shape without the batch axis). Shapes are small and odd, so no tile fits them.
CATALOGUE = {
    "Dense-relu": (lambda: layers.Dense(5, activation="relu"), (7,)),
    "Dense-softmax-rank3": (lambda: layers.Dense(3, activation="softmax"), (2, 7)),
    "Dense-no-bias-gelu": (lambda: layers.Dense(5, activation="gelu", use_bias=False), (7,)),
    "Activation-tanh": (lambda: layers.Activation("tanh"), (9,)),
    "ReLU": (lambda: layers.ReLU(), (9,)),
    "LeakyReLU": (lambda: layers.LeakyReLU(0.2), (9,)),
    "ELU": (lambda: layers.ELU(), (9,)),
    "SELU": (lambda: layers.SELU(), (9,)),
    "GELU": (lambda: layers.GELU(), (9,)),
    "Sigmoid": (lambda: layers.Sigmoid(), (9,)),
    "Tanh": (lambda: layers.Tanh(), (9,)),
    "Softmax": (lambda: layers.Softmax(), (3, 9)),
    "Dropout": (lambda: layers.Dropout(0.3), (33,)),
    "SpatialDropout1D": (lambda: layers.SpatialDropout1D(0.3), (5, 7)),
    "SpatialDropout2D": (lambda: layers.SpatialDropout2D(0.3), (3, 4, 5)),
    "GaussianNoise": (lambda: layers.GaussianNoise(0.2), (33,)),
    "Flatten": (lambda: layers.Flatten(), (3, 4, 2)),
    "Reshape": (lambda: layers.Reshape((4, -1)), (3, 4, 2)),
    "Permute": (lambda: layers.Permute((2, 1)), (3, 5)),
    "RepeatVector": (lambda: layers.RepeatVector(3), (5,)),
    "Rescaling": (lambda: layers.Rescaling(1 / 255, offset=-0.5), (6,)),
    "Normalization": (lambda: layers.Normalization(mean=[0.5, -1.0, 2.0], variance=[4.0, 0.25, 0.0]), (5, 3)),
    "Conv1D-causal-dilated": (lambda: layers.Conv1D(4, 3, padding="causal", dilation_rate=2), (9, 3)),
    "Conv2D-same-strided": (lambda: layers.Conv2D(5, 3, strides=2, padding="same", activation="relu"), (7, 6, 3)),
    "Conv2D-valid-1x1": (lambda: layers.Conv2D(2, 1), (3, 3, 1)),
    "Conv1DTranspose": (lambda: layers.Conv1DTranspose(3, 3, strides=2), (5, 2)),
    "Conv2DTranspose": (lambda: layers.Conv2DTranspose(3, 3, strides=2, padding="same"), (4, 5, 2)),
    "ZeroPadding1D": (lambda: layers.ZeroPadding1D((1, 2)), (5, 3)),
    "ZeroPadding2D": (lambda: layers.ZeroPadding2D(((1, 0), (2, 1))), (4, 3, 2)),
    "Cropping1D": (lambda: layers.Cropping1D((1, 2)), (7, 3)),
    "Cropping2D": (lambda: layers.Cropping2D(((1, 0), (2, 1))), (5, 6, 2)),
    "MaxPooling1D": (lambda: layers.MaxPooling1D(2), (9, 3)),
    "MaxPooling2D-same": (lambda: layers.MaxPooling2D(3, strides=2, padding="same"), (7, 6, 3)),
    "AveragePooling1D": (lambda: layers.AveragePooling1D(3, strides=2, padding="same"), (8, 3)),
    "AveragePooling2D": (lambda: layers.AveragePooling2D(2), (5, 7, 3)),
    "GlobalAveragePooling1D": (lambda: layers.GlobalAveragePooling1D(), (7, 3)),
    "GlobalAveragePooling2D": (lambda: layers.GlobalAveragePooling2D(), (5, 4, 3)),
    "GlobalMaxPooling1D": (lambda: layers.GlobalMaxPooling1D(), (7, 3)),
    "GlobalMaxPooling2D": (lambda: layers.GlobalMaxPooling2D(), (5, 4, 3)),
    "UpSampling1D": (lambda: layers.UpSampling1D(2), (4, 3)),
    "UpSampling2D-nearest": (lambda: layers.UpSampling2D((2, 3)), (3, 2, 2)),
    "UpSampling2D-bilinear": (lambda: layers.UpSampling2D(2, interpolation="bilinear"), (3, 4, 2)),
    "BatchNormalization": (lambda: layers.BatchNormalization(), (4, 3, 5)),
    "BatchNormalization-no-scale": (lambda: layers.BatchNormalization(center=False, scale=False), (33,)),
    "LayerNormalization": (lambda: layers.LayerNormalization(), (3, 33)),
}

# Classes that are not layers a model computes with, and Keras's alternative names for the ones above.
NOT_COMPUTING = {"Input", "InputLayer", "Layer"}
ALIASES = {"AvgPool1D", "AvgPool2D", "Convolution1D", "Convolution2D", "Convolution1DTranspose",
           "Convolution2DTranspose", "GlobalAvgPool1D", "GlobalAvgPool2D", "GlobalMaxPool1D", "GlobalMaxPool2D",
           "MaxPool1D", "MaxPool2D"}


def test_the_catalogue_has_every_layer():
    public = {name for name in dir(layers) if name[:1].isupper() and isinstance(getattr(layers, name), type)}
    covered = {type(factory()).__name__ for factory, _ in CATALOGUE.values()}
    assert public - NOT_COMPUTING - ALIASES - covered == set()


def run(layer_factory, input_shape, backend, x, dy, training):
    """(y, dx, grads) of one forward and backward pass of a fresh layer on ``backend``, as host float64 arrays."""
    sn.utils.set_random_seed(5)  # the same weights and the same random stream on every backend
    layer = layer_factory()
    layer.build_for((None, *input_shape), backend, "float32")
    to_host = lambda a: np.array(backend.to_numpy(a), np.float64)  # noqa: E731
    # Copies: numpy's asarray hands back the array itself, and backward may overwrite dy.
    y = to_host(layer.forward(backend.asarray(x.copy(), "float32"), training=training))
    dx = to_host(layer.backward(backend.asarray(dy.copy(), "float32"), need_input_grad=True))
    grads = {name: to_host(g) for name, g in layer.grads.items()}
    return y, dx, grads


@pytest.mark.parametrize("training", [True, False], ids=["training", "inference"])
@pytest.mark.parametrize("name", sorted(CATALOGUE))
@pytest.mark.parametrize("backend", sorted(BACKENDS))
def test_layer_matches_numpy(backend, name, training):
    factory, input_shape = CATALOGUE[name]
    rng = np.random.default_rng(3)
    x = rng.uniform(-2, 2, (3, *input_shape)).astype(np.float32)
    numpy_backend = sn.backends.get("numpy")
    output_shape = factory().build_for((None, *input_shape), numpy_backend, "float32")
    dy = rng.standard_normal((3, *output_shape[1:])).astype(np.float32)
    want_y, want_dx, want_grads = run(factory, input_shape, numpy_backend, x, dy, training)
    got_y, got_dx, got_grads = run(factory, input_shape, BACKENDS[backend](), x, dy, training)
    tolerance = dict(rtol=2e-5, atol=2e-5)
    np.testing.assert_allclose(got_y, want_y, **tolerance, err_msg="forward")
    np.testing.assert_allclose(got_dx, want_dx, **tolerance, err_msg="input gradient")
    assert got_grads.keys() == want_grads.keys()
    for key in want_grads:
        np.testing.assert_allclose(got_grads[key], want_grads[key], **tolerance, err_msg=f"grads[{key!r}]")
