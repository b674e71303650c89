"""Backend conformance of the convolution family: conv2d, its kernel and input gradients, pad2d and its adjoint.

Each op against a reference written here in float64, tap by tap from the
contract's formula (seqnn/backends/base.py), independently of the numpy
backend: an output row i reads the zero-padded input rows i·sh + a·dh, so
for each tap (a, b) the rows and columns it reads are one strided slice of
the padded input. The geometries stress the edges: 1×1 images, odd sizes,
1, 3 and 33 channels, strides larger than the kernel, dilation, batch 1,
asymmetric and causal (left only) padding, 1-D convolutions (H = 1) and the
1×1 kernel that needs no patches.

The fixtures ``b`` and ``fp`` (tests/conformance.py) run every test on each
backend under test in each of its float dtypes. On the Metal backend the
tests that check a formula refuse the numpy fallback (``kernels``), so they
prove the kernels rather than numpy's code on Metal memory. The Metal-only
tests at the end add threadgroup sizes, the fallback's hand-over of
``saved``, inference in chunks and a small convolutional model trained on
the emulated device.
"""
import numpy as np
import pytest
from conformance import data
from metal_device import emulated_backend

import seqnn as sn
from seqnn.backends.metal import MetalBackend
from seqnn.backends.metal import conv as metal_conv

# (x shape, kernel shape, strides, padding ((top, bottom), (left, right)), dilation)
GEOMETRIES = {
    "1x1-image-1x1-kernel": ((2, 1, 1, 3), (1, 1, 3, 2), (1, 1), ((0, 0), (0, 0)), (1, 1)),
    "1x1-image-same": ((1, 1, 1, 1), (3, 3, 1, 33), (1, 1), ((1, 1), (1, 1)), (1, 1)),
    "odd-sizes-asymmetric": ((2, 7, 5, 3), (3, 2, 3, 4), (2, 3), ((1, 0), (2, 1)), (1, 1)),
    "dilation": ((1, 9, 8, 1), (3, 3, 1, 5), (1, 1), ((2, 2), (0, 3)), (2, 3)),
    "stride-over-kernel": ((1, 8, 9, 2), (2, 2, 2, 3), (3, 4), ((0, 0), (0, 0)), (1, 1)),
    "causal-1d": ((2, 1, 11, 3), (1, 3, 3, 4), (1, 1), ((0, 0), (4, 0)), (1, 2)),
    "33-channels": ((1, 4, 3, 33), (2, 2, 33, 3), (1, 1), ((0, 1), (0, 1)), (1, 1)),
    "1x1-kernel-strided": ((2, 5, 5, 3), (1, 1, 3, 2), (2, 2), ((0, 0), (0, 0)), (1, 1)),
    "1x1-kernel-padded": ((1, 3, 2, 2), (1, 1, 2, 3), (1, 1), ((0, 1), (0, 2)), (1, 1)),  # after only
}
geometries = pytest.mark.parametrize("geometry", list(GEOMETRIES.values()), ids=list(GEOMETRIES))

PADDINGS = [((2, 1, 1, 1), ((0, 0), (0, 0))), ((2, 3, 4, 3), ((1, 2), (0, 3))), ((1, 5, 1, 33), ((2, 0), (1, 1))),
            ((1, 1, 7, 2), ((0, 0), (3, 0)))]


def f32_tolerance(depth):
    """float32 (rtol, atol) for sums of ``depth`` products of inputs in [-2, 2]."""
    return 1e-5, 1e-6 * depth


def _refuse_fallback(op, *args, **kwargs):
    raise AssertionError(f"the Metal backend ran numpy's {op} instead of its kernels")


@pytest.fixture
def kernels(b, monkeypatch):
    """``b``; a Metal backend must run its kernels, as the numpy fallback would prove nothing about them."""
    if isinstance(b, MetalBackend):
        monkeypatch.setattr(b, "_numpy_fallback", _refuse_fallback)
    return b


