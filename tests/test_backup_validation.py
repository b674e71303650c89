"""A backup file is checked in every field before a fit resumes from it, and a refused one changes nothing."""
import json

import numpy as np
import pytest
from model_files import join, metadata_json, small_model, split, with_metadata

import seqnn as sn
from seqnn.callbacks import BackupAndRestore, Callback, EarlyStopping, ModelCheckpoint


class Crash(Exception):
    pass


class CrashAfter(Callback):
    def __init__(self, batches):
        super().__init__()
        self.batches, self.seen = batches, 0

    def on_train_batch_end(self, batch, logs=None):
        self.seen += 1
        if self.seen == self.batches:
            raise Crash()


class Stateful(Callback):
    """A user's callback with state; set_state refuses 13, after the others' set_state ran."""

    def __init__(self):
        super().__init__()
        self.x = 0

    def on_train_begin(self, logs=None):
        self.x = 0

    def on_epoch_end(self, epoch, logs=None):
        self.x += 1

    def get_state(self):
        return {"x": self.x}

    def set_state(self, state):
        if state["x"] == 13:
            raise ValueError("Stateful: 13 is unlucky")
        self.x = state["x"]


def data():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(40, 4)).astype(np.float32)
    return x, np.argmax(x[:, :3], axis=1)


def callbacks(tmp_path, crash_after=None):
    """The state entries are, in order: CrashAfter, EarlyStopping, Stateful, ModelCheckpoint, History, BackupAndRestore."""
    return [CrashAfter(crash_after or 10**9), EarlyStopping(monitor="loss", patience=5), Stateful(),
            ModelCheckpoint(tmp_path / "ckpt.safetensors", monitor="loss", save_best_only=True),
            BackupAndRestore(tmp_path / "backup", save_freq=3)]


def fit(model, tmp_path, crash_after=None):
    x, y = data()
    return model.fit(x, y, epochs=4, batch_size=8, verbose=0, callbacks=callbacks(tmp_path, crash_after), seed=1)


@pytest.fixture
def backup(tmp_path):
    """(path, bytes) of a backup written mid-epoch 2 by an interrupted fit."""
    with pytest.raises(Crash):
        fit(small_model(), tmp_path, crash_after=8)
    path = tmp_path / "backup" / "backup.safetensors"
    return path, path.read_bytes()


def resume_refused(tmp_path, path, *fragments):
    """A fresh model's fit refuses the backup, naming it; the model, its optimizer and the file stay as they were."""
    model = small_model()
    before = model.get_weights()
    raw = path.read_bytes()
    with pytest.raises(ValueError) as info:
        fit(model, tmp_path)
    message = str(info.value)
    assert str(path) in message, message
    for fragment in fragments:
        assert fragment in message, message
    for a, b in zip(before, model.get_weights()):
        assert np.array_equal(a, b)
    assert model.optimizer.iterations == 0
    assert path.read_bytes() == raw
    return message


def forge(path, raw, change):
    state = metadata_json(raw, "training_state")
    change(state)
    path.write_bytes(with_metadata(raw, training_state=state))


def test_the_backup_resumes_when_untouched(tmp_path, backup):
    x, y = data()
    reference = small_model()
    reference.fit(x, y, epochs=4, batch_size=8, verbose=0, callbacks=callbacks(tmp_path / "ref"), seed=1)
    assert (tmp_path / "backup" / "backup.safetensors").exists()
    resumed = small_model()
    fit(resumed, tmp_path)
    for a, b in zip(reference.get_weights(), resumed.get_weights()):
        assert np.array_equal(a, b)


