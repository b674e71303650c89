"""Keras names and behaviours that published Keras scripts rely on, written as those scripts write them."""
import math

import numpy as np
import pytest

import seqnn as keras
from seqnn import layers


def classification_data(n=64, features=6, classes=3, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, features)).astype(np.float32)
    y = (x[:, 0] > 0).astype(int) + (x[:, 1] > 0.5).astype(int)
    return x, y % classes


def small_classifier(features=6, **dense_args):
    model = keras.Sequential([keras.Input((features,)), layers.Dense(8, activation="relu", **dense_args),
                              layers.Dense(3, activation="softmax")])
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    return model


# ------------------------------------------------------------ callback logs ---
class RecordLogs(keras.callbacks.Callback):
    """Every hook, with the type of logs it got (the callbacks guide calls logs.keys() in each)."""

    def __init__(self):
        super().__init__()
        self.seen = []

    def __getattribute__(self, name):
        if name.startswith("on_") and name not in ("on_batch_begin", "on_batch_end"):
            def hook(*args, logs=None):
                self.seen.append((name, type(logs).__name__, sorted(logs.keys())))
            return hook
        return super().__getattribute__(name)


def test_every_hook_gets_a_dict_of_logs():
    x, y = classification_data()
    model = small_classifier()
    recorder = RecordLogs()
    model.fit(x, y, epochs=1, batch_size=32, validation_split=0.25, verbose=0, callbacks=[recorder])
    model.evaluate(x, y, verbose=0, callbacks=[recorder])
    model.predict(x, verbose=0, callbacks=[recorder])
    hooks = {name for name, _, _ in recorder.seen}
    assert hooks == {f"on_{phase}_{when}" for phase in ("train", "test", "predict") for when in ("begin", "end")} | {
        f"on_{phase}_batch_{when}" for phase in ("train", "test", "predict") for when in ("begin", "end")} | {
        "on_epoch_begin", "on_epoch_end"}
    assert {kind for _, kind, _ in recorder.seen} == {"dict"}
    assert ("on_epoch_end", "dict", ["accuracy", "loss", "val_accuracy", "val_loss"]) in recorder.seen


# ----------------------------------------------------------------- names ---
def test_keras_models_and_saving_modules(tmp_path):
    assert keras.models.Sequential is keras.Sequential
    model = small_classifier()
    model.save(tmp_path / "m.safetensors")
    for load in (keras.models.load_model, keras.saving.load_model, keras.load_model):
        assert isinstance(load(tmp_path / "m.safetensors"), keras.models.Sequential)


def test_get_layer_by_name_and_index():
    model = small_classifier()
    first, last = model.layers
    assert model.get_layer("dense") is first and model.get_layer(index=1) is last
    assert model.get_layer(index=-1) is last
    with pytest.raises(ValueError, match="no layer named 'nope'; the layers are 'dense', 'dense_1'"):
        model.get_layer("nope")
    with pytest.raises(ValueError, match="index 2 is out of range for a model with 2 layers"):
        model.get_layer(index=2)
    with pytest.raises(ValueError, match="not both and not neither"):
        model.get_layer()


def test_metrics_names_follow_evaluate_order():
    x, y = classification_data()
    model = keras.Sequential([keras.Input((6,)), layers.Dense(3, activation="softmax")])
    assert model.metrics_names == []
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy",
                  metrics=["acc", keras.metrics.SparseTopKCategoricalAccuracy(k=2, name="top2")])
    scores = model.evaluate(x, y, verbose=0)
    assert model.metrics_names == ["loss", "acc", "top2"]
    assert dict(zip(model.metrics_names, scores)) == model.evaluate(x, y, verbose=0, return_dict=True)


