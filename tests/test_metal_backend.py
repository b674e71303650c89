"""The Metal backend's kernels and Python side, on the emulated device (tests/metal_device.py).

The conformance suite checks every op against its formula; this module
checks what is Metal's own: the kernels under every threadgroup size
metalcompute may pick (32, 256, 1024) and under every thread order, arrays
that are views into one buffer (the parameter arena, workspace buffers),
the rule that every array an op returns lives in a Metal buffer, the dtype
policy, and whole models trained on Metal against numpy.
"""
import platform
import sys

import numpy as np
import pytest
import scipy.special
from metal_device import NO_COMPILER, compiler_missing, emulated_backend

import seqnn as sn
from seqnn import backends
from seqnn.backends.base import Backend
from seqnn.backends.fused import FusedOps
from seqnn.backends.metal import MetalBackend, availability, launch

if compiler_missing():
    pytest.skip(NO_COMPILER, allow_module_level=True)

THREADGROUPS = (32, 256, 1024)
SIZES = (1, 31, 33, 64, 65, 127)
# Every size in every role (m, k, n) at least once, in shapes small enough for the emulator.
GEMM_SHAPES = [(1, 1, 1), (31, 33, 1), (33, 31, 64), (64, 65, 127), (65, 127, 33), (127, 64, 65),
               (1, 127, 31), (127, 1, 33)]


def floats(shape, seed=0, low=-1.0, high=1.0):
    return np.random.default_rng(seed).uniform(low, high, shape).astype(np.float32)


def lives_in_metal(b, a) -> bool:
    return b.device.locate(a) is not None


# ----------------------------------------------------------------- kernels ---
@pytest.mark.parametrize("tg", THREADGROUPS)
@pytest.mark.parametrize("m, k, n", GEMM_SHAPES)
def test_gemm_in_every_form_under_every_threadgroup_size(tg, m, k, n):
    b = emulated_backend(tg)
    a, w = floats((m, k), 1), floats((k, n), 2)
    want = a.astype(np.float64) @ w.astype(np.float64)
    for got in (b.gemm(b.asarray(a), b.asarray(w)),
                b.gemm(b.asarray(a.T.copy()), b.asarray(w), trans_a=True),
                b.gemm(b.asarray(a), b.asarray(w.T.copy()), trans_b=True)):
        assert lives_in_metal(b, got)
        np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-6 * k)


@pytest.mark.parametrize("tg", THREADGROUPS)
@pytest.mark.parametrize("n", [1, 33, 1025, 3001, 4097, 70001])
def test_elementwise_and_sums_under_every_threadgroup_size(tg, n):
    b = emulated_backend(tg)
    x, y = floats(n, 3), floats(n, 4, 0.5, 1.5)
    got = b.divide(b.exp(b.asarray(x)), b.asarray(y))
    np.testing.assert_allclose(got, np.exp(x) / y, rtol=1e-6)
    total = b.sum(b.asarray(x))  # one pass up to 4096 elements, two above
    assert b.item(total) == pytest.approx(float(x.astype(np.float64).sum()), rel=1e-5, abs=1e-6 * n)
    np.testing.assert_array_equal(b.fill(b.empty((n,), "float32"), 0.25), np.full(n, 0.25, np.float32))


