"""Backend conformance: every op of the contract against a plain numpy/scipy formula.

Parametrized over every registered backend that can run here, the core-only
backend (the fused ops' defaults) and the Metal backend on the emulated
device (tests/metal_device.py; skipped without a C++ compiler), each in
every float dtype it computes in: float64 where the backend has it, float32
on all (Metal has no double). The references are written out here,
independently of the numpy backend, in float64 on inputs that are exact in
the dtype under test, on random inputs and on sizes that are not multiples of
any tile (1, 31, 33, ...); float32 runs compare with float32 tolerances.
``out=`` is checked where the contract allows an alias (elementwise ops may
write into an input).

The fixtures ``b`` (the backend) and ``fp`` (the dtype under test) come from
tests/conformance.py. This module covers the array, linalg, activation, loss
and clipping ops; the layer families have modules of their own
(test_backend_conformance_<family>.py).
"""
import numpy as np
import pytest
import scipy.special
from conformance import data, host
from core_only_backend import CoreOnly

from seqnn import activations, backends
from seqnn.backends.fused import FusedOps

SIZES = [(1, 1), (1, 33), (31, 7), (33, 65)]
GEMM_SHAPES = [(1, 1, 1), (1, 33, 31), (31, 17, 33), (64, 65, 63)]


def test_the_core_only_backend_runs_the_defaults():
    assert CoreOnly.relu is FusedOps.relu  # a default, written in the core ops
    assert CoreOnly.gemm is not backends.Backend.gemm  # a core op, delegated to numpy


# ----------------------------------------------------------------- arrays ---
def test_allocation_and_transfer(b, fp):
    x = fp.data((3, 5))
    a = fp.put(x)
    assert tuple(a.shape) == (3, 5) and a.ndim == 2 and str(a.dtype) == fp.dtype
    np.testing.assert_array_equal(host(b, a), x)
    assert host(b, b.zeros((2, 3), fp.dtype)).tolist() == [[0, 0, 0]] * 2
    np.testing.assert_array_equal(host(b, b.full((4,), 2.5, fp.dtype)), np.full(4, 2.5, fp.dtype))
    assert tuple(b.empty((7, 1), fp.dtype).shape) == (7, 1)
    filled = b.fill(b.empty((3,), fp.dtype), -1.0)
    np.testing.assert_array_equal(host(b, filled), [-1.0, -1.0, -1.0])


def test_copy_into_broadcasts_and_views_share_memory(b, fp):
    flat = b.zeros((12,), fp.dtype)
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
def test_binary_ops_broadcast_and_alias(b, fp, op, shape):
    x, y, row = fp.data(shape, 1), fp.data(shape, 2) + 3.0, fp.data(shape[-1:], 3) + 3.0
    column, one = fp.data((*shape[:-1], 1), 4) + 3.0, fp.data((), 5) + 3.0
    want = ELEMENTWISE_BINARY[op]
    fp.close(getattr(b, op)(fp.put(x), fp.put(y)), want(x, y))
    fp.close(getattr(b, op)(fp.put(x), fp.put(row)), want(x, row))
    fp.close(getattr(b, op)(fp.put(row), fp.put(x)), want(row, x))
    fp.close(getattr(b, op)(fp.put(x), fp.put(column)), want(x, column))  # keepdims reductions
    fp.close(getattr(b, op)(fp.put(one), fp.put(x)), want(one, x))  # a 0-d array (a norm) on the left
    fp.close(getattr(b, op)(fp.put(x), 1.5), want(x, 1.5))
    fp.close(getattr(b, op)(1.5, fp.put(x)), want(1.5, x))
    a = fp.put(x.copy())  # (asarray may return its argument itself)
    assert getattr(b, op)(a, fp.put(y), out=a) is a  # in place
    fp.close(a, want(x, y))


@pytest.mark.parametrize("op", sorted(ELEMENTWISE_UNARY))
def test_unary_ops(b, fp, op):
    x = fp.data((31, 7), 4)
    arg = fp.data((31, 7), 4, 0.1, 2.1) if op in ("sqrt", "log") else x
    fp.close(getattr(b, op)(fp.put(arg)), ELEMENTWISE_UNARY[op](arg))
    a = fp.put(arg.copy())
    getattr(b, op)(a, out=a)
    fp.close(a, ELEMENTWISE_UNARY[op](arg))


