"""Finite-difference gradient checks of Conv1D, Conv2D and ZeroPadding, in float64.

Every padding × stride × dilation combination is checked on tiny inputs, with
and without bias, through both backward paths of the backend (patches saved
by a training forward, and gathered again after an inference forward). The
forward pass is also compared with a direct (loop) evaluation of the
convolution formula.
"""
import itertools

import numpy as np
import pytest

from gradcheck import build64, check_grads_without_input_grad, check_layer, layer_analytic
from seqnn import layers


def conv_reference(x, kernel, bias, strides, padding, dilation):
    """The convolution by its definition, position by position (NHWC, kernel [kh, kw, cin, cout])."""
    (top, bottom), (left, right) = padding
    xp = np.pad(x, ((0, 0), (top, bottom), (left, right), (0, 0)))
    kh, kw, _, cout = kernel.shape
    oh = (xp.shape[1] - dilation[0] * (kh - 1) - 1) // strides[0] + 1
    ow = (xp.shape[2] - dilation[1] * (kw - 1) - 1) // strides[1] + 1
    y = np.zeros((x.shape[0], oh, ow, cout))
    for i in range(oh):
        for j in range(ow):
            for a in range(kh):
                for b in range(kw):
                    y[:, i, j] += xp[:, i * strides[0] + a * dilation[0], j * strides[1] + b * dilation[1]] @ kernel[a, b]
    return y if bias is None else y + bias


def random_weights(layer, seed):
    rng = np.random.default_rng(seed)
    layer.set_weights([rng.standard_normal(w.shape) * 0.5 for w in layer.get_weights()])


CONV2D_CASES = list(itertools.product(["valid", "same"], [1, 2], [1, 2]))


@pytest.mark.parametrize("padding, strides, dilation", CONV2D_CASES)
@pytest.mark.parametrize("training", [True, False], ids=["saved", "recomputed"])
def test_conv2d_gradients_every_geometry(padding, strides, dilation, training):
    layer = layers.Conv2D(3, (3, 2), strides=strides, padding=padding, dilation_rate=dilation, activation="tanh")
    build64(layer, (6, 5, 2))
    random_weights(layer, 1)
    x = np.random.default_rng(2).standard_normal((2, 6, 5, 2))
    y, _, grads = check_layer(layer, x, training=training)
    assert set(grads) == {"kernel", "bias"}
    geometry = layer._padding2d
    ref = np.tanh(conv_reference(x, layer.params["kernel"], layer.params["bias"], (strides,) * 2, geometry,
                                 (dilation,) * 2))
    np.testing.assert_allclose(y, ref, rtol=1e-12, atol=1e-13)


@pytest.mark.parametrize("cin", [1, 4], ids=["column-patches", "row-patches"])
@pytest.mark.parametrize("use_bias", [True, False])
def test_conv2d_gradients_patch_layouts_and_bias(cin, use_bias):
    layer = build64(layers.Conv2D(2, 3, padding="same", use_bias=use_bias), (4, 4, cin))
    random_weights(layer, 3)
    x = np.random.default_rng(4).standard_normal((3, 4, 4, cin))
    _, _, grads = check_layer(layer, x, training=True)
    assert set(grads) == ({"kernel", "bias"} if use_bias else {"kernel"})


@pytest.mark.parametrize("strides, padding", [((2, 1), "same"), ((1, 3), "valid"), ((3, 3), "valid")])
def test_conv2d_gradients_uneven_strides_and_gaps(strides, padding):
    # strides larger than the kernel leave inputs that no window reads: their gradient is 0.
    layer = build64(layers.Conv2D(2, 2, strides=strides, padding=padding), (7, 7, 2))
    random_weights(layer, 5)
    x = np.random.default_rng(6).standard_normal((2, 7, 7, 2))
    check_layer(layer, x, training=True)


CONV1D_CASES = list(itertools.product(["valid", "same", "causal"], [1, 2], [1, 3]))


