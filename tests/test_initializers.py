"""Initializers against Keras's documented rules, on large samples.

Keras 3 (keras/src/initializers): the variance-scaling family draws with
variance scale / n, n = fan_in, fan_out or their mean (at least 1); "uniform"
on ±√(3·scale/n); "truncated_normal" a normal truncated at ±2σ whose σ is
√(scale/n) / 0.87962566103423978 (so that the truncated draws have variance
scale / n); "untruncated_normal" σ = √(scale/n). Glorot = (1, fan_avg),
He = (2, fan_in), LeCun = (1, fan_in). For a kernel (..., in, out) the
receptive field is the product of the leading dimensions.

Statistical checks use 200k-sample draws with tolerances of about six
standard errors, so they are deterministic in practice (the seed is fixed).
"""
import math

import numpy as np
import pytest
import scipy.stats

import seqnn as sn
from seqnn import initializers as init

TRUNC_STD = 0.87962566103423978  # std of a unit normal truncated to [-2, 2]
SHAPE = (400, 500)  # fan_in 400, fan_out 500
RF_SHAPE = (3, 5, 40, 80)  # receptive field 15: fan_in 600, fan_out 1200


def check_moments(x, mean, std, what):
    x = np.asarray(x, np.float64).ravel()
    n = x.size
    assert abs(x.mean() - mean) < 6 * std / math.sqrt(n) + 1e-12, f"{what}: mean {x.mean()} vs {mean}"
    # Relative standard error of a sample variance is about √(2/n) (less for bounded laws).
    assert x.std() == pytest.approx(std, rel=6 * math.sqrt(2.0 / n)), f"{what}: std {x.std()} vs {std}"


def test_truncated_standard_normal_constant():
    a, b = -2.0, 2.0
    assert scipy.stats.truncnorm(a, b).std() == pytest.approx(TRUNC_STD, rel=1e-14)


# ----------------------------------------------------- variance scaling ---
VS_PRESETS = [
    ("glorot_uniform", init.GlorotUniform, 1.0, "fan_avg", "uniform"),
    ("glorot_normal", init.GlorotNormal, 1.0, "fan_avg", "truncated_normal"),
    ("he_uniform", init.HeUniform, 2.0, "fan_in", "uniform"),
    ("he_normal", init.HeNormal, 2.0, "fan_in", "truncated_normal"),
    ("lecun_uniform", init.LecunUniform, 1.0, "fan_in", "uniform"),
    ("lecun_normal", init.LecunNormal, 1.0, "fan_in", "truncated_normal"),
]


def fan(shape, mode):
    receptive = math.prod(shape[:-2]) if len(shape) > 2 else 1
    fan_in, fan_out = receptive * shape[-2], receptive * shape[-1]
    return {"fan_in": fan_in, "fan_out": fan_out, "fan_avg": (fan_in + fan_out) / 2}[mode]


def check_variance_scaling(values, scale, n, distribution, what):
    std = math.sqrt(scale / n)
    if distribution == "uniform":
        limit = math.sqrt(3.0 * scale / n)
        assert values.min() >= -limit and values.max() <= limit
        assert values.min() < -0.99 * limit and values.max() > 0.99 * limit, "draws should fill the interval"
        check_moments(values, 0.0, std, what)
    elif distribution == "truncated_normal":
        sigma = std / TRUNC_STD  # the untruncated normal's σ
        assert np.abs(values).max() <= 2 * sigma
        assert np.abs(values).max() > 1.95 * sigma, "draws should reach close to the ±2σ cut"
        check_moments(values, 0.0, std, what)
        # The shape of the law: what fraction lies within one σ of the untruncated normal.
        inside = np.mean(np.abs(values) <= sigma)
        expected = (scipy.stats.norm.cdf(1) - scipy.stats.norm.cdf(-1)) / (
            scipy.stats.norm.cdf(2) - scipy.stats.norm.cdf(-2))
        assert inside == pytest.approx(expected, abs=0.005)
    else:
        check_moments(values, 0.0, std, what)
        assert np.abs(values).max() > 3.5 * std  # not truncated


@pytest.mark.parametrize("name, cls, scale, mode, distribution", VS_PRESETS, ids=[p[0] for p in VS_PRESETS])
@pytest.mark.parametrize("shape", [SHAPE, RF_SHAPE], ids=["2d", "conv"])
def test_variance_scaling_presets(name, cls, scale, mode, distribution, shape):
    values = cls(seed=1)(shape, dtype="float64")
    assert values.shape == shape and values.dtype == np.float64
    check_variance_scaling(values, scale, fan(shape, mode), distribution, name)
    # The preset is exactly VarianceScaling with Keras's arguments.
    same = init.VarianceScaling(scale=scale, mode=mode, distribution=distribution, seed=1)(shape, dtype="float64")
    np.testing.assert_array_equal(values, same)


@pytest.mark.parametrize("mode", ["fan_in", "fan_out", "fan_avg"])
@pytest.mark.parametrize("distribution", ["truncated_normal", "untruncated_normal", "uniform"])
def test_variance_scaling(mode, distribution):
    values = init.VarianceScaling(scale=3.0, mode=mode, distribution=distribution, seed=2)(SHAPE, "float64")
    check_variance_scaling(values, 3.0, fan(SHAPE, mode), distribution, f"{mode}/{distribution}")


