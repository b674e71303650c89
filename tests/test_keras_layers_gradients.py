"""Finite-difference gradient checks, output shapes and values of the Keras resampling and reshaping layers.

Conv1DTranspose / Conv2DTranspose, UpSampling1D / UpSampling2D,
Cropping1D / Cropping2D, Permute and RepeatVector, in float64 on odd sizes.
The transposed convolution's forward pass is also compared with its
definition (every input pixel scatters kernel·x into the output) and its
output sizes with Keras 3's formula, written out here independently.
"""
import itertools

import numpy as np
import pytest

from gradcheck import build64, check_grads_without_input_grad, check_layer, numpy_backend
from seqnn import layers


def random_weights(layer, seed):
    rng = np.random.default_rng(seed)
    layer.set_weights([rng.standard_normal(w.shape) * 0.5 for w in layer.get_weights()])


# -------------------------------------------------------- transposed conv ---
def keras_transpose_length(size, kernel, stride, dilation, padding, output_padding):
    """Keras 3's output length of a transposed convolution (backend_utils._get_output_shape_given_tf_padding)."""
    e = (kernel - 1) * dilation + 1
    if padding == "valid":
        op = max(e, stride) - e if output_padding is None else output_padding
        return (size - 1) * stride + e + op
    return size * stride if output_padding is None else (size - 1) * stride + e % 2 + output_padding


