"""Finite-difference gradient checks for every layer, in float64.

Each test builds the layer on the numpy backend in float64, runs forward and
backward with dy = R for a random R, and compares dx and every entry of
``layer.grads`` with central differences of L = Σ forward(x)·R (see
tests/gradcheck.py). Inputs keep away from the kinks of ReLU-like functions
by construction, so the finite differences never straddle one.
"""
import numpy as np
import pytest

import seqnn as sn
from gradcheck import build64, check_grads_without_input_grad, check_layer, layer_analytic
from seqnn import activations, layers

DENSE_ACTIVATIONS = ["linear", "relu", "leaky_relu", "elu", "selu", "gelu", activations.GELU(approximate=True),
                     "sigmoid", "tanh", "softplus", "silu", "softmax"]
KINKED = {"relu", "leaky_relu", "elu", "selu"}  # derivative (or its derivative) jumps at 0


def away_from_zero(shape, seed=0, margin=0.1, scale=1.5):
    """Values of both signs with |v| >= margin."""
    rng = np.random.default_rng(seed)
    mag = margin + scale * rng.random(shape)
    return mag * rng.choice([-1.0, 1.0], size=shape)


def dense_input_with_margin(layer, shape, seed=0, margin=1e-3):
    """An input whose pre-activations x·W + b all keep |z| >= margin (retrying seeds)."""
    for s in range(seed, seed + 100):
        x = np.random.default_rng(s).standard_normal(shape)
        z = x.reshape(-1, shape[-1]) @ layer.params["kernel"]
        if "bias" in layer.params:
            z = z + layer.params["bias"]
        if np.min(np.abs(z)) >= margin:
            return x
    raise AssertionError("no input with pre-activations away from zero")


def make_dense(units, in_features, activation, use_bias=True, seed=0):
    layer = build64(layers.Dense(units, activation=activation, use_bias=use_bias), (in_features,))
    rng = np.random.default_rng(seed + 100)
    weights = [rng.standard_normal((in_features, units)) * 0.7]
    if use_bias:
        weights.append(rng.standard_normal(units) * 0.5)
    layer.set_weights(weights)
    return layer


def _act_id(a):
    return a if isinstance(a, str) else repr(a)


