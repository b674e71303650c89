"""Backend conformance: every op of the contract against a plain numpy/scipy formula.

Parametrized over every registered backend that can run here, so a new
backend (Metal on the emulated device, say) is checked op by op the moment
it registers. The references are written out here, independently of the
numpy backend, on random inputs and on sizes that are not multiples of any
tile (1, 31, 33, ...). ``out=`` is checked where the contract allows an alias
(elementwise ops may write into an input).

This module covers the array, linalg, activation, loss and clipping ops;
layer-family ops (convolution, pooling, normalization, resampling) are
checked through the layers' gradient and PyTorch parity tests.
"""
import numpy as np
import pytest
import scipy.special

from core_only_backend import CoreOnly
from seqnn import backends
from seqnn.backends.fused import FusedOps

SIZES = [(1, 1), (1, 33), (31, 7), (33, 65)]
GEMM_SHAPES = [(1, 1, 1), (1, 33, 31), (31, 17, 33), (64, 65, 63)]


@pytest.fixture(params=[*backends.available(), "core-only"])
def b(request):
    return CoreOnly() if request.param == "core-only" else backends.get(request.param)


def test_the_core_only_backend_runs_the_defaults():
    assert CoreOnly.relu is FusedOps.relu  # a default, written in the core ops
    assert CoreOnly.gemm is not backends.Backend.gemm  # a core op, delegated to numpy


def host(b, a):
    return np.array(b.to_numpy(a))


def data(shape, seed=0, low=-2.0, high=2.0, dtype="float64"):
    return np.random.default_rng(seed).uniform(low, high, shape).astype(dtype)


def close(got, want, rtol=1e-12, atol=1e-12):
    np.testing.assert_allclose(got, want, rtol=rtol, atol=atol)


# ----------------------------------------------------------------- arrays ---
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_allocation_and_transfer(b, dtype):
    x = data((3, 5), dtype=dtype)
    a = b.asarray(x, dtype)
    assert tuple(a.shape) == (3, 5) and a.ndim == 2 and str(a.dtype) == dtype
    np.testing.assert_array_equal(host(b, a), x)
    assert host(b, b.zeros((2, 3), dtype)).tolist() == [[0, 0, 0]] * 2
    np.testing.assert_array_equal(host(b, b.full((4,), 2.5, dtype)), np.full(4, 2.5, dtype))
    assert tuple(b.empty((7, 1), dtype).shape) == (7, 1)
    filled = b.fill(b.empty((3,), dtype), -1.0)
    np.testing.assert_array_equal(host(b, filled), [-1.0, -1.0, -1.0])


def test_copy_into_broadcasts_and_views_share_memory(b):
    flat = b.zeros((12,), "float64")
    view = flat[2:8].reshape(2, 3)
    b.copy_into(view, np.array([1.0, 2.0, 3.0]))  # broadcast over the rows
    np.testing.assert_array_equal(host(b, flat), [0, 0, 1, 2, 3, 1, 2, 3, 0, 0, 0, 0])
    b.scale_(flat, 2.0)
    np.testing.assert_array_equal(host(b, view), [[2, 4, 6], [2, 4, 6]])


ELEMENTWISE_BINARY = {"add": np.add, "subtract": np.subtract, "multiply": np.multiply, "divide": np.divide,
                      "maximum": np.maximum, "minimum": np.minimum}
ELEMENTWISE_UNARY = {"square": np.square, "sqrt": lambda x: np.sqrt(np.abs(x)), "abs": np.abs, "sign": np.sign,
                     "exp": np.exp, "log": lambda x: np.log(np.abs(x))}


