"""Activation functions against closed forms, including huge inputs, and their registry.

The references are written independently of the numpy backend (sigmoid as
exp(−softplus(−x)) through logaddexp, Φ through scipy's ndtr, tanh through
expm1, ...) and evaluated in float64. Inputs reach ±1e30 (±1e300 in float64):
results must be finite and no RuntimeWarning may escape seqnn (the test
configuration turns those into errors).
"""
import math

import numpy as np
import pytest
import scipy.special

import seqnn as sn
from seqnn import activations as A

ALPHA_SELU = 1.6732632423543772848170429916717
SCALE_SELU = 1.0507009873554804934193349852946
C = math.sqrt(2.0 / math.pi)


def inputs(dtype):
    big = [20.0, 50.0, 88.0, 100.0, 700.0, 710.0, 1e3, 1e4, 1e30] + ([1e300] if dtype == "float64" else [])
    values = np.concatenate([np.linspace(-6, 6, 49), big, -np.array(big), [0.0, 1e-8, -1e-8]])
    return values.astype(dtype)


def sigmoid(x):
    return np.exp(-np.logaddexp(0.0, -x))


def tanh(x):
    a = np.abs(x)
    return np.sign(x) * -np.expm1(-2 * a) / (1 + np.exp(-2 * a))


def pdf(x):
    with np.errstate(over="ignore"):
        return np.exp(-0.5 * np.square(x)) / math.sqrt(2 * math.pi)


def gelu_tanh(x):
    with np.errstate(over="ignore", invalid="ignore"):
        u = C * (x + 0.044715 * x ** 3)
        return 0.5 * x * (1 + np.tanh(u))


def gelu_tanh_grad(x):
    with np.errstate(over="ignore", invalid="ignore"):
        t = np.tanh(C * (x + 0.044715 * x ** 3))
        sech2 = 1 - t * t
        slope = 0.5 * (1 + t) + np.where(sech2 == 0, 0.0, 0.5 * x * sech2 * C * (1 + 3 * 0.044715 * x ** 2))
    return slope


def elu(x, alpha):
    with np.errstate(over="ignore"):
        return np.where(x > 0, x, alpha * np.expm1(np.minimum(x, 0)))


# name → (activation, f(x), f'(x)) in float64
REFERENCES = {
    "linear": (A.get("linear"), lambda x: x, np.ones_like),
    "relu": (A.get("relu"), lambda x: np.where(x > 0, x, 0.0), lambda x: (x > 0).astype(float)),
    "leaky_relu": (A.get("leaky_relu"), lambda x: np.where(x > 0, x, 0.2 * x), lambda x: np.where(x > 0, 1.0, 0.2)),
    "leaky_relu(0.05)": (A.LeakyReLU(0.05), lambda x: np.where(x > 0, x, 0.05 * x),
                         lambda x: np.where(x > 0, 1.0, 0.05)),
    "elu": (A.get("elu"), lambda x: elu(x, 1.0), lambda x: np.where(x > 0, 1.0, np.exp(np.minimum(x, 0)))),
    "elu(0.3)": (A.ELU(alpha=0.3), lambda x: elu(x, 0.3), lambda x: np.where(x > 0, 1.0, 0.3 * np.exp(np.minimum(x, 0)))),
    "selu": (A.get("selu"), lambda x: SCALE_SELU * elu(x, ALPHA_SELU),
             lambda x: SCALE_SELU * np.where(x > 0, 1.0, ALPHA_SELU * np.exp(np.minimum(x, 0)))),
    "gelu": (A.get("gelu"), lambda x: x * scipy.special.ndtr(x), lambda x: scipy.special.ndtr(x) + np.where(
        np.abs(x) > 1e100, 0.0, x * pdf(x))),
    "gelu_tanh": (A.GELU(approximate=True), gelu_tanh, gelu_tanh_grad),
    "sigmoid": (A.get("sigmoid"), sigmoid, lambda x: sigmoid(x) * sigmoid(-x)),
    "tanh": (A.get("tanh"), tanh, lambda x: 1 - tanh(x) ** 2),
    "softplus": (A.get("softplus"), lambda x: np.logaddexp(0.0, x), sigmoid),
    "silu": (A.get("silu"), lambda x: x * sigmoid(x), lambda x: sigmoid(x) * (1 + x * sigmoid(-x))),
}

TOL = {"float64": dict(rtol=1e-12, atol=1e-300), "float32": dict(rtol=3e-6, atol=2e-38)}


