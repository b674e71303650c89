"""GaussianNoise, SpatialDropout1D and SpatialDropout2D: gradients, statistics, inference, seeding.

The statistical checks use tens of thousands of draws with bounds several
standard errors wide, from fixed seeds, so they are deterministic.
"""
import numpy as np
import pytest

import seqnn as sn
from gradcheck import build64, check_layer
from seqnn import layers


# ---------------------------------------------------------- GaussianNoise ---
def test_gaussian_noise_gradient_is_identity_with_fixed_noise():
    layer = build64(layers.GaussianNoise(0.7, seed=1), (4, 3))
    x = np.random.default_rng(0).standard_normal((3, 4, 3))
    y, dx, _ = check_layer(layer, x, training=True, before_forward=lambda: layer.reseed(5))
    assert not np.allclose(y, x)
    r = np.random.default_rng(0).standard_normal(y.shape)
    np.testing.assert_array_equal(layer.backward(r.copy()), r)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_gaussian_noise_statistics(dtype):
    layer = layers.GaussianNoise(0.3, seed=2)
    layer.build_for((None, 100, 8), sn.backends.get("numpy"), dtype)
    x = np.full((50, 100, 8), 2.0, dtype)
    noise = np.asarray(layer.forward(x, training=True), np.float64) - 2.0
    assert np.asarray(layer.forward(x, training=True)).dtype == dtype
    assert abs(noise.mean()) < 0.01                      # standard error 0.3/√40000 = 0.0015
    assert noise.std() == pytest.approx(0.3, rel=0.02)
    # Uncorrelated across neighbours, and a fresh draw per call.
    assert abs(np.corrcoef(noise[:, :-1].ravel(), noise[:, 1:].ravel())[0, 1]) < 0.02
    again = np.asarray(layer.forward(x, training=True), np.float64) - 2.0
    assert not np.array_equal(noise, again)


def test_gaussian_noise_inference_is_identity_and_seed_reproduces():
    x = np.random.default_rng(3).standard_normal((4, 6))
    a, b = layers.GaussianNoise(0.5, seed=9), layers.GaussianNoise(0.5, seed=9)
    np.testing.assert_array_equal(a(x), x)
    np.testing.assert_array_equal(a(x, training=True), b(x, training=True))
    assert not np.array_equal(a(x, training=True), layers.GaussianNoise(0.5, seed=10)(x, training=True))
    np.testing.assert_array_equal(layers.GaussianNoise(0.0)(x, training=True), x)


@pytest.mark.parametrize("stddev", [-0.1, float("inf"), float("nan"), "0.1", True, None])
def test_gaussian_noise_bad_stddev(stddev):
    with pytest.raises(ValueError, match="GaussianNoise stddev must be a finite number >= 0"):
        layers.GaussianNoise(stddev)


# --------------------------------------------------------- SpatialDropout ---
SPATIAL = [(layers.SpatialDropout2D, (5, 4, 6)), (layers.SpatialDropout1D, (7, 6))]


@pytest.mark.parametrize("cls, shape", SPATIAL, ids=["2D", "1D"])
def test_spatial_dropout_gradients_with_fixed_mask(cls, shape):
    layer = build64(cls(0.4, seed=4), shape)
    x = np.random.default_rng(5).standard_normal((3, *shape))
    y, dx, _ = check_layer(layer, x, training=True, before_forward=lambda: layer.reseed(6))
    kept = (y != 0).reshape(3, -1, shape[-1])
    assert 0 < kept.mean() < 1


@pytest.mark.parametrize("cls, shape", SPATIAL, ids=["2D", "1D"])
@pytest.mark.parametrize("rate", [0.25, 0.6])
def test_spatial_dropout_drops_whole_channels_at_the_rate_with_inverted_scaling(cls, shape, rate):
    layer = build64(cls(rate, seed=7), shape)
    x = 1.0 + np.random.default_rng(8).random((2000, *shape))   # no zeros of its own
    y = np.array(layer.forward(x, training=True))
    ratio = (y / x).reshape(2000, -1, shape[-1])
    # One value per (sample, channel), the same at every position: 0 or 1/(1 − rate).
    np.testing.assert_allclose(ratio, ratio[:, :1].repeat(ratio.shape[1], axis=1), rtol=1e-13)
    assert set(np.round(np.unique(ratio), 12)) == {0.0, round(1 / (1 - rate), 12)}
    dropped = (ratio[:, 0] == 0).mean()
    assert dropped == pytest.approx(rate, abs=0.02)    # standard error ≤ 0.0045 over 12000 channels
    assert layer.output_shape == (None, *shape)
    # The backward pass uses the same mask.
    r = np.ones_like(x)
    np.testing.assert_allclose(np.array(layer.backward(r)), y / x, rtol=1e-13)


@pytest.mark.parametrize("cls, shape", SPATIAL, ids=["2D", "1D"])
def test_spatial_dropout_inference_identity_and_seeding(cls, shape):
    x = np.random.default_rng(9).standard_normal((8, *shape))
    layer = cls(0.5, seed=3)
    np.testing.assert_array_equal(layer(x), x)
    first = layer(x, training=True)
    assert not np.array_equal(first, layer(x, training=True))   # a fresh mask per call
    np.testing.assert_array_equal(first, cls(0.5, seed=3)(x, training=True))
    layer.reseed(3)
    np.testing.assert_array_equal(layer(x, training=True), first)
    np.testing.assert_array_equal(cls(0.0)(x, training=True), x)


@pytest.mark.parametrize("kwargs, message", [
    ({"rate": 1.0}, r"SpatialDropout2D rate must be a number in \[0, 1\)"),
    ({"rate": -0.2}, "rate"), ({"rate": 0.2, "data_format": "channels_first"}, "data_format"),
])
def test_spatial_dropout_bad_arguments(kwargs, message):
    with pytest.raises(ValueError, match=message):
        layers.SpatialDropout2D(**kwargs)


@pytest.mark.parametrize("cls, shape", [(layers.SpatialDropout2D, (4, 3)), (layers.SpatialDropout1D, (2, 4, 3))])
def test_spatial_dropout_needs_its_rank(cls, shape):
    with pytest.raises(ValueError, match="expects inputs of rank"):
        build64(cls(0.1), shape)


def test_fit_seed_reseeds_noise_layers_reproducibly():
    def train(seed):
        sn.utils.set_random_seed(0)
        model = sn.Sequential([sn.Input((4, 4, 2)), layers.GaussianNoise(0.2), layers.SpatialDropout2D(0.3),
                               layers.Flatten(), layers.Dense(1)])
        model.compile(optimizer="sgd", loss="mse")
        x = np.random.default_rng(0).standard_normal((16, 4, 4, 2)).astype("float32")
        model.fit(x, x[:, 0, 0, :1], epochs=2, batch_size=8, verbose=0, seed=seed)
        return model.get_weights()

    a, b, c = train(11), train(11), train(12)
    for wa, wb in zip(a, b):
        np.testing.assert_array_equal(wa, wb)
    assert any(not np.array_equal(wa, wc) for wa, wc in zip(a, c))