def layer_scratch(b):
    """A ``scratch`` callback that reuses buffers as ``Layer.buffer`` does (leading rows of a larger one)."""
    buffers = {}

    def scratch(key, shape, dtype):
        buf = buffers.get(key)
        if buf is None or buf.shape[1:] != tuple(shape[1:]) or buf.shape[0] < shape[0] or buf.dtype != dtype:
            buf = buffers[key] = b.empty(shape, dtype)
        return buf[:shape[0]]

    return scratch


# -------------------------------------------------------------- references ---
def out_length(size, kernel, stride, dilation, before, after):
    return (size + before + after - dilation * (kernel - 1) - 1) // stride + 1


def taps(x_shape, kernel_shape, strides, padding, dilation):
    """(a, b, index): for each tap, the index of the padded input it reads for every output pixel."""
    (sh, sw), (dh, dw), ((top, bottom), (left, right)) = strides, dilation, padding
    kh, kw = kernel_shape[:2]
    oh = out_length(x_shape[1], kh, sh, dh, top, bottom)
    ow = out_length(x_shape[2], kw, sw, dw, left, right)
    for a in range(kh):
        for b in range(kw):
            yield a, b, (slice(None), slice(a * dh, a * dh + (oh - 1) * sh + 1, sh),
                         slice(b * dw, b * dw + (ow - 1) * sw + 1, sw))


def padded(x, padding):
    return np.pad(x, ((0, 0), *padding, (0, 0)))


def conv_reference(x, kernel, bias, strides, padding, dilation):
    xp = padded(np.float64(x), padding)
    y = sum(np.einsum("nijc,co->nijo", xp[index], kernel[a, b])
            for a, b, index in taps(x.shape, kernel.shape, strides, padding, dilation))
    return y if bias is None else y + bias


def kernel_grad_reference(dy, x, kernel_shape, strides, padding, dilation):
    xp, dy = padded(np.float64(x), padding), np.float64(dy)
    dk = np.zeros(kernel_shape)
    for a, b, index in taps(x.shape, kernel_shape, strides, padding, dilation):
        dk[a, b] = np.einsum("nijc,nijo->co", xp[index], dy)
    return dk


def input_grad_reference(dy, kernel, x_shape, strides, padding, dilation):
    (top, bottom), (left, right) = padding
    n, h, w, c = x_shape
    dxp = np.zeros((n, h + top + bottom, w + left + right, c))
    dy, kernel = np.float64(dy), np.float64(kernel)
    for a, b, index in taps(x_shape, kernel.shape, strides, padding, dilation):
        dxp[index] += np.einsum("nijo,co->nijc", dy, kernel[a, b])
    return dxp[:, top:top + h, left:left + w]


def inputs(fp, geometry):
    """x, kernel, bias and an upstream gradient dy for ``geometry``, exact in the run's dtype."""
    x_shape, kernel_shape, strides, padding, dilation = geometry
    x, kernel, bias = fp.data(x_shape, 1), fp.data(kernel_shape, 2), fp.data(kernel_shape[-1:], 3)
    y_shape = conv_reference(x, kernel, None, strides, padding, dilation).shape
    return x, kernel, bias, fp.data(y_shape, 4)


# ------------------------------------------------------------- convolution ---
@geometries
def test_conv2d(kernels, fp, geometry):
    b = kernels
    x_shape, kernel_shape, strides, padding, dilation = geometry
    x, kernel, bias, _ = inputs(fp, geometry)
    want = conv_reference(x, kernel, None, strides, padding, dilation)
    tolerance = f32_tolerance(np.prod(kernel_shape[:3]))
    y, _ = b.conv2d(fp.put(x), fp.put(kernel), None, strides, padding, dilation)
    fp.close(y, want, f32=tolerance)
    out = b.empty(want.shape, fp.dtype)
    y, _ = b.conv2d(fp.put(x), fp.put(kernel), fp.put(bias), strides, padding, dilation, out=out,
                    save_for_backward=False)
    assert y is out
    fp.close(out, want + bias, f32=tolerance)


