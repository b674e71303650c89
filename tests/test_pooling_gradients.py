"""Finite-difference gradient checks and reference values for the pooling layers, in float64.

Max pooling inputs are distinct values at least 0.01 apart, so a
finite-difference step never changes which entry wins a window. Forward
values are compared with a direct evaluation, window by window.
"""
import itertools

import numpy as np
import pytest

from gradcheck import build64, check_layer
from seqnn import layers


def distinct(shape, seed=0):
    """Entries 0.01 apart in random order: no ties, and no winner changes under a 1e-6 nudge."""
    rng = np.random.default_rng(seed)
    return (rng.permutation(int(np.prod(shape))).reshape(shape) - np.prod(shape) / 2) * 0.01


def pool_reference(x, pool, strides, padding, kind):
    """Window by window; padded entries never win a max and are not counted in a mean."""
    (top, bottom), (left, right) = padding
    n, h, w, c = x.shape
    oh = (h + top + bottom - pool[0]) // strides[0] + 1
    ow = (w + left + right - pool[1]) // strides[1] + 1
    y = np.zeros((n, oh, ow, c))
    for i in range(oh):
        for j in range(ow):
            r0, c0 = i * strides[0] - top, j * strides[1] - left
            window = x[:, max(r0, 0):max(r0 + pool[0], 0), max(c0, 0):max(c0 + pool[1], 0)]
            y[:, i, j] = window.max(axis=(1, 2)) if kind == "max" else window.mean(axis=(1, 2))
    return y


POOL2D = {"max": layers.MaxPooling2D, "avg": layers.AveragePooling2D}
POOL1D = {"max": layers.MaxPooling1D, "avg": layers.AveragePooling1D}
CASES_2D = list(itertools.product(["max", "avg"], ["valid", "same"], [(2, 2), (3, 2)], [None, 1, (2, 1)]))


@pytest.mark.parametrize("kind, padding, pool, strides", CASES_2D)
def test_pooling2d_gradients_every_geometry(kind, padding, pool, strides):
    layer = POOL2D[kind](pool, strides=strides, padding=padding)
    x = distinct((2, 5, 7, 3), seed=1)
    y, _, _ = check_layer(layer, x, training=True)
    stride = pool if strides is None else (strides,) * 2 if isinstance(strides, int) else strides
    np.testing.assert_allclose(y, pool_reference(x, pool, stride, layer._padding2d, kind), rtol=1e-13)


@pytest.mark.parametrize("kind, padding, pool, strides",
                         list(itertools.product(["max", "avg"], ["valid", "same"], [2, 3], [None, 1, 2])))
def test_pooling1d_gradients_every_geometry(kind, padding, pool, strides):
    layer = POOL1D[kind](pool, strides=strides, padding=padding)
    x = distinct((2, 7, 3), seed=2)
    y, _, _ = check_layer(layer, x)
    stride = pool if strides is None else strides
    ref = pool_reference(x[:, None], (1, pool), (1, stride), layer._padding2d, kind)[:, 0]
    np.testing.assert_allclose(y, ref, rtol=1e-13)


def test_maxpool_gradient_goes_to_the_first_maximum_on_ties():
    layer = build64(layers.MaxPooling2D(2), (2, 4, 1))
    x = np.array([[[[1.0], [3.0], [5.0], [5.0]], [[3.0], [2.0], [5.0], [5.0]]]])
    y = np.array(layer.forward(x))
    dx = np.array(layer.backward(np.ones_like(y)))
    np.testing.assert_array_equal(y[0, ..., 0], [[3.0, 5.0]])
    np.testing.assert_array_equal(dx[0, ..., 0], [[0, 1, 1, 0], [0, 0, 0, 0]])


def test_maxpool_ties_across_rows_go_to_the_first_in_row_major_order():
    # (0, 1) and (1, 0) tie: (0, 1) comes first when the window is read row by row, as in PyTorch.
    layer = build64(layers.MaxPooling2D(2), (2, 2, 1))
    x = np.array([[[[1.0], [5.0]], [[5.0], [0.0]]]])
    layer.forward(x)
    dx = np.array(layer.backward(np.ones((1, 1, 1, 1))))
    np.testing.assert_array_equal(dx[0, ..., 0], [[0, 1], [0, 0]])


def test_maxpool_odd_size_drops_the_last_row_and_column_and_their_gradient_is_zero():
    layer = build64(layers.MaxPooling2D(2), (5, 5, 2))
    x = distinct((3, 5, 5, 2), seed=3)
    r = np.random.default_rng(0).standard_normal((3, 2, 2, 2))
    layer.forward(x)
    layer.backward(np.full(r.shape, np.nan))  # the buffer now holds garbage where nothing is routed
    layer.forward(x)
    dx = np.array(layer.backward(r.copy()))
    assert np.all(dx[:, 4] == 0) and np.all(dx[:, :, 4] == 0)
    assert np.count_nonzero(dx) == r.size


def test_maxpool_large_window_uses_wider_indices():
    layer = build64(layers.MaxPooling2D((12, 12)), (12, 12, 1))
    x = distinct((1, 12, 12, 1), seed=4)
    y, dx, _ = check_layer(layer, x)
    assert y.item() == x.max()
    assert dx.reshape(-1).argmax() == x.reshape(-1).argmax()


GLOBAL = [layers.GlobalAveragePooling2D, layers.GlobalMaxPooling2D]


@pytest.mark.parametrize("cls", GLOBAL)
@pytest.mark.parametrize("keepdims", [False, True])
def test_global_pooling2d_gradients(cls, keepdims):
    layer = cls(keepdims=keepdims)
    x = distinct((3, 4, 5, 2), seed=5)
    y, _, _ = check_layer(layer, x)
    ref = x.max(axis=(1, 2), keepdims=keepdims) if "Max" in cls.__name__ else x.mean(axis=(1, 2), keepdims=keepdims)
    np.testing.assert_allclose(y, ref, rtol=1e-13)


@pytest.mark.parametrize("cls", [layers.GlobalAveragePooling1D, layers.GlobalMaxPooling1D])
def test_global_pooling1d_gradients(cls):
    x = distinct((3, 6, 4), seed=6)
    y, _, _ = check_layer(cls(), x)
    ref = x.max(axis=1) if "Max" in cls.__name__ else x.mean(axis=1)
    np.testing.assert_allclose(y, ref, rtol=1e-13)
