"""model.save / load_model / save_weights / load_weights: the safetensors file and strict loading."""
import json
import os
import struct

import numpy as np
import pytest
from safetensors.numpy import load_file, save_file

import seqnn as sn
from seqnn.saving import WeightsMismatchError

L = sn.layers


def trained_model(optimizer="adam"):
    sn.utils.set_random_seed(0)
    model = sn.Sequential(name="saved", layers=[
        L.Input((6,)), L.Dense(8, activation="relu", kernel_regularizer=sn.regularizers.L2(1e-3)),
        L.Dropout(0.1), L.Dense(3, activation="softmax")])
    model.compile(optimizer=optimizer, loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    x, y = data()
    model.fit(x, y, epochs=2, batch_size=16, verbose=0, seed=1)
    return model


def data():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(64, 6)).astype(np.float32)
    return x, np.argmax(x[:, :3], axis=1)


def test_save_then_load_model_predicts_identically(tmp_path):
    model = trained_model()
    path = tmp_path / "model.safetensors"
    model.save(path)
    loaded = sn.load_model(path)
    x, y = data()
    assert np.array_equal(model.predict(x, verbose=0), loaded.predict(x, verbose=0))
    assert loaded.predict(x, verbose=0).dtype == np.float32
    assert loaded.get_config() == model.get_config()
    assert loaded.evaluate(x, y, verbose=0) == model.evaluate(x, y, verbose=0)


@pytest.mark.parametrize("optimizer", ["adam", "nadam", "sgd", "rmsprop", "adadelta"])
def test_loaded_model_continues_training_exactly(tmp_path, optimizer):
    model = trained_model(sn.optimizers.get(optimizer))
    model.save(tmp_path / "m.safetensors")
    loaded = sn.load_model(tmp_path / "m.safetensors")
    assert loaded.optimizer.state_scalars() == model.optimizer.state_scalars()
    x, y = data()
    for m in (model, loaded):
        m.fit(x, y, epochs=1, batch_size=16, verbose=0, seed=5)
    for a, b in zip(model.get_weights(), loaded.get_weights()):
        assert np.array_equal(a, b)


def test_file_opens_with_safetensors_with_documented_names_and_metadata(tmp_path):
    model = trained_model()
    path = str(tmp_path / "m.safetensors")
    model.save(path)
    tensors = load_file(path)
    assert tensors["layers.0.kernel"].shape == (6, 8) and tensors["layers.0.bias"].shape == (8,)
    assert tensors["layers.2.kernel"].shape == (8, 3) and tensors["layers.2.bias"].shape == (3,)
    assert tensors["optimizer.m.layers.0.kernel"].shape == (6, 8)
    assert tensors["optimizer.v.layers.2.bias"].shape == (3,)
    assert tensors["optimizer.step"].tolist() == [8]
    assert not any(k.startswith("layers.1.") for k in tensors)  # Dropout has no weights
    np.testing.assert_array_equal(tensors["layers.0.kernel"], model.get_weights()[0])
    from safetensors import safe_open

    with safe_open(path, "np") as f:
        meta = f.metadata()
    assert meta["format"] == "seqnn" and meta["seqnn_version"] == sn.__version__
    assert json.loads(meta["model_config"]) == model.get_config()
    compile_config = json.loads(meta["compile_config"])
    assert compile_config["loss"]["class_name"] == "SparseCategoricalCrossentropy"
    assert compile_config["optimizer"]["class_name"] == "Adam"


def test_save_without_optimizer(tmp_path):
    model = trained_model()
    model.save(tmp_path / "m.safetensors", include_optimizer=False)
    assert not any(k.startswith("optimizer.") for k in load_file(tmp_path / "m.safetensors"))
    assert sn.load_model(tmp_path / "m.safetensors").optimizer.iterations == 0


def test_saved_learning_rate_is_the_current_one(tmp_path):
    model = trained_model()
    model.optimizer.learning_rate = 0.0123
    model.save(tmp_path / "m.safetensors")
    assert sn.load_model(tmp_path / "m.safetensors").optimizer.learning_rate == pytest.approx(0.0123)


