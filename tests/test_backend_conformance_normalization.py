"""Backend conformance for batch and layer normalization: every op against a float64 formula.

Parametrized over every backend under test (fixtures ``b`` and ``fp`` from
tests/conformance.py: the registered backends, the core-only backend and the
Metal backend on the emulated device, in each of their float dtypes). The
references are written out here in float64, independently of the numpy
backend: forward from the definition, the input gradients through each
normalized vector's Jacobian written out in full (itself checked against
finite differences below). Shapes stress the edges: one row (batch variance
0), one feature (layer variance 0), channel counts around a SIMD-group (1, 3,
33), odd row counts and row counts across the Metal kernels' chunks of 64
rows (1025: 16 chunks and a last one of 1 row); γ and β absent or present;
the per-channel arrays as views into one flat array, as the parameter arena
and the gradient arena hand them out; ``out=`` given or allocated. Then what
is Metal's own: every threadgroup size and thread order, many chunks, the
float32 accuracy of the batch statistics over a large batch, and ``saved``
agreeing with the numpy backend's.
"""
import numpy as np
import pytest
from conformance import Floats, data, host
from metal_device import emulated_backend

from seqnn.backends.metal import normalization as metal_normalization
from seqnn.backends.numpy_backend import NumpyBackend

EPS = 1e-3
MOMENTUM = 0.9
BATCH_SHAPES = [(1, 3), (31, 1), (33, 33), (1025, 3)]
LAYER_SHAPES = [(1, 1), (33, 1), (3, 33), (31, 65), (2, 1025)]
AFFINE = [pytest.param(True, True, id="affine"), pytest.param(False, False, id="plain"),
          pytest.param(True, False, id="scale-only")]
THREADGROUPS = (32, 256, 1024)
NORMALIZATION_OPS = ("batchnorm_train", "batchnorm_infer", "batchnorm_infer_backward", "batchnorm_backward",
                     "layernorm", "layernorm_backward")


# -------------------------------------------------------------- references ---
def normalized(v, eps=EPS):
    """(x̂, r) of one vector: x̂ = (v − mean)·r, r = 1/√(biased variance + ε)."""
    centred = v - v.mean()
    r = 1.0 / np.sqrt(np.mean(centred * centred) + eps)
    return centred * r, r


def normalized_vjp(g, v, eps=EPS):
    """dL/dv of x̂(v) given g = dL/dx̂, through the Jacobian written out:
    ∂x̂_i/∂v_k = r·(δ_ik − 1/n − x̂_i·x̂_k/n) (symmetric, so Jᵀg = Jg)."""
    xhat, r = normalized(v, eps)
    n = v.size
    jacobian = r * (np.eye(n) - 1.0 / n - np.outer(xhat, xhat) / n)
    return jacobian @ g


def columns_vjp(g, x, eps=EPS):
    """normalized_vjp of every column of x[M, C] at once, multiplied out for batches too large for the
    Jacobian: Jg = r·(g − mean(g) − x̂·mean(x̂·g))."""
    xhat, r = (x - x.mean(0)) / np.sqrt(x.var(0) + eps), 1.0 / np.sqrt(x.var(0) + eps)
    return r * (g - g.mean(0) - xhat * (xhat * g).mean(0))


def batchnorm_reference(x, gamma, beta, dy):
    """y, the batch (mean, variance), dx, dγ, dβ of batch normalization of x[M, C] in float64."""
    xhat = np.empty_like(x)
    dx = np.empty_like(x)
    for c in range(x.shape[1]):
        xhat[:, c], _ = normalized(x[:, c])
        dx[:, c] = normalized_vjp(dy[:, c] * (1.0 if gamma is None else gamma[c]), x[:, c])
    y = affine(xhat, gamma, beta)
    return y, (x.mean(0), x.var(0)), dx, (dy * xhat).sum(0), dy.sum(0)


def layernorm_reference(x, gamma, beta, dy):
    """y, dx, dγ, dβ of layer normalization of each row of x[M, D] in float64."""
    xhat = np.empty_like(x)
    dx = np.empty_like(x)
    scale = 1.0 if gamma is None else gamma
    for i in range(x.shape[0]):
        xhat[i], _ = normalized(x[i])
        dx[i] = normalized_vjp(dy[i] * scale, x[i])
    return affine(xhat, gamma, beta), dx, (dy * xhat).sum(0), dy.sum(0)