def test_clip_where_less_equal(b, fp):
    x, y = fp.data((33, 5), 5), fp.data((33, 5), 6)
    fp.close(b.clip(fp.put(x), -0.5, 0.75), np.clip(x, -0.5, 0.75))
    mask = b.less_equal(fp.put(x), fp.put(y))
    np.testing.assert_array_equal(host(b, mask).astype(bool), x <= y)
    fp.close(b.where(mask, fp.put(x), fp.put(y)), np.minimum(x, y))


@pytest.mark.parametrize("axis", [None, 0, 1, -1])
def test_reductions(b, fp, axis):
    x = fp.data((31, 33), 7)
    # float32: a sum of n terms of size 2 is off by up to ~n·2·6e-8 (1e-4 for these 1023).
    sum_tol = (1e-5, 1e-4)
    for op, ref in (("sum", np.sum), ("mean", np.mean), ("max", np.max)):
        got = getattr(b, op)(fp.put(x), axis=axis)
        scale = 1.0 if op == "max" else 1.0 / x.size if op == "mean" and axis is None else 1.0 / 31
        if axis is None:  # a 0-d array of the backend; item() reads it back
            assert tuple(got.shape) == ()
            rel, absolute = sum_tol if fp.single else (1e-12, 0.0)
            assert b.item(got) == pytest.approx(float(ref(x)), rel=rel, abs=absolute * scale * 31)
        else:
            fp.close(got, ref(x, axis=axis), f32=(sum_tol[0], sum_tol[1] * scale))
        kept = getattr(b, op)(fp.put(x), axis=1, keepdims=True)
        fp.close(kept, ref(x, axis=1, keepdims=True), f32=(sum_tol[0], sum_tol[1] * scale))
    np.testing.assert_array_equal(host(b, b.argmax(fp.put(x), axis=-1)), np.argmax(x, axis=-1))


def test_argmax_takes_the_first_of_ties(b, fp):
    x = np.array([[1.0, 3.0, 3.0], [2.0, 2.0, 2.0]])
    np.testing.assert_array_equal(host(b, b.argmax(fp.put(x))), [1, 0])


def test_transpose(b, fp):
    x = fp.data((2, 3, 4), 8)
    fp.close(b.transpose(fp.put(x), (0, 2, 1)), np.transpose(x, (0, 2, 1)), f32=(0, 0))


# ----------------------------------------------------------------- linalg ---
@pytest.mark.parametrize("m, k, n", GEMM_SHAPES)
def test_gemm_in_every_form(b, fp, m, k, n):
    a, w = fp.data((m, k), 9), fp.data((k, n), 10)
    want = a @ w
    tol = {"rtol": 1e-12, "atol": 1e-12 * k, "f32": (2e-5, 2e-5 * k)}
    fp.close(b.gemm(fp.put(a), fp.put(w)), want, **tol)
    fp.close(b.gemm(fp.put(a.T.copy()), fp.put(w), trans_a=True), want, **tol)
    fp.close(b.gemm(fp.put(a), fp.put(w.T.copy()), trans_b=True), want, **tol)
    out = b.empty((m, n), fp.dtype)
    assert b.gemm(fp.put(a), fp.put(w), out=out) is out
    fp.close(out, want, **tol)


@pytest.mark.parametrize("shape", [(1, 1), (31, 33), (4, 5, 7)])
def test_bias_add_and_its_gradient(b, fp, shape):
    x, bias = fp.data(shape, 11), fp.data(shape[-1:], 12)
    fp.close(b.bias_add(fp.put(x), fp.put(bias)), x + bias)
    fp.close(b.bias_grad(fp.put(x)), x.reshape(-1, shape[-1]).sum(axis=0), f32=(1e-5, 1e-5))


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
def test_activation_forward_and_backward(b, fp, name):
    """Forward against the formula; backward against the finite-difference derivative of the formula."""
    extra, ref = ACTIVATIONS[name]
    x = fp.data((31, 9), 13)
    x[np.abs(x) < 1e-3] = 0.5  # away from the kinks at zero
    forward, backward = getattr(b, op_name(name)), getattr(b, op_name(name) + "_backward")
    y = forward(fp.put(x), *extra)
    # float32: a few roundings of values up to ~2, and tanh = 2·sigmoid(2x) − 1 (the fused default) cancels
    # near 0, so an absolute bound.
    fp.close(y, ref(x), rtol=1e-10, atol=1e-12, f32=(1e-6, 1e-6))
    dy = fp.data((31, 9), 14)
    h = 1e-6
    if name == "softmax":
        jvp = (ref(x + h * dy) - ref(x - h * dy)) / (2 * h)  # softmax's Jacobian is symmetric
        want = jvp
    else:
        want = dy * (ref(x + h) - ref(x - h)) / (2 * h)
    # A layer passes x only to the rules that declare they need it (Activation.needs_input); y always.
    x_given = fp.put(x) if activations.get(name.replace("_tanh", "")).needs_input else None
    got = backward(fp.put(dy), x_given, fp.put(ref(x)), *extra)
    fp.close(got, want, rtol=1e-6, atol=1e-8, f32=(1e-5, 1e-6))