@pytest.mark.parametrize("change, fragments", [
    (lambda s: s.update(epoch=-1), ["training_state.epoch", "from 0 to 4", "-1"]),
    (lambda s: s.update(epoch=111_614), ["training_state.epoch", "111614"]),
    (lambda s: s.update(epoch=True), ["training_state.epoch"]),
    (lambda s: s.update(epoch="1"), ["training_state.epoch"]),
    (lambda s: s.update(epoch=1.5), ["training_state.epoch"]),
    (lambda s: s.update(steps_done=-2), ["training_state.steps_done"]),
    (lambda s: s.update(steps_done=6), ["training_state.steps_done", "from 0 to 5"]),
    (lambda s: s.update(loss_total=float("nan")), ["training_state.loss_total"]),
    (lambda s: s.update(loss_count=-1.0), ["training_state.loss_count"]),
    (lambda s: s.update(loss_count=0.0), ["training_state.loss_count", "samples in the 1 step done"]),
    (lambda s: s.update(loss_count=7.5), ["training_state.loss_count", "samples in the 1 step done"]),
    (lambda s: s.update(steps_done=0), ["training_state.loss_count", "no step of the epoch is done"]),
    (lambda s: s.update(learning_rate=-0.5), ["training_state.learning_rate"]),
    (lambda s: s.update(learning_rate="fast"), ["training_state.learning_rate"]),
    (lambda s: s.update(shuffle_rng=None), ["training_state.shuffle_rng", "did not shuffle"]),
    (lambda s: s["shuffle_rng"].update(bit_generator="MT19937"), ["training_state.shuffle_rng.bit_generator"]),
    (lambda s: s["shuffle_rng"]["state"].update(state=-1), ["training_state.shuffle_rng.state.state"]),
    (lambda s: s["shuffle_rng"]["state"].update(state=2**200), ["training_state.shuffle_rng.state.state"]),
    (lambda s: s["shuffle_rng"].pop("has_uint32"), ["training_state.shuffle_rng"]),
    (lambda s: s["layer_rngs"].update({"0": {"splitmix64": [1, 2]}}), ["training_state.layer_rngs"]),
    (lambda s: s["layer_rngs"]["1"].update(splitmix64=[1, -2]), ["training_state.layer_rngs.1.splitmix64[1]"]),
    (lambda s: s["layer_rngs"]["1"].update(splitmix64=[1, 2, 3]), ["training_state.layer_rngs.1.splitmix64"]),
    (lambda s: s["layer_rngs"]["1"].update(splitmix64="x"), ["training_state.layer_rngs.1.splitmix64"]),
    (lambda s: s["layer_rngs"]["1"].update(splitmix64=[1, 2**63 - 5]), ["training_state.layer_rngs.1",
                                                                         "0 <= offset <= 2**62"]),
    (lambda s: s.update(history={"epoch": "x", "history": {}}), ["training_state.history.epoch"]),
    (lambda s: s["history"]["history"].update(loss=["a"]), ["training_state.history.history['loss']"]),
    (lambda s: s.update(metrics=[{}, {}]), ["training_state.metrics", "1 metric states"]),
    (lambda s: s["metrics"][0].update({"__class__.total": 5.0}), ["'__class__.total' is not a number"]),
    (lambda s: s["metrics"][0].update({"total": "many"}), ["training_state.metrics[0].total"]),
    (lambda s: s.update(surprise=1), ["unknown fields ['surprise']"]),
    (lambda s: s.pop("history"), ["lacks ['history']"]),
    (lambda s: s["callbacks"][1].update({"class": "Other"}), ["the backup was written with callbacks ['CrashAfter', 'Other'"]),
    (lambda s: s["callbacks"][1]["state"].update(extra=1), ["training_state.callbacks[1].state",
                                                            "EarlyStopping keeps"]),
    (lambda s: s["callbacks"][1]["state"].update(wait=-3), ["EarlyStopping.set_state: wait must be a whole number"]),
    (lambda s: s["callbacks"][1]["state"].update(best="abc"), ["EarlyStopping.set_state: best must be a number"]),
    (lambda s: s["callbacks"][3]["state"].update(batches_since_save=1.5), ["ModelCheckpoint.set_state"]),
    (lambda s: s["callbacks"][2]["state"].update(x=13), ["Stateful: 13 is unlucky", "nothing was changed"]),
])
def test_a_forged_training_state_is_refused_and_changes_nothing(tmp_path, backup, change, fragments):
    path, raw = backup
    forge(path, raw, change)
    resume_refused(tmp_path, path, *fragments)


def test_a_dotted_path_from_the_file_never_reaches_a_class_attribute(tmp_path, backup):
    path, raw = backup
    forge(path, raw, lambda s: s["metrics"][0].update({"__class__.__init__": None}))
    resume_refused(tmp_path, path, "is not a number")
    metric_class = type(small_model().compile(loss="mse", metrics=["accuracy"]).compiled_metrics)  # still usable
    assert metric_class is list


@pytest.mark.parametrize("name, array, fragment", [
    ("metrics.0.__dict__", np.zeros(1), "is not the state of a compiled metric"),
    ("metrics.7.total", np.zeros(1), "is not the state of a compiled metric"),
    ("callbacks.1.best_weights.3", np.zeros((2, 2)), "saved best weights are incomplete"),
    ("callbacks.0.x", np.zeros(1), "is not the state of a callback"),
    ("callbacks.9.x", np.zeros(1), "is not the state of a callback"),
    ("stray.tensor", np.zeros(1), "unexpected tensors ['stray.tensor']"),
])
def test_forged_extra_tensors_are_refused(tmp_path, backup, name, array, fragment):
    path, raw = backup
    header, data = split(raw)
    header[name] = {"dtype": "F64", "shape": list(array.shape), "data_offsets": [len(data), len(data) + array.nbytes]}
    path.write_bytes(join(header, data + array.tobytes()))
    resume_refused(tmp_path, path, fragment)


