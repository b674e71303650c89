"""ModelCheckpoint: which files are written, when, under which names, and what they hold."""
import json
import os
import re

import numpy as np
import pytest
from safetensors.numpy import load_file

import seqnn as sn
from seqnn.callbacks import LambdaCallback, ModelCheckpoint


def data(n=32):
    rng = np.random.default_rng(0)
    return rng.normal(size=(n, 3)).astype(np.float32), rng.normal(size=(n, 2)).astype(np.float32)


def tiny_model():
    model = sn.Sequential([sn.Input((3,)), sn.layers.Dense(2)])
    return model.compile(optimizer=sn.optimizers.SGD(0.1), loss="mse")


def fit_scripted(checkpoint, scripted, key="val_loss", epochs=None, batch_size=8):
    """A real fit whose ``logs[key]`` follows ``scripted``; returns (model, weights at each epoch end)."""
    x, y = data()
    model = tiny_model()
    snapshots = []

    def inject(epoch, logs):
        logs[key] = scripted[epoch]
        snapshots.append(model.get_weights())

    model.fit(x, y, epochs=epochs or len(scripted), batch_size=batch_size, verbose=0,
              callbacks=[LambdaCallback(on_epoch_end=inject), checkpoint])
    return model, snapshots


def same_weights(a, b):
    return len(a) == len(b) and all(np.array_equal(u, v) for u, v in zip(a, b))


def test_save_best_only_writes_exactly_the_improving_epochs(tmp_path):
    template = str(tmp_path / "ckpt-{epoch:02d}.safetensors")
    _, snapshots = fit_scripted(ModelCheckpoint(template, save_best_only=True), [1.0, 0.8, 0.9, 0.7, 0.75])
    assert sorted(os.listdir(tmp_path)) == ["ckpt-01.safetensors", "ckpt-02.safetensors", "ckpt-04.safetensors"]
    for epoch in (1, 2, 4):
        loaded = sn.load_model(tmp_path / f"ckpt-{epoch:02d}.safetensors")
        assert same_weights(loaded.get_weights(), snapshots[epoch - 1])
        assert isinstance(loaded.optimizer, sn.optimizers.SGD)


def test_one_fixed_path_holds_the_best_epoch(tmp_path):
    path = tmp_path / "best.safetensors"
    _, snapshots = fit_scripted(ModelCheckpoint(path, save_best_only=True), [1.0, 0.5, 0.9, 0.6])
    assert same_weights(sn.load_model(path).get_weights(), snapshots[1])


def test_without_save_best_only_every_epoch_is_saved(tmp_path):
    model, snapshots = fit_scripted(ModelCheckpoint(tmp_path / "e{epoch}.safetensors"), [3.0, 2.0, 4.0])
    assert sorted(os.listdir(tmp_path)) == ["e1.safetensors", "e2.safetensors", "e3.safetensors"]
    assert same_weights(sn.load_model(tmp_path / "e3.safetensors").get_weights(), model.get_weights())


def test_template_with_logged_values(tmp_path):
    template = tmp_path / "m-{epoch:03d}-{val_loss:.3f}-{loss:.1f}.safetensors"
    fit_scripted(ModelCheckpoint(template), [0.12345, 0.5], epochs=2)
    names = sorted(os.listdir(tmp_path))
    assert re.fullmatch(r"m-001-0\.123-\d+\.\d\.safetensors", names[0])
    assert re.fullmatch(r"m-002-0\.500-\d+\.\d\.safetensors", names[1])


def test_save_weights_only_writes_weight_tensors_only(tmp_path):
    path = tmp_path / "w.safetensors"
    model, snapshots = fit_scripted(ModelCheckpoint(path, save_weights_only=True), [1.0, 2.0])
    tensors = load_file(str(path))
    assert sorted(tensors) == ["layers.0.bias", "layers.0.kernel"]
    np.testing.assert_array_equal(tensors["layers.0.kernel"], snapshots[1][0])
    fresh = tiny_model()
    fresh.load_weights(path)
    assert same_weights(fresh.get_weights(), model.get_weights())