def test_variance_scaling_normal_means_truncated_and_fans_of_small_shapes():
    a = init.VarianceScaling(distribution="normal", seed=4)
    assert a.distribution == "truncated_normal"
    assert init.compute_fans(()) == (1.0, 1.0)
    assert init.compute_fans((7,)) == (7.0, 7.0)
    assert init.compute_fans((3, 4)) == (3.0, 4.0)
    assert init.compute_fans((2, 3, 4, 5)) == (24.0, 30.0)
    # A bias-shaped (1-D) draw uses fan = its length; n is at least 1.
    values = init.HeUniform(seed=0)((200_000,), "float64")
    assert np.abs(values).max() <= math.sqrt(6.0 / 200_000)
    tiny = init.VarianceScaling(scale=0.5, distribution="uniform", seed=0)((), "float64")
    assert abs(float(tiny)) <= math.sqrt(1.5)


# ---------------------------------------------------------- the simple ones ---
def test_zeros_ones_constant():
    assert np.array_equal(init.Zeros()((3, 4)), np.zeros((3, 4)))
    assert np.array_equal(init.Ones()((2, 5), "float64"), np.ones((2, 5)))
    c = init.Constant(0.25)((3, 2), "float32")
    assert c.dtype == np.float32 and np.all(c == 0.25)
    assert init.Zeros()((3,)).dtype == np.float32  # float32 by default


def test_random_normal():
    values = init.RandomNormal(mean=0.3, stddev=0.2, seed=5)(SHAPE, "float64")
    check_moments(values, 0.3, 0.2, "random_normal")
    assert np.abs(values - 0.3).max() > 4 * 0.2  # untruncated
    check_moments(init.RandomNormal(seed=5)(SHAPE, "float64"), 0.0, 0.05, "random_normal default")


def test_random_uniform():
    values = init.RandomUniform(minval=-0.5, maxval=1.5, seed=6)(SHAPE, "float64")
    assert values.min() >= -0.5 and values.max() < 1.5
    check_moments(values, 0.5, 2.0 / math.sqrt(12), "random_uniform")
    default = init.RandomUniform(seed=6)(SHAPE, "float64")
    assert default.min() >= -0.05 and default.max() <= 0.05


def test_truncated_normal_cuts_at_two_sigma():
    values = init.TruncatedNormal(mean=1.0, stddev=0.5, seed=7)(SHAPE, "float64")
    assert np.abs(values - 1.0).max() <= 2 * 0.5
    assert np.abs(values - 1.0).max() > 0.99
    check_moments(values, 1.0, 0.5 * TRUNC_STD, "truncated_normal")  # Keras's stddev is the untruncated σ
    hist, _ = np.histogram(values, bins=8, range=(0.0, 2.0))
    expected = np.diff(scipy.stats.truncnorm(-2, 2, loc=1.0, scale=0.5).cdf(np.linspace(0, 2, 9))) * values.size
    np.testing.assert_allclose(hist, expected, rtol=0.05)


# ------------------------------------------------------------ orthogonal ---
@pytest.mark.parametrize("shape", [(6, 6), (9, 4), (4, 9), (2, 3, 5), (3, 2, 8)])
@pytest.mark.parametrize("gain", [1.0, 2.5])
def test_orthogonal(shape, gain):
    w = init.Orthogonal(gain=gain, seed=8)(shape, "float64")
    assert w.shape == shape
    m = w.reshape(-1, shape[-1])
    rows, cols = m.shape
    gram = m.T @ m if rows >= cols else m @ m.T  # orthonormal columns (tall) or rows (wide)
    np.testing.assert_allclose(gram, gain ** 2 * np.eye(min(rows, cols)), atol=1e-12)


def test_orthogonal_is_haar_distributed():
    # Sign-corrected QR gives a uniformly random rotation: every entry of a random 3x3
    # orthogonal matrix has mean 0 and variance 1/3.
    draws = np.stack([init.Orthogonal(seed=s)((3, 3), "float64") for s in range(3000)])
    np.testing.assert_allclose(draws.mean(axis=0), 0.0, atol=0.05)
    np.testing.assert_allclose(draws.var(axis=0), 1 / 3, atol=0.03)


def test_orthogonal_needs_rank_2():
    with pytest.raises(ValueError, match="shape"):
        init.Orthogonal()((5,))


# ---------------------------------------------------- seeds and configs ---
SEEDABLE = [init.GlorotUniform, init.GlorotNormal, init.HeNormal, init.HeUniform, init.LecunNormal,
            init.LecunUniform, init.RandomNormal, init.RandomUniform, init.TruncatedNormal, init.VarianceScaling,
            init.Orthogonal]


