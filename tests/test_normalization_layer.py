"""layers.Normalization: Keras's formula, adapt(), invert, gradients, errors, and saving with the model."""
import numpy as np
import pytest

import seqnn as sn
from gradcheck import build64, check_layer

EPSILON = 1e-7  # Keras's backend.epsilon()


def keras_formula(x, mean, variance, invert=False):
    """keras.layers.Normalization.call, as documented: (x - mean) / max(sqrt(variance), epsilon)."""
    std = np.maximum(np.sqrt(variance), EPSILON)
    return mean + x * std if invert else (x - mean) / std


@pytest.mark.parametrize("invert", [False, True])
def test_matches_keras_formula_with_given_statistics(invert):
    mean, variance = np.array([1.0, -2.0, 0.5]), np.array([4.0, 0.0, 0.01])
    layer = sn.layers.Normalization(mean=mean, variance=variance, invert=invert)
    x = np.random.default_rng(0).normal(size=(5, 2, 3))
    np.testing.assert_allclose(layer(x), keras_formula(x, mean, variance, invert), rtol=1e-12)


def test_adapt_learns_per_feature_mean_and_biased_variance():
    x = np.random.default_rng(1).normal([1e6, 3.0, -5.0], [2.0, 0.1, 10.0], size=(1000, 3))
    layer = sn.layers.Normalization()
    layer.adapt(x)
    layer.build((None, 3))
    mean, variance = layer.get_weights()
    np.testing.assert_allclose(mean, x.mean(0), rtol=1e-6)
    np.testing.assert_allclose(variance, x.var(0), rtol=1e-4)  # float32 weights
    y = sn.layers.Normalization(mean=x.mean(0), variance=x.var(0))(x.astype(np.float64))
    np.testing.assert_allclose(y.mean(0), 0, atol=1e-6)
    np.testing.assert_allclose(y.std(0), 1, rtol=1e-6)


def test_adapt_after_build_and_from_batches():
    x = np.arange(24.0).reshape(8, 3)
    layer = sn.layers.Normalization()
    layer(x)  # built with mean 0, variance 1: the identity
    layer.adapt(iter([x[:5], x[5:]]))
    np.testing.assert_allclose(layer.get_weights()[0], x.mean(0))
    np.testing.assert_allclose(layer(x), keras_formula(x, x.mean(0), x.var(0)), rtol=1e-6, atol=1e-6)


@pytest.mark.parametrize("invert", [False, True])
def test_gradients(invert):
    layer = sn.layers.Normalization(mean=[0.5, -1.0], variance=[2.0, 0.3], invert=invert)
    build64(layer, (3, 2))
    check_layer(layer, np.random.default_rng(2).normal(size=(4, 3, 2)))
    assert layer.trainable_names == []


def test_statistics_are_saved_and_loaded_with_the_model(tmp_path):
    x = np.random.default_rng(3).normal(50, 7, size=(64, 4)).astype(np.float32)
    norm = sn.layers.Normalization()
    norm.adapt(x)
    model = sn.Sequential([sn.Input((4,)), norm, sn.layers.Dense(2)]).compile(loss="mse", optimizer="adam")
    before = norm.get_weights()
    model.fit(x, x[:, :2], epochs=2, verbose=0)
    for a, b in zip(before, norm.get_weights()):
        np.testing.assert_array_equal(a, b)  # not trained
    model.save(tmp_path / "m.safetensors")
    loaded = sn.load_model(tmp_path / "m.safetensors")
    np.testing.assert_allclose(loaded.predict(x, verbose=0), model.predict(x, verbose=0), rtol=1e-6)
    assert isinstance(loaded.layers[0], sn.layers.Normalization)
    assert model.count_params() == 8 + 4 * 2 + 2


@pytest.mark.parametrize("kwargs, message", [
    ({"mean": [1.0]}, "give both mean and variance"),
    ({"mean": 0.0, "variance": -1.0}, "variance must be >= 0"),
    ({"mean": "a", "variance": 1.0}, "mean must be a number"),
    ({"mean": [[1.0]], "variance": 1.0}, "1-D list"),
    ({"axis": "x"}, "axis must be an int"),
])
def test_bad_arguments_are_named(kwargs, message):
    with pytest.raises(ValueError, match=message):
        sn.layers.Normalization(**kwargs)


def test_feature_count_mismatch_and_bad_adapt_data():
    with pytest.raises(ValueError, match="2 statistics for inputs with 3 features"):
        sn.layers.Normalization(mean=[0.0, 1.0], variance=[1.0, 1.0])(np.zeros((2, 3)))
    with pytest.raises(ValueError, match="NaN or inf"):
        sn.layers.Normalization().adapt(np.array([[1.0], [np.nan]]))
    with pytest.raises(ValueError, match=r"axis=1 .* shape \(None, 3, 2\)"):
        sn.layers.Normalization(axis=1)(np.zeros((2, 3, 2)))