def test_initial_value_threshold_is_the_starting_best(tmp_path):
    template = tmp_path / "t{epoch}.safetensors"
    cb = ModelCheckpoint(template, save_best_only=True, initial_value_threshold=0.75)
    fit_scripted(cb, [1.0, 0.8, 0.7, 0.72, 0.6])
    assert sorted(os.listdir(tmp_path)) == ["t3.safetensors", "t5.safetensors"]
    assert cb.best == 0.6


def test_mode_auto_maximises_accuracy_and_explicit_mode(tmp_path):
    fit_scripted(ModelCheckpoint(tmp_path / "a{epoch}.safetensors", monitor="val_accuracy", save_best_only=True),
                 [0.5, 0.4, 0.7, 0.7], key="val_accuracy")
    fit_scripted(ModelCheckpoint(tmp_path / "b{epoch}.safetensors", monitor="gap", mode="max",
                                 save_best_only=True), [1.0, 2.0, 1.5], key="gap")
    assert sorted(os.listdir(tmp_path)) == ["a1.safetensors", "a3.safetensors", "b1.safetensors",
                                            "b2.safetensors"]


def test_best_is_kept_across_fits_like_keras(tmp_path):
    cb = ModelCheckpoint(tmp_path / "c{epoch}.safetensors", save_best_only=True)
    fit_scripted(cb, [0.5])
    fit_scripted(cb, [0.9, 0.4])
    assert sorted(os.listdir(tmp_path)) == ["c1.safetensors", "c2.safetensors"]


def test_save_freq_in_batches_counts_across_epochs(tmp_path):
    x, y = data(32)  # 4 batches of 8 per epoch
    seen = []
    cb = ModelCheckpoint(tmp_path / "b-{epoch}-{batch}.safetensors", save_freq=3)
    model = tiny_model()
    model.fit(x, y, epochs=2, batch_size=8, shuffle=False, verbose=0,
              callbacks=[cb, LambdaCallback(on_train_batch_end=lambda b, logs: seen.append(model.get_weights()))])
    # Global batches 3 and 6: epoch 1 batch 3, epoch 2 batch 2 (both 1-based, as {epoch} is).
    assert sorted(os.listdir(tmp_path)) == ["b-1-3.safetensors", "b-2-2.safetensors"]
    assert same_weights(sn.load_model(tmp_path / "b-2-2.safetensors").get_weights(), seen[5])


def test_save_freq_with_save_best_only_monitors_batch_logs(tmp_path):
    x, y = data(32)
    cb = ModelCheckpoint(tmp_path / "l{epoch}-{batch}.safetensors", monitor="loss", save_best_only=True,
                         save_freq=2)
    tiny_model().fit(x, y, epochs=1, batch_size=8, verbose=0, callbacks=[cb])
    assert "l1-2.safetensors" in os.listdir(tmp_path)  # the first check always saves
    assert cb.best is not None


def test_missing_parent_directory_is_created(tmp_path):
    path = tmp_path / "deep" / "er" / "m.safetensors"
    fit_scripted(ModelCheckpoint(path), [1.0])
    assert path.is_file()


def test_missing_monitor_warns_once_and_does_not_save(tmp_path):
    x, y = data()
    with pytest.warns(UserWarning) as record:
        tiny_model().fit(x, y, epochs=3, batch_size=8, verbose=0,
                         callbacks=[ModelCheckpoint(tmp_path / "m.safetensors", save_best_only=True)])
    mine = [w for w in record if "ModelCheckpoint" in str(w.message)]
    assert len(mine) == 1
    assert "monitor='val_loss' is not in the logs" in str(mine[0].message)
    assert "available keys: loss" in str(mine[0].message)
    assert os.listdir(tmp_path) == []