def assert_close(actual, desired, scale, dtype):
    """|actual − desired| ≤ rtol·|desired| + 4 ulp·scale, elementwise.

    The second term allows what rounding costs where a result is a small
    difference of rounded numbers (1 + tanh(u), y + α for x ≪ 0): a few ulp of
    the input (forward: scale = |x|, capped at 10) or of the upstream gradient (backward);
    a wrong formula is off by far more.
    """
    actual = np.asarray(actual, np.float64)
    bound = TOL[dtype]["rtol"] * np.abs(desired) + 4 * np.finfo(dtype).eps * scale + TOL[dtype]["atol"]
    bad = ~(np.abs(actual - desired) <= bound)
    assert not bad.any(), f"mismatch at {np.flatnonzero(bad)}: {actual[bad]} vs {desired[bad]}"


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("name", list(REFERENCES))
def test_forward_and_backward_against_closed_form(name, dtype):
    act, f, df = REFERENCES[name]
    b = sn.backends.get("numpy")
    x = inputs(dtype)
    x64 = x.astype(np.float64)
    y = act.forward(b, x.copy())
    assert y.dtype == np.dtype(dtype) and y.shape == x.shape
    assert np.all(np.isfinite(y))
    assert_close(y, f(x64), np.minimum(np.abs(x64), 10), dtype)
    dy = np.random.default_rng(0).standard_normal(x.shape).astype(dtype)
    dx = act.backward(b, dy.copy(), x, y)
    assert dx.dtype == np.dtype(dtype) and np.all(np.isfinite(dx))
    # Slopes like GELU's carry terms of size |x|·(1 − tanh²u), rounded near the tails.
    assert_close(dx, dy.astype(np.float64) * df(x64), np.abs(dy.astype(np.float64)) * (1 + np.minimum(np.abs(x64), 10)),
                 dtype)


@pytest.mark.parametrize("name", list(REFERENCES))
def test_in_place_forward_and_backward(name):
    # Layers run activations in place (out=x, out=dy); aliasing must not change the results.
    act, f, df = REFERENCES[name]
    b = sn.backends.get("numpy")
    x = inputs("float64").reshape(-1, 8)
    y_ref = act.forward(b, x.copy())
    dy = np.random.default_rng(1).standard_normal(x.shape)
    dx_ref = act.backward(b, dy.copy(), x.copy(), y_ref.copy())
    if not act.needs_input:
        buf = x.copy()
        y = act.forward(b, buf, out=buf)
        assert y is buf or np.shares_memory(y, buf)
        np.testing.assert_array_equal(y, y_ref)
    buf_dy = dy.copy()
    dx = act.backward(b, buf_dy, x.copy() if act.needs_input else None, y_ref.copy(), out=buf_dy)
    np.testing.assert_array_equal(dx, dx_ref)


@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_softmax(dtype):
    b = sn.backends.get("numpy")
    rng = np.random.default_rng(2)
    x = np.concatenate([rng.standard_normal((4, 6)) * 3,
                        [[1e4, -1e4, 0, 1, 2, 3], [-1e30, -1e30, 5, 5, 5, -1e30], [1e30, 1e30, 0, 0, 0, 0]]])
    x = x.astype(dtype)
    y = A.softmax.forward(b, x.copy())
    assert y.dtype == np.dtype(dtype) and np.all(np.isfinite(y))
    ref = scipy.special.softmax(x.astype(np.float64), axis=-1)
    np.testing.assert_allclose(y, ref, **TOL[dtype])
    np.testing.assert_allclose(y[-2], [0, 0, 1 / 3, 1 / 3, 1 / 3, 0], rtol=1e-6)
    np.testing.assert_allclose(y[-1], [0.5, 0.5, 0, 0, 0, 0], rtol=1e-6)
    dy = rng.standard_normal(x.shape).astype(dtype)
    dx = A.softmax.backward(b, dy.copy(), None, y.copy())
    jacobian_t_dy = np.einsum("nij,nj->ni", np.einsum("ni,ij->nij", ref, np.eye(6)) - np.einsum("ni,nj->nij", ref, ref),
                              dy.astype(np.float64))
    np.testing.assert_allclose(dx, jacobian_t_dy, rtol=TOL[dtype]["rtol"] * 10, atol=1e-12 if dtype == "float64" else 1e-6)
    # Rank 3: over the last axis.
    x3 = rng.standard_normal((2, 3, 4))
    np.testing.assert_allclose(A.softmax(x3), scipy.special.softmax(x3, axis=-1), rtol=1e-13)


