"""The Keras resampling, reshaping and noise layers inside models: configs, saving, and training end to end."""
import numpy as np
import pytest

import seqnn as sn
from seqnn import layers


def every_new_layer_model():
    return sn.Sequential([
        sn.Input((6, 5, 2)),
        layers.Conv2DTranspose(3, (3, 2), strides=2, padding="same", output_padding=(1, 0), activation="relu",
                               kernel_regularizer="l2", name="deconv"),
        layers.SpatialDropout2D(0.2, seed=3),
        layers.UpSampling2D((1, 2), interpolation="bilinear"),
        layers.Cropping2D(((1, 2), (3, 1))),
        layers.GaussianNoise(0.1, seed=4),
        layers.Permute((2, 1, 3)),
        layers.Reshape((-1, 3)),
        layers.Cropping1D((1, 0)),
        layers.UpSampling1D(2),
        layers.SpatialDropout1D(0.1),
        layers.Conv1DTranspose(2, 3, strides=1, use_bias=False),
        layers.Flatten(),
        layers.Dense(4),
        layers.RepeatVector(2),
    ])


def test_output_shapes_through_every_new_layer():
    model = every_new_layer_model()
    shapes = [layer.output_shape for layer in model.layers]
    assert shapes[:5] == [(None, 12, 8, 3), (None, 12, 8, 3), (None, 12, 16, 3), (None, 9, 12, 3), (None, 9, 12, 3)]
    assert shapes[5:] == [(None, 12, 9, 3), (None, 108, 3), (None, 107, 3), (None, 214, 3), (None, 214, 3),
                          (None, 216, 2), (None, 432), (None, 4), (None, 2, 4)]


def test_default_names_are_keras_names():
    model = every_new_layer_model()
    assert [layer.name for layer in model.layers] == [
        "deconv", "spatial_dropout2d", "up_sampling2d", "cropping2d", "gaussian_noise", "permute", "reshape",
        "cropping1d", "up_sampling1d", "spatial_dropout1d", "conv1d_transpose", "flatten", "dense", "repeat_vector"]
    assert sn.Sequential([sn.Input((2, 2, 1)), layers.Conv2DTranspose(1, 1)]).layers[0].name == "conv2d_transpose"


def test_config_round_trip_rebuilds_the_same_layers():
    model = every_new_layer_model()
    config = model.get_config()
    again = sn.Sequential.from_config(config)
    assert again.get_config() == config
    assert [type(layer) for layer in again.layers] == [type(layer) for layer in model.layers]
    deconv = again.layers[0]
    assert (deconv.output_padding, deconv.strides, deconv.padding) == ((1, 0), (2, 2), "same")
    assert again.layers[2].interpolation == "bilinear" and again.layers[5].dims == (2, 1, 3)
    assert again.layers[1].seed == 3 and again.layers[4].stddev == 0.1


def test_save_and_load_model_predicts_identically(tmp_path):
    model = every_new_layer_model().compile(optimizer="adam", loss="mse")
    x = np.random.default_rng(0).standard_normal((5, 6, 5, 2)).astype("float32")
    model.fit(x, np.zeros((5, 2, 4), "float32"), epochs=1, batch_size=5, verbose=0)
    path = tmp_path / "m.safetensors"
    model.save(path)
    loaded = sn.load_model(path)
    assert loaded.get_config() == model.get_config()
    assert loaded.layers[0].params["kernel"].shape == (3, 2, 3, 2)
    np.testing.assert_array_equal(loaded.predict(x, verbose=0), model.predict(x, verbose=0))


@pytest.mark.parametrize("name, config, cls", [
    ("Conv2DTranspose", {"filters": 1, "kernel_size": 1}, layers.Conv2DTranspose),
    ("Convolution2DTranspose", {"filters": 1, "kernel_size": 1}, layers.Conv2DTranspose),
    ("upsampling2d", {}, layers.UpSampling2D), ("Cropping1D", {}, layers.Cropping1D),
    ("SpatialDropout2D", {"rate": 0.1}, layers.SpatialDropout2D), ("GaussianNoise", {"stddev": 0.1},
                                                                  layers.GaussianNoise),
    ("Permute", {"dims": [1]}, layers.Permute), ("RepeatVector", {"n": 2}, layers.RepeatVector),
])
def test_new_layers_resolve_by_name(name, config, cls):
    assert name in sn.layers.registry
    assert type(sn.layers.get({"class_name": name, "config": config})) is cls


def test_tiny_autoencoder_trains_and_loss_goes_down():
    rng = np.random.default_rng(0)
    # Smooth 8x8 images (a few blobs), so a 2x bottleneck can reconstruct them.
    grid = np.stack(np.meshgrid(np.arange(8), np.arange(8), indexing="ij"), -1)
    centres = rng.uniform(1, 7, size=(64, 1, 1, 2))
    x = np.exp(-((grid - centres) ** 2).sum(-1) / 6.0)[..., None].astype("float32")
    model = sn.Sequential([
        sn.Input((8, 8, 1)),
        layers.Conv2D(8, 3, strides=2, padding="same", activation="relu"),            # 4x4x8
        layers.Conv2DTranspose(8, 3, strides=2, padding="valid", activation="relu"),  # 9x9x8
        layers.Cropping2D(((0, 1), (0, 1))),                                          # 8x8x8
        layers.Conv2D(4, 3, strides=2, padding="same", activation="relu"),            # 4x4x4
        layers.UpSampling2D(2),                                                        # 8x8x4
        layers.Conv2D(1, 3, padding="same", activation="sigmoid"),
    ]).compile(optimizer=sn.optimizers.Adam(1e-2), loss="mse")
    history = model.fit(x, x, epochs=8, batch_size=16, verbose=0, seed=0)
    losses = history.history["loss"]
    assert losses[-1] < 0.25 * losses[0], losses
    assert model.predict(x[:2], verbose=0).shape == (2, 8, 8, 1)
