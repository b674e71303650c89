"""Sequential: building, shapes, config, weights, summary, registries."""
import json

import numpy as np
import pytest

import seqnn as sn
from seqnn.errors import BackendUnavailableError, UnknownNameError

L = sn.layers


def mlp(inputs=4, hidden=8, outputs=3, **compile_args):
    model = sn.Sequential(name="mlp").add(L.Input((inputs,))).add(L.Dense(hidden, activation="relu"))
    model.add(L.Dense(outputs, activation="softmax"))
    if compile_args:
        model.compile(**compile_args)
    return model


def test_chainable_builder_returns_the_model():
    model = sn.Sequential()
    assert model.add(L.Input((4,))) is model
    assert model.add(L.Dense(2)) is model
    assert model.compile(optimizer="sgd", loss="mse") is model


def test_keras_styles_build_the_same_architecture():
    a = sn.Sequential([L.Input((4,)), L.Dense(8, activation="relu"), L.Dense(3)])
    b = sn.Sequential()
    b.add(L.Input((4,)))
    b.add(L.Dense(8, activation="relu"))
    b.add(L.Dense(3))
    assert [type(layer) for layer in a.layers] == [type(layer) for layer in b.layers]
    assert [w.shape for w in a.get_weights()] == [w.shape for w in b.get_weights()] == [(4, 8), (8,), (8, 3), (3,)]


def test_input_is_not_one_of_the_layers_and_names_are_unique():
    model = mlp()
    assert [layer.name for layer in model.layers] == ["dense", "dense_1"]
    assert model.input_shape == (None, 4)
    assert model.output_shape == (None, 3)


def test_shapes_are_inferred_from_input_shape_kwarg():
    model = sn.Sequential([L.Dense(5, input_shape=(7,)), L.Dense(2)])
    assert model.built and model.output_shape == (None, 2)
    assert model.get_weights()[0].shape == (7, 5)


def test_shapes_are_inferred_from_the_first_batch():
    model = sn.Sequential([L.Flatten(), L.Dense(3)]).compile(optimizer="sgd", loss="mse")
    assert not model.built
    model.fit(np.zeros((10, 2, 5), np.float32), np.zeros((10, 3)), verbose=0)
    assert model.built and model.input_shape == (None, 2, 5)
    assert model.get_weights()[0].shape == (10, 3)


def test_build_with_explicit_shape():
    model = sn.Sequential([L.Dense(3)])
    model.build((None, 6))
    assert model.count_params() == 6 * 3 + 3


def test_summary_lists_layers_shapes_and_params():
    lines = []
    mlp().summary(print_fn=lines.append)
    text = lines[0]
    assert 'Model: "mlp"' in text
    assert "dense (Dense)" in text and "(None, 8)" in text and "40" in text
    assert "dense_1 (Dense)" in text and "(None, 3)" in text and "27" in text
    assert "Total params: 67" in text and "Trainable params: 67" in text


def test_summary_of_unbuilt_model_says_so():
    lines = []
    sn.Sequential([L.Dense(3)]).summary(print_fn=lines.append)
    assert "unbuilt" in lines[0]


def test_count_params_and_pop():
    model = mlp()
    assert model.count_params() == 4 * 8 + 8 + 8 * 3 + 3
    popped = model.pop()
    assert isinstance(popped, L.Dense) and popped.units == 3
    assert len(model.layers) == 1 and model.output_shape == (None, 8)
    with pytest.raises(ValueError, match="no layers"):
        sn.Sequential().pop()


def test_pop_then_add_rebuilds_and_trains():
    model = mlp(optimizer="adam", loss="sparse_categorical_crossentropy")
    model.pop()
    model.add(L.Dense(2, activation="softmax"))
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
    model.fit(np.random.rand(16, 4), np.arange(16) % 2, verbose=0)
    assert model.predict(np.random.rand(3, 4), verbose=0).shape == (3, 2)


def test_get_config_round_trips_through_json():
    model = sn.Sequential(name="net", layers=[
        L.Input((6,)),
        L.Dense(5, activation="tanh", kernel_initializer="he_normal",
                kernel_regularizer=sn.regularizers.L2(1e-3)),
        L.Dropout(0.25),
        L.LeakyReLU(negative_slope=0.1),
        L.Reshape((5, 1)),
        L.Flatten(),
        L.Dense(2, activation=sn.activations.LeakyReLU(0.05), use_bias=False),
    ])
    text = json.dumps(model.get_config())
    clone = sn.Sequential.from_config(json.loads(text))
    assert clone.get_config() == model.get_config()
    clone.set_weights(model.get_weights())
    x = np.random.rand(4, 6).astype(np.float32)
    np.testing.assert_array_equal(clone.predict(x, verbose=0), model.predict(x, verbose=0))
    assert clone.layers[0].kernel_regularizer.l2 == pytest.approx(1e-3)


def test_set_weights_checks_everything_before_changing_anything():
    model = mlp()
    before = model.get_weights()
    bad = [w.copy() for w in before]
    bad[3] = np.zeros((4,))  # last bias has shape (3,)
    with pytest.raises(ValueError, match=r"dense_1\.bias expects shape \(3,\), got \(4,\)"):
        model.set_weights([w + 1 for w in bad])
    for a, b in zip(before, model.get_weights()):
        np.testing.assert_array_equal(a, b)
    with pytest.raises(ValueError, match="expected 4 arrays"):
        model.set_weights(before[:3])