def test_input_dim_is_input_shape_of_one_axis():
    model = keras.Sequential()
    model.add(layers.Dense(4, input_dim=6, activation="relu"))
    model.add(layers.Dense(1))
    assert model.input_shape == (None, 6) and model.built
    with pytest.raises(ValueError, match="input_dim must be a positive integer, got 0"):
        layers.Dense(4, input_dim=0)
    with pytest.raises(ValueError, match="pass input_shape or input_dim, not both"):
        layers.Dense(4, input_dim=3, input_shape=(3,))


def test_automatic_names_are_unique_per_process_as_in_keras():
    first = keras.Sequential([layers.Dense(2), layers.Dense(2)])
    second = keras.Sequential([layers.Dense(2), layers.Conv2D(2, 3), layers.MaxPooling2D(), layers.Conv2D(2, 3)])
    assert (first.name, second.name) == ("sequential", "sequential_1")
    assert [layer.name for layer in first.layers] == ["dense", "dense_1"]
    assert [layer.name for layer in second.layers] == ["dense_2", "conv2d", "max_pooling2d", "conv2d_1"]
    assert layers.Dense(2, name="head").name == "head"
    keras.utils.clear_session()
    assert layers.Dense(2).name == "dense"


# --------------------------------------------------------------- summary ---
def test_summary_is_laid_out_as_keras_3_prints_it():
    model = keras.Sequential([keras.Input((28, 28, 1)), layers.Conv2D(32, kernel_size=(3, 3), activation="relu"),
                              layers.GlobalAveragePooling2D(), layers.Dense(10, activation="softmax")])
    lines = []
    model.summary(line_length=76, print_fn=lines.append)
    assert lines[0].splitlines() == [
        'Model: "sequential"',
        "┏━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━┳━━━━━━━━━━━━━━━━━━━━━━━━┳━━━━━━━━━━━━━━━┓",
        "┃ Layer (type)                    ┃ Output Shape           ┃       Param # ┃",
        "┡━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━╇━━━━━━━━━━━━━━━━━━━━━━━━╇━━━━━━━━━━━━━━━┩",
        "│ conv2d (Conv2D)                 │ (None, 26, 26, 32)     │           320 │",
        "├─────────────────────────────────┼────────────────────────┼───────────────┤",
        "│ global_average_pooling2d        │ (None, 32)             │             0 │",
        "│ (GlobalAveragePooling2D)        │                        │               │",
        "├─────────────────────────────────┼────────────────────────┼───────────────┤",
        "│ dense (Dense)                   │ (None, 10)             │           330 │",
        "└─────────────────────────────────┴────────────────────────┴───────────────┘",
        " Total params: 650 (2.54 KB)",
        " Trainable params: 650 (2.54 KB)",
        " Non-trainable params: 0 (0.00 B)",
    ]


def test_summary_counts_frozen_and_optimizer_weights():
    x, y = classification_data()
    model = small_classifier()
    model.layers[0].trainable = False
    model.fit(x, y, epochs=1, verbose=0)
    lines = []
    model.summary(print_fn=lines.append)
    text = lines[0]
    assert " Trainable params: 27 (108.00 B)" in text and " Non-trainable params: 56 (224.00 B)" in text
    assert " Optimizer params: 54 (216.00 B)" in text and " Total params: 137 (548.00 B)" in text


def test_an_unbuilt_layer_shows_a_question_mark():
    lines = []
    keras.Sequential([layers.Dense(3)]).summary(line_length=76, print_fn=lines.append)
    assert "│ dense (Dense)                   │ ?                      │   0 (unbuilt) │" in lines[0]


# ------------------------------------------------------- nested Sequential ---
def base_and_head():
    base = keras.Sequential([keras.Input((6,)), layers.Dense(8, activation="relu"), layers.Dense(5, activation="relu")],
                            name="base")
    model = keras.Sequential([base, layers.Dense(3, activation="softmax")])
    return base, model


