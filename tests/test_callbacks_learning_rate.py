"""ReduceLROnPlateau and LearningRateScheduler: the rate sequence, what is logged, resumable state."""
import json
import re

import numpy as np
import pytest

import seqnn as sn
from seqnn.callbacks import LambdaCallback, LearningRateScheduler, ReduceLROnPlateau


def data(n=32):
    rng = np.random.default_rng(0)
    return rng.normal(size=(n, 3)).astype(np.float32), rng.normal(size=(n, 2)).astype(np.float32)


def tiny_model(lr=1.0):
    model = sn.Sequential([sn.Input((3,)), sn.layers.Dense(2)])
    return model.compile(optimizer=sn.optimizers.SGD(lr), loss="mse")


def drive(cb, values, key="val_loss", model=None):
    """Epoch-end hooks over scripted values; returns the logged learning rates."""
    model = model or tiny_model()
    cb.set_model(model)
    cb.on_train_begin()
    logged = []
    for epoch, value in enumerate(values):
        logs = {"loss": 1.0, key: value}
        cb.on_epoch_end(epoch, logs)
        logged.append(logs["learning_rate"])
    return logged


# ------------------------------------------------------------ ReduceLROnPlateau ---
def test_factor_patience_cooldown_and_min_lr_sequence():
    cb = ReduceLROnPlateau(factor=0.5, patience=2, cooldown=2, min_lr=0.2)
    logged = drive(cb, [1.0] * 12)
    # Rate used in each epoch: reduced after the 3rd, 6th and 9th epochs: patience 2, and of the two cooldown
    # epochs the second already counts towards patience (Keras's counting); the last reduction is clipped
    # to min_lr, after which nothing changes.
    assert logged == [1.0, 1.0, 1.0, 0.5, 0.5, 0.5, 0.25, 0.25, 0.25, 0.2, 0.2, 0.2]
    assert cb.model.optimizer.learning_rate == 0.2


def test_cooldown_of_one_is_keras_no_op():
    with_cooldown = drive(ReduceLROnPlateau(factor=0.5, patience=2, cooldown=1), [1.0] * 8)
    assert with_cooldown == drive(ReduceLROnPlateau(factor=0.5, patience=2), [1.0] * 8)
    assert with_cooldown == [1.0, 1.0, 1.0, 0.5, 0.5, 0.25, 0.25, 0.125]


def test_improvements_reset_the_wait_and_min_delta_counts():
    cb = ReduceLROnPlateau(factor=0.1, patience=2, min_delta=0.05)
    # 0.97 is within min_delta of the best (1.0): no improvement; 0.5 is one and resets the wait; 0.49 and
    # 0.48 are within min_delta of 0.5, so the rate drops after 0.48 (logged from the next epoch on).
    logged = drive(cb, [1.0, 0.97, 0.5, 0.49, 0.48, 0.47])
    assert logged == pytest.approx([1.0, 1.0, 1.0, 1.0, 1.0, 0.1])
    assert cb.best == 0.5


def test_mode_max_for_accuracy():
    cb = ReduceLROnPlateau(monitor="val_accuracy", factor=0.5, patience=1, min_delta=0)
    logged = drive(cb, [0.5, 0.6, 0.6, 0.7, 0.65], key="val_accuracy")
    assert logged == [1.0, 1.0, 1.0, 0.5, 0.5]
    assert cb.model.optimizer.learning_rate == 0.25


def test_learning_rate_in_history_and_used_for_training():
    x, y = data()
    model = tiny_model(lr=0.1)
    scripted = [1.0, 1.0, 1.0, 1.0]
    inject = LambdaCallback(on_epoch_end=lambda epoch, logs: logs.update(score=scripted[epoch]))
    history = model.fit(x, y, epochs=4, batch_size=8, verbose=0, shuffle=False,
                        callbacks=[inject, ReduceLROnPlateau(monitor="score", factor=0.0, patience=1)])
    assert history.history["learning_rate"] == [0.1, 0.1, 0.0, 0.0]
    # The rate is 0 from the third epoch on, which freezes the weights: the last two epochs have the same loss.
    assert history.history["loss"][2] == history.history["loss"][3] != history.history["loss"][1]


def test_verbose_message(capsys):
    drive(ReduceLROnPlateau(patience=0, verbose=1), [1.0, 1.0])
    assert "Epoch 2: ReduceLROnPlateau reducing learning rate to 0.1." in capsys.readouterr().out


def test_state_round_trip():
    values = [1.0, 0.9, 0.95, 0.96, 0.97, 0.8, 0.99, 0.99, 0.99]
    reference = ReduceLROnPlateau(factor=0.5, patience=2, cooldown=1)
    expected = drive(reference, values)
    first = ReduceLROnPlateau(factor=0.5, patience=2, cooldown=1)
    model = tiny_model()
    logged = drive(first, values[:4], model=model)
    state = json.loads(json.dumps(first.get_state(), allow_nan=False))
    second = ReduceLROnPlateau(factor=0.5, patience=2, cooldown=1)
    second.set_model(model)
    second.on_train_begin()
    second.set_state(state)
    for epoch in range(4, len(values)):
        logs = {"val_loss": values[epoch]}
        second.on_epoch_end(epoch, logs)
        logged.append(logs["learning_rate"])
    assert logged == expected


