"""Pooling layers against PyTorch, forward and backward, in float64 (NHWC ↔ NCHW permutes).

Keras's "same" padding may be asymmetric; the torch side pads explicitly
(with −∞ for max pooling). For average pooling, Keras does not count padded
entries: torch's ``count_include_pad=False`` with symmetric ``padding=`` is
the same rule; asymmetric cases divide zero-padded window sums by the count
of real entries.
"""
import itertools

import numpy as np
import pytest

torch = pytest.importorskip("torch")
F = torch.nn.functional

from gradcheck import build64  # noqa: E402
from torch_layout import nchw, nhwc, t  # noqa: E402
from seqnn import layers  # noqa: E402

RTOL, ATOL = 1e-12, 1e-13




def run_seqnn(layer, x, r):
    y = np.array(layer.forward(x.copy(), training=True))
    dx = np.array(layer.backward(r.copy()))
    return y, dx


def close(a, b, what):
    np.testing.assert_allclose(a, b, rtol=RTOL, atol=ATOL, err_msg=what)


@pytest.mark.parametrize("pool, strides, padding",
                         list(itertools.product([2, (3, 2)], [None, 1, (1, 2)], ["valid", "same"])))
def test_maxpool2d_matches_torch(pool, strides, padding):
    rng = np.random.default_rng(0)
    layer = build64(layers.MaxPooling2D(pool, strides=strides, padding=padding), (7, 8, 3))
    x = rng.standard_normal((2, 7, 8, 3))
    r = rng.standard_normal((2, *layer.output_shape[1:]))
    y, dx = run_seqnn(layer, x, r)
    (top, bottom), (left, right) = layer._padding2d
    xt = t(nchw(x), grad=True)
    yt = F.max_pool2d(F.pad(xt, (left, right, top, bottom), value=-np.inf), layer._pool2d, layer._strides2d)
    yt.backward(t(nchw(r)))
    close(y, nhwc(yt), "y")
    close(dx, nhwc(xt.grad), "dx")


def test_maxpool2d_after_relu_ties_route_like_torch():
    # After a ReLU many windows hold several zeros; both pick the first, row by row.
    rng = np.random.default_rng(1)
    x = np.maximum(rng.standard_normal((4, 6, 6, 5)), 0)
    x[0, :2, :2, 0] = 0.0
    layer = build64(layers.MaxPooling2D(2), (6, 6, 5))
    r = rng.standard_normal((4, 3, 3, 5))
    y, dx = run_seqnn(layer, x, r)
    xt = t(nchw(x), grad=True)
    yt = F.max_pool2d(xt, 2)
    yt.backward(t(nchw(r)))
    close(y, nhwc(yt), "y")
    close(dx, nhwc(xt.grad), "dx")


@pytest.mark.parametrize("pool, strides, size", [(2, None, (6, 8)), ((3, 2), 1, (7, 6)), (2, (2, 1), (5, 7)),
                                                 (3, 1, (6, 6))])
@pytest.mark.parametrize("padding", ["valid", "same"])
def test_avgpool2d_matches_torch(pool, strides, size, padding):
    rng = np.random.default_rng(2)
    layer = build64(layers.AveragePooling2D(pool, strides=strides, padding=padding), (*size, 2))
    (top, bottom), (left, right) = layer._padding2d
    x = rng.standard_normal((3, *size, 2))
    r = rng.standard_normal((3, *layer.output_shape[1:]))
    y, dx = run_seqnn(layer, x, r)
    xt = t(nchw(x), grad=True)
    if top == bottom and left == right:
        yt = F.avg_pool2d(xt, layer._pool2d, layer._strides2d, padding=(top, left), count_include_pad=False)
    else:  # asymmetric: the window sums over zero padding, divided by the count of real entries
        pad = (left, right, top, bottom)
        yt = (F.avg_pool2d(F.pad(xt, pad), layer._pool2d, layer._strides2d)
              / F.avg_pool2d(F.pad(torch.ones_like(xt), pad), layer._pool2d, layer._strides2d))
    yt.backward(t(nchw(r)))
    close(y, nhwc(yt), "y")
    close(dx, nhwc(xt.grad), "dx")


@pytest.mark.parametrize("kind", ["max", "avg"])
@pytest.mark.parametrize("pool, strides", [(2, None), (3, 1), (3, 2)])
def test_pool1d_matches_torch(kind, pool, strides):
    rng = np.random.default_rng(3)
    cls = layers.MaxPooling1D if kind == "max" else layers.AveragePooling1D
    layer = build64(cls(pool, strides=strides), (9, 3))
    x = rng.standard_normal((2, 9, 3))
    r = rng.standard_normal((2, *layer.output_shape[1:]))
    y, dx = run_seqnn(layer, x, r)
    xt = t(x.transpose(0, 2, 1), grad=True)
    fn = F.max_pool1d if kind == "max" else F.avg_pool1d
    yt = fn(xt, pool, strides or pool)
    yt.backward(t(r.transpose(0, 2, 1)))
    close(y, yt.detach().numpy().transpose(0, 2, 1), "y")
    close(dx, xt.grad.numpy().transpose(0, 2, 1), "dx")


@pytest.mark.parametrize("kind", ["max", "avg"])
def test_global_pooling2d_matches_torch(kind):
    rng = np.random.default_rng(4)
    cls = layers.GlobalMaxPooling2D if kind == "max" else layers.GlobalAveragePooling2D
    layer = build64(cls(), (5, 4, 3))
    x = rng.standard_normal((2, 5, 4, 3))
    r = rng.standard_normal((2, 3))
    y, dx = run_seqnn(layer, x, r)
    xt = t(nchw(x), grad=True)
    yt = (F.adaptive_max_pool2d if kind == "max" else F.adaptive_avg_pool2d)(xt, 1).flatten(1)
    yt.backward(t(r))
    close(y, yt.detach().numpy(), "y")
    close(dx, nhwc(xt.grad), "dx")