def test_a_frozen_base_model_with_a_new_head_trains_only_the_head(tmp_path):
    x, y = classification_data()
    base, model = base_and_head()
    base.trainable = False
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    frozen = base.get_weights()
    head = model.layers[1].get_weights()
    before = model.evaluate(x, y, verbose=0)[0]
    model.fit(x, y, epochs=20, batch_size=16, verbose=0)
    assert all(np.array_equal(a, b) for a, b in zip(base.get_weights(), frozen))
    assert not np.array_equal(model.layers[1].get_weights()[0], head[0])
    assert model.evaluate(x, y, verbose=0)[0] < before
    assert model.input_shape == (None, 6) and model.count_params() == 6 * 8 + 8 + 8 * 5 + 5 + 5 * 3 + 3

    # Unfreeze for fine-tuning: the base trains too.
    base.trainable = True
    model.compile(optimizer=keras.optimizers.Adam(1e-3), loss="sparse_categorical_crossentropy")
    model.fit(x, y, epochs=1, verbose=0)
    assert not np.array_equal(base.get_weights()[0], frozen[0])


def test_nested_model_outputs_gradients_and_weight_order_match_the_flat_model():
    x, y = classification_data(n=16)
    base, nested = base_and_head()
    flat = keras.Sequential([keras.Input((6,)), layers.Dense(8, activation="relu"),
                             layers.Dense(5, activation="relu"), layers.Dense(3, activation="softmax")])
    flat.set_weights(nested.get_weights())  # Keras's order: base's weights, then the head's
    for model in (nested, flat):
        model.compile(optimizer="sgd", loss="sparse_categorical_crossentropy")
    np.testing.assert_array_equal(nested.predict(x, verbose=0), flat.predict(x, verbose=0))
    nested.fit(x, y, epochs=2, batch_size=4, shuffle=False, verbose=0)
    flat.fit(x, y, epochs=2, batch_size=4, shuffle=False, verbose=0)
    for a, b in zip(nested.get_weights(), flat.get_weights()):
        np.testing.assert_allclose(a, b, rtol=1e-6, atol=1e-7)


def test_nested_model_saves_and_loads(tmp_path):
    x, y = classification_data()
    base, model = base_and_head()
    base.trainable = False
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
    model.fit(x, y, epochs=1, verbose=0)
    model.save(tmp_path / "nested.safetensors")
    from safetensors.numpy import load_file

    assert "layers.0.layers.1.kernel" in load_file(str(tmp_path / "nested.safetensors"))
    loaded = keras.models.load_model(tmp_path / "nested.safetensors")
    assert type(loaded.layers[0]) is keras.Sequential and loaded.layers[0].trainable is False
    np.testing.assert_array_equal(loaded.predict(x, verbose=0), model.predict(x, verbose=0))
    lines = []
    loaded.summary(print_fn=lines.append)
    assert "base (Sequential)" in lines[0]


def test_a_model_cannot_contain_itself():
    model = keras.Sequential([layers.Dense(2)])
    with pytest.raises(ValueError, match="cannot be added to itself"):
        model.add(model)


# ------------------------------------------------------------- PyDataset ---
class Batches(keras.utils.PyDataset):
    def __init__(self, x, y, batch_size, **kwargs):
        super().__init__(**kwargs)
        self.x, self.y, self.batch_size = x, y, batch_size
        self.epochs_ended = 0

    def __len__(self):
        return math.ceil(len(self.x) / self.batch_size)

    def __getitem__(self, index):
        rows = slice(index * self.batch_size, (index + 1) * self.batch_size)
        return self.x[rows] if self.y is None else (self.x[rows], self.y[rows])

    def on_epoch_end(self):
        self.epochs_ended += 1