@pytest.mark.parametrize("padding, strides, dilation", CONV1D_CASES)
def test_conv1d_gradients_every_geometry(padding, strides, dilation):
    layer = layers.Conv1D(3, 3, strides=strides, padding=padding, dilation_rate=dilation, activation="sigmoid")
    build64(layer, (9, 2))
    random_weights(layer, 7)
    x = np.random.default_rng(8).standard_normal((2, 9, 2))
    y, _, _ = check_layer(layer, x, training=True)
    ref = conv_reference(x[:, None], layer.params["kernel"][None], layer.params["bias"], (1, strides),
                         layer._padding2d, (1, dilation))[:, 0]
    np.testing.assert_allclose(y, 1 / (1 + np.exp(-ref)), rtol=1e-12, atol=1e-13)


def test_conv1d_causal_output_sees_only_the_past():
    layer = build64(layers.Conv1D(1, 3, padding="causal", dilation_rate=2, use_bias=False), (10, 1))
    layer.set_weights([np.ones((3, 1, 1))])
    x = np.zeros((1, 10, 1))
    x[0, 6, 0] = 1.0
    y = np.array(layer.forward(x))[0, :, 0]
    assert y.shape == (10,)
    np.testing.assert_array_equal(np.nonzero(y)[0], [6, 8])  # t = 6 sees x[6]; t = 8 sees x[6] two steps back


def test_conv_backward_without_input_gradient_still_fills_grads():
    layer = build64(layers.Conv2D(2, 3, activation="tanh"), (5, 5, 3))
    random_weights(layer, 9)
    x = np.random.default_rng(10).standard_normal((2, 5, 5, 3))
    check_grads_without_input_grad(layer, x, np.random.default_rng(11).standard_normal((2, 3, 3, 2)), training=True)


def test_conv_short_batch_after_a_long_one_uses_buffer_views():
    layer = build64(layers.Conv2D(2, 3, padding="same"), (4, 4, 2))
    random_weights(layer, 12)
    rng = np.random.default_rng(13)
    x1, x2 = rng.standard_normal((5, 4, 4, 2)), rng.standard_normal((2, 4, 4, 2))
    r1, r2 = rng.standard_normal((5, 4, 4, 2)), rng.standard_normal((2, 4, 4, 2))
    layer_analytic(layer, x1, r1, training=True)
    y2, dx2, grads2 = layer_analytic(layer, x2, r2, training=True)
    fresh = build64(layers.Conv2D(2, 3, padding="same"), (4, 4, 2))
    fresh.set_weights(layer.get_weights())
    y_ref, dx_ref, grads_ref = layer_analytic(fresh, x2, r2, training=True)
    np.testing.assert_allclose(y2, y_ref, rtol=1e-14)
    np.testing.assert_allclose(dx2, dx_ref, rtol=1e-14)
    for key in grads_ref:
        np.testing.assert_allclose(grads2[key], grads_ref[key], rtol=1e-14)


def test_conv_inference_in_chunks_matches_one_pass(monkeypatch):
    from seqnn.backends.numpy_backend import conv as numpy_conv

    layer = build64(layers.Conv2D(4, 3, padding="same", activation="relu"), (6, 6, 3))
    x = np.random.default_rng(14).standard_normal((7, 6, 6, 3))
    whole = np.array(layer.forward(x, training=True))
    monkeypatch.setattr(numpy_conv, "_INFERENCE_PATCH_ELEMENTS", 2 * 36 * 28)  # two samples per chunk
    np.testing.assert_allclose(np.array(layer.forward(x, training=False)), whole, rtol=1e-14)


@pytest.mark.parametrize("padding", [1, (2, 0), ((1, 2), (0, 3))])
def test_zero_padding2d_gradients(padding):
    layer = layers.ZeroPadding2D(padding)
    x = np.random.default_rng(15).standard_normal((2, 3, 2, 2))
    y, _, _ = check_layer(layer, x)
    pads = layer.padding
    np.testing.assert_array_equal(y, np.pad(x, ((0, 0), *pads, (0, 0))))


@pytest.mark.parametrize("padding", [2, (0, 3)])
def test_zero_padding1d_gradients(padding):
    layer = layers.ZeroPadding1D(padding)
    x = np.random.default_rng(16).standard_normal((2, 4, 3))
    y, _, _ = check_layer(layer, x)
    np.testing.assert_array_equal(y, np.pad(x, ((0, 0), layer.padding, (0, 0))))