@pytest.mark.parametrize("tg", THREADGROUPS)
def test_row_and_column_sums_under_every_threadgroup_size(tg):
    b = emulated_backend(tg)
    x = floats((65, 33), 5)
    np.testing.assert_allclose(b.sum(b.asarray(x), axis=-1), x.sum(axis=-1), rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(b.bias_grad(b.asarray(x)), x.sum(axis=0), rtol=1e-5, atol=1e-5)


def test_kernels_give_the_same_results_in_every_thread_order():
    """'compare' runs every launch in forward, reverse and shuffled order and fails on any difference:
    a missing barrier in the tiled gemm or the SIMD-group sums would show."""
    b = emulated_backend(256, "compare")
    a, w = floats((65, 33), 6), floats((33, 70), 7)
    np.testing.assert_allclose(b.gemm(b.asarray(a), b.asarray(w)), a @ w, rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(b.sum(b.asarray(a), axis=-1), a.sum(axis=-1), rtol=1e-5, atol=1e-5)
    assert b.item(b.sum(b.asarray(floats(5000, 8)))) == pytest.approx(float(floats(5000, 8).sum()), abs=1e-3)
    np.testing.assert_array_equal(b.argmax(b.asarray(a)), np.argmax(a, axis=-1))
    np.testing.assert_array_equal(b.max(b.asarray(a), axis=-1), a.max(axis=-1))


def test_maximum_and_minimum_propagate_nan_like_numpy():
    b = emulated_backend()
    x = np.array([np.nan, 1.0, -1.0, np.nan], np.float32)
    y = np.array([0.0, np.nan, 0.0, np.nan], np.float32)
    for op in ("maximum", "minimum"):
        np.testing.assert_array_equal(getattr(b, op)(b.asarray(x), b.asarray(y)), getattr(np, op)(x, y))
    np.testing.assert_array_equal(b.sign(b.asarray(x)), np.sign(x))


# Rows and columns around a SIMD-group (31, 33) and past a threadgroup of 1024, for the kernels added with
# where/less_equal, max/argmax, GELU and the softmax cross-entropy.
EDGE_SIZES = (1, 31, 33, 1025)
EDGE_SHAPES = [(1, 1), (1, 1025), (31, 33), (33, 31), (1025, 1), (1025, 3)]


@pytest.mark.parametrize("tg", THREADGROUPS)
@pytest.mark.parametrize("n", EDGE_SIZES)
def test_less_equal_and_where_under_every_threadgroup_size(tg, n):
    b = emulated_backend(tg)
    x, y, row = floats((n, 3), 20), floats((n, 3), 21), floats(3, 22)
    x[0, 0], y[-1, -1] = np.nan, x[-1, -1]  # NaN compares false; equal values compare true
    xs, ys = b.asarray(x), b.asarray(y)
    for got, want in ((b.less_equal(xs, ys), x <= y), (b.less_equal(xs, 0.25), x <= 0.25),
                      (b.less_equal(0.25, xs), 0.25 <= x), (b.less_equal(xs, b.asarray(row)), x <= row)):
        assert got.dtype == np.bool_ and lives_in_metal(b, got)
        np.testing.assert_array_equal(got, want)
    mask = b.less_equal(xs, ys)
    np.testing.assert_array_equal(b.where(mask, xs, ys), np.where(x <= y, x, y))
    np.testing.assert_array_equal(b.where(mask, 0.5, ys), np.where(x <= y, np.float32(0.5), y))
    np.testing.assert_array_equal(b.where(mask, b.asarray(row), -2.0), np.where(x <= y, row, np.float32(-2.0)))
    dy = b.asarray(y.copy())
    assert b.where(mask, 0.0, dy, out=dy) is dy  # in place, as the ReLU gradient writes it
    np.testing.assert_array_equal(dy, np.where(x <= y, np.float32(0.0), y))


@pytest.mark.parametrize("tg", THREADGROUPS)
@pytest.mark.parametrize("shape", [s for s in EDGE_SHAPES if s != (1025, 1)])  # (1025, 3): rows past a group
def test_row_max_and_argmax_under_every_threadgroup_size(tg, shape):
    b = emulated_backend(tg)
    x = np.round(floats(shape, 23) * 4) / 4  # few distinct values: many ties, in different lanes
    a = b.asarray(x)  # (the full max has a test of its own below; two launches here keep 1025 rows quick)
    np.testing.assert_array_equal(b.max(a, axis=-1, keepdims=True), x.max(axis=-1, keepdims=True))
    got = b.argmax(a)
    assert got.dtype == np.int64 and lives_in_metal(b, got)
    np.testing.assert_array_equal(got, np.argmax(x, axis=-1))


def test_argmax_and_max_follow_numpy_on_ties_and_nan():
    b = emulated_backend(32)
    x = np.zeros((4, 70), np.float32)
    x[0, [5, 37, 69]] = 2.0  # equal maxima in lanes 5, 5 and 5 of three passes: the first index wins
    x[1, [40, 8]] = 3.0  # the first in index order, though a later lane holds it in an earlier pass
    x[2, [50, 3]] = np.nan  # the first NaN, as numpy
    x[3] = -1.0  # all equal
    a = b.asarray(x)
    np.testing.assert_array_equal(b.argmax(a), np.argmax(x, axis=-1))
    np.testing.assert_array_equal(b.max(a, axis=-1), x.max(axis=-1))
    assert np.isnan(b.item(b.max(b.asarray(np.r_[np.zeros(5000, np.float32), np.nan]))))  # two passes


@pytest.mark.parametrize("tg", THREADGROUPS)
def test_full_max_in_one_and_two_passes(tg):
    b = emulated_backend(tg)
    for n in (1, 33, 4097, 70001):
        x = floats(n, 24, -5.0, 1.0)
        x[n // 3] = 3.0
        got = b.max(b.asarray(x))
        assert got.shape == () and b.item(got) == 3.0


@pytest.mark.parametrize("tg", THREADGROUPS)
@pytest.mark.parametrize("n", EDGE_SIZES)
def test_gelu_kernels_match_scipy_under_every_threadgroup_size(tg, n):
    """The kernel's own erfc: a relative error of a few 1e-7 across GELU's range, its negative tail included."""
    b = emulated_backend(tg)
    x = np.linspace(-12.0, 6.0, n, dtype=np.float32) if n > 1 else np.array([-3.7], np.float32)
    x64 = x.astype(np.float64)
    cdf = 0.5 * scipy.special.erfc(-x64 / np.sqrt(2))
    np.testing.assert_allclose(b.gelu(b.asarray(x), False), x64 * cdf, rtol=1e-6, atol=1e-37)
    u = np.sqrt(2 / np.pi) * (x64 + 0.044715 * x64**3)
    gate = scipy.special.expit(2 * u)  # (1 + tanh u)/2 without float64's own cancellation
    np.testing.assert_allclose(b.gelu(b.asarray(x), True), x64 * gate, rtol=2e-5, atol=1e-37)
    dy = floats(n, 25)
    slope = cdf + x64 * np.exp(-0.5 * x64**2) / np.sqrt(2 * np.pi)
    got = b.asarray(dy.copy())
    assert b.gelu_backward(got, b.asarray(x), None, False, out=got) is got  # into dy, as layers call it
    np.testing.assert_allclose(got, dy * slope, rtol=1e-5, atol=1e-7)
    slope = gate + 2 * x64 * gate * (1 - gate) * np.sqrt(2 / np.pi) * (1 + 3 * 0.044715 * x64**2)
    np.testing.assert_allclose(b.gelu_backward(b.asarray(dy), b.asarray(x), None, True), dy * slope,
                               rtol=1e-5, atol=1e-7)


@pytest.mark.parametrize("tg", THREADGROUPS)
@pytest.mark.parametrize("shape", EDGE_SHAPES)
def test_softmax_cross_entropy_under_every_threadgroup_size(tg, shape):
    b = emulated_backend(tg)
    rows, classes = shape
    logits = floats(shape, 26, -30.0, 30.0)
    logits.reshape(-1)[::7] = 1e4
    logits.reshape(-1)[3::11] = -1e4
    labels = np.random.default_rng(27).integers(0, classes, rows)
    onehot = np.eye(classes)[labels]
    targets = 0.9 * onehot + 0.1 / classes  # label smoothing's dense rows
    weights = floats(rows, 28, 0.0, 2.0)
    log_probs = scipy.special.log_softmax(logits.astype(np.float64), axis=-1)
    for sparse, target, t in ((True, b.asarray(labels, "int64"), onehot), (False, b.asarray(targets, "float32"),
                                                                           targets.astype(np.float32))):
        loss, probs = b.softmax_cross_entropy(b.asarray(logits), target, sparse)
        assert lives_in_metal(b, loss) and lives_in_metal(b, probs)
        # float32: log-sum-exp of logits up to 1e4 in size is off by a few ulps of 1e4.
        np.testing.assert_allclose(loss, -(t * log_probs).sum(axis=-1), rtol=1e-6, atol=2e-3)
        np.testing.assert_allclose(probs, np.exp(log_probs), rtol=1e-5, atol=1e-7)
        grad = b.softmax_cross_entropy_backward(probs, target, sparse, b.asarray(weights), out=probs)
        assert grad is probs
        want = weights[:, None] * (np.exp(log_probs) * t.sum(axis=-1, keepdims=True) - t)
        np.testing.assert_allclose(grad, want, rtol=1e-5, atol=1e-6)


def test_a_label_out_of_range_gives_nan_rather_than_a_stray_read():
    b = emulated_backend(32)
    logits = b.asarray(floats((3, 4), 29))
    labels = b.asarray(np.array([1, 4, -1]), "int64")
    loss, probs = b.softmax_cross_entropy(logits, labels, True)
    assert np.isfinite(loss[0]) and np.isnan(loss[1:]).all()
    grad = np.asarray(b.softmax_cross_entropy_backward(probs, labels, True, b.asarray(np.ones(3, np.float32))))
    assert np.isfinite(grad[0]).all() and np.isnan(grad[1:]).all()


# ------------------------------------------------- views into one buffer ---
def test_views_into_one_flat_buffer_run_through_kernels():
    """The arena's parameters and the workspace's buf[:n] are views at offsets into one Metal buffer."""
    b = emulated_backend()
    flat = b.full((2000,), -7.0, "float32")
    w = flat[3:3 + 33 * 31].reshape(33, 31)  # an odd offset, not a multiple of any tile
    bias = flat[3 + 33 * 31:3 + 33 * 31 + 31]
    b.copy_into(w, floats((33, 31), 9))
    b.copy_into(bias, floats(31, 10))
    x = floats((5, 33), 11)
    workspace = b.empty((8, 31), "float32")
    y = b.gemm(b.asarray(x), w, out=workspace[:5])
    b.bias_add(y, bias, out=y)
    np.testing.assert_allclose(y, x @ floats((33, 31), 9) + floats(31, 10), rtol=1e-5, atol=1e-5)
    grad = b.zeros((2000,), "float32")
    b.bias_grad(y, out=grad[500:531])
    np.testing.assert_allclose(grad[500:531], np.asarray(y).sum(axis=0), rtol=1e-5, atol=1e-5)
    b.scale_(flat[3:3 + 33 * 31], 2.0)  # the optimizer's in-place update of the flat vector
    np.testing.assert_allclose(w, 2 * floats((33, 31), 9))
    # Nothing outside the views was touched.
    assert np.all(np.asarray(flat)[:3] == -7.0) and np.all(np.asarray(flat)[3 + 33 * 31 + 31:] == -7.0)
    assert not np.asarray(grad)[:500].any() and not np.asarray(grad)[531:].any()


def test_out_overlapping_an_input_at_another_offset_falls_back_to_numpy():
    b = emulated_backend()
    flat = b.asarray(np.arange(10, dtype=np.float32))
    b.add(flat[:8], 1.0, out=flat[2:])  # numpy handles the overlap (it buffers); a kernel would race
    np.testing.assert_array_equal(flat, [0, 1, 1, 2, 3, 4, 5, 6, 7, 8])


# ------------------------------------------------------- arrays and ops ---
def test_every_core_op_has_a_kernel():
    """Each core op is defined by one of the Metal modules (its kernel), not inherited from the contract."""
    hooks = {"step_scope"}  # not an op: the contract's default (run the step as it is) serves Metal
    core = {name for name in dir(Backend) if not name.startswith("_") and callable(getattr(Backend, name))
            and name not in vars(FusedOps) and name not in hooks}
    owners = {name: next(klass for klass in MetalBackend.__mro__ if name in vars(klass)) for name in core}
    not_metal = {name: klass.__qualname__ for name, klass in owners.items()
                 if not klass.__module__.startswith("seqnn.backends.metal.")}
    assert not not_metal, f"core ops without a Metal implementation: {not_metal}"


def test_results_live_in_metal_buffers_and_to_numpy_copies_nothing():
    b = emulated_backend()
    x = b.asarray(floats((2, 5, 5, 3), 12))
    kernel = b.asarray(floats((3, 3, 3, 4), 13))
    y, _ = b.conv2d(x, kernel, None, (1, 1), ((1, 1), (1, 1)), (1, 1))  # numpy's code, Metal memory
    pooled, indices = b.maxpool2d(y, (2, 2), (2, 2), ((0, 0), (0, 0)))
    for a in (y, pooled, indices, b.argmax(b.asarray(floats((4, 3), 14))), b.less_equal(x, 0.0),
              b.sum(x), b.max(x)):
        assert lives_in_metal(b, a)
    assert b.to_numpy(y) is y
    assert b.asarray(y) is y and b.asarray(y, "float32") is y


def test_float64_is_refused_with_the_dtype_named():
    b = emulated_backend()
    with pytest.raises(ValueError, match="dtype 'float64' is not supported by the Metal backend.*no double"):
        b.asarray(np.zeros(3))
    with pytest.raises(ValueError, match="dtype 'float64'"):
        b.zeros((3,), "float64")
    assert b.asarray(np.arange(3), "int64").dtype == np.int64  # labels
    model = sn.Sequential([sn.Input((3,)), sn.layers.Dense(2)])
    with pytest.raises(ValueError, match="dtype='float64' is not supported by the metal backend.*float32"):
        model.compile(optimizer="sgd", loss="mse", backend=b, dtype="float64")


def test_auto_never_picks_the_emulator(monkeypatch):
    monkeypatch.delenv("SEQNN_BACKEND", raising=False)
    emulated_backend()
    auto = backends.get("auto")
    assert not (auto.name == "metal" and auto.device.emulated)
    if sys.platform != "darwin":
        assert "metal" not in backends.available()


@pytest.fixture
def on_apple_silicon(monkeypatch):
    """The registry's Metal check as it runs on a Mac (its result is cached per process: cleared around)."""
    monkeypatch.setattr(sys, "platform", "darwin")
    monkeypatch.setattr(platform, "machine", lambda: "arm64")
    availability.unavailable_reason.cache_clear()
    yield
    availability.unavailable_reason.cache_clear()


def test_on_a_mac_metal_is_available_when_a_smoke_kernel_runs(on_apple_silicon, monkeypatch):
    device = emulated_backend().device
    monkeypatch.setattr(launch, "default_device", lambda: device)
    assert backends.unavailable_reason("metal") is None


def test_on_a_mac_without_metalcompute_the_reason_says_how_to_install_it(on_apple_silicon, monkeypatch):
    monkeypatch.setitem(sys.modules, "metalcompute", None)  # importing it raises ImportError
    monkeypatch.setattr(launch, "default_device", launch.Device)  # uncached
    assert "pip install metalcompute (the 'metal' extra)" in backends.unavailable_reason("metal")


def test_a_device_that_computes_wrong_answers_is_not_available(on_apple_silicon, monkeypatch):
    device = emulated_backend().device
    monkeypatch.setattr(launch, "default_device", lambda: device)
    monkeypatch.setattr(MetalBackend, "add", lambda self, a, b, out=None: self.subtract(a, b, out=out))
    assert "smoke kernel failed" in backends.unavailable_reason("metal")


# ------------------------------------------------------------ end to end ---
# Whole models run at threadgroup 256: the emulator starts a fiber per thread of every group, so a
# launch over a few elements costs ~2 ms at 256 against ~10 ms at 1024; the kernels are checked at
# every size above.
END_TO_END_THREADGROUP = 256


def trained(backend, optimizer, x, y):
    sn.utils.set_random_seed(11)
    model = sn.Sequential([sn.Input((12,)), sn.layers.Dense(16, activation="relu"),
                           sn.layers.Dense(8, activation="relu"), sn.layers.Dense(4, activation="softmax")])
    model.compile(optimizer=optimizer, loss="sparse_categorical_crossentropy", metrics=["accuracy"],
                  backend=backend)
    history = model.fit(x, y, epochs=2, batch_size=32, verbose=0, seed=3)
    return model, history.history["loss"]


@pytest.mark.parametrize("optimizer", [lambda: sn.optimizers.SGD(0.1, momentum=0.9),
                                       lambda: sn.optimizers.Adam(1e-2)], ids=["sgd", "adam"])
def test_an_mlp_trains_on_metal_as_on_numpy(optimizer):
    rng = np.random.default_rng(0)
    x = rng.standard_normal((320, 12)).astype(np.float32)
    y = (x[:, 0] > 0).astype(int) + 2 * (x[:, 1] > 0).astype(int)
    want_model, want_loss = trained("numpy", optimizer(), x, y)
    got_model, got_loss = trained(emulated_backend(END_TO_END_THREADGROUP), optimizer(), x, y)
    assert got_loss[-1] < got_loss[0]
    np.testing.assert_allclose(got_loss, want_loss, rtol=1e-4)
    for got, want in zip(got_model.get_weights(), want_model.get_weights()):
        np.testing.assert_allclose(got, want, atol=1e-4)
    np.testing.assert_allclose(got_model.predict(x[:50], verbose=0), want_model.predict(x[:50], verbose=0),
                               atol=1e-4)


def test_a_model_trained_on_metal_loads_on_numpy(tmp_path):
    rng = np.random.default_rng(1)
    x = rng.standard_normal((96, 12)).astype(np.float32)
    y = (x[:, 0] > 0).astype(int)
    model, _ = trained(emulated_backend(END_TO_END_THREADGROUP), "adam", x, y)
    model.save(tmp_path / "metal.safetensors")
    loaded = sn.load_model(tmp_path / "metal.safetensors")
    assert loaded.layers[0].backend.name == "numpy"
    for got, want in zip(loaded.get_weights(), model.get_weights()):
        np.testing.assert_array_equal(got, want)
    np.testing.assert_allclose(loaded.predict(x, verbose=0), model.predict(x, verbose=0), atol=1e-6)


def test_dropout_and_noise_kernels_draw_the_numpy_backends_numbers():
    metal, reference = emulated_backend(END_TO_END_THREADGROUP), sn.backends.get("numpy")
    x = np.random.default_rng(2).standard_normal((33, 17)).astype(np.float32)
    streams = metal.rng(2**40 + 7), reference.rng(2**40 + 7)
    for _ in range(2):  # the second call continues the stream
        (y, mask), (want_y, want_mask) = (b.dropout(b.asarray(x, "float32"), 0.3, s) for b, s in
                                          zip((metal, reference), streams))
        np.testing.assert_array_equal(metal.to_numpy(mask), want_mask)
        np.testing.assert_array_equal(metal.to_numpy(y), want_y)
    noisy = metal.gaussian_noise(metal.asarray(x, "float32"), 0.5, metal.rng(3))
    np.testing.assert_allclose(metal.to_numpy(noisy), reference.gaussian_noise(x, 0.5, reference.rng(3)),
                               atol=1e-5)


def test_an_mlp_with_dropout_trains_on_metal_as_on_numpy():
    def fit(backend):
        sn.utils.set_random_seed(5)
        model = sn.Sequential([sn.Input((12,)), sn.layers.Dense(16, activation="tanh"), sn.layers.Dropout(0.25),
                               sn.layers.Dense(3)])
        model.compile(optimizer="rmsprop", loss="mse", backend=backend)
        return model, model.fit(x, y, epochs=2, batch_size=32, verbose=0, seed=9).history["loss"]

    rng = np.random.default_rng(4)
    x = rng.standard_normal((160, 12)).astype(np.float32)
    y = np.tanh(x[:, :3])
    (want_model, want_loss), (got_model, got_loss) = fit("numpy"), fit(emulated_backend(END_TO_END_THREADGROUP))
    np.testing.assert_allclose(got_loss, want_loss, rtol=1e-4)
    for got, want in zip(got_model.get_weights(), want_model.get_weights()):
        np.testing.assert_allclose(got, want, atol=1e-4)


# ------------------------------------------------------ copy and transpose ---
@pytest.mark.parametrize("threadgroup", [32, 1024])
def test_copy_into_broadcasts_on_the_device_and_takes_host_data(threadgroup):
    b = emulated_backend(threadgroup)
    dst = b.zeros((33, 7), "float32")
    row = b.asarray(np.arange(7, dtype=np.float32), "float32")
    b.copy_into(dst, row)
    np.testing.assert_array_equal(b.to_numpy(dst), np.tile(np.arange(7, dtype=np.float32), (33, 1)))
    b.copy_into(dst, 2.5)
    assert np.all(b.to_numpy(dst) == 2.5)
    host = np.random.default_rng(0).standard_normal((33, 7))  # float64 host data: numpy casts it in place
    b.copy_into(dst, host)
    np.testing.assert_array_equal(b.to_numpy(dst), host.astype(np.float32))
    flat = b.zeros((40,), "float32")
    view = flat[3:24].reshape(3, 7)  # a view into a larger buffer, as the arena hands out
    b.copy_into(view, b.asarray(np.ones((3, 7), np.float32), "float32"))
    assert b.to_numpy(flat).tolist() == [0.0] * 3 + [1.0] * 21 + [0.0] * 16


@pytest.mark.parametrize("shape, axes", [((31, 33), (1, 0)), ((2, 3, 5), (0, 2, 1)), ((1, 4, 3), (2, 0, 1)),
                                         ((2, 3, 4, 5), (0, 3, 1, 2)), ((7,), (0,))])
@pytest.mark.parametrize("threadgroup", [32, 256])
def test_transpose_permutes_axes_on_the_device(shape, axes, threadgroup):
    b = emulated_backend(threadgroup)
    x = np.random.default_rng(1).standard_normal(shape).astype(np.float32)
    got = b.transpose(b.asarray(x, "float32"), axes)
    np.testing.assert_array_equal(b.to_numpy(got), np.transpose(x, axes))
    out = b.empty(np.transpose(x, axes).shape, "float32")
    assert b.transpose(b.asarray(x, "float32"), axes, out=out) is out


# ------------------------------------------------------ fused optimizer updates ---
@pytest.mark.parametrize("update", ["sgd", "sgd-momentum", "sgd-nesterov", "adam", "amsgrad", "adagrad", "rmsprop",
                                    "rmsprop-centered-momentum", "adamax", "nadam", "adadelta"])
def test_fused_update_kernels_follow_the_numpy_updates(update, monkeypatch):
    from seqnn.backends.fused import FusedOps

    metal, reference = emulated_backend(256), sn.backends.get("numpy")
    for name in ("sgd_update", "adam_update", "adagrad_update", "rmsprop_update", "adamax_update", "nadam_update",
                 "adadelta_update"):  # the kernels, not the composed defaults, must run
        monkeypatch.setattr(FusedOps, name, None)
    rng = np.random.default_rng(7)
    start = rng.standard_normal(1025).astype(np.float32)
    grads = [rng.standard_normal(1025).astype(np.float32) for _ in range(4)]
    results = []
    for b in (metal, reference):
        p = b.asarray(start.copy(), "float32")
        slots = [b.zeros((1025,), "float32") for _ in range(3)]
        mu_product = 1.0
        for step, g in enumerate(grads, start=1):
            g = b.asarray(g, "float32")
            if update.startswith("sgd"):
                b.sgd_update(p, g, None if update == "sgd" else slots[0], 0.1, 0.9, update == "sgd-nesterov")
            elif update == "adagrad":
                b.adagrad_update(p, g, slots[0], 0.1, 1e-7)
            elif update.startswith("rmsprop"):
                full = update != "rmsprop"
                b.rmsprop_update(p, g, slots[0], slots[1] if full else None, slots[2] if full else None, 1e-2,
                                 0.9, 0.5 if full else 0.0, 1e-7)
            elif update == "adamax":
                b.adamax_update(p, g, slots[0], slots[1], 2e-3, 0.9, 0.999, 1e-7, step)
            elif update == "nadam":  # Keras's momentum schedule, as the optimizer keeps it
                mu_t, mu_next = (0.9 * (1.0 - 0.5 * 0.96 ** (0.004 * t)) for t in (step, step + 1))
                mu_product *= mu_t
                b.nadam_update(p, g, slots[0], slots[1], 2e-3, 0.9, 0.999, 1e-7, mu_t, mu_next, mu_product, step)
            elif update == "adadelta":
                b.adadelta_update(p, g, slots[0], slots[1], 1.0, 0.95, 1e-7)
            else:
                b.adam_update(p, g, slots[0], slots[1], slots[2] if update == "amsgrad" else None, 1e-2, 0.9, 0.999,
                              1e-7, step)
        results.append(b.to_numpy(p).copy())
    np.testing.assert_allclose(results[0], results[1], rtol=1e-6, atol=1e-6)
