"""The convolution-family layers as Keras users meet them: shapes, arguments, errors, configs, files."""
import json

import numpy as np
import pytest

import seqnn as sn
from seqnn import layers

ALL_LAYERS = [
    (lambda: layers.Conv2D(4, 3, strides=2, padding="same", dilation_rate=1, activation="relu",
                           use_bias=False, kernel_initializer="he_normal", kernel_regularizer="l2"), (9, 9, 2)),
    (lambda: layers.Conv1D(3, 2, padding="causal", dilation_rate=2, bias_regularizer=sn.regularizers.L1(0.1)),
     (8, 2)),
    (lambda: layers.MaxPooling2D((2, 3), strides=1, padding="same"), (5, 6, 2)),
    (lambda: layers.AveragePooling2D(2), (4, 4, 3)),
    (lambda: layers.MaxPooling1D(3, strides=2), (9, 2)),
    (lambda: layers.AveragePooling1D(2, padding="same"), (5, 2)),
    (lambda: layers.GlobalAveragePooling2D(keepdims=True), (3, 3, 2)),
    (lambda: layers.GlobalMaxPooling2D(), (3, 3, 2)),
    (lambda: layers.GlobalAveragePooling1D(), (4, 2)),
    (lambda: layers.GlobalMaxPooling1D(keepdims=True), (4, 2)),
    (lambda: layers.ZeroPadding2D(((1, 0), (2, 1))), (3, 3, 2)),
    (lambda: layers.ZeroPadding1D((0, 2)), (3, 2)),
    (lambda: layers.BatchNormalization(momentum=0.9, epsilon=1e-2, center=False), (3, 3, 2)),
    (lambda: layers.LayerNormalization(axis=[-2, -1], scale=False), (3, 4)),
]


@pytest.mark.parametrize("make, shape", ALL_LAYERS, ids=lambda v: type(v()).__name__ if callable(v) else "")
def test_config_round_trip_and_same_outputs(make, shape):
    layer = make()
    config = json.loads(json.dumps(sn.layers.serialize(layer)))  # plain JSON
    clone = sn.layers.get(config)
    assert type(clone) is type(layer)
    assert clone.get_config() == layer.get_config()
    x = np.random.default_rng(0).standard_normal((2, *shape)).astype(np.float32)
    y = layer(x)
    clone.build_for(layer.input_shape, layer.backend, layer.dtype)
    clone.set_weights(layer.get_weights())
    np.testing.assert_array_equal(clone(x), y)
    assert y.shape[1:] == layer.output_shape[1:]