def affine(xhat, gamma, beta):
    return xhat * (1.0 if gamma is None else gamma) + (0.0 if beta is None else beta)


def test_the_gradient_reference_matches_finite_differences():
    v, g = data(7, 1, -1.0, 3.0), data(7, 2)
    h = 1e-6
    numeric = [(g @ normalized(v + h * e)[0] - g @ normalized(v - h * e)[0]) / (2 * h) for e in np.eye(7)]
    np.testing.assert_allclose(normalized_vjp(g, v), numeric, rtol=1e-7, atol=1e-8)
    np.testing.assert_allclose(columns_vjp(g[:, None], v[:, None])[:, 0], numeric, rtol=1e-7, atol=1e-8)


# ---------------------------------------------------------------- helpers ---
GUARD = 7.25  # a value no op writes


def arena(fp, *vectors):
    """Views into one flat array holding ``vectors`` (None stays None) one guard element apart, as the
    parameter and gradient arenas hand out per-layer pieces at element offsets. Returns the flat array,
    the views and a mask of the guard elements."""
    flat = fp.put(np.full(1 + sum(v.size + 1 for v in vectors if v is not None), GUARD))
    guards = np.ones(flat.shape, bool)
    views, at = [], 1
    for v in vectors:
        if v is None:
            views.append(None)
            continue
        views.append(flat[at:at + v.size])
        fp.b.copy_into(views[-1], v)
        guards[at:at + v.size] = False
        at += v.size + 1
    return flat, views, guards


def assert_guards(fp, flat, guards):
    """Nothing wrote past the views of an arena."""
    np.testing.assert_array_equal(host(fp.b, flat)[guards], GUARD)


class Scratch:
    """A scratch callable like Layer.buffer: one array per key, reused while large enough."""

    def __init__(self, b, dtype):
        self.b, self.dtype, self.arrays = b, dtype, {}

    def __call__(self, key, shape, dtype=None):
        have = self.arrays.get(key)
        if have is None or have.shape[0] < shape[0]:
            have = self.arrays[key] = self.b.empty(shape, dtype or self.dtype)
        return have[:shape[0]]


def tols(rows=1):
    """fp.close tolerances; float32 ones grow with the rows a column sum runs over."""
    return dict(rtol=1e-10, atol=1e-10, f32=(2e-5, 2e-5 * max(1.0, rows / 64)))


# ------------------------------------------------------------ the checks ---
def check_batchnorm_train(b, fp, m, c, scale, center):
    """batchnorm_train (y, moving statistics) and batchnorm_backward on its ``saved`` (dx, dγ, dβ);
    returns the arrays the ops returned."""
    x, dy = fp.data((m, c), 1, -1.0, 3.0), fp.data((m, c), 2)
    gamma = fp.data(c, 3, 0.5, 1.5) if scale else None
    beta = fp.data(c, 4) if center else None
    moving = fp.data(c, 5), fp.data(c, 6, 0.5, 2.0)
    flat, (gamma_b, beta_b, mean_b, var_b), guards = arena(fp, gamma, beta, *moving)
    out = b.empty((m, c), fp.dtype) if center else None
    scratch = Scratch(b, fp.dtype) if scale else None
    y, saved = b.batchnorm_train(fp.put(x), gamma_b, beta_b, mean_b, var_b, MOMENTUM, EPS, scratch=scratch,
                                 out=out)
    assert out is None or y is out
    want_y, (mean, var), want_dx, want_dgamma, want_dbeta = batchnorm_reference(x, gamma, beta, dy)
    fp.close(y, want_y, **tols())
    fp.close(mean_b, MOMENTUM * moving[0] + (1 - MOMENTUM) * mean, **tols())
    fp.close(var_b, MOMENTUM * moving[1] + (1 - MOMENTUM) * var, **tols())
    assert_guards(fp, flat, guards)

    grads, (dgamma_b, dbeta_b), grad_guards = arena(fp, gamma, beta)  # filled where given, as a layer's grads
    dx_out = b.empty((m, c), fp.dtype) if scale else None
    dx = b.batchnorm_backward(fp.put(dy), gamma_b, saved, gamma_out=dgamma_b, beta_out=dbeta_b, out=dx_out)
    assert dx_out is None or dx is dx_out
    fp.close(dx, want_dx, **tols())
    if scale:
        fp.close(dgamma_b, want_dgamma, **tols(m))
    if center:
        fp.close(dbeta_b, want_dbeta, **tols(m))
    assert_guards(fp, grads, grad_guards)
    return [y, *saved, dx]


