"""Backend conformance of pooling and resampling: windowed max and average pooling, global pooling and
upsampling, forward and backward, against plain float64 numpy written out here.

The fixtures ``b`` and ``fp`` (tests/conformance.py) run each test on every
backend under test in each of its float dtypes. The references do not go
through the numpy backend: a window is the list of its real (unpadded)
entries in row-major order, its max the first of the largest (np.argmax),
its mean their sum over their count, and bilinear upsampling a clamped
source position per output row and column. Max-pooling inputs are
multiples of ½ in [−2, 2), so most windows hold ties, and the backward pass
shows that the gradient went to the first maximum.

The Metal tests at the end run the kernels under every threadgroup size
metalcompute may pick (with the numpy fallback switched off, so a test
fails if a kernel is skipped), and check what is Metal's own: indices
crossing between kernels and numpy, and the cases that run numpy.
"""
import numpy as np
import pytest
from conformance import host
from metal_device import emulated_backend

from seqnn.backends.numpy_backend import NumpyBackend

NO_PADDING = ((0, 0), (0, 0))
# (x shape, pool size, strides, padding): 1×1 images, odd sizes with a dropped trailing row and column,
# channels 1/3/33, batch 1, overlapping windows, strides larger than the pool, "same" padding (both sides,
# and after only), 1-D (H = 1), windows with a single real entry, a pool as large as the image.
GEOMETRIES = {
    "1x1-image": ((1, 1, 1, 1), (1, 1), (1, 1), NO_PADDING),
    "odd-size": ((2, 5, 7, 3), (2, 2), (2, 2), NO_PADDING),
    "overlap-33ch": ((1, 5, 5, 33), (3, 3), (1, 1), NO_PADDING),
    "stride>pool": ((2, 7, 6, 1), (2, 3), (3, 4), NO_PADDING),
    "same-overlap": ((2, 5, 6, 3), (3, 3), (2, 2), ((1, 1), (1, 1))),
    "same-after": ((1, 5, 5, 2), (2, 2), (2, 2), ((0, 1), (0, 1))),
    "1d": ((3, 1, 9, 3), (1, 3), (1, 2), ((0, 0), (1, 1))),
    "wide-padding": ((1, 3, 3, 1), (3, 3), (1, 1), ((2, 2), (2, 2))),
    "pool=image": ((2, 3, 4, 3), (3, 4), (1, 1), NO_PADDING),
}
GEOMETRY_PARAMS = [pytest.param(*g, id=name) for name, g in GEOMETRIES.items()]
# (N, S, C)
GLOBAL_SHAPES = [(1, 1, 1), (2, 7, 3), (3, 9, 33), (1, 5, 1)]
# (x shape, size): 1×1 images, odd sizes, 33 channels, a factor of 1 on one axis, 1-D, the identity.
UPSAMPLE_CASES = [((1, 1, 1, 1), (2, 2)), ((2, 3, 5, 3), (2, 3)), ((1, 4, 2, 33), (3, 1)),
                  ((1, 1, 6, 2), (1, 2)), ((1, 2, 3, 1), (1, 1))]
INTERPOLATIONS = ("nearest", "bilinear")
# float32 sums of a few terms of size ≤ 2.
SUM_TOL = (1e-6, 1e-6)


def coarse(fp, shape, seed):
    """Multiples of ½ in [−2, 2): exact in every dtype, and full of ties."""
    return np.floor(fp.data(shape, seed) * 2) / 2


# --------------------------------------------------------------- references ---
def windows(x_shape, pool_size, strides, padding):
    """{(i, j): [(row, col) of each real entry, in window order]} of a pooling, and the output shape."""
    n, h, w, c = x_shape
    (ph, pw), (sh, sw), ((top, bottom), (left, right)) = pool_size, strides, padding
    oh, ow = (h + top + bottom - ph) // sh + 1, (w + left + right - pw) // sw + 1
    entries = {}
    for i in range(oh):
        for j in range(ow):
            entries[i, j] = [(r, q) for r in range(i * sh - top, i * sh - top + ph)
                             for q in range(j * sw - left, j * sw - left + pw) if 0 <= r < h and 0 <= q < w]
    return entries, (n, oh, ow, c)


def maxpool_reference(x, dy, pool_size, strides, padding):
    """(y, dx): window maxima, and dy routed to each window's first maximum."""
    entries, shape = windows(x.shape, pool_size, strides, padding)
    y, dx = np.empty(shape), np.zeros_like(x)
    n_index, c_index = np.ix_(range(shape[0]), range(shape[3]))
    for (i, j), real in entries.items():
        rows, cols = np.array(real).T
        values = x[:, rows, cols, :]  # (N, entries, C)
        won = np.argmax(values, axis=1)  # the first of equals
        y[:, i, j] = np.max(values, axis=1)
        if dy is not None:
            np.add.at(dx, (n_index, rows[won], cols[won], c_index), dy[:, i, j])
    return y, dx