def test_softmax_does_not_overflow(b, fp):
    x = np.array([[1e4, -1e4, 0.0]])
    fp.close(b.softmax(fp.put(x)), [[1.0, 0.0, 0.0]])


# ----------------------------------------------------------------- losses ---
@pytest.mark.parametrize("sparse", [True, False])
def test_softmax_cross_entropy_and_its_gradient(b, fp, sparse):
    logits = fp.data((33, 7), 15, -30, 30)
    labels = np.random.default_rng(16).integers(0, 7, 33)
    onehot = np.eye(7)[labels]
    target = labels if sparse else onehot
    target_dtype = "int64" if sparse else fp.dtype
    loss, probs = b.softmax_cross_entropy(fp.put(logits), b.asarray(target, target_dtype), sparse)
    # float32: log-sum-exp of logits up to 30 in size is off by a few ulps of 30.
    fp.close(loss, -(onehot * scipy.special.log_softmax(logits, axis=-1)).sum(axis=-1), rtol=1e-10,
             f32=(1e-6, 1e-5))
    fp.close(probs, scipy.special.softmax(logits, axis=-1), f32=(1e-5, 1e-7))
    weights = fp.data((33,), 17, 0.0, 2.0)
    grad = b.softmax_cross_entropy_backward(probs, b.asarray(target, target_dtype), sparse, fp.put(weights))
    fp.close(grad, weights[:, None] * (scipy.special.softmax(logits, axis=-1) - onehot), f32=(1e-5, 1e-6))


def test_sigmoid_cross_entropy(b, fp):
    z, t = fp.data((31, 3), 18, -40, 40), fp.data((31, 3), 19, 0, 1)
    loss, prob = b.sigmoid_cross_entropy(fp.put(z), fp.put(t))
    # float32: softplus(z) − z·t cancels for large z and t near 1: an absolute bound of a few ulps of 40.
    fp.close(loss, np.logaddexp(0, z) - z * t, rtol=1e-10, atol=1e-12, f32=(1e-6, 2e-5))
    fp.close(prob, scipy.special.expit(z), f32=(1e-6, 1e-7))


# --------------------------------------------------------------- clipping ---
def test_clipping_by_norm_per_segment_and_globally(b, fp):
    g = fp.data((40,), 20)
    segments = [(0, 1), (1, 9), (9, 40)]
    want = g.copy()
    for start, stop in segments:
        norm = np.linalg.norm(g[start:stop])
        want[start:stop] *= min(1.0, 0.5 / norm)
    a = fp.put(g.copy())
    b.clip_segments_by_norm_(a, segments, 0.5)
    fp.close(a, want, f32=(1e-6, 1e-7))
    a = fp.put(g.copy())
    b.clip_by_global_norm_(a, 1.0)
    fp.close(a, g * min(1.0, 1.0 / np.linalg.norm(g)), f32=(1e-6, 1e-7))
    a = fp.put(g.copy())
    b.clip_by_global_norm_(a, 1e9)  # under the bound: untouched
    np.testing.assert_array_equal(host(b, a), g)


# ------------------------------------------------------------------ random ---
def test_dropout_masks_depend_on_the_seed_only(b, fp):
    x = np.ones((64, 33))
    first, mask = b.dropout(fp.put(x), 0.25, b.rng(7))
    again, _ = b.dropout(fp.put(x), 0.25, b.rng(7))
    other, _ = b.dropout(fp.put(x), 0.25, b.rng(8))
    first, again, other, mask = host(b, first), host(b, again), host(b, other), host(b, mask)
    np.testing.assert_array_equal(first, again)
    assert not np.array_equal(first, other)
    assert set(np.unique(first)) <= {0.0, np.dtype(fp.dtype).type(1 / 0.75)}
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