def test_set_weights_uses_keras_order_and_changes_outputs():
    model = mlp()
    weights = [np.full(w.shape, 0.1 * (i + 1), np.float32) for i, w in enumerate(model.get_weights())]
    model.set_weights(weights)
    for got, want in zip(model.get_weights(), weights):
        np.testing.assert_array_equal(got, want)
    x = np.ones((1, 4), np.float32)
    h = np.maximum(x @ weights[0] + weights[1], 0)
    z = h @ weights[2] + weights[3]
    np.testing.assert_allclose(model.predict_on_batch(x), np.exp(z) / np.exp(z).sum(), rtol=1e-6)


def test_model_call_predict_and_predict_on_batch_agree():
    model = mlp()
    x = np.random.rand(5, 4).astype(np.float32)
    a = model(x, training=False)
    np.testing.assert_array_equal(a, model.predict(x, verbose=0))
    np.testing.assert_array_equal(a, model.predict_on_batch(x))
    np.testing.assert_allclose(a.sum(axis=1), 1.0, rtol=1e-6)


def test_predict_results_are_not_overwritten_by_later_calls():
    model = mlp()
    first = model.predict_on_batch(np.zeros((2, 4)))
    kept = first.copy()
    model.predict_on_batch(np.ones((2, 4)))
    np.testing.assert_array_equal(first, kept)


def test_predict_in_batches_matches_one_batch():
    model = mlp()
    x = np.random.rand(37, 4).astype(np.float32)
    np.testing.assert_allclose(model.predict(x, batch_size=8, verbose=0), model.predict_on_batch(x), rtol=1e-6)


def test_compile_fuses_softmax_into_crossentropy_but_predict_returns_probabilities():
    model = mlp(optimizer="adam", loss="sparse_categorical_crossentropy")
    x, y = np.random.rand(8, 4), np.arange(8) % 3
    model.train_on_batch(x, y)
    assert model._deferred_activation is not None and model._train_loss.from_logits
    probs = model.predict(x, verbose=0)
    np.testing.assert_allclose(probs.sum(axis=1), 1.0, rtol=1e-6)
    assert probs.min() >= 0


def test_compile_moves_weights_to_float64_keeping_values():
    model = mlp()
    before = model.get_weights()
    model.compile(optimizer="sgd", loss="mse", dtype="float64")
    after = model.get_weights()
    assert all(w.dtype == np.float64 for w in after)
    for a, b in zip(before, after):
        np.testing.assert_array_equal(a.astype(np.float64), b)


def test_backend_names():
    assert sn.backends.get("auto").name == "numpy"
    assert sn.backends.get("NumPy").name == "numpy"
    with pytest.raises(BackendUnavailableError, match="'metal' is not available: .*available backends: numpy"):
        mlp().compile(optimizer="adam", loss="mse", backend="metal")
    with pytest.raises(UnknownNameError, match="unknown backend 'tpu'; known backends: auto, numpy, metal"):
        mlp().compile(optimizer="adam", loss="mse", backend="tpu")


@pytest.mark.parametrize("registry_get, name, cls", [
    (sn.losses.get, "Sparse_Categorical_CrossEntropy", sn.losses.SparseCategoricalCrossentropy),
    (sn.losses.get, "MSE", sn.losses.MeanSquaredError),
    (sn.optimizers.get, "ADAM", sn.optimizers.Adam),
    (sn.layers.get, "dense", L.Dense),
    (sn.activations.get, "ReLU", sn.activations.ReLU),
    (sn.initializers.get, "Glorot_Uniform", sn.initializers.GlorotUniform),
    (sn.regularizers.get, "l2", sn.regularizers.L2),
])
def test_registries_are_case_insensitive(registry_get, name, cls):
    if cls is L.Dense:
        obj = registry_get({"class_name": name, "config": {"units": 3}})
    else:
        obj = registry_get(name)
    assert isinstance(obj, cls)


def test_unknown_names_list_the_known_ones():
    with pytest.raises(UnknownNameError, match=r"unknown loss 'msee'; known loss names: .*mean_squared_error"):
        sn.losses.get("msee")
    with pytest.raises(UnknownNameError, match=r"unknown optimizer 'adamm'.*adam"):
        mlp().compile(optimizer="adamm", loss="mse")
    with pytest.raises(UnknownNameError, match=r"unknown activation 'rleu'.*relu"):
        L.Dense(3, activation="rleu")


def test_custom_layer_registers_and_round_trips():
    @sn.layers.register()
    class Scale(sn.layers.Layer):
        def build(self, input_shape):
            self.add_weight("scale", (input_shape[-1],), initializer="ones")

        def forward(self, x, training=False):
            self.x = x
            return self.backend.multiply(x, self.params["scale"])

        def backward(self, dy, need_input_grad=True):
            b = self.backend
            b.bias_grad(b.multiply(dy, self.x), out=self.grads["scale"])
            return b.multiply(dy, self.params["scale"]) if need_input_grad else None

    model = sn.Sequential([L.Input((3,)), Scale(), L.Dense(1)]).compile(optimizer="sgd", loss="mse")
    clone = sn.Sequential.from_config(model.get_config())
    assert type(clone.layers[0]).__name__ == "Scale"
    x = np.random.rand(16, 3)
    model.fit(x, x.sum(axis=1), epochs=2, verbose=0)
    assert not np.allclose(model.layers[0].get_weights()[0], 1.0)


def test_adding_the_same_layer_twice_is_refused():
    dense = L.Dense(3)
    model = sn.Sequential([L.Input((3,)), dense])
    with pytest.raises(ValueError, match="already in this model"):
        model.add(dense)


def test_input_must_come_first():
    with pytest.raises(ValueError, match="first entry"):
        sn.Sequential([L.Dense(2), L.Input((3,))])


def test_layer_built_for_other_shape_is_refused():
    model = sn.Sequential([L.Input((3,)), L.Dense(2)])
    reused = model.layers[0]
    with pytest.raises(ValueError, match="built for inputs"):
        sn.Sequential([L.Input((5,)), reused])