def avgpool_reference(x, dy, pool_size, strides, padding):
    """(y, dx): window means over the real entries, and dy spread evenly over them."""
    entries, shape = windows(x.shape, pool_size, strides, padding)
    y, dx = np.empty(shape), np.zeros_like(x)
    for (i, j), real in entries.items():
        rows, cols = np.array(real).T
        y[:, i, j] = x[:, rows, cols, :].mean(axis=1)
        for r, q in real:
            dx[:, r, q] += dy[:, i, j] / len(real)
    return y, dx


def upsample_matrix(length, factor, interpolation):
    """The (length·factor, length) matrix of upsampling one axis."""
    m = np.zeros((length * factor, length))
    for o in range(length * factor):
        if interpolation == "nearest":
            m[o, o // factor] = 1.0
        else:  # half-pixel centres, the source position clamped to the axis
            src = min(max((o + 0.5) / factor - 0.5, 0.0), length - 1.0)
            lo = int(np.floor(src))
            m[o, lo] += 1.0 - (src - lo)
            m[o, min(lo + 1, length - 1)] += src - lo
    return m


def upsample_reference(x, dy, size, interpolation):
    rows = upsample_matrix(x.shape[1], size[0], interpolation)
    cols = upsample_matrix(x.shape[2], size[1], interpolation)
    return np.einsum("ih,jw,nhwc->nijc", rows, cols, x), np.einsum("ih,jw,nijc->nhwc", rows, cols, dy)


# ------------------------------------------------------------ windowed pools ---
@pytest.mark.parametrize("x_shape, pool_size, strides, padding", GEOMETRY_PARAMS)
def test_maxpool2d_takes_the_first_maximum_and_routes_the_gradient_to_it(b, fp, x_shape, pool_size, strides,
                                                                         padding):
    x = coarse(fp, x_shape, 1)
    y_want, _ = maxpool_reference(x, None, pool_size, strides, padding)
    dy = fp.data(y_want.shape, 2)
    _, dx_want = maxpool_reference(x, dy, pool_size, strides, padding)
    out = b.empty(y_want.shape, fp.dtype)
    y, indices = b.maxpool2d(fp.put(x), pool_size, strides, padding, out=out)
    assert y is out
    fp.close(y, y_want, rtol=0, atol=0, f32=(0, 0))  # a max rounds nothing
    dx_out = b.empty(x_shape, fp.dtype)
    dx = b.maxpool2d_backward(fp.put(dy), indices, x_shape, pool_size, strides, padding, out=dx_out)
    assert dx is dx_out
    fp.close(dx, dx_want, f32=SUM_TOL)
    # Without out= (the op allocates), and again: the same indices, the same gradient.
    y2, indices2 = b.maxpool2d(fp.put(x), pool_size, strides, padding)
    fp.close(y2, y_want, rtol=0, atol=0, f32=(0, 0))
    fp.close(b.maxpool2d_backward(fp.put(dy), indices2, x_shape, pool_size, strides, padding), dx_want,
             f32=SUM_TOL)


@pytest.mark.parametrize("x_shape, pool_size, strides, padding", GEOMETRY_PARAMS)
def test_avgpool2d_divides_by_the_real_entries(b, fp, x_shape, pool_size, strides, padding):
    x = fp.data(x_shape, 3)
    _, y_shape = windows(x_shape, pool_size, strides, padding)
    dy = fp.data(y_shape, 4)
    y_want, dx_want = avgpool_reference(x, dy, pool_size, strides, padding)
    out = b.empty(y_shape, fp.dtype)
    assert b.avgpool2d(fp.put(x), pool_size, strides, padding, out=out) is out
    fp.close(out, y_want, f32=SUM_TOL)
    fp.close(b.avgpool2d(fp.put(x), pool_size, strides, padding), y_want, f32=SUM_TOL)
    dx_out = b.empty(x_shape, fp.dtype)
    # (A backward op may overwrite dy, and numpy's asarray may hand back dy itself: each call gets a copy.)
    assert b.avgpool2d_backward(fp.put(dy.copy()), x_shape, pool_size, strides, padding, out=dx_out) is dx_out
    fp.close(dx_out, dx_want, f32=SUM_TOL)
    fp.close(b.avgpool2d_backward(fp.put(dy.copy()), x_shape, pool_size, strides, padding), dx_want,
             f32=SUM_TOL)


def test_maxpool2d_of_a_window_with_nan_is_nan(b, fp):
    x = coarse(fp, (1, 4, 4, 2), 5)
    x[0, 1, 2, 0] = x[0, 0, 0, 1] = np.nan  # windows (0, 1) of channel 0 and (0, 0) of channel 1
    y = host(b, b.maxpool2d(fp.put(x), (2, 2), (2, 2), NO_PADDING)[0])
    want = np.max(x.reshape(1, 2, 2, 2, 2, 2), axis=(2, 4))  # np.max propagates NaN
    np.testing.assert_array_equal(y, want)
    assert np.isnan(y[0, 0, 1, 0]) and np.isnan(y[0, 0, 0, 1]) and np.isnan(y).sum() == 2


# -------------------------------------------------------------------- global ---
@pytest.mark.parametrize("shape", GLOBAL_SHAPES)
def test_global_maxpool_takes_the_first_maximum(b, fp, shape):
    n, s, c = shape
    x = coarse(fp, shape, 6)
    dy = fp.data((n, c), 7)
    won = np.argmax(x, axis=1)
    dx_want = np.zeros(shape)
    dx_want[np.arange(n)[:, None], won, np.arange(c)] = dy
    out = b.empty((n, c), fp.dtype)
    y, indices = b.global_maxpool(fp.put(x), out=out)
    assert y is out
    fp.close(y, x.max(axis=1), rtol=0, atol=0, f32=(0, 0))
    dx_out = b.empty(shape, fp.dtype)
    assert b.global_maxpool_backward(fp.put(dy), indices, s, out=dx_out) is dx_out
    fp.close(dx_out, dx_want, rtol=0, atol=0, f32=(0, 0))
    y2, indices2 = b.global_maxpool(fp.put(x))
    fp.close(y2, x.max(axis=1), rtol=0, atol=0, f32=(0, 0))
    fp.close(b.global_maxpool_backward(fp.put(dy), indices2, s), dx_want, rtol=0, atol=0, f32=(0, 0))


@pytest.mark.parametrize("shape", GLOBAL_SHAPES)
def test_global_avgpool_and_its_gradient(b, fp, shape):
    n, s, c = shape
    x, dy = fp.data(shape, 8), fp.data((n, c), 9)
    out = b.empty((n, c), fp.dtype)
    assert b.global_avgpool(fp.put(x), out=out) is out
    fp.close(out, x.mean(axis=1), f32=SUM_TOL)
    fp.close(b.global_avgpool(fp.put(x)), x.mean(axis=1), f32=SUM_TOL)
    dx_want = np.broadcast_to(dy[:, None, :] / s, shape)
    dx_out = b.empty(shape, fp.dtype)
    assert b.global_avgpool_backward(fp.put(dy), s, out=dx_out) is dx_out
    fp.close(dx_out, dx_want)
    fp.close(b.global_avgpool_backward(fp.put(dy), s), dx_want)


def test_global_maxpool_of_a_channel_with_nan_is_nan(b, fp):
    x = coarse(fp, (2, 6, 3), 10)
    x[1, 4, 2] = np.nan
    y = host(b, b.global_maxpool(fp.put(x))[0])
    np.testing.assert_array_equal(y, np.max(x, axis=1))
    assert np.isnan(y).sum() == 1 and np.isnan(y[1, 2])


# ---------------------------------------------------------------- resampling ---
@pytest.mark.parametrize("interpolation", INTERPOLATIONS)
@pytest.mark.parametrize("x_shape, size", UPSAMPLE_CASES)
def test_upsample2d_and_its_gradient(b, fp, x_shape, size, interpolation):
    x = fp.data(x_shape, 11)
    y_shape = (x_shape[0], x_shape[1] * size[0], x_shape[2] * size[1], x_shape[3])
    dy = fp.data(y_shape, 12)
    y_want, dx_want = upsample_reference(x, dy, size, interpolation)
    out = b.empty(y_shape, fp.dtype)
    assert b.upsample2d(fp.put(x), size, interpolation, out=out) is out
    fp.close(out, y_want, f32=SUM_TOL)
    fp.close(b.upsample2d(fp.put(x), size, interpolation), y_want, f32=SUM_TOL)
    dx_out = b.empty(x_shape, fp.dtype)
    assert b.upsample2d_backward(fp.put(dy), size, interpolation, out=dx_out) is dx_out
    # dx sums up to (3·size)² products of dy with weights ≤ 1.
    fp.close(dx_out, dx_want, f32=(1e-6, 1e-5))
    fp.close(b.upsample2d_backward(fp.put(dy), size, interpolation), dx_want, f32=(1e-6, 1e-5))


def test_upsample2d_refuses_an_unknown_interpolation(b, fp):
    x = fp.put(fp.data((1, 2, 2, 1)))
    with pytest.raises(ValueError, match="interpolation must be one of"):
        b.upsample2d(x, (2, 2), "bicubic")
    with pytest.raises(ValueError, match="interpolation must be one of"):
        b.upsample2d_backward(fp.put(fp.data((1, 4, 4, 1))), (2, 2), "area")


# --------------------------------------------------------------- Metal only ---
def kernels_only(b):
    """``b`` with its numpy fallback switched off, so a call a kernel should take fails if it does not."""

    def refuse(op, *args, **kwargs):
        raise AssertionError(f"{op} ran numpy instead of its kernel")

    b._numpy_fallback = refuse
    return b


def f32(shape, seed, coarse_values=False):
    x = np.random.default_rng(seed).uniform(-2.0, 2.0, shape)
    return (np.floor(x * 2) / 2 if coarse_values else x).astype(np.float32).astype(np.float64)


def check_all_ops_on_metal(b, x_shape, pool_size, strides, padding, global_shape, upsample_shape, size):
    """Every pooling and resampling op on ``b`` (kernels only) against the references."""
    put = b.asarray
    x = f32(x_shape, 1, coarse_values=True)
    y_want, _ = maxpool_reference(x, None, pool_size, strides, padding)
    dy = f32(y_want.shape, 2)
    _, dx_want = maxpool_reference(x, dy, pool_size, strides, padding)
    y, indices = b.maxpool2d(put(x, "float32"), pool_size, strides, padding)
    np.testing.assert_array_equal(y, y_want)
    dx = b.maxpool2d_backward(put(dy, "float32"), indices, x_shape, pool_size, strides, padding)
    np.testing.assert_allclose(dx, dx_want, rtol=1e-6, atol=1e-6)
    y_want, dx_want = avgpool_reference(x, dy, pool_size, strides, padding)
    np.testing.assert_allclose(b.avgpool2d(put(x, "float32"), pool_size, strides, padding), y_want,
                               rtol=1e-6, atol=1e-6)
    np.testing.assert_allclose(b.avgpool2d_backward(put(dy, "float32"), x_shape, pool_size, strides, padding),
                               dx_want, rtol=1e-6, atol=1e-6)

    g = f32(global_shape, 3, coarse_values=True)
    gdy = f32((global_shape[0], global_shape[2]), 4)
    gy, gindices = b.global_maxpool(put(g, "float32"))
    np.testing.assert_array_equal(gy, g.max(axis=1))
    gdx = np.zeros(global_shape)
    gdx[np.arange(global_shape[0])[:, None], g.argmax(axis=1), np.arange(global_shape[2])] = gdy
    np.testing.assert_array_equal(b.global_maxpool_backward(put(gdy, "float32"), gindices, global_shape[1]), gdx)
    np.testing.assert_allclose(b.global_avgpool(put(g, "float32")), g.mean(axis=1), rtol=1e-6, atol=1e-6)
    np.testing.assert_allclose(b.global_avgpool_backward(put(gdy, "float32"), global_shape[1]),
                               np.broadcast_to(gdy[:, None] / global_shape[1], global_shape), rtol=1e-6)

    u = f32(upsample_shape, 5)
    udy = f32((upsample_shape[0], upsample_shape[1] * size[0], upsample_shape[2] * size[1], upsample_shape[3]), 6)
    for interpolation in INTERPOLATIONS:
        y_want, dx_want = upsample_reference(u, udy, size, interpolation)
        np.testing.assert_allclose(b.upsample2d(put(u, "float32"), size, interpolation), y_want,
                                   rtol=1e-6, atol=1e-6)
        np.testing.assert_allclose(b.upsample2d_backward(put(udy, "float32"), size, interpolation), dx_want,
                                   rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("tg", (32, 256, 1024))
def test_pooling_kernels_under_every_threadgroup_size(tg):
    # Grids of a few hundred threads: many groups of 32, a padded last group at every size.
    b = kernels_only(emulated_backend(tg))
    check_all_ops_on_metal(b, (2, 9, 11, 5), (3, 3), (2, 2), ((1, 1), (1, 1)), (3, 20, 37), (2, 5, 4, 3), (2, 3))


@pytest.mark.slow
@pytest.mark.parametrize("tg", (32, 1024))
def test_pooling_kernels_on_larger_images(tg):
    b = kernels_only(emulated_backend(tg))
    check_all_ops_on_metal(b, (4, 32, 30, 16), (3, 3), (2, 2), ((1, 1), (1, 1)), (8, 256, 64), (4, 16, 15, 8),
                           (2, 2))
    check_all_ops_on_metal(b, (2, 28, 28, 8), (2, 2), (2, 2), NO_PADDING, (2, 49, 130), (2, 7, 7, 32), (4, 4))


def test_maxpool_indices_cross_between_the_metal_kernels_and_numpy():
    """Either backend's backward takes the other's forward indices (they mean the same window offsets)."""
    b, numpy = emulated_backend(), NumpyBackend()
    geometry = ((2, 2), (1, 1), ((0, 1), (0, 1)))
    x, dy = f32((2, 4, 5, 3), 7, coarse_values=True), f32((2, 4, 5, 3), 8)
    _, dx_want = maxpool_reference(x, dy, *geometry)
    _, metal_indices = kernels_only(emulated_backend()).maxpool2d(b.asarray(x, "float32"), *geometry)
    dx = numpy.maxpool2d_backward(dy.astype(np.float32), np.array(metal_indices), x.shape, *geometry)
    np.testing.assert_allclose(dx, dx_want, rtol=1e-6, atol=1e-6)
    # Host memory is no kernel's: numpy's forward runs, and its int8 indices send the backward to numpy too.
    _, numpy_indices = b.maxpool2d(x.astype(np.float32), *geometry)
    assert numpy_indices.dtype == np.int8
    dx = b.maxpool2d_backward(b.asarray(dy, "float32"), numpy_indices, x.shape, *geometry)
    np.testing.assert_allclose(dx, dx_want, rtol=1e-6, atol=1e-6)
    # Global max pooling alike: the Metal int32 positions and numpy's int64 argmax.
    g, gdy = f32((2, 7, 3), 9, coarse_values=True), f32((2, 3), 10)
    _, metal_positions = b.global_maxpool(b.asarray(g, "float32"))
    want = numpy.global_maxpool_backward(gdy, np.argmax(g, axis=1), 7)
    np.testing.assert_array_equal(numpy.global_maxpool_backward(gdy, np.array(metal_positions), 7), want)
    np.testing.assert_array_equal(b.global_maxpool_backward(b.asarray(gdy, "float32"), np.argmax(g, axis=1), 7),
                                  want)


def test_maxpool_indices_come_from_the_layers_scratch():
    b = kernels_only(emulated_backend())
    buffers = {}

    def scratch(key, shape, dtype):
        if key not in buffers:
            buffers[key] = b.empty(shape, dtype)
        return buffers[key]

    x = b.asarray(f32((2, 4, 4, 3), 11), "float32")
    _, indices = b.maxpool2d(x, (2, 2), (2, 2), NO_PADDING, scratch=scratch)
    assert indices.dtype == np.int32 and np.shares_memory(indices, buffers["pool_indices"])


def test_cases_the_kernels_do_not_take_run_numpy():
    """A window wholly in the padding (numpy: −∞ max, 0/0 mean); an out= overlapping the input."""
    b, numpy = emulated_backend(), NumpyBackend()
    x = f32((1, 2, 2, 1), 12).astype(np.float32)
    geometry = ((2, 2), (1, 1), ((2, 0), (0, 0)))  # the first output row reads padding only
    with np.errstate(divide="ignore", invalid="ignore"):
        np.testing.assert_array_equal(b.maxpool2d(b.asarray(x), *geometry)[0], numpy.maxpool2d(x, *geometry)[0])
        np.testing.assert_array_equal(b.avgpool2d(b.asarray(x), *geometry), numpy.avgpool2d(x, *geometry))
    # The kernel's threads would read what others wrote: the call goes to numpy, not to the kernel.
    flat = b.asarray(np.arange(8, dtype=np.float32))
    with pytest.raises(AssertionError, match="avgpool2d ran numpy"):
        kernels_only(b).avgpool2d(flat.reshape(1, 2, 4, 1), (1, 2), (1, 2), NO_PADDING,
                                  out=flat[:4].reshape(1, 2, 2, 1))


def test_a_gradient_of_the_wrong_shape_is_refused():
    b = emulated_backend()
    dy = b.asarray(np.zeros((1, 2, 2, 1), np.float32))
    with pytest.raises(ValueError, match=r"dy has shape \(1, 2, 2, 1\).*gives \(1, 3, 3, 1\)"):
        b.avgpool2d_backward(dy, (1, 6, 6, 1), (2, 2), (2, 2), NO_PADDING)
    with pytest.raises(ValueError, match="not multiples of size 3x3"):
        b.upsample2d_backward(b.asarray(np.zeros((1, 4, 4, 1), np.float32)), (3, 3))
