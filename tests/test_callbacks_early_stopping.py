"""EarlyStopping: Keras 3's stopping rules on scripted metric sequences, and weight restoring."""
import json
import re

import numpy as np
import pytest

import seqnn as sn
from seqnn.callbacks import EarlyStopping, LambdaCallback


def tiny_model():
    model = sn.Sequential([sn.Input((3,)), sn.layers.Dense(2)])
    return model.compile(optimizer=sn.optimizers.SGD(0.1), loss="mse")


def mark(model, epoch):
    """Give the model weights that say which epoch they are from."""
    model.set_weights([np.full_like(w, epoch) for w in model.get_weights()])


def epoch_of(model):
    return int(model.get_weights()[0].flat[0])


def drive(cb, values, key="val_loss", model=None):
    """Run the fit hooks over scripted values; returns (model, epochs run)."""
    model = model or tiny_model()
    cb.set_model(model)
    model.stop_training = False
    cb.on_train_begin()
    run = 0
    for epoch, value in enumerate(values):
        cb.on_epoch_begin(epoch)
        mark(model, epoch)
        cb.on_epoch_end(epoch, {"loss": 1.0, key: value})
        run += 1
        if model.stop_training:
            break
    cb.on_train_end()
    return model, run


@pytest.mark.parametrize("values, kwargs, stopped, best_epoch", [
    ([1.0, 0.9, 0.95, 0.92, 0.8], dict(patience=2), 3, 1),           # 2 epochs without improvement
    ([1.0, 2.0, 0.5], dict(patience=0), 1, 0),                        # patience 0: first non-improvement
    ([1.0, 0.85, 0.80, 0.79], dict(patience=1, min_delta=0.1), 2, 1),  # 0.80 is not 0.1 better than 0.85
    ([1.0, 0.85, 0.80, 0.79], dict(patience=1, min_delta=-0.1), 2, 1),  # min_delta's sign is ignored
    ([1.0, 0.9, 0.95], dict(patience=2, baseline=0.5), 2, 1),         # never beats the baseline
    ([0.4, 0.45, 0.45, 0.45], dict(patience=2, baseline=0.5), 2, 0),  # beats it once, then patience
    ([0.1, 0.2, 1.0, 1.1, 1.2], dict(patience=1, start_from_epoch=2), 3, 2),  # warm-up epochs ignored
])
def test_stops_at_keras_epoch_and_restores_best(values, kwargs, stopped, best_epoch):
    cb = EarlyStopping(restore_best_weights=True, **kwargs)
    model, run = drive(cb, values)
    assert cb.stopped_epoch == stopped and run == stopped + 1
    assert cb.best_epoch == best_epoch
    assert epoch_of(model) == best_epoch


def test_without_baseline_improvements_keep_it_going():
    cb = EarlyStopping(patience=2)
    _, run = drive(cb, [1.0, 0.9, 0.95])
    assert run == 3 and cb.stopped_epoch == 0


def test_epoch_zero_never_stops():
    cb = EarlyStopping(patience=0, baseline=0.1)
    _, run = drive(cb, [1.0, 1.0])
    assert run == 2 and cb.stopped_epoch == 1


def test_mode_max_and_auto_for_accuracy():
    for cb in (EarlyStopping(monitor="val_accuracy", patience=2, restore_best_weights=True),
               EarlyStopping(monitor="score", mode="max", patience=2, restore_best_weights=True)):
        model, run = drive(cb, [0.5, 0.6, 0.55, 0.58, 0.9], key=cb.monitor)
        assert cb.stopped_epoch == 3 and run == 4
        assert cb.best == 0.6 and epoch_of(model) == 1


def test_nan_is_never_an_improvement():
    cb = EarlyStopping(monitor="loss", patience=1, restore_best_weights=True)
    model, _ = drive(cb, [1.0, float("nan"), 0.5], key="loss")
    assert cb.stopped_epoch == 1 and epoch_of(model) == 0


def test_restores_best_weights_also_when_all_epochs_ran():
    cb = EarlyStopping(patience=5, restore_best_weights=True)
    model, run = drive(cb, [1.0, 0.5, 0.7])
    assert run == 3 and cb.stopped_epoch == 0
    assert epoch_of(model) == 1


def test_restores_best_weights_also_when_another_callback_stopped():
    cb = EarlyStopping(patience=5, restore_best_weights=True)
    model = tiny_model()
    cb.set_model(model)
    cb.on_train_begin()
    for epoch, value in enumerate([1.0, 0.5, 0.7]):
        mark(model, epoch)
        cb.on_epoch_end(epoch, {"val_loss": value})
    model.stop_training = True  # e.g. TerminateOnNaN
    cb.on_train_end()
    assert epoch_of(model) == 1