def check_batchnorm_infer(b, fp, m, c, scale, center):
    """batchnorm_infer and batchnorm_infer_backward (dx, dγ, dβ), the moving statistics left alone;
    returns the arrays the ops returned."""
    x, dy = fp.data((m, c), 1, -1.0, 3.0), fp.data((m, c), 2)
    gamma = fp.data(c, 3, 0.5, 1.5) if scale else None
    beta = fp.data(c, 4) if center else None
    mean, var = fp.data(c, 5), fp.data(c, 6, 0.5, 2.0)
    flat, (gamma_b, beta_b, mean_b, var_b), guards = arena(fp, gamma, beta, mean, var)
    out = b.empty((m, c), fp.dtype) if center else None
    y = b.batchnorm_infer(fp.put(x), gamma_b, beta_b, mean_b, var_b, EPS, out=out)
    assert out is None or y is out
    r = 1.0 / np.sqrt(var + EPS)
    fp.close(y, affine((x - mean) * r, gamma, beta), **tols())

    grads, (dgamma_b, dbeta_b), grad_guards = arena(fp, gamma, beta)
    dx_out = b.empty((m, c), fp.dtype) if scale else None
    dx = b.batchnorm_infer_backward(fp.put(dy), fp.put(x), gamma_b, mean_b, var_b, EPS, gamma_out=dgamma_b,
                                    beta_out=dbeta_b, out=dx_out)
    assert dx_out is None or dx is dx_out
    fp.close(dx, dy * r * (1.0 if gamma is None else gamma), **tols())
    if scale:
        fp.close(dgamma_b, (dy * (x - mean) * r).sum(0), **tols(m))
    if center:
        fp.close(dbeta_b, dy.sum(0), **tols(m))
    assert_guards(fp, grads, grad_guards)
    params = [v for v in (gamma, beta, mean, var) if v is not None]
    np.testing.assert_array_equal(host(b, flat)[~guards], np.concatenate(params))  # nothing updated
    return [y, dx]


def check_layernorm(b, fp, m, d, scale, center):
    """layernorm and layernorm_backward on its ``saved`` (dx, and dγ, dβ summed over the rows); returns the
    arrays the ops returned."""
    x, dy = fp.data((m, d), 1, -1.0, 3.0), fp.data((m, d), 2)
    gamma = fp.data(d, 3, 0.5, 1.5) if scale else None
    beta = fp.data(d, 4) if center else None
    _, (gamma_b, beta_b), _ = arena(fp, gamma, beta)
    out = b.empty((m, d), fp.dtype) if center else None
    scratch = Scratch(b, fp.dtype) if scale else None
    y, saved = b.layernorm(fp.put(x), gamma_b, beta_b, EPS, scratch=scratch, out=out)
    assert out is None or y is out
    want_y, want_dx, want_dgamma, want_dbeta = layernorm_reference(x, gamma, beta, dy)
    fp.close(y, want_y, **tols())

    grads, (dgamma_b, dbeta_b), grad_guards = arena(fp, gamma, beta)
    dx_out = b.empty((m, d), fp.dtype) if scale else None
    dx = b.layernorm_backward(fp.put(dy), gamma_b, saved, gamma_out=dgamma_b, beta_out=dbeta_b, out=dx_out)
    assert dx_out is None or dx is dx_out
    fp.close(dx, want_dx, **tols())
    if scale:
        fp.close(dgamma_b, want_dgamma, **tols(m))
    if center:
        fp.close(dbeta_b, want_dbeta, **tols(m))
    assert_guards(fp, grads, grad_guards)
    return [y, *saved, dx]


# ---------------------------------------------------------- every backend ---
@pytest.mark.parametrize("m, c", BATCH_SHAPES)
@pytest.mark.parametrize("scale, center", AFFINE)
def test_batchnorm_train_and_its_gradient(b, fp, m, c, scale, center):
    check_batchnorm_train(b, fp, m, c, scale, center)


@pytest.mark.parametrize("m, c", BATCH_SHAPES)
@pytest.mark.parametrize("scale, center", AFFINE)
def test_batchnorm_infer_and_its_gradient(b, fp, m, c, scale, center):
    check_batchnorm_infer(b, fp, m, c, scale, center)