def test_schedule_optimizer_is_refused_at_train_start():
    schedule = sn.optimizers.schedules.ExponentialDecay(0.1, decay_steps=10, decay_rate=0.5)
    model = sn.Sequential([sn.Input((3,)), sn.layers.Dense(2)]).compile(
        optimizer=sn.optimizers.SGD(schedule), loss="mse")
    for cb in (ReduceLROnPlateau(), LearningRateScheduler(lambda e, lr: lr)):
        cb.set_model(model)
        with pytest.raises(TypeError, match=f"{type(cb).__name__}: the optimizer's learning_rate is a "
                                            "LearningRateSchedule"):
            cb.on_train_begin()


@pytest.mark.parametrize("kwargs, message", [
    (dict(factor=1.0), "ReduceLROnPlateau does not support a factor outside [0, 1) (new_lr = lr * factor); "
                       "received factor=1.0"),
    (dict(factor=-0.5), "received factor=-0.5"),
    (dict(min_lr=-1), "ReduceLROnPlateau: min_lr must be >= 0, got -1.0"),
    (dict(cooldown=-1), "ReduceLROnPlateau: cooldown must be a non-negative integer, got -1"),
    (dict(patience=None), "ReduceLROnPlateau: patience must be a non-negative integer, got None"),
    (dict(mode="up"), "ReduceLROnPlateau: mode must be one of 'auto', 'min', 'max', got 'up'"),
])
def test_reduce_bad_arguments(kwargs, message):
    with pytest.raises(ValueError, match=re.escape(message)):
        ReduceLROnPlateau(**kwargs)


# -------------------------------------------------------- LearningRateScheduler ---
def test_scheduler_sets_rate_each_epoch_and_logs_it():
    x, y = data()
    model = tiny_model(lr=0.1)
    seen = []
    history = model.fit(x, y, epochs=3, batch_size=8, verbose=0, callbacks=[
        LearningRateScheduler(lambda epoch, lr: lr if epoch == 0 else lr / 2),
        LambdaCallback(on_train_batch_begin=lambda batch, logs: seen.append(model.optimizer.learning_rate))])
    assert history.history["learning_rate"] == [0.1, 0.05, 0.025]
    assert seen == [0.1] * 4 + [0.05] * 4 + [0.025] * 4


def test_scheduler_one_argument_form_and_zero_rate_freezes_weights():
    x, y = data()
    model = tiny_model(lr=0.1)
    history = model.fit(x, y, epochs=3, batch_size=8, verbose=0, shuffle=False,
                        callbacks=[LearningRateScheduler(lambda epoch: 0.1 if epoch == 0 else 0.0)])
    assert history.history["learning_rate"] == [0.1, 0.0, 0.0]
    assert history.history["loss"][1] == history.history["loss"][2]


def test_scheduler_type_error_inside_schedule_is_not_swallowed():
    def schedule(epoch, lr):
        raise TypeError("bug in my schedule")

    cb = LearningRateScheduler(schedule)
    cb.set_model(tiny_model())
    cb.on_train_begin()
    with pytest.raises(TypeError, match="bug in my schedule"):
        cb.on_epoch_begin(0)


@pytest.mark.parametrize("returned, shown", [("0.1", "'0.1'"), (None, "None"), (float("nan"), "nan"),
                                             (-0.1, "-0.1"), (True, "True")])
def test_scheduler_bad_outputs(returned, shown):
    cb = LearningRateScheduler(lambda epoch, lr: returned)
    cb.set_model(tiny_model())
    cb.on_train_begin()
    with pytest.raises(ValueError, match=re.escape(
            f"LearningRateScheduler: the output of the schedule function should be a finite float >= 0; "
            f"schedule(0, 1.0) returned {shown}")):
        cb.on_epoch_begin(0)


def test_scheduler_accepts_numpy_and_int_outputs_and_prints(capsys):
    model = tiny_model()
    cb = LearningRateScheduler(lambda epoch, lr: np.float32(0.5) if epoch == 0 else 0, verbose=1)
    cb.set_model(model)
    cb.on_train_begin()
    cb.on_epoch_begin(0)
    assert model.optimizer.learning_rate == 0.5
    cb.on_epoch_begin(1)
    assert model.optimizer.learning_rate == 0.0
    assert "Epoch 1: LearningRateScheduler setting learning rate to 0.5." in capsys.readouterr().out


def test_scheduler_is_not_applied_twice_to_a_resumed_epoch():
    model = tiny_model()
    cb = LearningRateScheduler(lambda epoch, lr: lr * 0.5)
    cb.set_model(model)
    cb.on_train_begin()
    cb.on_epoch_begin(0)
    cb.on_epoch_begin(1)
    state = json.loads(json.dumps(cb.get_state()))   # a backup in the middle of epoch 1
    assert model.optimizer.learning_rate == 0.25
    resumed = LearningRateScheduler(lambda epoch, lr: lr * 0.5)
    resumed.set_model(model)
    resumed.on_train_begin()
    resumed.set_state(state)
    resumed.on_epoch_begin(1)    # the loop restarts epoch 1: its rate is already set
    assert model.optimizer.learning_rate == 0.25
    resumed.on_epoch_begin(2)
    assert model.optimizer.learning_rate == 0.125


def test_scheduler_needs_a_function():
    with pytest.raises(TypeError, match="LearningRateScheduler: schedule must be a function"):
        LearningRateScheduler(0.1)
