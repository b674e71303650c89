"""Callback state for BackupAndRestore: strict JSON, and an interrupted run that ends like an uninterrupted one."""
import json

import numpy as np
import pytest

import seqnn as sn
from seqnn.callbacks import (
    Callback, ClassificationReport, CSVLogger, EarlyStopping, History, LambdaCallback, LearningRateScheduler,
    ModelCheckpoint, ProgbarLogger, ReduceLROnPlateau, TerminateOnNaN,
)
from seqnn.callbacks.backup_and_restore import BackupAndRestore

SCRIPTED = [1.0, 0.8, 0.9, 0.85, 0.7, 0.95, 0.96, 0.97, 0.98, 0.99]


def data():
    rng = np.random.default_rng(1)
    x = rng.normal(size=(64, 5)).astype(np.float32)
    return x, np.argmax(x @ rng.normal(size=(5, 3)), axis=1)


def model_for():
    # No compiled metrics: the backup does not keep running metric values of a partly done epoch
    # (see seqnn.models.resume), so they would differ in the resumed epoch's logs.
    model = sn.Sequential([sn.Input((5,)), sn.layers.Dense(8, activation="tanh"), sn.layers.Dropout(0.2),
                           sn.layers.Dense(3, activation="softmax")])
    return model.compile(optimizer=sn.optimizers.SGD(0.1, momentum=0.9), loss="sparse_categorical_crossentropy")


def every_callback(tmp_path):
    x, y = data()
    return [EarlyStopping(monitor="loss", patience=2, restore_best_weights=True),
            ModelCheckpoint(tmp_path / "m{epoch}.safetensors", monitor="loss", save_best_only=True),
            ReduceLROnPlateau(monitor="loss", patience=1), LearningRateScheduler(lambda e, lr: lr),
            CSVLogger(tmp_path / "log.csv"), TerminateOnNaN(), ClassificationReport((x, y), verbose=0),
            LambdaCallback(on_epoch_end=lambda e, logs: None), ProgbarLogger(), History()]


def test_every_callback_state_is_strict_json_and_accepted_back(tmp_path):
    x, y = data()
    callbacks = every_callback(tmp_path)
    model_for().fit(x, y, epochs=3, batch_size=16, verbose=0, callbacks=callbacks)
    for used, fresh in zip(callbacks, every_callback(tmp_path / "fresh")):
        state = json.loads(json.dumps(used.get_state(), allow_nan=False))
        fresh.set_state(state)
        assert fresh.get_state() == state, type(fresh).__name__


def test_base_callback_state_defaults():
    cb = Callback()
    assert cb.get_state() == {}
    cb.set_state({})


def _fit(backup_dir, out_dir, crash_after=None):
    sn.utils.set_random_seed(0)
    x, y = data()
    model = model_for()

    class Crash(Callback):
        count = 0

        def on_train_batch_end(self, batch, logs=None):
            Crash.count += 1
            if Crash.count == crash_after:
                raise KeyboardInterrupt

    inject = LambdaCallback(on_epoch_end=lambda epoch, logs: logs.update(score=SCRIPTED[epoch]))
    history = model.fit(x, y, epochs=10, batch_size=16, verbose=0, seed=2, callbacks=[
        Crash(), inject,
        ReduceLROnPlateau(monitor="score", factor=0.5, patience=1, cooldown=1),
        EarlyStopping(monitor="score", patience=4, restore_best_weights=True),
        ModelCheckpoint(out_dir / "best-{epoch}.safetensors", monitor="score", save_best_only=True),
        ModelCheckpoint(out_dir / "every-3-{epoch}-{batch}.safetensors", save_freq=3, save_weights_only=True),
        CSVLogger(out_dir / "log.csv"),
        BackupAndRestore(backup_dir, save_freq=5)])
    return model, history


@pytest.mark.parametrize("crash_after", [7, 18, 26])
def test_interrupted_run_with_stateful_callbacks_ends_like_an_uninterrupted_one(tmp_path, crash_after):
    (tmp_path / "ref").mkdir()
    (tmp_path / "run").mkdir()
    reference, ref_history = _fit(tmp_path / "ref-backup", tmp_path / "ref")
    with pytest.raises(KeyboardInterrupt):
        _fit(tmp_path / "run-backup", tmp_path / "run", crash_after=crash_after)
    resumed, history = _fit(tmp_path / "run-backup", tmp_path / "run")

    # Stopped by EarlyStopping after epoch 9 (best at epoch 5), with the rate halved on the way.
    assert history.epoch == ref_history.epoch == list(range(9))
    assert history.history == ref_history.history
    assert ref_history.history["learning_rate"] == pytest.approx(
        [0.1, 0.1, 0.1, 0.05, 0.025, 0.025, 0.0125, 0.00625, 0.003125])
    for a, b in zip(reference.get_weights(), resumed.get_weights()):
        assert np.array_equal(a, b)
    assert (tmp_path / "run" / "log.csv").read_text() == (tmp_path / "ref" / "log.csv").read_text()
    names = sorted(p.name for p in (tmp_path / "ref").iterdir())
    assert sorted(p.name for p in (tmp_path / "run").iterdir()) == names
    assert [n for n in names if n.startswith("best")] == ["best-1.safetensors", "best-2.safetensors",
                                                         "best-5.safetensors"]
    for name in names:
        if name.endswith(".safetensors"):
            ref_file = (tmp_path / "ref" / name)
            run_file = (tmp_path / "run" / name)
            ref_model, run_model = model_for(), model_for()
            ref_model.load_weights(ref_file)
            run_model.load_weights(run_file)
            assert all(np.array_equal(a, b) for a, b in zip(ref_model.get_weights(), run_model.get_weights()))


class _StopAfterFirstEpoch(Callback):
    """Ctrl-C as the second epoch starts (the first one is backed up); unarmed, it does nothing."""

    def __init__(self, armed=True):
        super().__init__()
        self.armed = armed

    def on_epoch_begin(self, epoch, logs=None):
        if self.armed and epoch == 1:
            raise KeyboardInterrupt


@pytest.mark.parametrize("first, second", [(0, 2), (2, 0), (1, 0)])
def test_a_rerun_may_change_the_verbosity_and_still_resume(tmp_path, first, second):
    """The progress bar is display-only: a backup leaves it out, so -v / --quiet may differ on the rerun."""
    x, y = data()
    sn.utils.set_random_seed(3)
    with pytest.raises(KeyboardInterrupt):
        model_for().fit(x, y, epochs=3, batch_size=16, seed=1, verbose=first,
                        callbacks=[BackupAndRestore(tmp_path), _StopAfterFirstEpoch()])
    sn.utils.set_random_seed(3)
    resumed = model_for()
    history = resumed.fit(x, y, epochs=3, batch_size=16, seed=1, verbose=second,
                          callbacks=[BackupAndRestore(tmp_path), _StopAfterFirstEpoch(armed=False)])
    assert resumed.optimizer.iterations == 12  # 4 steps an epoch: the first epoch came from the backup
    sn.utils.set_random_seed(3)
    reference = model_for()
    want = reference.fit(x, y, epochs=3, batch_size=16, seed=1, verbose=0)
    assert history.history["loss"] == want.history["loss"]
    for got, expected in zip(resumed.get_weights(), reference.get_weights()):
        np.testing.assert_array_equal(got, expected)
