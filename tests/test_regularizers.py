"""Regularizers: penalty values against Keras's formulas, gradients against finite differences.

Keras's conventions: L1 = l1·Σ|w|, L2 = l2·Σw² (no ½, so the gradient is
2·l2·w), L1L2 = both; the defaults are l1 = l2 = 0.01 for L1 and L2, 0 for L1L2.
"""
import numpy as np
import pytest

import seqnn as sn
from gradcheck import check_regularizer, numpy_backend
from seqnn import regularizers


def away_from_zero(shape, seed=0, margin=0.05):
    r = np.random.default_rng(seed)
    return (margin + r.random(shape)) * r.choice([-1.0, 1.0], size=shape)


CASES = [
    (regularizers.L1(0.03), lambda w: 0.03 * np.abs(w).sum()),
    (regularizers.L1(), lambda w: 0.01 * np.abs(w).sum()),
    (regularizers.L2(0.2), lambda w: 0.2 * (w ** 2).sum()),
    (regularizers.L2(), lambda w: 0.01 * (w ** 2).sum()),
    (regularizers.L1L2(l1=0.1, l2=0.3), lambda w: 0.1 * np.abs(w).sum() + 0.3 * (w ** 2).sum()),
    (regularizers.L1L2(l2=0.5), lambda w: 0.5 * (w ** 2).sum()),
    (regularizers.L1L2(), lambda w: 0.0 * w.sum()),
]


@pytest.mark.parametrize("case", range(len(CASES)), ids=[repr(c[0]) for c in CASES])
@pytest.mark.parametrize("shape", [(7,), (4, 3), (2, 3, 2)])
def test_penalty_and_gradient(case, shape):
    reg, formula = CASES[case]
    w = away_from_zero(shape)
    assert reg.penalty(numpy_backend(), w) == pytest.approx(formula(w), rel=1e-13, abs=1e-15)
    assert reg(w) == pytest.approx(formula(w), rel=1e-13, abs=1e-15)  # Keras-style call on host data
    added = check_regularizer(reg, w)
    expected = getattr(reg, "l1", 0.0) * np.sign(w) + 2 * getattr(reg, "l2", 0.0) * w
    np.testing.assert_allclose(added, expected, rtol=1e-12, atol=1e-15)


def test_l1_subgradient_is_zero_at_zero():
    w = np.array([0.0, 2.0, -3.0])
    grad = np.zeros(3)
    regularizers.L1(0.5).add_gradient(numpy_backend(), w, grad)
    np.testing.assert_array_equal(grad, [0.0, 0.5, -0.5])


def test_float32_weights():
    w = away_from_zero((5, 4)).astype(np.float32)
    grad = np.zeros_like(w)
    reg = regularizers.L1L2(l1=0.01, l2=0.02)
    reg.add_gradient(numpy_backend(), w, grad)
    assert grad.dtype == np.float32
    np.testing.assert_allclose(grad, 0.01 * np.sign(w) + 0.04 * w, rtol=1e-6)
    assert reg.penalty(numpy_backend(), w) == pytest.approx(
        0.01 * np.abs(w.astype(np.float64)).sum() + 0.02 * (w.astype(np.float64) ** 2).sum(), rel=1e-5)


@pytest.mark.parametrize("name, cls, config", [
    ("l1", regularizers.L1, {"l1": 0.01}), ("L2", regularizers.L2, {"l2": 0.01}),
    ("l1l2", regularizers.L1L2, {"l1": 0.0, "l2": 0.0}), ("L1L2", regularizers.L1L2, {"l1": 0.0, "l2": 0.0}),
    ("elastic_net", regularizers.L1L2, {"l1": 0.0, "l2": 0.0}),
])
def test_get_by_name(name, cls, config):
    reg = regularizers.get(name)
    assert type(reg) is cls and reg.get_config() == config


@pytest.mark.parametrize("reg", [regularizers.L1(0.2), regularizers.L2(0.7), regularizers.L1L2(0.1, 0.4)], ids=repr)
def test_config_round_trip(reg):
    again = regularizers.get(regularizers.serialize(reg))
    assert type(again) is type(reg) and again.get_config() == reg.get_config()
    w = away_from_zero((3, 3))
    assert again(w) == reg(w)


def test_get_none_and_unknown():
    assert regularizers.get(None) is None and regularizers.serialize(None) is None
    with pytest.raises(ValueError, match="l1"):  # the known names are listed
        regularizers.get("l3")


@pytest.mark.parametrize("make, arg", [(lambda: regularizers.L1(-0.1), "l1"), (lambda: regularizers.L2(-1), "l2"),
                                       (lambda: regularizers.L1L2(l1="a"), "l1"),
                                       (lambda: regularizers.L1L2(l2=-0.5), "l2")])
def test_bad_factors(make, arg):
    with pytest.raises(ValueError, match=arg):
        make()


def test_dense_config_keeps_its_regularizers():
    layer = sn.layers.Dense(3, kernel_regularizer=regularizers.L1L2(0.1, 0.2), bias_regularizer="l2")
    again = sn.layers.get({"class_name": "Dense", "config": layer.get_config()})
    assert again.kernel_regularizer.get_config() == {"l1": 0.1, "l2": 0.2}
    assert type(again.bias_regularizer) is regularizers.L2