@pytest.mark.parametrize("cls", SEEDABLE, ids=lambda c: c.__name__)
def test_seed_reproducibility(cls):
    a = cls(seed=11)((5, 7))
    assert np.array_equal(a, cls(seed=11)((5, 7)))
    assert np.array_equal(a, cls(seed=11)((5, 7)))  # the same instance again: the same values (Keras 3)
    assert not np.array_equal(a, cls(seed=12)((5, 7)))
    # Unseeded draws follow the global seed.
    sn.utils.set_random_seed(3)
    first = [cls()((5, 7)), cls()((5, 7))]
    assert not np.array_equal(first[0], first[1])
    sn.utils.set_random_seed(3)
    again = [cls()((5, 7)), cls()((5, 7))]
    for x, y in zip(first, again):
        assert np.array_equal(x, y)


ALL = [init.Zeros(), init.Ones(), init.Constant(1.5), init.RandomNormal(0.1, 0.2, seed=3),
       init.RandomUniform(-1.0, 2.0), init.TruncatedNormal(stddev=0.3, seed=1), init.GlorotUniform(seed=2),
       init.GlorotNormal(), init.HeNormal(seed=4), init.HeUniform(), init.LecunNormal(), init.LecunUniform(seed=9),
       init.VarianceScaling(2.0, "fan_out", "untruncated_normal", seed=5), init.Orthogonal(gain=0.5, seed=6)]


@pytest.mark.parametrize("initializer", ALL, ids=repr)
def test_config_round_trip(initializer):
    config = init.serialize(initializer)
    again = init.get(config)
    assert type(again) is type(initializer) and again.get_config() == initializer.get_config()
    if initializer.seed is not None or type(initializer) in (init.Zeros, init.Ones, init.Constant):
        np.testing.assert_array_equal(again((4, 6)), initializer((4, 6)))
    import json
    assert init.get(json.loads(json.dumps(config))).get_config() == initializer.get_config()


@pytest.mark.parametrize("name, cls", [
    ("glorot_uniform", init.GlorotUniform), ("GlorotUniform", init.GlorotUniform),
    ("Xavier_Uniform", init.GlorotUniform), ("GLOROT_NORMAL", init.GlorotNormal),
    ("xavier_normal", init.GlorotNormal), ("he_normal", init.HeNormal), ("HeNormal", init.HeNormal),
    ("kaiming_normal", init.HeNormal), ("he_uniform", init.HeUniform), ("Kaiming_Uniform", init.HeUniform),
    ("lecun_normal", init.LecunNormal), ("LecunUniform", init.LecunUniform), ("zeros", init.Zeros),
    ("Zeros", init.Zeros), ("zero", init.Zeros), ("ones", init.Ones), ("constant", init.Constant),
    ("random_normal", init.RandomNormal), ("RandomNormal", init.RandomNormal), ("normal", init.RandomNormal),
    ("random_uniform", init.RandomUniform), ("uniform", init.RandomUniform),
    ("truncated_normal", init.TruncatedNormal), ("TruncatedNormal", init.TruncatedNormal),
    ("variance_scaling", init.VarianceScaling), ("Orthogonal", init.Orthogonal), ("orthogonal", init.Orthogonal),
])
def test_get_by_alias(name, cls):
    assert type(init.get(name)) is cls


def test_get_instance_none_and_unknown():
    he = init.HeNormal(seed=1)
    assert init.get(he) is he
    assert init.get(None) is None
    assert type(init.get(init.HeNormal)) is init.HeNormal
    with pytest.raises(ValueError, match="glorot_uniform"):  # the known names are listed
        init.get("glorot_uniformm")
    with pytest.raises(TypeError):
        init.get(3.5)


@pytest.mark.parametrize("make, arg", [
    (lambda: init.RandomUniform(minval=1.0, maxval=0.0), "maxval"),
    (lambda: init.RandomNormal(stddev=-0.1), "stddev"),
    (lambda: init.TruncatedNormal(stddev=-1.0), "stddev"),
    (lambda: init.VarianceScaling(scale=0.0), "scale"),
    (lambda: init.VarianceScaling(scale=-2.0), "scale"),
    (lambda: init.VarianceScaling(mode="fan_sum"), "mode"),
    (lambda: init.VarianceScaling(distribution="cauchy"), "distribution"),
    (lambda: init.GlorotUniform(seed=-1), "seed"),
    (lambda: init.RandomNormal(seed="abc"), "seed"),
    (lambda: init.HeNormal(seed=1.5), "seed"),
])
def test_bad_arguments(make, arg):
    with pytest.raises(ValueError, match=arg):
        make()


def test_dense_uses_its_initializers():
    layer = sn.layers.Dense(300, kernel_initializer=init.Constant(0.5), bias_initializer="ones")
    layer.build_for((None, 200), sn.backends.get("numpy"), "float64")
    w, b = layer.get_weights()
    assert np.all(w == 0.5) and np.all(b == 1.0)
    default = sn.layers.Dense(300)
    default.build_for((None, 200), sn.backends.get("numpy"), "float32")
    w, b = default.get_weights()
    assert np.abs(w).max() <= math.sqrt(6.0 / 500) and np.all(b == 0)  # glorot_uniform, zeros
    assert w.std() == pytest.approx(math.sqrt(2.0 / 500), rel=0.02)
