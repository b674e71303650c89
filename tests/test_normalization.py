"""BatchNormalization and LayerNormalization: gradients (float64 finite differences) and behaviour.

BatchNormalization is checked in training mode (batch statistics, whose
dependence on x is part of the gradient) and in inference mode (moving
statistics, an affine map per channel); then what Keras users rely on: the
moving statistics update rule, inference with them, ``trainable=False``
freezing the layer into inference mode, and the moving statistics living in
the weights file.
"""
import numpy as np
import pytest

import seqnn as sn
from gradcheck import build64, check_layer, layer_analytic
from seqnn import layers


def set_random_affine(layer, seed):
    rng = np.random.default_rng(seed)
    weights = []
    for key, w in zip(layer.params, layer.get_weights()):
        if key == "moving_variance":
            weights.append(rng.uniform(0.5, 2.0, w.shape))
        else:
            weights.append(rng.standard_normal(w.shape))
    layer.set_weights(weights)


@pytest.mark.parametrize("shape", [(6, 3), (3, 4, 2), (2, 3, 3, 4)], ids=["rank2", "rank3", "rank4"])
@pytest.mark.parametrize("center, scale", [(True, True), (False, True), (True, False), (False, False)])
def test_batchnorm_training_gradients(shape, center, scale):
    layer = build64(layers.BatchNormalization(center=center, scale=scale), shape[1:])
    set_random_affine(layer, 1)
    x = np.random.default_rng(2).standard_normal(shape) * 2 + 1
    y, _, grads = check_layer(layer, x, training=True)
    assert set(grads) == {k for k, on in (("gamma", scale), ("beta", center)) if on}
    x2 = x.reshape(-1, shape[-1])
    ref = (x2 - x2.mean(0)) / np.sqrt(x2.var(0) + 1e-3)
    if scale:
        ref = ref * layer.params["gamma"]
    if center:
        ref = ref + layer.params["beta"]
    np.testing.assert_allclose(y, ref.reshape(shape), rtol=1e-12, atol=1e-13)


@pytest.mark.parametrize("shape", [(5, 3), (2, 3, 3, 2)], ids=["rank2", "rank4"])
def test_batchnorm_inference_gradients(shape):
    layer = build64(layers.BatchNormalization(epsilon=0.01), shape[1:])
    set_random_affine(layer, 3)
    x = np.random.default_rng(4).standard_normal(shape)
    y, _, _ = check_layer(layer, x, training=False)
    gamma, beta, mean, var = layer.get_weights()
    np.testing.assert_allclose(y, (x - mean) / np.sqrt(var + 0.01) * gamma + beta, rtol=1e-12)


def test_batchnorm_moving_statistics_follow_keras_rule():
    layer = build64(layers.BatchNormalization(momentum=0.9), (3,))
    rng = np.random.default_rng(5)
    mean, var = np.zeros(3), np.ones(3)
    for _ in range(3):
        x = rng.standard_normal((8, 3)) * 3 + 2
        layer.forward(x, training=True)
        mean = 0.9 * mean + 0.1 * x.mean(0)
        var = 0.9 * var + 0.1 * x.var(0)  # the biased batch variance, as Keras
    np.testing.assert_allclose(layer.params["moving_mean"], mean, rtol=1e-13)
    np.testing.assert_allclose(layer.params["moving_variance"], var, rtol=1e-13)
    before = layer.get_weights()
    layer.forward(rng.standard_normal((8, 3)), training=False)  # inference leaves them alone
    for a, b in zip(before, layer.get_weights()):
        np.testing.assert_array_equal(a, b)


def test_batchnorm_training_and_inference_differ_until_statistics_converge():
    layer = build64(layers.BatchNormalization(momentum=0.0), (2,))  # moving stats = last batch's
    x = np.random.default_rng(6).standard_normal((50, 2)) * 4 - 3
    y_train = np.array(layer.forward(x, training=True))
    np.testing.assert_allclose(y_train.mean(0), 0, atol=1e-12)
    np.testing.assert_allclose(y_train.var(0), 1 / (1 + 1e-3 / x.var(0)), rtol=1e-10)
    y_infer = np.array(layer.forward(x, training=False))
    np.testing.assert_allclose(y_infer, y_train, rtol=1e-12, atol=1e-12)
    fresh = build64(layers.BatchNormalization(), (2,))  # moving mean 0, variance 1
    np.testing.assert_allclose(np.array(fresh.forward(x, training=False)), x / np.sqrt(1 + 1e-3), rtol=1e-12)