def test_model_with_every_layer_saves_and_loads(tmp_path):
    model = (sn.Sequential(name="cnn_all")
             .add(layers.Input((12, 12, 1)))
             .add(layers.ZeroPadding2D(1))
             .add(layers.Conv2D(4, 3, activation="relu"))
             .add(layers.BatchNormalization())
             .add(layers.MaxPooling2D(2))
             .add(layers.Conv2D(6, 3, padding="same", dilation_rate=2))
             .add(layers.AveragePooling2D(2, padding="same"))
             .add(layers.Reshape((9, 6)))
             .add(layers.Conv1D(5, 2, padding="causal"))
             .add(layers.LayerNormalization())
             .add(layers.MaxPooling1D(2, padding="same"))
             .add(layers.GlobalAveragePooling1D())
             .add(layers.Dense(3, activation="softmax"))
             .compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"]))
    x = np.random.default_rng(1).random((20, 12, 12, 1)).astype(np.float32)
    y = np.arange(20) % 3
    model.fit(x, y, epochs=2, batch_size=8, verbose=0)
    path = tmp_path / "m.safetensors"
    model.save(path)
    loaded = sn.load_model(path)
    assert [type(layer) for layer in loaded.layers] == [type(layer) for layer in model.layers]
    np.testing.assert_array_equal(loaded.predict(x, verbose=0), model.predict(x, verbose=0))
    loaded.fit(x, y, epochs=1, batch_size=8, verbose=0)  # and it trains on


@pytest.mark.parametrize("layer, shape, expected", [
    (layers.Conv2D(8, 3), (28, 28, 1), (26, 26, 8)),
    (layers.Conv2D(8, 3, padding="same"), (28, 28, 1), (28, 28, 8)),
    (layers.Conv2D(8, 3, strides=2, padding="same"), (7, 8, 1), (4, 4, 8)),
    (layers.Conv2D(8, (3, 1), strides=(2, 1)), (7, 8, 2), (3, 8, 8)),
    (layers.Conv2D(8, 3, dilation_rate=2), (9, 9, 1), (5, 5, 8)),
    (layers.Conv1D(4, 5, padding="causal", dilation_rate=3), (20, 2), (20, 4)),
    (layers.Conv1D(4, 5, strides=3), (20, 2), (6, 4)),
    (layers.MaxPooling2D(), (5, 5, 3), (2, 2, 3)),
    (layers.MaxPooling2D(padding="same"), (5, 5, 3), (3, 3, 3)),
    (layers.AveragePooling2D(3, strides=1), (5, 4, 3), (3, 2, 3)),
    (layers.MaxPooling1D(), (7, 3), (3, 3)),
    (layers.GlobalMaxPooling2D(), (5, 4, 3), (3,)),
    (layers.ZeroPadding2D((1, 2)), (5, 4, 3), (7, 8, 3)),
])
def test_output_shapes(layer, shape, expected):
    model = sn.Sequential([layers.Input(shape), layer])
    assert model.output_shape == (None, *expected)


def test_keras_names_and_aliases():
    model = sn.Sequential([layers.Input((8, 8, 1)), layers.Conv2D(2, 3), layers.MaxPool2D(), layers.Conv2D(2, 1),
                           layers.GlobalAvgPool2D(), layers.BatchNormalization()])
    assert [layer.name for layer in model.layers] == ["conv2d", "max_pooling2d", "conv2d_1",
                                                      "global_average_pooling2d", "batch_normalization"]
    assert layers.Convolution2D is layers.Conv2D and layers.AvgPool1D is layers.AveragePooling1D
    assert type(sn.layers.get("maxpool2d")) is layers.MaxPooling2D
    assert type(sn.layers.get({"class_name": "Convolution1D", "config": {"filters": 2, "kernel_size": 3}})) \
        is layers.Conv1D


def test_conv_weights_are_keras_shaped_and_glorot_initialized():
    model = sn.Sequential([layers.Input((10, 10, 3)), layers.Conv2D(16, (3, 5))])
    kernel, bias = model.layers[0].get_weights()
    assert kernel.shape == (3, 5, 3, 16) and bias.shape == (16,)
    limit = np.sqrt(6 / (3 * 5 * 3 + 3 * 5 * 16))
    assert np.abs(kernel).max() <= limit and np.abs(kernel).max() > 0.9 * limit
    np.testing.assert_array_equal(bias, 0)
    conv1d = sn.Sequential([layers.Input((10, 3)), layers.Conv1D(4, 5)]).layers[0]
    assert conv1d.get_weights()[0].shape == (5, 3, 4)


@pytest.mark.parametrize("layer, shape, match", [
    (layers.Conv2D(4, 5), (3, 3, 1), r"kernel_size \(5, 5\) is larger than the input \(3, 3\) with padding='valid'"),
    (layers.Conv2D(4, 3, dilation_rate=3), (5, 5, 1), r"dilated to \(7, 7\)"),
    (layers.Conv2D(4, 3), (28, 28), r"expects inputs of rank 4 \(batch, height, width, channels\), got shape "
                                    r"\(None, 28, 28\)"),
    (layers.Conv1D(4, 3), (28, 28, 1), r"rank 3 \(batch, steps, channels\)"),
    (layers.MaxPooling2D(4), (3, 8, 1), r"pool_size \(4, 4\) is larger than the input \(3, 8\)"),
    (layers.GlobalAveragePooling2D(), (8, 3), r"rank 4"),
    (layers.ZeroPadding2D(1), (8, 3), r"rank 4"),
])
def test_shape_errors_name_the_layer_and_what_was_expected(layer, shape, match):
    with pytest.raises(ValueError, match=match) as info:
        sn.Sequential([layers.Input(shape), layer])
    assert repr(layer.name) in str(info.value) and type(layer).__name__ in str(info.value)


@pytest.mark.parametrize("make, match", [
    (lambda: layers.Conv2D(0, 3), "filters"),
    (lambda: layers.Conv2D(4, (3, 3, 3)), "kernel_size"),
    (lambda: layers.Conv2D(4, 3, strides=0), "strides"),
    (lambda: layers.Conv2D(4, 3, strides=(1, -2)), "strides"),
    (lambda: layers.Conv2D(4, 3, dilation_rate=1.5), "dilation_rate"),
    (lambda: layers.Conv2D(4, 3, padding="causal"), "padding"),
    (lambda: layers.Conv2D(4, 3, data_format="channels_first"), "channels_last"),
    (lambda: layers.Conv2D(4, 3, groups=2), "groups"),
    (lambda: layers.Conv1D(4, 3, padding="full"), "padding"),
    (lambda: layers.MaxPooling2D(pool_size=(2, 0)), "pool_size"),
    (lambda: layers.AveragePooling1D(2, strides=(1, 1)), "strides"),
    (lambda: layers.ZeroPadding2D(-1), "padding"),
    (lambda: layers.ZeroPadding2D((1, 2, 3)), "padding"),
])
def test_bad_arguments_are_refused_at_construction(make, match):
    with pytest.raises((ValueError, TypeError), match=match):
        make()


def test_cnn_trains_in_float64_and_float32():
    x = np.random.default_rng(2).random((40, 8, 8, 1))
    y = (x[:, :4].mean(axis=(1, 2, 3)) > x[:, 4:].mean(axis=(1, 2, 3))).astype(np.int64)
    for dtype in ("float32", "float64"):
        sn.utils.set_random_seed(0)
        model = (sn.Sequential([layers.Input((8, 8, 1)), layers.Conv2D(4, 3, activation="relu"),
                                layers.MaxPooling2D(), layers.Flatten(), layers.Dense(2, activation="softmax")])
                 .compile(optimizer=sn.optimizers.Adam(0.01), loss="sparse_categorical_crossentropy",
                          metrics=["accuracy"], dtype=dtype))
        history = model.fit(x, y, epochs=15, batch_size=8, verbose=0)
        assert history.history["loss"][-1] < history.history["loss"][0]
        assert model.predict(x, verbose=0).dtype == np.dtype(dtype)
