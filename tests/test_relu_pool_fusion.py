"""A ReLU followed by max pooling is applied after the pooling: same bits, fewer passes."""
import numpy as np
import pytest

import seqnn as sn

L = sn.layers


def cnn(separated: bool, pool, conv=L.Conv2D, input_shape=(9, 10, 2)):
    """conv(relu) → max pool → ...; ``separated`` puts a no-op Reshape between them, which stops the fusion."""
    model = sn.Sequential([L.Input(input_shape), conv(6, 3, activation="relu")])
    if separated:
        model.add(L.Reshape(model.output_shape[1:]))
    model.add(pool)
    model.add(L.Activation("relu"))
    model.add(L.MaxPooling2D(2) if conv is L.Conv2D else L.MaxPooling1D(2))
    model.add(L.Flatten()).add(L.Dense(3, activation="softmax"))
    return model


def train(model, x, y):
    sn.utils.set_random_seed(3)
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", dtype="float64")
    model.set_weights(reference_weights(model))
    history = model.fit(x, y, epochs=2, batch_size=8, seed=1, verbose=0)
    return history.history["loss"], model.get_weights(), model.predict(x, verbose=0)


def reference_weights(model):
    rng = np.random.default_rng(0)
    return [rng.standard_normal(w.shape) * 0.5 for w in model.get_weights()]


@pytest.mark.parametrize("pool", [
    lambda: L.MaxPooling2D(2),
    lambda: L.MaxPooling2D(3, strides=1, padding="same"),  # overlapping windows, −∞ padding
    lambda: L.MaxPooling2D((2, 3), strides=(1, 2)),
])
def test_fused_training_is_bit_identical_to_unfused(pool):
    rng = np.random.default_rng(1)
    x = rng.integers(-2, 3, size=(24, 9, 10, 2)).astype(np.float64)  # small integers: many exact ties
    y = rng.integers(0, 3, size=24)
    fused = cnn(False, pool())
    separated = cnn(True, pool())
    a, b = train(fused, x, y), train(separated, x, y)
    assert [pair for pair in fused._relu_pool_pairs] == [(fused.layers[0], fused.layers[1]),
                                                          (fused.layers[2], fused.layers[3])]
    assert len(separated._relu_pool_pairs) == 1  # the Activation(relu) → MaxPooling2D pair only
    assert a[0] == b[0]
    for wa, wb in zip(a[1], b[1]):
        np.testing.assert_array_equal(wa, wb)
    np.testing.assert_array_equal(a[2], b[2])


def test_conv1d_and_max_pooling1d_fuse_too():
    rng = np.random.default_rng(2)
    x = rng.standard_normal((16, 12, 3))
    y = rng.integers(0, 3, size=16)
    fused = cnn(False, L.MaxPooling1D(2), conv=L.Conv1D, input_shape=(12, 3))
    separated = cnn(True, L.MaxPooling1D(2), conv=L.Conv1D, input_shape=(12, 3))
    a, b = train(fused, x, y), train(separated, x, y)
    assert len(fused._relu_pool_pairs) == 2
    for wa, wb in zip(a[1], b[1]):
        np.testing.assert_array_equal(wa, wb)


def test_layers_called_alone_apply_their_own_relu():
    model = cnn(False, L.MaxPooling2D(2))
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
    x = np.random.default_rng(0).standard_normal((4, 9, 10, 2)).astype(np.float32)
    model.evaluate(x, np.zeros(4), verbose=0)  # prepares the fusion
    conv, pool = model.layers[0], model.layers[1]
    assert conv._deferred and pool._relu_output
    z = conv(x)
    assert z.min() == 0.0  # the ReLU ran although the model defers it to the pooling
    pooled = pool(-np.abs(z) - 1)
    assert pooled.max() < 0  # and the pooling alone applies none


def test_only_plain_relu_before_max_pooling_fuses():
    def prepared(*layers):
        model = sn.Sequential([L.Input((8, 8, 2)), *layers, L.Flatten(), L.Dense(2, activation="softmax")])
        model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
        model.evaluate(np.zeros((1, 8, 8, 2), np.float32), np.zeros(1), verbose=0)
        return model._relu_pool_pairs

    assert prepared(L.Conv2D(4, 3, activation="relu"), L.MaxPooling2D(2))
    assert not prepared(L.Conv2D(4, 3, activation="relu"), L.AveragePooling2D(2))
    assert not prepared(L.Conv2D(4, 3, activation="elu"), L.MaxPooling2D(2))
    assert not prepared(L.Conv2D(4, 3), L.LeakyReLU(0.1), L.MaxPooling2D(2))


def test_removing_the_pooling_undoes_the_fusion():
    model = cnn(False, L.MaxPooling2D(2))
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
    x = np.random.default_rng(0).standard_normal((4, 9, 10, 2)).astype(np.float32)
    model.evaluate(x, np.zeros(4), verbose=0)
    conv = model.layers[0]
    assert conv._deferred
    while len(model.layers) > 1:
        model.pop()
    assert not conv._deferred
    assert model.predict(x, verbose=0).min() == 0.0


def test_average_pooling_refuses_to_take_a_relu():
    with pytest.raises(ValueError, match="AveragePooling2D does not commute with ReLU"):
        L.AveragePooling2D(2).take_relu(True)