def test_batchnorm_frozen_layer_runs_in_inference_mode_and_keeps_its_statistics():
    model = (sn.Sequential()
             .add(layers.Input((4,)))
             .add(layers.BatchNormalization(trainable=False))
             .add(layers.Dense(2))
             .compile(optimizer=sn.optimizers.SGD(0.1), loss="mse", dtype="float64"))
    bn = model.layers[0]
    set_random_affine(bn, 7)
    before = bn.get_weights()
    x = np.random.default_rng(8).standard_normal((16, 4))
    model.fit(x, np.zeros((16, 2)), epochs=2, batch_size=8, verbose=0)
    for a, b in zip(before, bn.get_weights()):
        np.testing.assert_array_equal(a, b)
    gamma, beta, mean, var = before
    np.testing.assert_allclose(np.array(bn.forward(x, training=True)),
                               (x - mean) / np.sqrt(var + 1e-3) * gamma + beta, rtol=1e-12)


def test_batchnorm_weights_order_and_round_trip_through_a_file(tmp_path):
    model = (sn.Sequential()
             .add(layers.Input((4, 4, 2)))
             .add(layers.Conv2D(3, 3, padding="same"))
             .add(layers.BatchNormalization(momentum=0.5))
             .add(layers.GlobalAveragePooling2D())
             .add(layers.Dense(2, activation="softmax"))
             .compile(optimizer="adam", loss="sparse_categorical_crossentropy"))
    bn = model.layers[1]
    assert list(bn.params) == ["gamma", "beta", "moving_mean", "moving_variance"]
    assert bn.trainable_names == ["gamma", "beta"]
    assert model.count_params() == (3 * 3 * 2 * 3 + 3) + 4 * 3 + (3 * 2 + 2)
    x = np.random.default_rng(9).standard_normal((10, 4, 4, 2)).astype(np.float32)
    model.fit(x, np.arange(10) % 2, epochs=1, batch_size=5, verbose=0)
    assert not np.allclose(bn.get_weights()[2], 0)  # the moving mean moved
    path = tmp_path / "bn.safetensors"
    model.save(path)
    loaded = sn.load_model(path)
    for a, b in zip(model.get_weights(), loaded.get_weights()):
        np.testing.assert_array_equal(a, b)
    np.testing.assert_allclose(loaded.predict(x, verbose=0), model.predict(x, verbose=0), rtol=1e-6)


@pytest.mark.parametrize("shape, axis", [((4, 5), -1), ((3, 2, 4), -1), ((2, 3, 2, 3), [-2, -1]),
                                         ((2, 2, 3, 2), [1, 2, 3])])
@pytest.mark.parametrize("center, scale", [(True, True), (False, False), (True, False)])
def test_layernorm_gradients(shape, axis, center, scale):
    layer = build64(layers.LayerNormalization(axis=axis, center=center, scale=scale), shape[1:])
    set_random_affine(layer, 10)
    x = np.random.default_rng(11).standard_normal(shape) * 3 + 1
    y, _, grads = check_layer(layer, x, training=True)
    assert set(grads) == {k for k, on in (("gamma", scale), ("beta", center)) if on}
    axes = tuple(range(len(shape) - (len(axis) if isinstance(axis, list) else 1), len(shape)))
    ref = (x - x.mean(axes, keepdims=True)) / np.sqrt(x.var(axes, keepdims=True) + 1e-3)
    if scale:
        ref = ref * layer.params["gamma"]
    if center:
        ref = ref + layer.params["beta"]
    np.testing.assert_allclose(y, ref, rtol=1e-12, atol=1e-13)


def test_layernorm_same_in_training_and_inference():
    layer = build64(layers.LayerNormalization(), (6,))
    x = np.random.default_rng(12).standard_normal((3, 6))
    np.testing.assert_array_equal(np.array(layer.forward(x, training=True)), np.array(layer.forward(x)))


def test_normalization_backward_without_input_gradient_fills_grads():
    for layer, shape in ((layers.BatchNormalization(), (6, 3)), (layers.LayerNormalization(), (4, 5))):
        build64(layer, shape[1:])
        set_random_affine(layer, 13)
        x = np.random.default_rng(14).standard_normal(shape)
        r = np.random.default_rng(15).standard_normal(shape)
        _, _, grads = layer_analytic(layer, x, r, training=True)
        layer.forward(x, training=True)
        assert layer.backward(r.copy(), need_input_grad=False) is None
        for key, g in grads.items():
            np.testing.assert_allclose(layer.grads[key], g, rtol=1e-13)


@pytest.mark.parametrize("make, match", [
    (lambda: build64(layers.BatchNormalization(axis=1), (3, 4)), "last axis"),
    (lambda: layers.BatchNormalization(momentum=1.5), "momentum"),
    (lambda: layers.BatchNormalization(epsilon=0), "epsilon"),
    (lambda: layers.BatchNormalization(axis="x"), "axis"),
    (lambda: build64(layers.LayerNormalization(axis=1), (3, 4)), "trailing"),
    (lambda: build64(layers.LayerNormalization(axis=[1, 3]), (3, 4, 5)), "trailing"),
    (lambda: layers.LayerNormalization(rms_scaling=True), "rms_scaling"),
])
def test_normalization_bad_arguments(make, match):
    with pytest.raises(ValueError, match=match):
        make()