# ------------------------------------------------------------------- Dense ---
@pytest.mark.parametrize("activation", DENSE_ACTIVATIONS, ids=_act_id)
def test_dense_gradients_each_activation(activation):
    layer = make_dense(4, 5, activation)
    x = dense_input_with_margin(layer, (3, 5))
    y, _, grads = check_layer(layer, x)
    assert set(grads) == {"kernel", "bias"}
    # The forward pass itself against the formula act(x·W + b).
    z = x @ layer.params["kernel"] + layer.params["bias"]
    ref = np.asarray(activations.get(activation)(z))
    np.testing.assert_allclose(y, ref, rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("activation", ["linear", "tanh", "gelu"])
def test_dense_without_bias(activation):
    layer = make_dense(3, 4, activation, use_bias=False)
    assert set(layer.params) == {"kernel"}
    y, _, grads = check_layer(layer, dense_input_with_margin(layer, (5, 4)))
    assert set(grads) == {"kernel"}


@pytest.mark.parametrize("activation", ["linear", "relu", "softmax", "gelu"])
def test_dense_rank3_input(activation):
    layer = make_dense(3, 4, activation)
    x = dense_input_with_margin(layer, (2, 3, 4))
    y, dx, _ = check_layer(layer, x)
    assert y.shape == (2, 3, 3) and dx.shape == x.shape
    # Rank 3 is the rank-2 layer applied to every position.
    flat = make_dense(3, 4, activation)
    np.testing.assert_allclose(y.reshape(6, 3), np.asarray(flat.forward(x.reshape(6, 4))), rtol=1e-13)


def test_dense_need_input_grad_false_still_fills_grads():
    layer = make_dense(3, 4, "tanh")
    x = dense_input_with_margin(layer, (5, 4))
    check_grads_without_input_grad(layer, x, np.random.default_rng(3).standard_normal((5, 3)), rtol=1e-14)


def test_dense_gradients_do_not_accumulate_across_batches():
    # Two backward passes in a row give the second batch's gradient, not the sum.
    layer = make_dense(3, 4, "sigmoid")
    rng = np.random.default_rng(5)
    x1, x2 = rng.standard_normal((6, 4)), rng.standard_normal((2, 4))  # the short batch uses buffer views
    r1, r2 = rng.standard_normal((6, 3)), rng.standard_normal((2, 3))
    layer_analytic(layer, x1, r1)
    _, dx2, grads2 = layer_analytic(layer, x2, r2)
    fresh = make_dense(3, 4, "sigmoid")
    _, dx_ref, grads_ref = layer_analytic(fresh, x2, r2)
    np.testing.assert_allclose(dx2, dx_ref, rtol=1e-14)
    for key in grads_ref:
        np.testing.assert_allclose(grads2[key], grads_ref[key], rtol=1e-14)


# -------------------------------------------------------- activation layers ---
ACTIVATION_LAYERS = [
    layers.Activation("relu"), layers.Activation("tanh"), layers.Activation("softmax"),
    layers.Activation("softplus"), layers.Activation("silu"), layers.Activation("linear"),
    layers.Activation(activations.LeakyReLU(0.1)), layers.Activation(activations.ELU(alpha=0.5)),
    layers.ReLU(), layers.ReLU(negative_slope=0.25), layers.LeakyReLU(), layers.LeakyReLU(negative_slope=0.05),
    layers.ELU(), layers.ELU(alpha=2.0), layers.SELU(), layers.GELU(), layers.GELU(approximate=True),
    layers.Sigmoid(), layers.Tanh(), layers.Softmax(),
]


@pytest.mark.parametrize("layer", ACTIVATION_LAYERS, ids=lambda l: f"{type(l).__name__}-{l.activation!r}")
def test_activation_layer_gradients(layer):
    x = away_from_zero((3, 5), seed=1)
    y, _, _ = check_layer(layer, x)
    np.testing.assert_allclose(y, np.asarray(layer.activation(x)), rtol=1e-14)


@pytest.mark.parametrize("layer", [layers.ReLU(), layers.Softmax(), layers.GELU(), layers.Tanh()],
                         ids=lambda l: type(l).__name__)
def test_activation_layer_rank4_input_and_no_write_into_x(layer):
    x = away_from_zero((2, 3, 2, 4), seed=2)
    keep = x.copy()
    build64(layer, x.shape[1:])
    layer.forward(x)
    np.testing.assert_array_equal(x, keep)  # x may still be needed by the layer before
    check_layer(layer, x)


def test_relu_negative_slope_is_leaky():
    x = np.array([[-2.0, -0.5, 0.5, 3.0]])
    np.testing.assert_allclose(layers.ReLU(negative_slope=0.25)(x), [[-0.5, -0.125, 0.5, 3.0]])
    np.testing.assert_allclose(layers.LeakyReLU()(x), [[-0.6, -0.15, 0.5, 3.0]])  # Keras layer default 0.3
    np.testing.assert_allclose(layers.ReLU()(x), [[0.0, 0.0, 0.5, 3.0]])


def test_softmax_layer_rejects_other_axes():
    with pytest.raises(ValueError, match="axis"):
        layers.Softmax(axis=1)


# ------------------------------------------------------- Flatten / Reshape ---
def test_flatten_gradients_and_shape():
    layer = layers.Flatten()
    x = np.random.default_rng(0).standard_normal((2, 3, 4, 2))
    y, dx, _ = check_layer(layer, x)
    assert y.shape == (2, 24)
    np.testing.assert_array_equal(y, x.reshape(2, 24))


@pytest.mark.parametrize("target, expected", [((4, 6), (4, 6)), ((-1, 3), (8, 3)), ((2, -1, 2), (2, 6, 2)),
                                              ((24,), (24,))])
def test_reshape_gradients_and_shape(target, expected):
    layer = layers.Reshape(target)
    x = np.random.default_rng(0).standard_normal((3, 2, 3, 4))
    y, dx, _ = check_layer(layer, x)
    assert layer.output_shape == (None, *expected)
    assert y.shape == (3, *expected)
    np.testing.assert_array_equal(y, x.reshape(3, *expected))


@pytest.mark.parametrize("target", [(5, -1), (-1, -1), (0, 24), (7, 3)])
def test_reshape_bad_target(target):
    with pytest.raises(ValueError, match="target_shape|reshape"):
        build64(layers.Reshape(target), (2, 3, 4))


# ----------------------------------------------------------------- Dropout ---
def test_dropout_gradients_with_fixed_mask():
    layer = build64(layers.Dropout(0.4, seed=7), (6,))
    x = away_from_zero((8, 6), seed=3)
    y, dx, _ = check_layer(layer, x, training=True, before_forward=lambda: layer.reseed(11))
    keep = y != 0
    assert 0 < keep.mean() < 1
    np.testing.assert_allclose(y[keep], x[keep] / 0.6, rtol=1e-14)


def test_dropout_backward_reuses_the_forward_mask():
    layer = build64(layers.Dropout(0.5, seed=3), (50,))
    x = away_from_zero((4, 50), seed=4)
    r = np.random.default_rng(0).standard_normal(x.shape)
    y1 = np.array(layer.forward(x, training=True))
    dx1 = np.array(layer.backward(r.copy()))
    mask = np.where(y1 != 0, 2.0, 0.0)
    np.testing.assert_allclose(dx1, r * mask, rtol=1e-15)
    # A second training call draws a fresh mask, and backward follows it.
    y2 = np.array(layer.forward(x, training=True))
    assert not np.array_equal(y1 != 0, y2 != 0)
    dx2 = np.array(layer.backward(r.copy()))
    np.testing.assert_allclose(dx2, r * np.where(y2 != 0, 2.0, 0.0), rtol=1e-15)
    # Expected value unchanged (inverted dropout): mean of mask over many draws ≈ 1.
    big = build64(layers.Dropout(0.3, seed=0), (1000,))
    m = np.array(big.forward(np.ones((200, 1000)), training=True))
    assert abs(m.mean() - 1.0) < 0.01
    assert set(np.unique(m)) == {0.0, 1.0 / 0.7}


def test_dropout_inference_is_identity():
    layer = build64(layers.Dropout(0.5, seed=0), (5,))
    x = away_from_zero((3, 5))
    np.testing.assert_array_equal(layer.forward(x, training=False), x)
    r = np.random.default_rng(1).standard_normal(x.shape)
    np.testing.assert_array_equal(layer.backward(r.copy()), r)
    zero = build64(layers.Dropout(0.0), (5,))
    np.testing.assert_array_equal(zero.forward(x, training=True), x)


@pytest.mark.parametrize("rate", [-0.1, 1.0, 1.5, True, "0.5"])
def test_dropout_bad_rate(rate):
    with pytest.raises(ValueError, match="rate"):
        layers.Dropout(rate)


# ------------------------------------------------------- regularized Dense ---
@pytest.mark.parametrize("reg", [sn.regularizers.L2(0.05), sn.regularizers.L1(0.03),
                                 sn.regularizers.L1L2(l1=0.02, l2=0.04)], ids=repr)
def test_dense_kernel_regularizer_adds_penalty_and_gradient(reg):
    layer = build64(layers.Dense(3, activation="tanh", kernel_regularizer=reg, bias_regularizer="l2"), (4,))
    w = away_from_zero((4, 3), seed=8, margin=0.05)  # |w| away from L1's kink
    b = away_from_zero((3,), seed=9, margin=0.05)
    layer.set_weights([w, b])
    expected = reg.l1 * np.abs(w).sum() + reg.l2 * (w ** 2).sum() + 0.01 * (b ** 2).sum()
    assert layer.regularization_penalty() == pytest.approx(expected, rel=1e-13)
    x = np.random.default_rng(2).standard_normal((5, 4))
    _, _, plain = layer_analytic(layer, x, np.ones((5, 3)))
    _, _, with_reg = layer_analytic(layer, x, np.ones((5, 3)), include_regularization=True)
    np.testing.assert_allclose(with_reg["kernel"] - plain["kernel"],
                               reg.l1 * np.sign(w) + 2 * reg.l2 * w, rtol=1e-10, atol=1e-14)
    np.testing.assert_allclose(with_reg["bias"] - plain["bias"], 0.02 * b, rtol=1e-10, atol=1e-14)
    # And the whole objective, penalty included, against finite differences.
    check_layer(layer, x, include_regularization=True)


def test_regularized_model_loss_includes_penalty():
    model = (sn.Sequential()
             .add(layers.Input((3,)))
             .add(layers.Dense(2, kernel_regularizer=sn.regularizers.L2(0.1)))
             .compile(optimizer=sn.optimizers.SGD(0.0), loss="mse", dtype="float64"))
    w = np.array([[1.0, -2.0], [0.5, 0.0], [3.0, 1.0]])
    model.set_weights([w, np.zeros(2)])
    x = np.random.default_rng(0).standard_normal((4, 3))
    y = np.random.default_rng(1).standard_normal((4, 2))
    data_loss = np.mean((x @ w - y) ** 2)
    assert model.test_on_batch(x, y) == pytest.approx(data_loss + 0.1 * (w ** 2).sum(), rel=1e-12)


@pytest.mark.parametrize("scale, offset", [(1 / 255, 0.0), (2.0, -1.0)])
def test_rescaling_gradients_and_values(scale, offset):
    layer = layers.Rescaling(scale, offset=offset)
    build64(layer, (3, 2))
    x = np.random.default_rng(0).normal(size=(4, 3, 2))
    check_layer(layer, x)
    np.testing.assert_allclose(layer.forward(x.copy()), x * scale + offset)