@geometries
def test_conv2d_backward_kernel(kernels, fp, geometry):
    b = kernels
    x_shape, kernel_shape, strides, padding, dilation = geometry
    x, kernel, bias, dy = inputs(fp, geometry)
    want = kernel_grad_reference(dy, x, kernel_shape, strides, padding, dilation)
    want_bias = dy.sum(axis=(0, 1, 2))
    tolerance = f32_tolerance(dy.size // dy.shape[-1])
    xs, dys = fp.put(x), fp.put(dy)
    for with_bias in (True, False):  # numpy's saved patches differ with a bias (a column of ones)
        _, saved = b.conv2d(xs, fp.put(kernel), fp.put(bias) if with_bias else None, strides, padding, dilation)
        out, bias_out = b.empty(kernel_shape, fp.dtype), b.empty(kernel_shape[-1:], fp.dtype)
        got = b.conv2d_backward_kernel(dys, xs, saved, kernel_shape, strides, padding, dilation, out=out,
                                       bias_out=bias_out)
        assert got is out
        fp.close(out, want, f32=tolerance)
        fp.close(bias_out, want_bias, f32=tolerance)
        fp.close(b.conv2d_backward_kernel(dys, xs, saved, kernel_shape, strides, padding, dilation), want,
                 f32=tolerance)
    # Without saved patches (the forward ran at inference, or a transposed convolution's backward).
    bias_out = b.empty(kernel_shape[-1:], fp.dtype)
    got = b.conv2d_backward_kernel(dys, xs, None, kernel_shape, strides, padding, dilation, bias_out=bias_out)
    fp.close(got, want, f32=tolerance)
    fp.close(bias_out, want_bias, f32=tolerance)


@geometries
def test_conv2d_backward_input(kernels, fp, geometry):
    b = kernels
    x_shape, kernel_shape, strides, padding, dilation = geometry
    _, kernel, _, dy = inputs(fp, geometry)
    want = input_grad_reference(dy, kernel, x_shape, strides, padding, dilation)
    tolerance = f32_tolerance(np.prod(kernel_shape))
    got = b.conv2d_backward_input(fp.put(dy), fp.put(kernel), x_shape, strides, padding, dilation)
    fp.close(got, want, f32=tolerance)
    out = b.empty(x_shape, fp.dtype)
    assert b.conv2d_backward_input(fp.put(dy), fp.put(kernel), x_shape, strides, padding, dilation, out=out) is out
    fp.close(out, want, f32=tolerance)


def test_saved_patches_outlive_the_input_gradient_in_reused_scratch(kernels, fp):
    """As a layer calls them: one scratch for all three ops, a full batch and then a short one."""
    b, scratch = kernels, layer_scratch(kernels)
    geometry = GEOMETRIES["odd-sizes-asymmetric"]
    x_shape, kernel_shape, strides, padding, dilation = geometry
    x, kernel, bias, dy = inputs(fp, geometry)
    for n in (2, 1):
        xs, ks, dys = fp.put(x[:n]), fp.put(kernel), fp.put(dy[:n])
        y, saved = b.conv2d(xs, ks, fp.put(bias), strides, padding, dilation, scratch=scratch)
        dx = b.conv2d_backward_input(dys, ks, (n, *x_shape[1:]), strides, padding, dilation, scratch=scratch)
        dk = b.conv2d_backward_kernel(dys, xs, saved, kernel_shape, strides, padding, dilation, scratch=scratch)
        fp.close(y, conv_reference(x[:n], kernel, bias, strides, padding, dilation), f32=f32_tolerance(18))
        fp.close(dx, input_grad_reference(dy[:n], kernel, (n, *x_shape[1:]), strides, padding, dilation),
                 f32=f32_tolerance(72))
        fp.close(dk, kernel_grad_reference(dy[:n], x[:n], kernel_shape, strides, padding, dilation),
                 f32=f32_tolerance(18))


def test_a_kernel_that_does_not_fit_is_refused(b, fp):
    x, kernel, dy = fp.put(data((1, 3, 3, 1))), fp.put(data((3, 3, 1, 2))), fp.put(data((1, 1, 1, 2)))
    geometry = ((1, 1), ((0, 0), (0, 0)), (2, 1))  # a dilated 3x3 kernel spans 5 rows of a 3-row image
    with pytest.raises(ValueError, match="does not fit"):
        b.conv2d(x, kernel, None, *geometry)
    with pytest.raises(ValueError, match="does not fit"):
        b.conv2d_backward_kernel(dy, x, None, (3, 3, 1, 2), *geometry)
    with pytest.raises(ValueError, match="does not fit"):
        b.conv2d_backward_input(dy, kernel, (1, 3, 3, 1), *geometry)


# ----------------------------------------------------------------- padding ---
@pytest.mark.parametrize("shape, padding", PADDINGS, ids=["none", "asymmetric", "33-channels", "left-only"])
def test_pad2d_and_its_adjoint(kernels, fp, shape, padding):
    b = kernels
    x = fp.data(shape, 5)
    want = padded(x, padding)
    fp.close(b.pad2d(fp.put(x), padding), want, 0, 0, f32=(0, 0))
    out = b.empty(want.shape, fp.dtype)
    assert b.pad2d(fp.put(x), padding, out=out) is out
    fp.close(out, want, 0, 0, f32=(0, 0))
    dy = fp.data(want.shape, 6)
    (top, bottom), (left, right) = padding
    want_dx = dy[:, top:top + shape[1], left:left + shape[2]]
    fp.close(b.pad2d_backward(fp.put(dy), padding), want_dx, 0, 0, f32=(0, 0))
    out = b.empty(shape, fp.dtype)
    assert b.pad2d_backward(fp.put(dy), padding, out=out) is out
    fp.close(out, want_dx, 0, 0, f32=(0, 0))
    # Adjoint: <pad(x), dy> = <x, pad_backward(dy)>.
    assert np.vdot(want, dy) == pytest.approx(np.vdot(x, want_dx))


# ------------------------------------------------------------- Metal only ---
@pytest.fixture
def metal(monkeypatch):
    """The emulated Metal backend (default threadgroup), refusing the numpy fallback."""
    b = emulated_backend()
    monkeypatch.setattr(b, "_numpy_fallback", _refuse_fallback)
    return b


def floats(shape, seed):
    return data(shape, seed, dtype="float32")


def lives_in_metal(b, a) -> bool:
    return b.device.locate(a) is not None


def check_every_op_on_metal(b, geometry, seed=0):
    """Every op of the family on ``b`` against the references, with results in Metal buffers."""
    x_shape, kernel_shape, strides, padding, dilation = geometry
    x, kernel, bias = floats(x_shape, seed), floats(kernel_shape, seed + 1), floats(kernel_shape[-1:], seed + 2)
    want = conv_reference(x, kernel, bias, strides, padding, dilation)
    dy = floats(want.shape, seed + 3)
    y, saved = b.conv2d(b.asarray(x), b.asarray(kernel), b.asarray(bias), strides, padding, dilation)
    bias_out = b.empty(kernel_shape[-1:], "float32")
    dk = b.conv2d_backward_kernel(b.asarray(dy), b.asarray(x), saved, kernel_shape, strides, padding, dilation,
                                  bias_out=bias_out)
    dx = b.conv2d_backward_input(b.asarray(dy), b.asarray(kernel), x_shape, strides, padding, dilation)
    xp = b.pad2d(b.asarray(x), padding)
    for got in (y, dk, dx, xp, bias_out):
        assert lives_in_metal(b, got)

    def close(got, want, depth):  # float32 sums of ``depth`` products
        rtol, atol = f32_tolerance(depth)
        np.testing.assert_allclose(got, want, rtol=rtol, atol=atol)

    rows = dy.size // dy.shape[-1]
    close(y, want, np.prod(kernel_shape[:3]))
    close(dk, kernel_grad_reference(dy, x, kernel_shape, strides, padding, dilation), rows)
    close(bias_out, dy.astype(np.float64).sum(axis=(0, 1, 2)), rows)
    close(dx, input_grad_reference(dy, kernel, x_shape, strides, padding, dilation), np.prod(kernel_shape))
    np.testing.assert_array_equal(xp, padded(x, padding))
    np.testing.assert_array_equal(b.pad2d_backward(xp, padding), x)


# Patches of 4·5·4 rows × 3·3·3 taps and an input of 2·9·8·3 elements: several groups of every size.
TILED = ((2, 9, 8, 3), (3, 3, 3, 4), (2, 2), ((1, 1), (0, 2)), (1, 1))


@pytest.mark.parametrize("tg", (32, 256, 1024))
def test_conv_kernels_under_every_threadgroup_size(tg, monkeypatch):
    b = emulated_backend(tg)
    monkeypatch.setattr(b, "_numpy_fallback", _refuse_fallback)
    check_every_op_on_metal(b, TILED)


def test_conv_kernels_give_the_same_results_in_every_thread_order(monkeypatch):
    b = emulated_backend(256, "compare")
    monkeypatch.setattr(b, "_numpy_fallback", _refuse_fallback)
    check_every_op_on_metal(b, GEOMETRIES["dilation"])


def test_inference_goes_through_the_batch_in_chunks(metal, monkeypatch):
    x_shape, kernel_shape, strides, padding, dilation = geometry = GEOMETRIES["odd-sizes-asymmetric"]
    x, kernel, bias = floats(x_shape, 1), floats(kernel_shape, 2), floats(kernel_shape[-1:], 3)
    monkeypatch.setattr(metal_conv, "_INFERENCE_PATCH_ELEMENTS", 1)  # one sample a chunk
    y, saved = metal.conv2d(metal.asarray(x), metal.asarray(kernel), metal.asarray(bias), *geometry[2:],
                            save_for_backward=False)
    assert saved is None
    np.testing.assert_allclose(y, conv_reference(x, kernel, bias, strides, padding, dilation), rtol=1e-5, atol=1e-5)


def test_saved_patches_of_another_convolution_are_refused(metal):
    x, kernel = metal.asarray(floats((1, 5, 5, 2), 1)), metal.asarray(floats((3, 3, 2, 1), 2))
    _, saved = metal.conv2d(x, kernel, None, (1, 1), ((0, 0), (0, 0)), (1, 1))  # 3x3 patches of 18 taps
    dy = metal.asarray(np.ones((1, 5, 5, 1), np.float32))
    with pytest.raises(ValueError, match=r"saved patches of shape \(9, 18\) do not belong to this convolution"):
        metal.conv2d_backward_kernel(dy, x, saved, (3, 3, 2, 1), (1, 1), ((1, 1), (1, 1)), (1, 1))


def test_what_the_kernels_do_not_take_runs_numpy_and_hands_saved_over():
    """Host arrays run numpy's code; its saved tuple and the kernels' saved patches each reach the right code."""
    b = emulated_backend()
    x_shape, kernel_shape, strides, padding, dilation = geometry = GEOMETRIES["odd-sizes-asymmetric"]
    x, kernel, dy = floats(x_shape, 1), floats(kernel_shape, 2), floats((2, 3, 3, 4), 3)
    want = kernel_grad_reference(dy, x, kernel_shape, strides, padding, dilation)
    y, numpy_saved = b.conv2d(x, kernel, None, *geometry[2:])  # host arrays: numpy's code
    assert lives_in_metal(b, y) and type(numpy_saved) is tuple  # numpy's own, not the kernels' patches
    np.testing.assert_allclose(y, conv_reference(x, kernel, None, strides, padding, dilation), rtol=1e-5, atol=1e-5)
    xs, dys = b.asarray(x), b.asarray(dy)
    got = b.conv2d_backward_kernel(dys, xs, numpy_saved, kernel_shape, *geometry[2:])
    np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-5)
    _, metal_saved = b.conv2d(xs, b.asarray(kernel), None, *geometry[2:])
    host_out = np.empty(kernel_shape, np.float32)  # not in a Metal buffer: numpy's code, from x again
    got = b.conv2d_backward_kernel(dys, xs, metal_saved, kernel_shape, *geometry[2:], out=host_out)
    assert lives_in_metal(b, got)  # (a copy of host_out: what the backend returns lives in a Metal buffer)
    for result in (got, host_out):
        np.testing.assert_allclose(result, want, rtol=1e-5, atol=1e-5)