def test_keras_style_calls_on_host_arrays():
    np.testing.assert_array_equal(A.relu(np.array([-1.0, 2.0])), [0.0, 2.0])
    assert A.get("relu")(np.array([-1.0, 2.0])).tolist() == [0.0, 2.0]
    np.testing.assert_allclose(A.sigmoid([0.0]), [0.5])
    np.testing.assert_allclose(A.swish(np.array([1.0])), [1 / (1 + math.exp(-1))])
    np.testing.assert_allclose(A.leaky_relu(np.array([-1.0])), [-0.2])  # Keras's function default 0.2


# --------------------------------------------------------------- registry ---
@pytest.mark.parametrize("name, cls", [
    ("relu", A.ReLU), ("ReLU", A.ReLU), ("RELU", A.ReLU), ("linear", A.Linear), ("identity", A.Linear),
    ("leaky_relu", A.LeakyReLU), ("LeakyReLU", A.LeakyReLU), ("elu", A.ELU), ("selu", A.SELU), ("gelu", A.GELU),
    ("GELU", A.GELU), ("sigmoid", A.Sigmoid), ("tanh", A.Tanh), ("softplus", A.Softplus), ("silu", A.SiLU),
    ("swish", A.SiLU), ("Swish", A.SiLU), ("softmax", A.Softmax),
])
def test_get_by_name(name, cls):
    assert type(A.get(name)) is cls


def test_get_none_instance_class_and_unknown():
    assert type(A.get(None)) is A.Linear
    act = A.LeakyReLU(0.1)
    assert A.get(act) is act
    assert type(A.get(A.Tanh)) is A.Tanh
    with pytest.raises(ValueError, match="relu"):  # the known names are listed
        A.get("relux")
    with pytest.raises(TypeError):
        A.get(3)


@pytest.mark.parametrize("act", [A.ReLU(), A.LeakyReLU(0.1), A.ELU(alpha=0.5), A.SELU(), A.GELU(),
                                 A.GELU(approximate=True), A.Sigmoid(), A.Tanh(), A.Softplus(), A.SiLU(),
                                 A.Softmax(), A.Linear()], ids=repr)
def test_serialize_round_trip(act):
    data = A.serialize(act)
    again = A.get(data)
    assert type(again) is type(act) and again.get_config() == act.get_config()
    if not act.get_config():
        assert isinstance(data, str)  # a plain name when there are no arguments
    x = inputs("float64")
    np.testing.assert_array_equal(again(x), act(x))


def test_get_from_config_dict():
    act = A.get({"class_name": "LeakyReLU", "config": {"negative_slope": 0.05}})
    assert act.negative_slope == 0.05
    assert A.get({"class_name": "GELU", "config": {"approximate": True}}).approximate
    assert A.get({"class_name": "elu", "config": {"alpha": 2.0}}).alpha == 2.0


def test_dense_activation_config():
    layer = sn.layers.Dense(3, activation=A.LeakyReLU(0.3))
    again = sn.layers.get({"class_name": "Dense", "config": layer.get_config()})
    assert type(again.activation) is A.LeakyReLU and again.activation.negative_slope == 0.3
    assert sn.layers.Dense(3, activation="gelu").get_config()["activation"] == "gelu"


@pytest.mark.parametrize("make, arg", [(lambda: A.LeakyReLU(-0.1), "negative_slope"),
                                       (lambda: A.LeakyReLU(1.5), "negative_slope"),
                                       (lambda: A.ELU(alpha=0.0), "alpha")])
def test_bad_arguments(make, arg):
    with pytest.raises(ValueError, match=arg):
        make()


def test_exact_gelu_keeps_relative_precision_in_the_left_tail():
    # x·Φ(x) for x ≪ 0 is tiny but not zero: Φ through erfc keeps every digit (1 + erf(x/√2) would round to 0).
    x = -np.linspace(5.0, 35.0, 31)
    b = sn.backends.get("numpy")
    y = A.gelu.forward(b, x.copy())
    np.testing.assert_allclose(y, x * scipy.special.ndtr(x), rtol=1e-12)
    dx = A.gelu.backward(b, np.ones_like(x), x, y)
    np.testing.assert_allclose(dx, scipy.special.ndtr(x) + x * pdf(x), rtol=1e-9)