@pytest.mark.parametrize("base_class", [keras.utils.PyDataset, keras.utils.Sequence])
def test_a_py_dataset_feeds_fit_evaluate_and_predict(base_class):
    x, y = classification_data()

    class Data(Batches, base_class):
        pass

    train = Data(x, y, 16, workers=2, use_multiprocessing=False)
    from_dataset, from_arrays = small_classifier(), small_classifier()
    from_arrays.set_weights(from_dataset.get_weights())
    history = from_dataset.fit(train, epochs=3, verbose=0, validation_data=Data(x, y, 32))
    from_arrays.fit(x, y, batch_size=16, epochs=3, shuffle=False, verbose=0)
    assert train.epochs_ended == 3 and history.params["steps"] == 4
    for a, b in zip(from_dataset.get_weights(), from_arrays.get_weights()):
        np.testing.assert_array_equal(a, b)
    assert from_dataset.evaluate(Data(x, y, 8), verbose=0) == pytest.approx(from_arrays.evaluate(x, y, verbose=0))
    np.testing.assert_array_equal(from_dataset.predict(Data(x, None, 10), verbose=0),
                                  from_arrays.predict(x, verbose=0))


def test_a_py_dataset_without_len_says_so():
    class Empty(keras.utils.PyDataset):
        pass

    with pytest.raises(NotImplementedError, match="Empty must implement __len__"):
        small_classifier().fit(Empty(), verbose=0)


# ------------------------------------------- models built by their first batch ---
def test_a_model_without_input_trains_on_a_loader_it_is_built_by():
    """The first batch builds the model; the arena and optimizer must then bind to the new weights."""
    x, y = classification_data(n=96)
    model = keras.Sequential([layers.Dense(8, activation="relu"), layers.Dense(3, activation="softmax")])
    model.compile(optimizer=keras.optimizers.Adam(0.01), loss="sparse_categorical_crossentropy",
                  metrics=["accuracy"])
    batches = [(x[i:i + 16], y[i:i + 16]) for i in range(0, 96, 16)]
    history = model.fit(batches, epochs=5, verbose=0, validation_data=batches)
    losses = history.history["loss"]
    assert losses[-1] < 0.8 * losses[0], losses
    assert history.history["val_loss"][-1] == pytest.approx(model.evaluate(x, y, verbose=0)[0], rel=1e-5)


def test_a_model_without_input_evaluates_a_loader_it_is_built_by():
    x, y = classification_data(n=32)
    model = keras.Sequential([layers.Dense(3, activation="softmax")])
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    result = model.evaluate([(x[:16], y[:16]), (x[16:], y[16:])], verbose=0, return_dict=True)
    assert result == pytest.approx(model.evaluate(x, y, verbose=0, return_dict=True))


# ------------------------------------------------------- weighted metrics ---
def test_class_weight_weighs_the_loss_not_the_metrics():
    """As in Keras (and the imbalanced-classification example): metrics= count samples, unweighted."""
    x, y = classification_data(n=40)
    y = (y > 0).astype(int)
    model = keras.Sequential([keras.Input((6,)), layers.Dense(1, activation="sigmoid")])
    model.compile(optimizer="sgd", loss="binary_crossentropy",
                  metrics=[keras.metrics.TruePositives(name="tp"), keras.metrics.FalseNegatives(name="fn")])
    history = model.fit(x, y, epochs=1, batch_size=40, verbose=0, class_weight={0: 0.01, 1: 0.02})
    logs = {k: v[0] for k, v in history.history.items()}
    assert logs["tp"] + logs["fn"] == (y == 1).sum()  # counts, not weighted fractions


def test_weighted_metrics_use_sample_weights_and_get_a_weighted_key_on_a_clash(tmp_path):
    x, y = classification_data(n=40)
    weights = np.where(np.arange(40) < 20, 1.0, 0.0)
    model = keras.Sequential([keras.Input((6,)), layers.Dense(3, activation="softmax")])
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"],
                  weighted_metrics=["accuracy"])
    assert model.metrics_names == ["loss", "accuracy", "weighted_accuracy"]
    result = model.evaluate(x, y, sample_weight=weights, verbose=0, return_dict=True)
    predicted = model.predict(x, verbose=0).argmax(axis=1)
    assert result["accuracy"] == pytest.approx(np.mean(predicted == y))
    assert result["weighted_accuracy"] == pytest.approx(np.mean(predicted[:20] == y[:20]))
    model.save(tmp_path / "w.safetensors")
    assert keras.models.load_model(tmp_path / "w.safetensors").metrics_names == model.metrics_names


