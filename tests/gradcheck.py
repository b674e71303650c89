"""Central finite differences in float64, for layers, losses and regularizers.

Each check compares what a backward pass says with what the forward pass
does: for a layer, the numerical derivatives of a random linear functional
L(x, θ) = Σ forward(x)·R with respect to every input entry and every entry of
every trainable parameter; for a loss, the numerical derivatives of the
reduced loss value with respect to each prediction.

Layers may overwrite ``dy`` in ``backward`` and hand out the same buffer from
one call to the next (``Layer.buffer``), so every result is copied before the
next forward call and backward is given a copy of R.

The error measure is max|analytic − numeric| / max(max|analytic|, max|numeric|):
one number per array, insensitive to where the entries happen to be small.
"""
from __future__ import annotations

from typing import Callable

import numpy as np

import seqnn as sn

EPS = 1e-6
RTOL = 1e-6


def numpy_backend():
    return sn.backends.get("numpy")


def build64(layer, input_shape):
    """Build ``layer`` on the numpy backend in float64 for samples of ``input_shape`` (no batch dim)."""
    layer.build_for((None, *input_shape), numpy_backend(), "float64")
    return layer


def rel_error(analytic, numeric) -> float:
    analytic = np.asarray(analytic, np.float64)
    numeric = np.asarray(numeric, np.float64)
    assert analytic.shape == numeric.shape, (analytic.shape, numeric.shape)
    if analytic.size == 0:
        return 0.0
    scale = max(np.max(np.abs(analytic)), np.max(np.abs(numeric)), 1e-12)
    return float(np.max(np.abs(analytic - numeric)) / scale)


def assert_close_grad(analytic, numeric, what: str, rtol: float = RTOL) -> None:
    err = rel_error(analytic, numeric)
    assert err <= rtol, (f"{what}: relative error {err:.3g} > {rtol:g}\n"
                         f"analytic:\n{np.asarray(analytic)}\nnumeric:\n{np.asarray(numeric)}")


def numerical_gradient(f: Callable[[], float], array: np.ndarray, eps: float = EPS) -> np.ndarray:
    """∂f/∂array by central differences, perturbing ``array`` in place (and restoring it)."""
    grad = np.zeros(array.shape, np.float64)
    flat = array.reshape(-1)  # a view: array is C-contiguous
    assert np.shares_memory(flat, array)
    for i in range(flat.size):
        old = flat[i]
        flat[i] = old + eps
        plus = f()
        flat[i] = old - eps
        minus = f()
        flat[i] = old
        grad.reshape(-1)[i] = (plus - minus) / (2.0 * eps)
    return grad


# ------------------------------------------------------------------ layers ---
def layer_analytic(layer, x, r, training=False, before_forward=None, include_regularization=False):
    """(y, dx, grads) from one forward and one backward with dy = R, all copied."""
    if before_forward is not None:
        before_forward()
    y = np.array(layer.forward(x, training=training), dtype=np.float64)
    for g in layer.grads.values():
        g.fill(np.nan)  # backward must write every entry, not accumulate into stale values
    dx = layer.backward(r.copy(), need_input_grad=True)
    if include_regularization:
        layer.add_regularization_gradients()
    dx = np.array(dx, dtype=np.float64)
    grads = {k: np.array(g, dtype=np.float64) for k, g in layer.grads.items()}
    return y, dx, grads


def check_grads_without_input_grad(layer, x, r, training=False, rtol=1e-13):
    """``backward(dy, need_input_grad=False)`` returns None and still fills every gradient as the full pass does.

    Returns the parameter gradients of the full pass.
    """
    _, _, grads = layer_analytic(layer, x, r, training=training)
    layer.forward(x, training=training)
    for g in layer.grads.values():
        g.fill(0.0)
    assert layer.backward(r.copy(), need_input_grad=False) is None
    for key, g in grads.items():
        np.testing.assert_allclose(layer.grads[key], g, rtol=rtol)
    return grads