@pytest.mark.parametrize("op", sorted(ELEMENTWISE_BINARY))
@pytest.mark.parametrize("shape", SIZES)
def test_binary_ops_broadcast_and_alias(b, op, shape):
    x, y, row = data(shape, 1), data(shape, 2) + 3.0, data(shape[-1:], 3) + 3.0
    want = ELEMENTWISE_BINARY[op]
    close(host(b, getattr(b, op)(b.asarray(x), b.asarray(y))), want(x, y))
    close(host(b, getattr(b, op)(b.asarray(x), b.asarray(row))), want(x, row))
    close(host(b, getattr(b, op)(b.asarray(x), 1.5)), want(x, 1.5))
    a = b.asarray(x.copy())  # (asarray may return its argument itself)
    assert getattr(b, op)(a, b.asarray(y), out=a) is a  # in place
    close(host(b, a), want(x, y))


@pytest.mark.parametrize("op", sorted(ELEMENTWISE_UNARY))
def test_unary_ops(b, op):
    x = data((31, 7), 4)
    arg = np.abs(x) + 0.1 if op in ("sqrt", "log") else x
    close(host(b, getattr(b, op)(b.asarray(arg))), ELEMENTWISE_UNARY[op](arg))
    a = b.asarray(arg.copy())
    getattr(b, op)(a, out=a)
    close(host(b, a), ELEMENTWISE_UNARY[op](arg))


def test_clip_where_less_equal(b):
    x, y = data((33, 5), 5), data((33, 5), 6)
    close(host(b, b.clip(b.asarray(x), -0.5, 0.75)), np.clip(x, -0.5, 0.75))
    mask = b.less_equal(b.asarray(x), b.asarray(y))
    np.testing.assert_array_equal(host(b, mask).astype(bool), x <= y)
    close(host(b, b.where(mask, b.asarray(x), b.asarray(y))), np.minimum(x, y))


@pytest.mark.parametrize("axis", [None, 0, 1, -1])
def test_reductions(b, axis):
    x = data((31, 33), 7)
    for op, ref in (("sum", np.sum), ("mean", np.mean), ("max", np.max)):
        got = getattr(b, op)(b.asarray(x), axis=axis)
        if axis is None:  # a 0-d array of the backend; item() reads it back
            assert tuple(got.shape) == ()
            assert b.item(got) == pytest.approx(float(ref(x)), rel=1e-12)
        else:
            close(host(b, got), ref(x, axis=axis))
        kept = getattr(b, op)(b.asarray(x), axis=1, keepdims=True)
        close(host(b, kept), ref(x, axis=1, keepdims=True))
    np.testing.assert_array_equal(host(b, b.argmax(b.asarray(x), axis=-1)), np.argmax(x, axis=-1))


def test_argmax_takes_the_first_of_ties(b):
    x = np.array([[1.0, 3.0, 3.0], [2.0, 2.0, 2.0]])
    np.testing.assert_array_equal(host(b, b.argmax(b.asarray(x))), [1, 0])


def test_transpose(b):
    x = data((2, 3, 4), 8)
    close(host(b, b.transpose(b.asarray(x), (0, 2, 1))), np.transpose(x, (0, 2, 1)))


# ----------------------------------------------------------------- linalg ---
@pytest.mark.parametrize("m, k, n", GEMM_SHAPES)
@pytest.mark.parametrize("dtype, rtol", [("float64", 1e-12), ("float32", 2e-5)])
def test_gemm_in_every_form(b, m, k, n, dtype, rtol):
    a, w = data((m, k), 9, dtype=dtype), data((k, n), 10, dtype=dtype)
    want = a.astype(np.float64) @ w.astype(np.float64)
    close(host(b, b.gemm(b.asarray(a, dtype), b.asarray(w, dtype))), want, rtol, rtol * k)
    close(host(b, b.gemm(b.asarray(a.T.copy(), dtype), b.asarray(w, dtype), trans_a=True)), want, rtol, rtol * k)
    close(host(b, b.gemm(b.asarray(a, dtype), b.asarray(w.T.copy(), dtype), trans_b=True)), want, rtol, rtol * k)
    out = b.empty((m, n), dtype)
    assert b.gemm(b.asarray(a, dtype), b.asarray(w, dtype), out=out) is out