def test_template_key_that_is_not_logged(tmp_path):
    cb = ModelCheckpoint(tmp_path / "{val_auc:.2f}.safetensors")
    with pytest.raises(ValueError, match=r"failed to fill in filepath .*'val_auc' is not logged here; "
                                         r"available: loss, val_loss, epoch"):
        fit_scripted(cb, [1.0])


def test_existing_directory_as_path_is_refused(tmp_path):
    (tmp_path / "d.safetensors").mkdir()
    with pytest.raises(ValueError, match="is an existing directory"):
        fit_scripted(ModelCheckpoint(tmp_path / "d.safetensors"), [1.0])


@pytest.mark.parametrize("args, message", [
    (("model.pt",), "ModelCheckpoint: the filepath must end in .safetensors (seqnn's format) or a Keras name "
                    "(.keras, .h5, .hdf5, also written as safetensors); got filepath='model.pt'"),
    (("w.weights", "val_loss", 0, False, True), "got filepath='w.weights'"),
    (("m{}.safetensors",), "has a positional field {}; name the value"),
    (("m{epoch.safetensors",), "is not a valid template"),
])
def test_bad_paths_are_refused_at_construction(args, message):
    with pytest.raises(ValueError, match=re.escape(message)):
        ModelCheckpoint(*args)


@pytest.mark.parametrize("kwargs, message", [
    (dict(save_freq=0), "unrecognized save_freq: 0; expected 'epoch' or a positive integer"),
    (dict(save_freq="batch"), "unrecognized save_freq: 'batch'"),
    (dict(mode="maximum"), "mode must be one of 'auto', 'min', 'max', got 'maximum'"),
    (dict(initial_value_threshold="x"), "initial_value_threshold must be a number or None, got 'x'"),
])
def test_bad_arguments(kwargs, message):
    with pytest.raises(ValueError, match=re.escape(message)):
        ModelCheckpoint("m.safetensors", **kwargs)


def test_upper_case_extension_and_pathlike_are_accepted(tmp_path):
    assert ModelCheckpoint(tmp_path / "M.SAFETENSORS").filepath.endswith("M.SAFETENSORS")


def test_verbose_messages(tmp_path, capsys):
    fit_scripted(ModelCheckpoint(tmp_path / "v.safetensors", save_best_only=True, verbose=1), [1.0, 2.0])
    out = capsys.readouterr().out
    assert f"Epoch 1: val_loss improved from inf to 1.00000, saving model to {tmp_path / 'v.safetensors'}" in out
    assert "Epoch 2: val_loss did not improve from 1.00000" in out


def test_verbose_message_starts_from_minus_inf_when_maximizing(tmp_path, capsys):
    fit_scripted(ModelCheckpoint(tmp_path / "v.safetensors", monitor="val_loss", mode="max", save_best_only=True,
                                 verbose=1), [1.0])
    assert "Epoch 1: val_loss improved from -inf to 1.00000" in capsys.readouterr().out


def test_state_round_trip(tmp_path):
    cb = ModelCheckpoint(tmp_path / "s{epoch}.safetensors", monitor="loss", save_best_only=True, save_freq=3)
    x, y = data(32)
    tiny_model().fit(x, y, epochs=1, batch_size=8, verbose=0, callbacks=[cb])
    state = json.loads(json.dumps(cb.get_state(), allow_nan=False))
    assert state["batches_since_save"] == 1  # 4 batches, saved after the 3rd
    assert isinstance(state["best"], float)
    other = ModelCheckpoint(tmp_path / "s{epoch}.safetensors", monitor="loss", save_best_only=True, save_freq=3)
    other.on_train_begin()
    other.set_state(state)
    assert other.best == cb.best and other.get_state() == state
    assert json.dumps(ModelCheckpoint("m.safetensors").get_state()) == '{"best": null, "batches_since_save": 0}'