def test_save_and_load_weights(tmp_path):
    model = trained_model()
    model.save_weights(tmp_path / "w.safetensors")
    assert sorted(load_file(tmp_path / "w.safetensors")) == [
        "layers.0.bias", "layers.0.kernel", "layers.2.bias", "layers.2.kernel"]
    sn.utils.set_random_seed(9)
    other = sn.Sequential.from_config(model.get_config())
    other.load_weights(tmp_path / "w.safetensors")
    for a, b in zip(model.get_weights(), other.get_weights()):
        assert np.array_equal(a, b)


def test_load_weights_names_every_problem_at_once_and_changes_nothing(tmp_path):
    model = trained_model()
    weights = {"layers.0.kernel": np.zeros((6, 9), np.float32),   # shape mismatch
               "layers.2.kernel": np.zeros((8, 3), np.float32),
               "layers.2.bias": np.zeros((3,), np.float32),
               "layers.5.kernel": np.zeros((2, 2), np.float32)}   # extra; layers.0.bias missing
    save_file(weights, str(tmp_path / "bad.safetensors"))
    before = model.get_weights()
    with pytest.raises(WeightsMismatchError) as info:
        model.load_weights(tmp_path / "bad.safetensors")
    message = str(info.value)
    assert "missing tensors: layers.0.bias" in message
    assert "unexpected tensors: layers.5.kernel" in message
    assert "layers.0.kernel: model (6, 8), file (6, 9)" in message
    for a, b in zip(before, model.get_weights()):
        assert np.array_equal(a, b)


def test_load_weights_from_another_tool_with_matching_names(tmp_path):
    model = trained_model()
    save_file({f"layers.{i}.{k}": np.full(v.shape, 0.5, np.float64)
               for i, layer in enumerate(model.layers) for k, v in layer.params.items()},
              str(tmp_path / "other.safetensors"))
    model.load_weights(tmp_path / "other.safetensors")
    assert all(np.all(w == 0.5) and w.dtype == np.float32 for w in model.get_weights())


def test_integer_weights_are_refused(tmp_path):
    model = trained_model()
    save_file({f"layers.{i}.{k}": np.zeros(v.shape, np.int32)
               for i, layer in enumerate(model.layers) for k, v in layer.params.items()},
              str(tmp_path / "ints.safetensors"))
    with pytest.raises(ValueError, match=r"non-floating-point weights: layers.0.kernel \(int32\)"):
        model.load_weights(tmp_path / "ints.safetensors")


def test_file_from_another_tool_is_not_a_model(tmp_path):
    save_file({"weight": np.zeros((2, 2), np.float32)}, str(tmp_path / "x.safetensors"))
    with pytest.raises(ValueError, match="not a seqnn model file"):
        sn.load_model(tmp_path / "x.safetensors")


@pytest.mark.parametrize("damage, message", [
    (lambda raw: raw[:-7], "truncated"),
    (lambda raw: raw[:5], "truncated file"),
    (lambda raw: raw[:8] + b"#" + raw[9:], "corrupt safetensors header"),
    (lambda raw: struct.pack("<Q", 10**9) + raw[8:], "header length"),
    (lambda raw: b"", "truncated file"),
    (lambda raw: b"PK\x03\x04 not safetensors at all", r"a Keras archive \(zip\), not a safetensors file"),
])
def test_damaged_files_raise_clear_value_errors(tmp_path, damage, message):
    model = trained_model()
    path = tmp_path / "m.safetensors"
    model.save(path)
    path.write_bytes(damage(path.read_bytes()))
    with pytest.raises(ValueError, match=message):
        sn.load_model(path)
    with pytest.raises(ValueError, match=message):
        model.load_weights(path)