@pytest.mark.parametrize("shape", [(1, 1), (31, 33), (4, 5, 7)])
def test_bias_add_and_its_gradient(b, shape):
    x, bias = data(shape, 11), data(shape[-1:], 12)
    close(host(b, b.bias_add(b.asarray(x), b.asarray(bias))), x + bias)
    close(host(b, b.bias_grad(b.asarray(x))), x.reshape(-1, shape[-1]).sum(axis=0))


# ------------------------------------------------------------ activations ---
SELU = (1.6732632423543772, 1.0507009873554805)


def gelu_ref(x, approximate):
    if approximate:
        return 0.5 * x * (1 + np.tanh(np.sqrt(2 / np.pi) * (x + 0.044715 * x ** 3)))
    return 0.5 * x * (1 + scipy.special.erf(x / np.sqrt(2)))


ACTIVATIONS = {  # name: (extra args, forward reference)
    "relu": ((), lambda x: np.maximum(x, 0)),
    "leaky_relu": ((0.2,), lambda x: np.where(x > 0, x, 0.2 * x)),
    "elu": ((1.0,), lambda x: np.where(x > 0, x, np.expm1(x))),
    "selu": ((*SELU,), lambda x: SELU[1] * np.where(x > 0, x, SELU[0] * np.expm1(x))),
    "gelu": ((False,), lambda x: gelu_ref(x, False)),
    "gelu_tanh": ((True,), lambda x: gelu_ref(x, True)),
    "sigmoid": ((), scipy.special.expit),
    "tanh": ((), np.tanh),
    "softplus": ((), lambda x: np.logaddexp(0, x)),
    "silu": ((), lambda x: x * scipy.special.expit(x)),
    "softmax": ((), lambda x: scipy.special.softmax(x, axis=-1)),
}


def op_name(name):
    return {"selu": "elu", "gelu_tanh": "gelu"}.get(name, name)


@pytest.mark.parametrize("name", sorted(ACTIVATIONS))
def test_activation_forward_and_backward(b, name):
    """Forward against the formula; backward against the finite-difference derivative of the formula."""
    extra, ref = ACTIVATIONS[name]
    x = data((31, 9), 13)
    x[np.abs(x) < 1e-3] = 0.5  # away from the kinks at zero
    forward, backward = getattr(b, op_name(name)), getattr(b, op_name(name) + "_backward")
    y = forward(b.asarray(x), *extra)
    close(host(b, y), ref(x), rtol=1e-10, atol=1e-12)
    dy = data((31, 9), 14)
    h = 1e-6
    if name == "softmax":
        jvp = (ref(x + h * dy) - ref(x - h * dy)) / (2 * h)  # softmax's Jacobian is symmetric
        want = jvp
    else:
        want = dy * (ref(x + h) - ref(x - h)) / (2 * h)
    got = backward(b.asarray(dy), b.asarray(x), b.asarray(ref(x)), *extra)
    close(host(b, got), want, rtol=1e-6, atol=1e-8)


def test_softmax_does_not_overflow(b):
    x = np.array([[1e4, -1e4, 0.0]])
    close(host(b, b.softmax(b.asarray(x))), [[1.0, 0.0, 0.0]])


# ----------------------------------------------------------------- losses ---
@pytest.mark.parametrize("sparse", [True, False])
def test_softmax_cross_entropy_and_its_gradient(b, sparse):
    logits = data((33, 7), 15, -30, 30)
    labels = np.random.default_rng(16).integers(0, 7, 33)
    onehot = np.eye(7)[labels]
    target = labels if sparse else onehot
    loss, probs = b.softmax_cross_entropy(b.asarray(logits), b.asarray(target, "int64" if sparse else "float64"),
                                          sparse)
    close(host(b, loss), -(onehot * scipy.special.log_softmax(logits, axis=-1)).sum(axis=-1), rtol=1e-10)
    close(host(b, probs), scipy.special.softmax(logits, axis=-1))
    weights = data((33,), 17, 0.0, 2.0)
    grad = b.softmax_cross_entropy_backward(probs, b.asarray(target, "int64" if sparse else "float64"), sparse,
                                            b.asarray(weights))
    close(host(b, grad), weights[:, None] * (scipy.special.softmax(logits, axis=-1) - onehot))