@pytest.mark.parametrize("m, d", LAYER_SHAPES)
@pytest.mark.parametrize("scale, center", AFFINE)
def test_layernorm_and_its_gradient(b, fp, m, d, scale, center):
    check_layernorm(b, fp, m, d, scale, center)


# ------------------------------------------------------------- Metal only ---
def metal(monkeypatch, threadgroup=None, order=None):
    """A float32 run on the emulated Metal backend that fails if a normalization op falls back to numpy."""
    b = emulated_backend(threadgroup, order)
    fallback = b._numpy_fallback

    def refuse(op, *args, **kwargs):
        if op in NORMALIZATION_OPS:
            raise AssertionError(f"{op} fell back to numpy: its kernels were meant to run")
        return fallback(op, *args, **kwargs)

    monkeypatch.setattr(b, "_numpy_fallback", refuse)
    return b, Floats(b, "float32")


@pytest.mark.parametrize("tg", THREADGROUPS)
def test_metal_kernels_under_every_threadgroup_size(monkeypatch, tg):
    """Rows across chunks of 64 (129 = 64 + 64 + 1), channels across a SIMD-group (33), a row longer
    than a SIMD-group (65), for every threadgroup size metalcompute may pick."""
    b, fp = metal(monkeypatch, tg)
    returned = [*check_batchnorm_train(b, fp, 129, 33, True, True),
                *check_batchnorm_infer(b, fp, 129, 33, False, False), *check_layernorm(b, fp, 33, 65, True, True)]
    assert all(b.device.locate(a) is not None for a in returned)  # the kernels' outputs and work arrays


def test_metal_kernels_give_the_same_results_in_every_thread_order(monkeypatch):
    b, fp = metal(monkeypatch, 256, "compare")
    check_batchnorm_train(b, fp, 65, 33, True, False)
    check_batchnorm_infer(b, fp, 65, 3, True, True)
    check_layernorm(b, fp, 5, 65, True, True)


@pytest.mark.parametrize("m, max_chunks", [(2563, 4096), (1025, 5)], ids=["41-chunks", "longer-chunks"])
def test_metal_batch_statistics_merge_many_chunks(monkeypatch, m, max_chunks):
    """More chunks than a SIMD-group has lanes (each lane merges several), and chunks longer than 64
    rows once the chunk count reaches its limit."""
    monkeypatch.setattr(metal_normalization, "_MAX_CHUNKS", max_chunks)
    chunk_rows, chunks = metal_normalization._chunking(m)
    assert chunks <= max_chunks and (chunks - 1) * chunk_rows < m <= chunks * chunk_rows
    b, fp = metal(monkeypatch)
    check_batchnorm_train(b, fp, m, 2, True, True)
    check_batchnorm_infer(b, fp, m, 2, True, False)


def statistics_errors(b, x, dy):
    """Relative errors of a backend's batch mean and variance (through the moving statistics, momentum
    0), and of dγ, dβ and dx, over x[M, C] in float32, against float64."""
    m, c = x.shape
    mean_b, var_b = b.asarray(np.zeros(c, np.float32)), b.asarray(np.zeros(c, np.float32))
    _, saved = b.batchnorm_train(b.asarray(x), None, None, mean_b, var_b, 0.0, EPS)
    dgamma_b, dbeta_b = b.zeros((c,), "float32"), b.zeros((c,), "float32")
    dx = b.batchnorm_backward(b.asarray(dy), None, saved, gamma_out=dgamma_b, beta_out=dbeta_b)
    x64, dy64 = x.astype(np.float64), dy.astype(np.float64)
    mean, var = x64.mean(0), x64.var(0)
    want_dx, want_dgamma, want_dbeta = columns_vjp(dy64, x64), (dy64 * (x64 - mean) / np.sqrt(var + EPS)).sum(0), \
        dy64.sum(0)
    scale = np.sqrt(m)  # the size of a sum of m terms of unit size and random sign
    return {"mean": np.max(np.abs(host(b, mean_b) - mean) / np.abs(mean)),
            "variance": np.max(np.abs(host(b, var_b) - var) / var),
            "dgamma": np.max(np.abs(host(b, dgamma_b) - want_dgamma)) / scale,
            "dbeta": np.max(np.abs(host(b, dbeta_b) - want_dbeta)) / scale,
            "dx": np.max(np.abs(host(b, dx) - want_dx)) / np.max(np.abs(want_dx))}