def test_config_naming_an_unknown_class_is_refused_without_executing_anything(tmp_path):
    model = trained_model()
    path = tmp_path / "m.safetensors"
    model.save(path)
    tensors = load_file(str(path))
    config = model.get_config()
    config["layers"][1]["class_name"] = "os.system"
    save_file(tensors, str(path), metadata={"format": "seqnn", "model_config": json.dumps(config)})
    with pytest.raises(ValueError, match="unknown layer 'os.system'"):
        sn.load_model(path)


def test_custom_layer_round_trips_by_registered_name(tmp_path):
    @sn.layers.register("TimesTwo")
    class TimesTwo(sn.layers.Layer):
        def forward(self, x, training=False):
            return self.backend.multiply(x, 2.0)

        def backward(self, dy, need_input_grad=True):
            return self.backend.multiply(dy, 2.0)

    model = sn.Sequential([L.Input((3,)), TimesTwo(), L.Dense(2)]).compile(optimizer="adam", loss="mse")
    model.save(tmp_path / "c.safetensors")
    loaded = sn.load_model(tmp_path / "c.safetensors")
    x = np.ones((2, 3), np.float32)
    assert type(loaded.layers[0]).__name__ == "TimesTwo"
    assert np.array_equal(loaded.predict(x, verbose=0), model.predict(x, verbose=0))


def test_float64_model_round_trips(tmp_path):
    model = sn.Sequential([L.Input((3,)), L.Dense(2)]).compile(optimizer="adam", loss="mse", dtype="float64")
    model.save(tmp_path / "d.safetensors")
    loaded = sn.load_model(tmp_path / "d.safetensors")
    assert loaded.dtype == "float64" and load_file(tmp_path / "d.safetensors")["layers.0.kernel"].dtype == np.float64


def test_a_failed_write_leaves_the_old_file(tmp_path, monkeypatch):
    model = trained_model()
    path = tmp_path / "m.safetensors"
    model.save(path)
    before = path.read_bytes()
    def failing_save(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr("safetensors.numpy.save", failing_save)
    with pytest.raises(OSError, match="disk full"):
        model.save(path)
    assert path.read_bytes() == before
    assert os.listdir(tmp_path) == ["m.safetensors"]


def test_write_error_midway_removes_the_temporary_file(tmp_path):
    from seqnn.saving.atomic import atomic_write

    target = tmp_path / "f.bin"
    target.write_bytes(b"old")

    def half(f):
        f.write(b"new but")
        raise RuntimeError("crash")

    with pytest.raises(RuntimeError):
        atomic_write(target, half)
    assert target.read_bytes() == b"old" and os.listdir(tmp_path) == ["f.bin"]


def test_saving_an_unbuilt_model_is_refused(tmp_path):
    with pytest.raises(ValueError, match="no weights yet"):
        sn.Sequential([L.Dense(2)]).save(tmp_path / "x.safetensors")


def test_missing_file():
    with pytest.raises(FileNotFoundError, match="no such weights file"):
        sn.load_model("does/not/exist.safetensors")


def test_custom_loss_round_trips_by_registered_name(tmp_path):
    @sn.losses.register("scaled_mse")
    class ScaledMSE(sn.losses.MeanSquaredError):
        def __init__(self, factor=2.0, **kwargs):
            super().__init__(**kwargs)
            self.factor = factor

        def penalty(self, d):
            return self.backend.multiply(super().penalty(d), self.factor)

        def penalty_grad(self, d):
            return self.backend.multiply(super().penalty_grad(d), self.factor)

        def get_config(self):
            return {**super().get_config(), "factor": self.factor}

    model = sn.Sequential([L.Input((3,)), L.Dense(1)]).compile(optimizer="sgd", loss=ScaledMSE(factor=3.0))
    model.save(tmp_path / "l.safetensors")
    loaded = sn.load_model(tmp_path / "l.safetensors")
    assert type(loaded.loss).__name__ == "ScaledMSE" and loaded.loss.factor == 3.0
    x, y = np.ones((4, 3), np.float32), np.zeros((4, 1), np.float32)
    assert loaded.evaluate(x, y, verbose=0) == pytest.approx(model.evaluate(x, y, verbose=0))
