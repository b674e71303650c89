"""Every kind of object that compile() and the layers accept survives save → load_model.

Each kind is tried as a name and as an object (and, where users write them,
as a custom registered class or a plain function); the reloaded model must
have the same compile setup, the same metric names and the same numbers.
"""
import numpy as np
import pytest

import seqnn as sn
from seqnn import layers as L


def _data(n=24, seed=0):
    rng = np.random.default_rng(seed)
    return rng.random((n, 5)).astype(np.float32), rng.integers(0, 3, n)


def _round_trip(tmp_path, model_layers, custom_objects=None, **compile_args):
    x, y = _data()
    model = sn.Sequential([L.Input((5,)), *model_layers]).compile(**compile_args)
    model.fit(x, y, epochs=1, batch_size=8, verbose=0, seed=0)
    model.save(tmp_path / "m.safetensors")
    loaded = sn.load_model(tmp_path / "m.safetensors", custom_objects=custom_objects)
    assert loaded.compile_config == sn.load_model(tmp_path / "m.safetensors",
                                                  custom_objects=custom_objects).compile_config
    assert loaded.get_config() == model.get_config()
    want = model.evaluate(x, y, verbose=0, return_dict=True)
    got = loaded.evaluate(x, y, verbose=0, return_dict=True)
    assert list(got) == list(want)
    assert got == pytest.approx(want, rel=1e-6)
    # The optimizer state came back too: one more step gives the same weights.
    model.train_on_batch(x, y)
    loaded.train_on_batch(x, y)
    for a, b in zip(model.get_weights(), loaded.get_weights()):
        np.testing.assert_allclose(a, b, rtol=1e-6, atol=1e-7)
    return loaded


def _softmax_head(**dense_args):
    return [L.Dense(4, activation="relu", **dense_args), L.Dense(3, activation="softmax")]


@pytest.mark.parametrize("metric", [
    "accuracy", "acc", "sparse_categorical_accuracy", "sparse_top_k_categorical_accuracy",
    sn.metrics.SparseCategoricalAccuracy(), sn.metrics.SparseCategoricalAccuracy(name="acc_object"),
    sn.metrics.SparseTopKCategoricalAccuracy(k=2), sn.metrics.sparse_categorical_accuracy,
    {"class_name": "SparseCategoricalAccuracy", "config": {"name": "from_dict"}},
    sn.metrics.SparseCategoricalAccuracy,
], ids=repr)
def test_metrics_as_names_objects_functions_and_configs(tmp_path, metric):
    loaded = _round_trip(tmp_path, _softmax_head(), optimizer="adam", loss="sparse_categorical_crossentropy",
                         metrics=[metric])
    assert len(loaded.metrics_names) == 2


@pytest.mark.parametrize("loss", [
    "sparse_categorical_crossentropy", sn.losses.SparseCategoricalCrossentropy(),
    sn.losses.SparseCategoricalCrossentropy(from_logits=False, name="named_loss"),
], ids=repr)
def test_losses_as_names_and_objects(tmp_path, loss):
    _round_trip(tmp_path, _softmax_head(), optimizer="adam", loss=loss, metrics=["accuracy"])


def test_a_logits_loss_object(tmp_path):
    _round_trip(tmp_path, [L.Dense(4, activation="relu"), L.Dense(3)], optimizer="adam",
                loss=sn.losses.SparseCategoricalCrossentropy(from_logits=True), metrics=["accuracy"])


@pytest.mark.parametrize("optimizer", [
    "adam", "sgd", "rmsprop", sn.optimizers.Adam(learning_rate=3e-3, beta_1=0.8),
    sn.optimizers.SGD(learning_rate=0.05, momentum=0.9, nesterov=True),
    sn.optimizers.Adam(learning_rate=sn.optimizers.schedules.ExponentialDecay(0.01, 2, 0.5)),
    sn.optimizers.SGD(learning_rate=sn.optimizers.schedules.PiecewiseConstantDecay([1, 2], [0.1, 0.05, 0.01])),
    sn.optimizers.Adam(clipnorm=1.0), sn.optimizers.AdamW(weight_decay=0.01), "adadelta",
    sn.optimizers.Adadelta(learning_rate=1.0, rho=0.9, epsilon=1e-6),
], ids=repr)
def test_optimizers_and_schedules_as_names_and_objects(tmp_path, optimizer):
    _round_trip(tmp_path, _softmax_head(), optimizer=optimizer, loss="sparse_categorical_crossentropy")


@pytest.mark.parametrize("dense_args", [
    {"kernel_regularizer": "l2", "kernel_initializer": "he_normal"},
    {"kernel_regularizer": sn.regularizers.L1L2(l1=1e-3, l2=1e-2), "bias_regularizer": sn.regularizers.L1(0.01),
     "kernel_initializer": sn.initializers.RandomNormal(stddev=0.2), "bias_initializer": sn.initializers.Constant(0.1)},
], ids=["names", "objects"])
def test_regularizers_and_initializers_as_names_and_objects(tmp_path, dense_args):
    loaded = _round_trip(tmp_path, _softmax_head(**dense_args), optimizer="adam",
                         loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    assert loaded.layers[0].param_regularizers


def test_custom_registered_metric_class(tmp_path):
    @sn.metrics.register("RoundTripMeanPrediction")
    class MeanPrediction(sn.metrics.MeanMetricWrapper):
        def __init__(self, name="mean_prediction", offset=0.0, **kwargs):
            super().__init__(lambda y_true, y_pred: y_pred.max(axis=-1) + offset, name=name, **kwargs)
            self.offset = offset

        def get_config(self):
            return {"name": self.name, "offset": self.offset}

    loaded = _round_trip(tmp_path, _softmax_head(), optimizer="adam", loss="sparse_categorical_crossentropy",
                         metrics=[MeanPrediction(offset=1.0)])
    assert type(loaded.compiled_metrics[0]).__name__ == "MeanPrediction" and loaded.compiled_metrics[0].offset == 1.0


def test_custom_metric_function_needs_custom_objects(tmp_path):
    def top_probability(y_true, y_pred):
        return y_pred.max(axis=-1)

    loaded = _round_trip(tmp_path, _softmax_head(), custom_objects={"top_probability": top_probability},
                         optimizer="adam", loss="sparse_categorical_crossentropy", metrics=[top_probability])
    assert loaded.metrics_names == ["loss", "top_probability"]
    # Outside load_model's scope the name is not registered: it does not leak.
    with pytest.raises(ValueError, match="unknown metric 'top_probability'"):
        sn.load_model(tmp_path / "m.safetensors")


@pytest.mark.parametrize("metric", [sn.losses.sparse_categorical_crossentropy, "sparse_categorical_crossentropy"],
                         ids=repr)
def test_loss_functions_and_names_as_metrics(tmp_path, metric):
    x, y = _data()
    loaded = _round_trip(tmp_path, _softmax_head(), optimizer="adam", loss="sparse_categorical_crossentropy",
                         metrics=[metric])
    logs = loaded.evaluate(x, y, verbose=0, return_dict=True)
    assert logs["sparse_categorical_crossentropy"] == pytest.approx(logs["loss"], rel=1e-5)