def test_best_weights_of_the_wrong_shape_are_refused(tmp_path):
    model = small_model()
    x, y = data()
    stopper = EarlyStopping(monitor="loss", patience=5, restore_best_weights=True)
    model.fit(x, y, epochs=1, batch_size=8, verbose=0, callbacks=[stopper])
    arrays = stopper.get_state_arrays()
    arrays["best_weights.0"] = np.zeros((9, 9))
    with pytest.raises(ValueError, match="saved best weights do not fit the model"):
        stopper.set_state_arrays(arrays)


def test_weights_of_another_model_are_refused_before_anything_changes(tmp_path, backup):
    path, raw = backup
    model = sn.Sequential([sn.Input((4,)), sn.layers.Dense(6, activation="relu"), sn.layers.Dropout(0.2),
                           sn.layers.Dense(3, activation="softmax")])
    model.compile(optimizer=sn.optimizers.Adam(1e-2), loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    before = model.get_weights()
    with pytest.raises(ValueError, match="shape mismatches: layers.0.bias"):
        fit(model, tmp_path)
    assert all(np.array_equal(a, b) for a, b in zip(before, model.get_weights()))


def test_a_damaged_backup_is_a_value_error_naming_it(tmp_path, backup):
    path, raw = backup
    path.write_bytes(raw[: len(raw) // 2])
    resume_refused(tmp_path, path, "truncated")
    path.write_bytes(with_metadata(raw, training_state="[" * 100_000))
    resume_refused(tmp_path, path, "training_state", "nested too deeply")
    path.write_bytes(with_metadata(raw, training_state=None))
    resume_refused(tmp_path, path, "not a training backup")


def test_restore_and_backup_outside_fit_are_refused(tmp_path, backup):
    path, _ = backup
    model = small_model()
    with pytest.raises(ValueError, match="restore_training: only during fit"):
        model.restore_training(path)
    with pytest.raises(ValueError, match="backup_training: only during fit"):
        model.backup_training(tmp_path / "b.safetensors")


def test_backup_and_restore_uses_only_the_models_public_methods():
    import inspect

    from seqnn.callbacks import backup_and_restore

    source = inspect.getsource(backup_and_restore)
    assert "_progress" not in source and "_active_callbacks" not in source and "saving" not in source
    assert "backup_training" in source and "restore_training" in source


def test_the_state_survives_strict_json(tmp_path, backup):
    _, raw = backup
    json.dumps(metadata_json(raw, "training_state"), allow_nan=False)


# ------------------------------------------------ found by the fuzz suite ---
def auc_fit(tmp_path, crash_after=None):
    model = small_model()
    model.compile(optimizer=sn.optimizers.Adam(1e-2), loss="sparse_categorical_crossentropy",
                  metrics=[sn.metrics.AUC(num_thresholds=5, multi_label=True)])
    x, y = data()
    model.fit(x, y, epochs=2, batch_size=8, verbose=0, seed=1,
              callbacks=[CrashAfter(crash_after or 10**9), BackupAndRestore(tmp_path / "backup", save_freq=1)])
    return model


@pytest.mark.parametrize("change, fragment", [
    (lambda m: m.update(num_thresholds=2**53), "is the metric's configuration, 5; the backup says 9007199254740992"),
    (lambda m: m.update(multi_label=False), "is the metric's configuration, True"),
    (lambda m: m.update(num_labels=2**53), "expected None or a whole number from 0 to 3"),
    (lambda m: m.update(label_weights=2), "the backup does not fit this run"),
    (lambda m: m.update(num_labels=2), "the backup does not fit this run"),  # the next epoch's reset: 2 labels, not 3
])
def test_a_metrics_configuration_cannot_be_changed_by_a_backup(tmp_path, change, fragment):
    with pytest.raises(Crash):
        auc_fit(tmp_path, crash_after=3)
    path = tmp_path / "backup" / "backup.safetensors"
    raw = path.read_bytes()
    forge(path, raw, lambda s: change(s["metrics"][0]))
    with pytest.raises(ValueError, match=fragment.replace("(", r"\(")):
        auc_fit(tmp_path)
    path.write_bytes(raw)
    auc_fit(tmp_path)  # the untouched backup resumes


def test_negative_running_squares_in_the_optimizer_state_are_refused(tmp_path, backup):
    path, raw = backup
    header, data_bytes = split(raw)
    begin, end = header["optimizer.v.layers.0.kernel"]["data_offsets"]
    negative = np.full((end - begin) // 4, -1.0, np.float32).tobytes()
    path.write_bytes(join(header, data_bytes[:begin] + negative + data_bytes[end:]))
    resume_refused(tmp_path, path, "optimizer.v.layers.0.kernel hold negative values, which Adam never stores there")
    with pytest.raises(ValueError, match="hold negative values"):
        sn.load_model(path)