def check_layer(layer, x, *, training=False, before_forward=None, include_regularization=False,
                seed=0, eps=EPS, rtol=RTOL, input_shape=None):
    """Finite-difference check of ``layer.backward``: dx and every entry of ``layer.grads``.

    ``layer`` is built in float64 on numpy if it is not built yet.
    ``before_forward`` runs before every forward call (Dropout reseeds its
    generator there, so that every call draws the same mask). With
    ``include_regularization`` the objective also has the layer's weight
    penalty and the analytic side calls ``add_regularization_gradients``.
    Returns (y, dx, grads) of the analytic pass for further checks.
    """
    x = np.ascontiguousarray(x, np.float64)
    if not layer.built:
        build64(layer, x.shape[1:] if input_shape is None else input_shape)
    assert layer.dtype == "float64", "gradient checks run in float64"
    rng = np.random.default_rng(seed)
    y0 = np.array(layer.forward(x.copy(), training=training))
    r = rng.standard_normal(y0.shape)

    y, dx, grads = layer_analytic(layer, x.copy(), r, training, before_forward, include_regularization)
    assert dx.shape == x.shape, f"dx has shape {dx.shape}, x has {x.shape}"
    for name, g in grads.items():
        assert g.shape == layer.params[name].shape, name
        assert np.all(np.isfinite(g)), f"grads[{name!r}] has non-finite entries (not written?)"

    xv = x.copy()

    def objective():
        if before_forward is not None:
            before_forward()
        value = float(np.sum(np.asarray(layer.forward(xv, training=training), np.float64) * r))
        if include_regularization:
            value += float(layer.regularization_penalty())
        return value

    name = type(layer).__name__
    assert_close_grad(dx, numerical_gradient(objective, xv, eps), f"{name} dx", rtol)
    for key, g in grads.items():
        assert_close_grad(g, numerical_gradient(objective, layer.params[key], eps), f"{name} grads[{key!r}]", rtol)
    return y, dx, grads


# ------------------------------------------------------------------ losses ---
def loss_value_and_grad(loss, y_pred, y_true, sample_weight=None):
    """(value, dL/dy_pred) of a loss bound to numpy, from float64 host arrays."""
    b = numpy_backend()
    loss.bind(b)
    y_pred = np.ascontiguousarray(y_pred, np.float64)
    t = b.asarray(y_true, loss.target_dtype("float64"))
    w = None if sample_weight is None else b.asarray(np.asarray(sample_weight, np.float64))
    value = float(loss.forward(y_pred.copy(), t, w))
    grad = np.array(loss.backward(), dtype=np.float64)
    return value, grad


def check_loss(loss, y_pred, y_true, sample_weight=None, eps=EPS, rtol=RTOL):
    """Finite-difference check of ``loss.backward`` against ``loss.forward``; returns (value, grad)."""
    b = numpy_backend()
    value, grad = loss_value_and_grad(loss, y_pred, y_true, sample_weight)
    assert grad.shape == np.shape(y_pred)
    yp = np.array(y_pred, np.float64)
    t = b.asarray(y_true, loss.target_dtype("float64"))
    w = None if sample_weight is None else b.asarray(np.asarray(sample_weight, np.float64))

    def objective():
        return float(loss.forward(yp.copy(), t, w))

    assert_close_grad(grad, numerical_gradient(objective, yp, eps), f"{type(loss).__name__} d/dy_pred", rtol)
    return value, grad


# ------------------------------------------------------------ regularizers ---
def check_regularizer(reg, w, eps=EPS, rtol=RTOL):
    """Finite-difference check of ``reg.add_gradient`` against ``reg.penalty``; returns the gradient."""
    b = numpy_backend()
    w = np.array(w, np.float64)
    base = np.random.default_rng(1).standard_normal(w.shape)
    grad = base.copy()
    reg.add_gradient(b, w, grad)  # adds in place, on top of what is there
    added = grad - base
    wv = w.copy()
    assert_close_grad(added, numerical_gradient(lambda: float(reg.penalty(b, wv)), wv, eps),
                      f"{type(reg).__name__} gradient", rtol)
    return added