def test_without_restore_keeps_last_weights_and_stores_none():
    cb = EarlyStopping(patience=1)
    model, _ = drive(cb, [1.0, 2.0])
    assert epoch_of(model) == 1 and cb.best_weights is None


def test_verbose_messages(capsys):
    drive(EarlyStopping(patience=1, verbose=1, restore_best_weights=True), [1.0, 2.0])
    out = capsys.readouterr().out
    assert "Epoch 2: early stopping" in out
    assert "Restoring model weights from the end of the best epoch: 1." in out


def test_reusing_an_instance_starts_afresh():
    cb = EarlyStopping(patience=1)
    drive(cb, [0.1, 0.2])
    assert cb.stopped_epoch == 1
    _, run = drive(cb, [5.0, 4.0, 3.0])   # worse than the first run's best, but improving
    assert run == 3 and cb.stopped_epoch == 0 and cb.best == 3.0


def test_real_fit_stops_and_restores_the_weights_of_the_best_epoch():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(32, 3)).astype(np.float32)
    y = rng.normal(size=(32, 2)).astype(np.float32)
    model = tiny_model()
    scripted = [3.0, 2.0, 2.5, 1.5, 1.7, 1.6, 1.8, 0.1]
    snapshots = []

    def inject(epoch, logs):
        logs["score"] = scripted[epoch]
        snapshots.append(model.get_weights())

    stopper = EarlyStopping(monitor="score", patience=3, restore_best_weights=True)
    history = model.fit(x, y, epochs=8, batch_size=8, verbose=0,
                        callbacks=[LambdaCallback(on_epoch_end=inject), stopper])
    assert history.epoch == [0, 1, 2, 3, 4, 5, 6]
    assert stopper.stopped_epoch == 6 and stopper.best_epoch == 3
    for restored, saved in zip(model.get_weights(), snapshots[3]):
        assert np.array_equal(restored, saved)
    assert not np.array_equal(snapshots[3][0], snapshots[6][0])


def test_state_round_trip_continues_identically():
    values = [1.0, 0.8, 0.9, 0.85, 0.95, 0.7, 0.75, 0.76]
    reference = EarlyStopping(patience=2, restore_best_weights=True)
    _, run = drive(reference, values)

    first = EarlyStopping(patience=2, restore_best_weights=True)
    model = tiny_model()
    first.set_model(model)
    first.on_train_begin()
    for epoch in range(3):
        mark(model, epoch)
        first.on_epoch_end(epoch, {"val_loss": values[epoch]})
    state = json.loads(json.dumps(first.get_state(), allow_nan=False))
    arrays = first.get_state_arrays()
    assert sorted(arrays) == ["best_weights.0", "best_weights.1"]

    second = EarlyStopping(patience=2, restore_best_weights=True)
    second.set_model(model)
    second.on_train_begin()
    second.set_state(state)
    second.set_state_arrays(arrays)
    model.stop_training = False
    for epoch in range(3, len(values)):
        mark(model, epoch)
        second.on_epoch_end(epoch, {"val_loss": values[epoch]})
        if model.stop_training:
            break
    second.on_train_end()
    assert epoch + 1 == run
    assert (second.stopped_epoch, second.best_epoch, second.best) == (
        reference.stopped_epoch, reference.best_epoch, reference.best)
    assert epoch_of(model) == reference.best_epoch == 1


def test_state_without_best_weights_has_no_arrays():
    cb = EarlyStopping()
    drive(cb, [1.0])
    assert cb.get_state_arrays() == {}
    assert json.dumps(cb.get_state(), allow_nan=False)


@pytest.mark.parametrize("kwargs, message", [
    (dict(mode="mx"), "EarlyStopping: mode must be one of 'auto', 'min', 'max', got 'mx'"),
    (dict(patience=-1), "EarlyStopping: patience must be a non-negative integer, got -1"),
    (dict(patience=1.5), "EarlyStopping: patience must be a non-negative integer, got 1.5"),
    (dict(start_from_epoch=-2), "EarlyStopping: start_from_epoch must be a non-negative integer, got -2"),
    (dict(baseline="low"), "EarlyStopping: baseline must be a number or None, got 'low'"),
    (dict(monitor=""), "EarlyStopping: monitor must be the name of a logged quantity"),
])
def test_bad_arguments(kwargs, message):
    with pytest.raises(ValueError, match=re.escape(message)):
        EarlyStopping(**kwargs)