def check_statistics_accuracy(monkeypatch, m, c):
    """Channels of mean ±(10…100) and standard deviation 0.1, where a single running sum, or
    E[x²] − E[x]², loses most of the variance in float32: the Metal kernels stay within float32
    rounding of float64, and at least as close as the numpy backend's float32."""
    rng = np.random.default_rng(7)
    offsets = rng.uniform(10.0, 100.0, c) * rng.choice([-1.0, 1.0], c)
    x = (offsets + 0.1 * rng.standard_normal((m, c))).astype(np.float32)
    dy = rng.standard_normal((m, c)).astype(np.float32)
    b, _ = metal(monkeypatch)
    got, numpy_got = statistics_errors(b, x, dy), statistics_errors(NumpyBackend(), x, dy)
    # dγ = Σ dy·x̂ inherits x̂'s error from μ rounded to float32 (ulp(100)/2 · r ≈ 4e-5 here).
    bounds = {"mean": 1e-6, "variance": 1e-5, "dgamma": 1e-4, "dbeta": 1e-5, "dx": 1e-5}
    for key, bound in bounds.items():
        assert got[key] < bound, (key, got[key])
        assert got[key] <= max(2 * numpy_got[key], bound / 10), (key, got[key], numpy_got[key])


def test_metal_batch_statistics_are_accurate_in_float32(monkeypatch):
    check_statistics_accuracy(monkeypatch, 4099, 5)


@pytest.mark.slow
def test_metal_batch_statistics_of_a_batch_of_images_are_accurate_in_float32(monkeypatch):
    check_statistics_accuracy(monkeypatch, 128 * 28 * 28, 32)  # 128 MNIST images after a 32-channel conv


def test_metal_saved_agrees_with_the_numpy_backend(monkeypatch):
    """``saved`` is (x̂, r) in both backends: a Metal forward's goes to numpy's backward, and a forward
    that fell back to numpy (x not in a Metal buffer) goes to the Metal kernels' backward."""
    numpy_b, b = NumpyBackend(), emulated_backend()
    m, c = 65, 3
    x, dy, gamma = data((m, c), 1).astype(np.float32), data((m, c), 2).astype(np.float32), np.float32([1, 2, 3])
    _, _, want_dx, want_dgamma, _ = batchnorm_reference(x.astype(np.float64), gamma, None, dy.astype(np.float64))
    zeros = lambda: b.zeros((c,), "float32")  # noqa: E731
    _, saved = b.batchnorm_train(b.asarray(x), b.asarray(gamma), None, zeros(), zeros(), MOMENTUM, EPS)
    np.testing.assert_allclose(numpy_b.batchnorm_backward(dy.copy(), gamma, saved), want_dx, rtol=2e-5, atol=2e-5)

    _, saved = b.batchnorm_train(x, b.asarray(gamma), None, zeros(), zeros(), MOMENTUM, EPS)  # numpy's code
    assert all(b.device.locate(a) is not None for a in saved)
    b, _ = metal(monkeypatch)
    dgamma = zeros()
    dx = b.batchnorm_backward(b.asarray(dy), b.asarray(gamma), saved, gamma_out=dgamma)
    assert b.device.locate(dx) is not None
    np.testing.assert_allclose(dx, want_dx, rtol=2e-5, atol=2e-5)
    np.testing.assert_allclose(dgamma, want_dgamma, rtol=2e-5, atol=2e-5)

    want_y, want_dx, _, _ = layernorm_reference(x.T.astype(np.float64), None, None, dy.T.astype(np.float64))
    y, saved = emulated_backend().layernorm(x.T.copy(), None, None, EPS)  # numpy's code, Metal memory
    np.testing.assert_allclose(y, want_y, rtol=2e-5, atol=2e-5)
    dx = b.layernorm_backward(b.asarray(dy.T.copy()), None, saved)
    np.testing.assert_allclose(dx, want_dx, rtol=2e-5, atol=2e-5)
    _, saved = b.layernorm(b.asarray(x.T.copy()), None, None, EPS)
    np.testing.assert_allclose(numpy_b.layernorm_backward(dy.T.copy(), None, saved), want_dx, rtol=2e-5,
                               atol=2e-5)
