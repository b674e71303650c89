"""CSVLogger: exact file contents, flushing, append mode, and resuming after a crash."""
import json
import re

import numpy as np
import pytest

import seqnn as sn
from seqnn.callbacks import CSVLogger, LambdaCallback
from seqnn.callbacks.backup_and_restore import BackupAndRestore


def data(n=48, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, 4)).astype(np.float32)
    return x, np.argmax(x @ rng.normal(size=(4, 3)), axis=1)


def model_for():
    model = sn.Sequential([sn.Input((4,)), sn.layers.Dense(8, activation="relu"),
                           sn.layers.Dense(3, activation="softmax")])
    return model.compile(optimizer=sn.optimizers.Adam(0.01), loss="sparse_categorical_crossentropy",
                         metrics=["accuracy"])


def expected_csv(history, sep=","):
    keys = sorted(history.history)
    lines = [sep.join(["epoch", *keys])]
    for i, epoch in enumerate(history.epoch):
        lines.append(sep.join([str(epoch), *(str(history.history[k][i]) for k in keys)]))
    return "\n".join(lines) + "\n"


def test_file_is_keras_layout_exactly(tmp_path):
    x, y = data()
    path = tmp_path / "log.csv"
    history = model_for().fit(x, y, epochs=3, batch_size=16, validation_split=0.25, verbose=0,
                              callbacks=[CSVLogger(path)])
    text = path.read_text()
    assert text.splitlines()[0] == "epoch,accuracy,loss,val_accuracy,val_loss"
    assert text == expected_csv(history)
    assert "\r" not in text


def test_separator_and_logged_learning_rate(tmp_path):
    x, y = data()
    path = tmp_path / "log.tsv"
    scheduler = sn.callbacks.LearningRateScheduler(lambda epoch, lr: 0.01 / (epoch + 1))
    history = model_for().fit(x, y, epochs=2, batch_size=16, verbose=0,
                              callbacks=[scheduler, CSVLogger(path, separator="\t")])
    assert path.read_text() == expected_csv(history, sep="\t")
    assert path.read_text().splitlines()[0] == "epoch\taccuracy\tlearning_rate\tloss"


def test_rows_are_flushed_every_epoch(tmp_path):
    x, y = data()
    path = tmp_path / "live.csv"
    lines_seen = []
    reader = LambdaCallback(on_epoch_end=lambda epoch, logs: lines_seen.append(len(path.read_text().splitlines())))
    model_for().fit(x, y, epochs=3, batch_size=16, verbose=0, callbacks=[CSVLogger(path), reader])
    assert lines_seen == [2, 3, 4]  # header + one row per finished epoch, readable while training runs


def test_overwrite_by_default_and_append_continues_without_second_header(tmp_path):
    x, y = data()
    path = tmp_path / "log.csv"
    path.write_text("old contents\n")
    first = model_for().fit(x, y, epochs=2, batch_size=16, verbose=0, callbacks=[CSVLogger(path)])
    second = model_for().fit(x, y, epochs=3, batch_size=16, verbose=0, callbacks=[CSVLogger(path, append=True)])
    lines = path.read_text().splitlines()
    assert lines[0] == "epoch,accuracy,loss" and lines.count(lines[0]) == 1
    assert [line.split(",")[0] for line in lines[1:]] == ["0", "1", "0", "1", "2"]
    assert lines[5] == f"2,{second.history['accuracy'][2]},{second.history['loss'][2]}"
    assert lines[1] == f"0,{first.history['accuracy'][0]},{first.history['loss'][0]}"


def test_append_to_missing_or_empty_file_writes_the_header(tmp_path):
    for path in (tmp_path / "missing.csv", tmp_path / "empty.csv"):
        if path.name == "empty.csv":
            path.write_text("")
        cb = CSVLogger(path, append=True)
        cb.on_train_begin()
        cb.on_epoch_end(0, {"loss": 0.5})
        cb.on_train_end()
        assert path.read_text() == "epoch,loss\n0,0.5\n"


def test_append_uses_the_existing_files_columns(tmp_path):
    path = tmp_path / "log.csv"
    path.write_text("epoch;val_loss;loss\n0;2.0;1.0\n")
    cb = CSVLogger(path, separator=";", append=True)
    cb.on_train_begin()
    cb.on_epoch_end(0, {"loss": 0.5, "val_loss": 0.25})
    cb.on_train_end()
    assert path.read_text() == "epoch;val_loss;loss\n0;2.0;1.0\n0;0.25;0.5\n"