# ------------------------------------------------ serialization and modules ---
def test_a_layer_built_directly_has_its_weights():
    dense = layers.Dense(3)
    dense.build((None, 5))
    assert dense.built and dense.output_shape == (None, 3)
    assert [w.shape for w in dense.get_weights()] == [(5, 3), (3,)]

    class Scale(layers.Layer):
        def build(self, input_shape):
            self.add_weight("scale", (input_shape[-1],), initializer="ones")

    scale = Scale()
    scale.build((None, 4))
    assert scale.get_weights()[0].tolist() == [1.0, 1.0, 1.0, 1.0]


def test_model_from_json_and_from_config_take_to_json_output():
    model = small_classifier()
    for rebuilt in (keras.models.model_from_json(model.to_json()), keras.Sequential.from_config(model.to_json())):
        assert rebuilt.get_config() == model.get_config()
    with pytest.raises(ValueError, match="model_from_json: not a JSON model config"):
        keras.models.model_from_json("{not json")


@pytest.mark.parametrize("obj", [keras.regularizers.L1(0.005), keras.losses.MeanSquaredError(),
                                 keras.metrics.MeanSquaredError(), keras.optimizers.Adam(3e-4),
                                 keras.initializers.RandomNormal(stddev=0.3), layers.Dense(4, activation="relu")],
                         ids=lambda o: type(o).__module__.split(".")[1] + "." + type(o).__name__)
def test_serialize_and_deserialize_keras_object(obj):
    config = keras.saving.serialize_keras_object(obj)
    assert config["class_name"] == type(obj).__name__
    back = keras.saving.deserialize_keras_object(config)
    assert type(back) is type(obj) and back.get_config() == obj.get_config()


def test_deserialize_an_unknown_class_names_it():
    with pytest.raises(ValueError, match="unknown class 'Nope'; register it or pass it in custom_objects"):
        keras.saving.deserialize_keras_object({"class_name": "Nope", "config": {}})


def test_keras_2_module_paths():
    from seqnn import backend as K
    from seqnn.utils import np_utils

    assert K.image_data_format() == "channels_last" and K.floatx() == "float32" and K.epsilon() == 1e-7
    with pytest.raises(ValueError, match="supports only 'channels_last'"):
        K.set_image_data_format("channels_first")
    assert np_utils.to_categorical([1, 0], 2).tolist() == [[0, 1], [1, 0]]


def test_ops_are_numpy_functions_under_keras_names():
    from seqnn import ops

    model = keras.Sequential([layers.Dense(2)])
    assert model(ops.ones((1, 4))).shape == (1, 2)
    assert ops.cast(ops.convert_to_tensor([1.7, 2.2]), "int32").tolist() == [1, 2]
    assert ops.shape(ops.zeros((2, 3))) == (2, 3) and ops.max(ops.arange(5)) == 4
    assert set(ops.__all__) <= set(dir(ops))


def test_summary_falls_back_to_ascii_where_the_output_cannot_encode_boxes(capsys, monkeypatch):
    import io
    import sys

    stream = io.TextIOWrapper(io.BytesIO(), encoding="cp1252")
    monkeypatch.setattr(sys, "stdout", stream)
    keras.Sequential([keras.Input((3,)), layers.Dense(2)]).summary(line_length=60)
    stream.seek(0)
    text = stream.read()
    assert "| dense (Dense)" in text and "+====" in text and " Total params: 8 (32.00 B)" in text


def test_summary_draws_boxes_into_a_stream_without_an_encoding(monkeypatch):
    import io
    import sys

    monkeypatch.setattr(sys, "stdout", io.StringIO())
    keras.Sequential([keras.Input((3,)), layers.Dense(2)]).summary()
    assert "┏━" in sys.stdout.getvalue()
