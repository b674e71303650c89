"""BackupAndRestore: an interrupted run, rerun, ends bit-identical to an uninterrupted one."""
import os
import signal
import subprocess
import sys
import time

import numpy as np
import pytest

import seqnn as sn
from seqnn.callbacks.backup_and_restore import BackupAndRestore

SCRIPT = os.path.join(os.path.dirname(__file__), "scripts", "backup_train.py")


def run_script(tmp_path, name, *extra, kill_on_pause=False):
    """Run the training script; with kill_on_pause, SIGKILL it once it reports it is paused."""
    out = tmp_path / f"{name}.npz"
    cmd = [sys.executable, SCRIPT, str(tmp_path / "backup"), str(out), *extra]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    marker = tmp_path / "paused"
    if kill_on_pause:
        deadline = time.time() + 120
        while not marker.exists():
            if proc.poll() is not None:
                pytest.fail(f"script ended before pausing: {proc.stderr.read()[-2000:]}")
            if time.time() > deadline:
                proc.kill()
                pytest.fail("script never paused")
            time.sleep(0.02)
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        marker.unlink()
        assert proc.returncode == -signal.SIGKILL
        return None
    _, err = proc.communicate(timeout=300)
    assert proc.returncode == 0, err[-2000:]
    return dict(np.load(out))


def assert_same(a, b):
    assert sorted(a) == sorted(b)
    for key in a:
        assert np.array_equal(a[key], b[key]), key


@pytest.fixture(scope="module")
def uninterrupted(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("reference")
    result = run_script(tmp, "reference")
    assert not (tmp / "backup" / "backup.safetensors").exists()  # a finished run removes its backup
    return result


def test_kill_mid_epoch_then_rerun_is_bit_identical(tmp_path, uninterrupted):
    run_script(tmp_path, "killed", "--pause-after-batch", "23", kill_on_pause=True)  # epoch 2, batch 13
    assert (tmp_path / "backup" / "backup.safetensors").exists()
    resumed = run_script(tmp_path, "resumed")
    assert_same(resumed, uninterrupted)
    assert not (tmp_path / "backup" / "backup.safetensors").exists()


def test_kill_mid_save_leaves_the_previous_backup_and_resumes_exactly(tmp_path, uninterrupted):
    run_script(tmp_path, "killed", "--pause-in-save", "3", kill_on_pause=True)
    backup = tmp_path / "backup"
    stale = [p for p in os.listdir(backup) if p.endswith(".tmp")]
    assert len(stale) == 1  # the half-written file, never renamed into place
    assert (backup / "backup.safetensors").exists()  # the previous, complete backup
    resumed = run_script(tmp_path, "resumed")
    assert_same(resumed, uninterrupted)
    assert os.listdir(backup) == []


def test_kill_with_per_epoch_backups(tmp_path, uninterrupted):
    run_script(tmp_path, "killed", "--save-freq", "epoch", "--pause-after-batch", "30", kill_on_pause=True)
    resumed = run_script(tmp_path, "resumed", "--save-freq", "epoch")
    assert_same(resumed, uninterrupted)


def _fit(backup_dir, crash_after=None, epochs=3, **backup_args):
    sn.utils.set_random_seed(0)
    rng = np.random.default_rng(1)
    x = rng.normal(size=(96, 5)).astype(np.float32)
    y = np.argmax(x @ rng.normal(size=(5, 3)), axis=1)
    model = sn.Sequential([sn.Input((5,)), sn.layers.Dense(8, activation="tanh"), sn.layers.Dropout(0.2),
                           sn.layers.Dense(3, activation="softmax")])
    model.compile(optimizer=sn.optimizers.Nadam(1e-2), loss="sparse_categorical_crossentropy",
                  metrics=["accuracy", sn.metrics.F1Score(average="macro"), sn.metrics.AUC()])

    class Crash(sn.callbacks.Callback):
        count = 0

        def on_train_batch_end(self, batch, logs=None):
            Crash.count += 1
            if Crash.count == crash_after:
                raise KeyboardInterrupt

    history = model.fit(x, y, epochs=epochs, batch_size=16, verbose=0, seed=2,
                        callbacks=[Crash(), BackupAndRestore(backup_dir, **backup_args)])
    return model, history


@pytest.mark.parametrize("save_freq, crash_after", [("epoch", 8), (5, 13), (1, 6), (6, 12)])
def test_interrupted_fit_resumes_in_process(tmp_path, save_freq, crash_after):
    reference, ref_history = _fit(tmp_path / "ref", save_freq=save_freq)
    with pytest.raises(KeyboardInterrupt):
        _fit(tmp_path / "run", crash_after=crash_after, save_freq=save_freq)
    resumed, history = _fit(tmp_path / "run", save_freq=save_freq)
    for a, b in zip(reference.get_weights(), resumed.get_weights()):
        assert np.array_equal(a, b)
    assert history.epoch == ref_history.epoch == [0, 1, 2]
    assert history.history == ref_history.history  # loss and running metrics of the resumed epoch too
    assert resumed.optimizer.state_scalars() == reference.optimizer.state_scalars()


def test_delete_checkpoint_false_keeps_the_backup(tmp_path):
    _fit(tmp_path, delete_checkpoint=False)
    assert (tmp_path / "backup.safetensors").exists()


def test_resuming_with_other_callbacks_is_refused(tmp_path):
    with pytest.raises(KeyboardInterrupt):
        _fit(tmp_path, crash_after=8)
    sn.utils.set_random_seed(0)
    model = sn.Sequential([sn.Input((5,)), sn.layers.Dense(8, activation="tanh"), sn.layers.Dropout(0.2),
                           sn.layers.Dense(3, activation="softmax")])
    model.compile(optimizer=sn.optimizers.Nadam(1e-2), loss="sparse_categorical_crossentropy")
    x, y = np.zeros((16, 5)), np.zeros(16, int)
    with pytest.raises(ValueError, match="backup was written with callbacks"):
        model.fit(x, y, epochs=3, batch_size=16, verbose=0, callbacks=[BackupAndRestore(tmp_path)])


def test_bad_arguments():
    with pytest.raises(ValueError, match="save_freq must be 'epoch' or a positive number of batches, got 0"):
        BackupAndRestore("x", save_freq=0)
    with pytest.raises(ValueError, match="backup_dir"):
        BackupAndRestore("")