def keras_left_crop(kernel, stride, dilation, padding, output_padding):
    """Rows the transposed convolution drops at the start: e − 1 − JAX's left padding (Keras's conversion)."""
    e = (kernel - 1) * dilation + 1
    if padding == "valid":
        return 0
    total = stride + e - 2 if output_padding is None else e + e % 2 - 2 + output_padding
    return e - 1 - min(total // 2 + total % 2, e - 1)


def conv_transpose_reference(x, kernel, bias, strides, dilation, crop, out_size):
    """Scatter definition: z[i·s + a·d − crop] += x[i]·W[a] (kernel [kh, kw, filters, in]), cut to out_size."""
    n, h, w, _ = x.shape
    kh, kw, filters, _ = kernel.shape
    full = np.zeros((n, (h - 1) * strides[0] + (kh - 1) * dilation[0] + 1 + out_size[0],
                     (w - 1) * strides[1] + (kw - 1) * dilation[1] + 1 + out_size[1], filters))
    for i, j, a, b in itertools.product(range(h), range(w), range(kh), range(kw)):
        full[:, i * strides[0] + a * dilation[0], j * strides[1] + b * dilation[1]] += x[:, i, j] @ kernel[a, b].T
    z = full[:, crop[0]:crop[0] + out_size[0], crop[1]:crop[1] + out_size[1]]
    return z + bias


CONV_T_CASES = [  # padding, strides, output_padding, dilation
    ("valid", 1, None, 1), ("same", 1, None, 1), ("valid", 2, None, 1), ("same", 2, None, 1),
    ("valid", (2, 3), None, 1), ("same", (3, 2), None, 1), ("valid", 2, 1, 1), ("same", 2, 1, 1),
    ("same", 2, 0, 1), ("valid", (3, 2), (2, 0), 1), ("same", (3, 3), (1, 2), 1),
    ("valid", 1, None, 2), ("same", 1, None, (2, 3)), ("same", 1, 0, 2),
]


@pytest.mark.parametrize("padding, strides, output_padding, dilation", CONV_T_CASES)
@pytest.mark.parametrize("training", [True, False], ids=["patches-shared", "patches-gathered"])
def test_conv2d_transpose_gradients_every_geometry(padding, strides, output_padding, dilation, training):
    layer = layers.Conv2DTranspose(3, (3, 2), strides=strides, padding=padding, output_padding=output_padding,
                                   dilation_rate=dilation, activation="tanh")
    build64(layer, (3, 4, 2))
    random_weights(layer, 1)
    x = np.random.default_rng(2).standard_normal((2, 3, 4, 2))
    y, _, grads = check_layer(layer, x, training=training)
    assert set(grads) == {"kernel", "bias"} and layer.params["kernel"].shape == (3, 2, 3, 2)

    s = layer.strides
    d = layer.dilation_rate
    op = (None, None) if output_padding is None else layer.output_padding
    expected = tuple(keras_transpose_length(size, k, s[i], d[i], padding, op[i])
                     for i, (size, k) in enumerate(zip((3, 4), (3, 2))))
    assert layer.output_shape == (None, *expected, 3)
    crop = tuple(keras_left_crop(k, s[i], d[i], padding, op[i]) for i, k in enumerate((3, 2)))
    ref = conv_transpose_reference(x, layer.params["kernel"], layer.params["bias"], s, d, crop, expected)
    np.testing.assert_allclose(y, np.tanh(ref), rtol=1e-12, atol=1e-13)


@pytest.mark.parametrize("size, kernel, stride, padding, output_padding, expected", [
    (5, 3, 2, "valid", None, 11), (5, 3, 2, "same", None, 10), (5, 3, 2, "valid", 1, 12),
    (5, 3, 2, "same", 1, 10), (5, 3, 2, "same", 0, 9), (5, 2, 2, "same", None, 10),
    (5, 1, 3, "valid", None, 15), (5, 4, 1, "same", None, 5), (5, 4, 3, "same", 2, 14), (1, 1, 1, "valid", 0, 1),
])
def test_conv2d_transpose_output_sizes_follow_keras(size, kernel, stride, padding, output_padding, expected):
    layer = build64(layers.Conv2DTranspose(2, kernel, strides=stride, padding=padding,
                                           output_padding=output_padding), (size, 3, 1))
    assert layer.output_shape[1] == expected
    assert keras_transpose_length(size, kernel, stride, 1, padding, output_padding) == expected


@pytest.mark.parametrize("use_bias", [True, False])
def test_conv2d_transpose_need_input_grad_false_and_no_bias(use_bias):
    layer = build64(layers.Conv2DTranspose(2, 3, strides=2, padding="same", use_bias=use_bias), (3, 3, 4))
    random_weights(layer, 3)
    x = np.random.default_rng(4).standard_normal((2, 3, 3, 4))
    grads = check_grads_without_input_grad(layer, x, np.random.default_rng(5).standard_normal((2, 6, 6, 2)),
                                           training=True)
    assert set(grads) == ({"kernel", "bias"} if use_bias else {"kernel"})


def test_conv2d_transpose_is_the_adjoint_of_conv2d():
    # <conv(u), x> = <u, convT(x)> for the same kernel and geometry, no bias.
    conv = build64(layers.Conv2D(3, 3, strides=2, padding="same", use_bias=False), (6, 6, 2))
    convt = build64(layers.Conv2DTranspose(2, 3, strides=2, padding="same", use_bias=False), (3, 3, 3))
    random_weights(conv, 6)
    convt.set_weights(conv.get_weights())
    rng = np.random.default_rng(7)
    u, x = rng.standard_normal((2, 6, 6, 2)), rng.standard_normal((2, 3, 3, 3))
    assert np.sum(conv.forward(u) * x) == pytest.approx(np.sum(u * convt.forward(x)), rel=1e-12)


@pytest.mark.parametrize("padding, strides, output_padding, dilation",
                         [("valid", 1, None, 1), ("same", 2, None, 1), ("valid", 3, 2, 1), ("same", 1, None, 2)])
def test_conv1d_transpose_gradients(padding, strides, output_padding, dilation):
    layer = layers.Conv1DTranspose(2, 3, strides=strides, padding=padding, output_padding=output_padding,
                                   dilation_rate=dilation, activation="sigmoid")
    build64(layer, (5, 3))
    random_weights(layer, 8)
    x = np.random.default_rng(9).standard_normal((2, 5, 3))
    y, _, _ = check_layer(layer, x, training=True)
    assert layer.params["kernel"].shape == (3, 2, 3)
    assert y.shape[1] == keras_transpose_length(5, 3, strides, dilation, padding, output_padding)


@pytest.mark.parametrize("kwargs, message", [
    ({"output_padding": 2, "strides": 2}, "output_padding must be smaller than strides"),
    ({"output_padding": -1, "strides": 2}, "output_padding"),
    ({"strides": 2, "dilation_rate": 2}, "dilation_rate"),
    ({"padding": "causal"}, "padding"),
    ({"data_format": "channels_first"}, "data_format"),
])
def test_conv2d_transpose_bad_arguments(kwargs, message):
    with pytest.raises(ValueError, match=message):
        layers.Conv2DTranspose(2, 3, **kwargs)


def test_conv2d_transpose_empty_output_is_refused():
    with pytest.raises(ValueError, match="output would be empty"):
        build64(layers.Conv2DTranspose(2, 2, padding="same", output_padding=0), (1, 3, 1))


# ------------------------------------------------------------- upsampling ---
@pytest.mark.parametrize("size", [2, (3, 1), (1, 2), (2, 3)])
@pytest.mark.parametrize("interpolation", ["nearest", "bilinear"])
def test_upsampling2d_gradients_and_shape(size, interpolation):
    layer = layers.UpSampling2D(size, interpolation=interpolation)
    x = np.random.default_rng(10).standard_normal((2, 3, 5, 2))
    y, _, _ = check_layer(layer, x)
    sh, sw = layer.size
    assert y.shape == (2, 3 * sh, 5 * sw, 2) and layer.output_shape == (None, 3 * sh, 5 * sw, 2)
    if interpolation == "nearest":
        np.testing.assert_array_equal(y, np.repeat(np.repeat(x, sh, axis=1), sw, axis=2))


def test_upsampling2d_bilinear_values():
    # Half-pixel centres: one row [0, 1] upsampled by 4 → [0, 0, .125, .375, .625, .875, 1, 1].
    layer = layers.UpSampling2D((1, 4), interpolation="bilinear")
    y = layer(np.array([[[[0.0], [1.0]]]]))
    np.testing.assert_allclose(y[0, 0, :, 0], [0, 0, 0.125, 0.375, 0.625, 0.875, 1, 1])


def test_upsampling1d_gradients_and_values():
    layer = layers.UpSampling1D(3)
    x = np.random.default_rng(11).standard_normal((2, 5, 3))
    y, _, _ = check_layer(layer, x)
    np.testing.assert_array_equal(y, np.repeat(x, 3, axis=1))


@pytest.mark.parametrize("kwargs, error, message", [
    ({"interpolation": "bicubic"}, ValueError, "interpolation must be one of 'nearest', 'bilinear'"),
    ({"size": 0}, ValueError, "size"), ({"size": (2, 2, 2)}, ValueError, "size"),
    ({"size": 1.5}, TypeError, "size"), ({"data_format": "channels_first"}, ValueError, "data_format"),
])
def test_upsampling2d_bad_arguments(kwargs, error, message):
    with pytest.raises(error, match=message):
        layers.UpSampling2D(**kwargs)


def test_upsample2d_op_refuses_unknown_interpolation():
    with pytest.raises(ValueError, match="interpolation"):
        numpy_backend().upsample2d(np.zeros((1, 2, 2, 1)), (2, 2), "bicubic")


def test_upsampling_needs_image_inputs():
    with pytest.raises(ValueError, match="rank 4"):
        build64(layers.UpSampling2D(), (4, 3))


# --------------------------------------------------------------- cropping ---
@pytest.mark.parametrize("cropping, expected", [
    (1, ((1, 1), (1, 1))), ((2, 0), ((2, 2), (0, 0))), (((1, 0), (2, 3)), ((1, 0), (2, 3))),
    (((0, 0), (0, 0)), ((0, 0), (0, 0))), ((1, (0, 2)), ((1, 1), (0, 2))),
])
def test_cropping2d_gradients_shapes_and_values(cropping, expected):
    layer = layers.Cropping2D(cropping)
    x = np.random.default_rng(12).standard_normal((2, 5, 7, 3))
    y, _, _ = check_layer(layer, x)
    assert layer.cropping == expected
    (top, bottom), (left, right) = expected
    np.testing.assert_array_equal(y, x[:, top:5 - bottom, left:7 - right])
    assert layer.output_shape == (None, 5 - top - bottom, 7 - left - right, 3)


@pytest.mark.parametrize("cropping", [2, (0, 3)])
def test_cropping1d_gradients_and_values(cropping):
    layer = layers.Cropping1D(cropping)
    x = np.random.default_rng(13).standard_normal((2, 6, 2))
    y, _, _ = check_layer(layer, x)
    before, after = (cropping, cropping) if isinstance(cropping, int) else cropping
    np.testing.assert_array_equal(y, x[:, before:6 - after])
    assert layers.Cropping1D().cropping == (1, 1)


@pytest.mark.parametrize("layer, shape", [(layers.Cropping2D(((2, 3), (0, 0))), (5, 4, 1)),
                                          (layers.Cropping2D((0, 2)), (5, 4, 1)),
                                          (layers.Cropping1D((3, 3)), (6, 2))])
def test_cropping_everything_is_refused(layer, shape):
    with pytest.raises(ValueError, match="cropping .* must leave at least one row and column"):
        build64(layer, shape)


@pytest.mark.parametrize("cropping", [-1, (1, 2, 3), ((1, -1), (0, 0)), "1", ((1, 1.5), (0, 0))])
def test_cropping2d_bad_arguments(cropping):
    with pytest.raises(ValueError, match="Cropping2D cropping"):
        layers.Cropping2D(cropping)


# ---------------------------------------------------- Permute, RepeatVector ---
@pytest.mark.parametrize("dims, shape", [((2, 1), (3, 4)), ((3, 1, 2), (2, 3, 4)), ((1, 2, 3), (2, 3, 4)),
                                         ((2, 3, 1), (2, 3, 4))])
def test_permute_gradients_and_values(dims, shape):
    layer = layers.Permute(dims)
    x = np.random.default_rng(14).standard_normal((2, *shape))
    y, _, _ = check_layer(layer, x)
    np.testing.assert_array_equal(y, np.transpose(x, (0, *dims)))
    assert layer.output_shape == (None, *(shape[d - 1] for d in dims))


@pytest.mark.parametrize("dims, error", [((0, 1), ValueError), ((1, 1), ValueError), ((1, 3), ValueError),
                                         ((1.0, 2), ValueError), (2, TypeError)])
def test_permute_bad_dims(dims, error):
    with pytest.raises(error, match="Permute dims"):
        layers.Permute(dims)


def test_permute_dims_must_cover_every_axis():
    with pytest.raises(ValueError, match="needs inputs with 2 non-batch axes"):
        build64(layers.Permute((2, 1)), (2, 3, 4))


def test_repeat_vector_gradients_and_values():
    layer = layers.RepeatVector(3)
    x = np.random.default_rng(15).standard_normal((4, 5))
    y, _, _ = check_layer(layer, x)
    assert layer.output_shape == (None, 3, 5)
    np.testing.assert_array_equal(y, np.repeat(x[:, None], 3, axis=1))


@pytest.mark.parametrize("n, error", [(0, ValueError), (2.0, TypeError), (True, TypeError)])
def test_repeat_vector_bad_n(n, error):
    with pytest.raises(error, match="RepeatVector n"):
        layers.RepeatVector(n)


def test_repeat_vector_needs_rank_2():
    with pytest.raises(ValueError, match="rank 2"):
        build64(layers.RepeatVector(2), (3, 4))