def test_append_refuses_a_file_that_is_not_a_csv_log(tmp_path):
    path = tmp_path / "notes.csv"
    path.write_text("hello,world\n")
    cb = CSVLogger(path, append=True)
    cb.on_train_begin()
    with pytest.raises(ValueError, match="does not start with an 'epoch' column"):
        cb.on_epoch_end(0, {"loss": 1.0})


def test_missing_keys_are_na_and_late_keys_warn_once(tmp_path):
    path = tmp_path / "log.csv"
    cb = CSVLogger(path)
    cb.on_train_begin()
    cb.on_epoch_end(0, {"loss": 1.0, "val_loss": 2.0})
    cb.on_epoch_end(1, {"loss": 0.5})
    with pytest.warns(UserWarning, match=re.escape("CSVLogger: lr appeared after the header of")) as record:
        cb.on_epoch_end(2, {"loss": 0.25, "val_loss": 1.5, "lr": 0.1})
        cb.on_epoch_end(3, {"loss": 0.125, "val_loss": 1.5, "lr": 0.1})
    assert len(record) == 1
    cb.on_train_end()
    assert path.read_text() == ("epoch,loss,val_loss\n0,1.0,2.0\n1,0.5,NA\n2,0.25,1.5\n3,0.125,1.5\n")


def test_no_epoch_still_creates_the_file_and_list_values_are_one_cell(tmp_path):
    path = tmp_path / "log.csv"
    cb = CSVLogger(path)
    cb.on_train_begin()
    cb.on_train_end()
    assert path.read_text() == ""
    cb.on_train_begin()
    cb.on_epoch_end(0, {"f1": np.array([0.5, 0.25]), "loss": 1.0})
    cb.on_train_end()
    assert path.read_text() == 'epoch,f1,loss\n0,"[0.5, 0.25]",1.0\n'


@pytest.mark.parametrize("kwargs, message", [
    (dict(filename=""), "CSVLogger: filename must be a file path, got ''"),
    (dict(filename="a.csv", separator=", "), "CSVLogger: separator must be one character"),
    (dict(filename="a.csv", separator="\n"), "CSVLogger: separator must be one character"),
])
def test_bad_arguments(kwargs, message):
    with pytest.raises(ValueError, match=re.escape(message)):
        CSVLogger(**kwargs)


def test_state_truncates_rows_written_after_the_backup(tmp_path):
    path = tmp_path / "log.csv"
    cb = CSVLogger(path)
    cb.on_train_begin()
    cb.on_epoch_end(0, {"loss": 1.0})
    state = json.loads(json.dumps(cb.get_state()))   # a backup taken after epoch 0
    cb.on_epoch_end(1, {"loss": 0.5})                 # ... then a crash after epoch 1's row

    resumed = CSVLogger(path)                         # append=False, but resuming must not truncate
    resumed.on_train_begin()
    resumed.set_state(state)
    resumed.on_epoch_end(1, {"loss": 0.75})
    resumed.on_train_end()
    assert path.read_text() == "epoch,loss\n0,1.0\n1,0.75\n"


def _fit_with_backup(tmp_path, csv_path, crash_at_epoch_end=None):
    sn.utils.set_random_seed(0)
    x, y = data(seed=1)

    class Crash(sn.callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            if epoch == crash_at_epoch_end:
                raise KeyboardInterrupt

    # Crash runs after CSVLogger and before the backup: the CSV has a row the backup does not know about.
    return model_for().fit(x, y, epochs=4, batch_size=16, verbose=0, seed=3, validation_split=0.25,
                           callbacks=[CSVLogger(csv_path), Crash(), BackupAndRestore(tmp_path / "backup")])


def test_resumed_run_writes_the_same_file_as_an_uninterrupted_one(tmp_path):
    reference = tmp_path / "reference.csv"
    _fit_with_backup(tmp_path / "a", reference)
    path = tmp_path / "resumed.csv"
    with pytest.raises(KeyboardInterrupt):
        _fit_with_backup(tmp_path / "b", path, crash_at_epoch_end=2)
    assert len(path.read_text().splitlines()) == 4      # header + epochs 0, 1, 2 (2 not backed up)
    _fit_with_backup(tmp_path / "b", path)
    assert path.read_text() == reference.read_text()
    assert len(reference.read_text().splitlines()) == 5
