"""The shared monitor logic: direction for mode="auto", the improvement test, missing keys."""
import json
import math
import re
import warnings

import numpy as np
import pytest

import seqnn as sn
from seqnn.callbacks import EarlyStopping, ModelCheckpoint, ReduceLROnPlateau
from seqnn.callbacks.monitor_callback import decode_float, encode_float, resolve_direction


def compiled(metrics):
    model = sn.Sequential([sn.Input((4,)), sn.layers.Dense(3, activation="softmax")])
    model.compile(optimizer="sgd", loss="mse", metrics=metrics)
    model.evaluate(np.zeros((4, 4), np.float32), np.zeros((4, 3)), verbose=0)   # resolves the compiled metrics
    return model


@pytest.mark.parametrize("monitor, direction", [
    ("loss", "min"), ("val_loss", "min"),
    ("val_accuracy", "max"), ("acc", "max"), ("val_auc", "max"), ("precision", "max"), ("val_recall", "max"),
    ("val_f1_score", "max"), ("sparse_categorical_accuracy", "max"),
    ("val_mse", "min"), ("learning_rate", "min"), ("something_else", "min"),
])
def test_auto_direction_by_name(monitor, direction):
    assert resolve_direction(monitor, None) == direction


def test_auto_direction_follows_compiled_metrics():
    model = compiled(["mse", sn.metrics.TruePositives(name="hits"), sn.metrics.FalseNegatives(name="misses")])
    assert resolve_direction("val_mse", model) == "min"
    assert resolve_direction("hits", model) == "max"          # the name rule alone would say min
    assert resolve_direction("val_misses", model) == "min"


def test_explicit_mode_wins_over_the_name():
    cb = EarlyStopping(monitor="val_accuracy", mode="min")
    assert cb.direction == "min"


@pytest.mark.parametrize("mode, min_delta, current, reference, improves", [
    ("min", 0.0, 0.9, 1.0, True), ("min", 0.0, 1.0, 1.0, False), ("min", 0.1, 0.95, 1.0, False),
    ("min", 0.1, 0.89, 1.0, True), ("max", 0.1, 1.05, 1.0, False), ("max", 0.1, 1.11, 1.0, True),
    ("max", 0.0, 0.5, None, True), ("min", 0.0, math.nan, None, False), ("min", 0.0, math.nan, 1.0, False),
    ("min", 0.0, math.inf, None, True), ("max", 0.0, 1.0, math.nan, False),
])
def test_improvement_test(mode, min_delta, current, reference, improves):
    cb = EarlyStopping(monitor="x", mode=mode, min_delta=min_delta)
    assert cb._is_improvement(current, reference) is improves


def test_min_delta_is_taken_as_a_magnitude():
    assert EarlyStopping(min_delta=-0.5).min_delta == 0.5


def _drive(cb, epochs, logs, model):
    cb.set_model(model)
    cb.on_train_begin()
    for epoch in range(epochs):
        cb.on_epoch_begin(epoch)
        cb.on_epoch_end(epoch, dict(logs))
    cb.on_train_end()


@pytest.mark.parametrize("make", [
    lambda: EarlyStopping(patience=0),
    lambda: ModelCheckpoint("never.safetensors", save_best_only=True),
    lambda: ReduceLROnPlateau(patience=0),
])
def test_missing_monitor_warns_once_per_fit_listing_keys_and_skips(make, tmp_path):
    model = compiled(["accuracy"])
    model.stop_training = False
    cb = make()
    if isinstance(cb, ModelCheckpoint):
        cb.filepath = str(tmp_path / cb.filepath)
    name = type(cb).__name__
    with pytest.warns(UserWarning) as record:
        _drive(cb, 4, {"loss": 1.0, "accuracy": 0.5}, model)
    messages = [str(w.message) for w in record if name in str(w.message)]
    keys = "loss, accuracy, learning_rate" if name == "ReduceLROnPlateau" else "loss, accuracy"
    assert messages == [f"{name}: monitor='val_loss' is not in the logs, so this callback does nothing at steps "
                        f"where it is missing; available keys: {keys} (val_ keys need validation_data or "
                        "validation_split in fit, and are logged only on epochs where validation runs)"]
    assert not model.stop_training and not list(tmp_path.iterdir())
    assert model.optimizer.learning_rate == 0.01   # sgd's default: never reduced
    with pytest.warns(UserWarning, match=re.escape(f"{name}: monitor='val_loss'")):
        _drive(cb, 1, {"loss": 1.0}, model)        # a new fit warns again


def test_missing_non_val_key_has_no_validation_hint():
    cb = EarlyStopping(monitor="acc")
    cb.set_model(compiled([]))
    with pytest.warns(UserWarning) as record:
        cb.on_train_begin()
        cb.on_epoch_end(0, {})
    assert str(record[0].message).endswith("available keys: (none)")


def test_present_key_does_not_warn():
    cb = EarlyStopping(monitor="loss")
    cb.set_model(compiled([]))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        _drive(cb, 2, {"loss": 1.0}, cb.model)


def test_float_encoding_keeps_state_strict_json():
    for value in (None, 1.5, -0.0, math.inf, -math.inf):
        encoded = json.loads(json.dumps(encode_float(value), allow_nan=False))
        assert decode_float(encoded) == value
    assert math.isnan(decode_float(json.loads(json.dumps(encode_float(math.nan), allow_nan=False))))


def test_inf_best_survives_a_state_round_trip():
    cb = EarlyStopping(monitor="loss")
    cb.set_model(compiled([]))
    cb.on_train_begin()
    cb.on_epoch_end(0, {"loss": math.inf})
    state = json.loads(json.dumps(cb.get_state(), allow_nan=False))
    other = EarlyStopping(monitor="loss")
    other.set_state(state)
    assert other.best == math.inf