def test_a_convolutional_model_trains_on_metal_as_on_numpy():
    """Conv2D, ZeroPadding2D, Conv2DTranspose and a causal Conv1D, wired by the layers, on the emulated device."""
    rng = np.random.default_rng(0)
    images, sequences = rng.standard_normal((24, 6, 6, 2)), rng.standard_normal((24, 9, 3))
    builds = {
        "2d": (images, lambda: sn.Sequential([
            sn.Input((6, 6, 2)), sn.layers.ZeroPadding2D(((1, 0), (0, 1))),
            sn.layers.Conv2D(3, 3, strides=2, padding="same", activation="tanh"),
            sn.layers.Conv2DTranspose(2, 2, strides=2), sn.layers.Flatten(), sn.layers.Dense(2)])),
        "1d": (sequences, lambda: sn.Sequential([
            sn.Input((9, 3)), sn.layers.Conv1D(4, 3, padding="causal", dilation_rate=2, activation="tanh"),
            sn.layers.Conv1D(2, 1), sn.layers.Flatten(), sn.layers.Dense(2)])),
    }
    for x, build in builds.values():
        x = x.astype(np.float32)
        y = np.stack([x.mean(axis=tuple(range(1, x.ndim))), x.reshape(len(x), -1)[:, 0]], axis=1)
        results = []
        for backend in ("numpy", emulated_backend(256)):
            sn.utils.set_random_seed(5)
            model = build()
            model.compile(optimizer=sn.optimizers.SGD(0.05, momentum=0.9), loss="mse", backend=backend)
            history = model.fit(x, y, epochs=2, batch_size=10, verbose=0, seed=1)
            results.append((history.history["loss"], model.get_weights(), model.predict(x, verbose=0)))
        (want_loss, want_weights, want_y), (got_loss, got_weights, got_y) = results
        np.testing.assert_allclose(got_loss, want_loss, rtol=1e-4)
        for got, want in zip(got_weights, want_weights):
            np.testing.assert_allclose(got, want, atol=1e-4)
        np.testing.assert_allclose(got_y, want_y, atol=1e-4)


LARGE = {
    "same-3x3": ((4, 16, 16, 8), (3, 3, 8, 16), (1, 1), ((1, 1), (1, 1)), (1, 1)),
    "strided-dilated": ((3, 15, 13, 5), (5, 4, 5, 7), (2, 1), ((2, 3), (0, 4)), (1, 2)),
    "1x1-wide": ((2, 11, 12, 65), (1, 1, 65, 33), (1, 1), ((0, 0), (0, 0)), (1, 1)),
    "long-causal-1d": ((3, 1, 200, 6), (1, 5, 6, 9), (1, 1), ((0, 0), (12, 0)), (1, 3)),
}


@pytest.mark.slow
@pytest.mark.parametrize("geometry", list(LARGE.values()), ids=list(LARGE))
def test_larger_convolutions_on_metal(metal, geometry):
    check_every_op_on_metal(metal, geometry)