def test_sigmoid_cross_entropy(b):
    z, t = data((31, 3), 18, -40, 40), data((31, 3), 19, 0, 1)
    loss, prob = b.sigmoid_cross_entropy(b.asarray(z), b.asarray(t))
    close(host(b, loss), np.logaddexp(0, z) - z * t, rtol=1e-10, atol=1e-12)
    close(host(b, prob), scipy.special.expit(z))


# --------------------------------------------------------------- clipping ---
def test_clipping_by_norm_per_segment_and_globally(b):
    g = data((40,), 20)
    segments = [(0, 1), (1, 9), (9, 40)]
    want = g.copy()
    for start, stop in segments:
        norm = np.linalg.norm(g[start:stop])
        want[start:stop] *= min(1.0, 0.5 / norm)
    a = b.asarray(g.copy())
    b.clip_segments_by_norm_(a, segments, 0.5)
    close(host(b, a), want)
    a = b.asarray(g.copy())
    b.clip_by_global_norm_(a, 1.0)
    close(host(b, a), g * min(1.0, 1.0 / np.linalg.norm(g)))
    a = b.asarray(g.copy())
    b.clip_by_global_norm_(a, 1e9)  # under the bound: untouched
    np.testing.assert_array_equal(host(b, a), g)


# ------------------------------------------------------------------ random ---
def test_dropout_masks_depend_on_the_seed_only(b):
    x = np.ones((64, 33))
    first, mask = b.dropout(b.asarray(x), 0.25, b.rng(7))
    again, _ = b.dropout(b.asarray(x), 0.25, b.rng(7))
    other, _ = b.dropout(b.asarray(x), 0.25, b.rng(8))
    first, again, other, mask = host(b, first), host(b, again), host(b, other), host(b, mask)
    np.testing.assert_array_equal(first, again)
    assert not np.array_equal(first, other)
    assert set(np.unique(first)) <= {0.0, 1 / 0.75}
    assert abs((first == 0).mean() - 0.25) < 0.03
    np.testing.assert_array_equal(first, x * mask)


# --------------------------------------------------------------- end to end ---
@pytest.mark.parametrize("activation, loss", [("relu", "sparse_categorical_crossentropy"),
                                              ("tanh", "mse"), ("silu", "mse"), ("selu", "mse"),
                                              ("leaky_relu", "binary_crossentropy")])
def test_an_mlp_trains_the_same_on_the_core_only_backend(activation, loss):
    import seqnn as sn

    x = data((48, 6), 21, dtype="float64")
    y = {"sparse_categorical_crossentropy": (x[:, 0] > 0).astype(int) + (x[:, 1] > 0).astype(int),
         "mse": x[:, :3] ** 2, "binary_crossentropy": (x[:, :3] > 0).astype(float)}[loss]
    head = {"sparse_categorical_crossentropy": sn.layers.Dense(3, activation="softmax"),
            "mse": sn.layers.Dense(3), "binary_crossentropy": sn.layers.Dense(3, activation="sigmoid")}[loss]

    def trained(backend):
        sn.utils.set_random_seed(3)
        model = sn.Sequential([sn.Input((6,)), sn.layers.Dense(8, activation=activation, kernel_regularizer="l2"),
                               sn.layers.Dropout(0.1), head.__class__.from_config(head.get_config())])
        model.compile(optimizer=sn.optimizers.Adam(1e-2, clipnorm=1.0), loss=loss, backend=backend,
                      dtype="float64")
        history = model.fit(x, y, epochs=3, batch_size=16, verbose=0, seed=5)
        return model.get_weights(), history.history["loss"]

    (want, want_loss), (got, got_loss) = trained("numpy"), trained(CoreOnly())
    np.testing.assert_allclose(got_loss, want_loss, rtol=1e-9)
    for a, w in zip(got, want):
        np.testing.assert_allclose(a, w, rtol=1e-9, atol=1e-12)
