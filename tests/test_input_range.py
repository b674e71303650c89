"""The training-input range: fit records it, the model file keeps it, predict and evaluate warn far outside it."""
import json
import warnings

import numpy as np
import pytest
from cli_helpers import run

import seqnn as sn
from seqnn.errors import InputRangeWarning
from seqnn.models.data import finite_range
from seqnn.saving import safetensors_file


def small_model():
    return (sn.Sequential([sn.layers.Input((4,)), sn.layers.Dense(3, activation="softmax")])
            .compile(optimizer="sgd", loss="sparse_categorical_crossentropy"))


@pytest.fixture
def data():
    rng = np.random.default_rng(0)
    x = rng.uniform(0, 16, size=(64, 4)).astype("float32")
    x[0, 0], x[1, 1] = 0.0, 16.0
    return x, rng.integers(0, 3, 64)


def range_warnings(record):
    return [w for w in record if issubclass(w.category, InputRangeWarning)]


def test_fit_records_the_range_and_predict_warns_only_far_outside_it(data):
    x, y = data
    model = small_model()
    assert model.training_input_range is None
    model.fit(x, y, epochs=1, verbose=0, validation_split=0.25)
    assert model.training_input_range == (0.0, 16.0)  # the validation part counts: it was scaled the same way
    with warnings.catch_warnings(record=True) as record:
        warnings.simplefilter("always")
        model.predict(x * 2, verbose=0)  # up to 32: within one width (16) beyond the range
        model.predict(x - 16, verbose=0)  # down to -16: the same on the other side
        assert not range_warnings(record)
        model.predict(x * 255 / 16, verbose=0)  # a 0..255 image for a 0..16 model
    [warning] = range_warnings(record)
    message = str(warning.message)
    assert message.startswith("predict: x holds values in [0, 255], far outside the range [0, 16]")
    assert warning.filename == __file__  # it points at the user's line, not at seqnn


@pytest.mark.parametrize("call", ["evaluate", "test_on_batch", "predict_on_batch", "model(x)"])
def test_every_inference_entry_point_warns(data, call):
    x, y = data
    model = small_model()
    model.fit(x, y, epochs=1, verbose=0)
    far = x + 100
    calls = {"evaluate": lambda: model.evaluate(far, y, verbose=0),
             "test_on_batch": lambda: model.test_on_batch(far, y),
             "predict_on_batch": lambda: model.predict_on_batch(far),
             "model(x)": lambda: model(far)}
    with pytest.warns(InputRangeWarning, match=rf"^{call.replace('(', '.').replace(')', '.')}: x holds"):
        calls[call]()


def test_a_constant_training_input_gets_a_margin_of_its_own_size():
    model = small_model()
    model.fit(np.full((8, 4), 5.0, "float32"), np.zeros(8, int), epochs=1, verbose=0)
    assert model.training_input_range == (5.0, 5.0)
    with warnings.catch_warnings():
        warnings.simplefilter("error", InputRangeWarning)
        model.predict(np.full((2, 4), 9.0, "float32"), verbose=0)  # within 5 of the range
    with pytest.warns(InputRangeWarning):
        model.predict(np.full((2, 4), 11.0, "float32"), verbose=0)


def test_a_model_never_fitted_does_not_warn(data):
    model = small_model()
    with warnings.catch_warnings():
        warnings.simplefilter("error", InputRangeWarning)
        model.predict(data[0] * 1000, verbose=0)


def test_loaders_record_batch_by_batch_and_warn_once_per_call(data):
    x, y = data
    model = small_model()
    model.fit([(x[:32], y[:32]), (x[32:] + 20, y[32:])], epochs=1, verbose=0)
    assert model.training_input_range == (0.0, float((x[32:] + 20).max()))
    far_batches = [(x + 200, y), (x + 300, y)]
    with warnings.catch_warnings(record=True) as record:
        warnings.simplefilter("always")
        model.evaluate(far_batches, verbose=0)
        model.predict((b for b in [x + 200, x + 300]), verbose=0)
    assert [str(w.message).split(":")[0] for w in range_warnings(record)] == ["evaluate", "predict"]


def test_train_on_batch_and_a_second_fit_widen_the_range(data):
    x, y = data
    model = small_model()
    model.train_on_batch(x, y)
    model.fit(x - 10, y, epochs=1, verbose=0)
    assert model.training_input_range == (-10.0, 16.0)


def test_the_model_file_keeps_the_range(tmp_path, data):
    x, y = data
    model = small_model()
    model.fit(x, y, epochs=1, verbose=0)
    model.save(tmp_path / "m.safetensors")
    _, metadata = safetensors_file.read(str(tmp_path / "m.safetensors"))
    assert json.loads(metadata["training_input_range"]) == [0.0, 16.0]
    loaded = sn.load_model(tmp_path / "m.safetensors")
    assert loaded.training_input_range == (0.0, 16.0)
    with pytest.warns(InputRangeWarning):
        loaded.predict(x * 16, verbose=0)


def test_a_file_without_a_range_loads_and_never_warns(tmp_path, data):
    model = small_model()
    model.build((None, 4))
    model.save(tmp_path / "m.safetensors")
    loaded = sn.load_model(tmp_path / "m.safetensors")
    assert loaded.training_input_range is None
    with warnings.catch_warnings():
        warnings.simplefilter("error", InputRangeWarning)
        loaded.predict(data[0] * 1000, verbose=0)


@pytest.mark.parametrize("text", ['[1, 0]', '["0", 1]', '[0]', '{"min": 0}', '[0, Infinity]', '[0, NaN]',
                                  '[true, 2]', 'not json'])
def test_a_malformed_range_is_a_value_error_naming_the_file(tmp_path, data, text):
    x, y = data
    model = small_model()
    model.fit(x, y, epochs=1, verbose=0)
    path = str(tmp_path / "m.safetensors")
    model.save(path)
    tensors, metadata = safetensors_file.read(path)
    safetensors_file.write(path, tensors, {**metadata, "training_input_range": text})
    with pytest.raises(ValueError, match=r"m\.safetensors: metadata 'training_input_range'"):
        sn.load_model(path)


def test_a_resumed_fit_keeps_the_range_seen_before_the_interruption(tmp_path, data):
    x, y = data
    batches = [(x[:32], y[:32]), (x[32:] + 20, y[32:])]
    model = small_model()
    model.fit(batches, epochs=1, verbose=0)
    model.fit(batches[:1], epochs=1, verbose=0,
              callbacks=[sn.callbacks.LambdaCallback(
                  on_train_end=lambda logs: model.backup_training(tmp_path / "b.safetensors"))])
    resumed = small_model()
    resumed.fit(batches[:1], epochs=1, verbose=0, callbacks=[sn.callbacks.LambdaCallback(
        on_train_begin=lambda logs: resumed.restore_training(tmp_path / "b.safetensors"))])
    assert resumed.training_input_range == model.training_input_range == (0.0, float(batches[1][0].max()))


@pytest.mark.parametrize("make", [
    lambda a: a,
    lambda a: a.T.copy().T,  # Fortran order
    lambda a: a[:, ::2],  # strided
    lambda a: a.astype(np.int16),
])
def test_finite_range_matches_numpy_in_chunks_and_layouts(make):
    a = make(np.random.default_rng(1).normal(size=(100, 30)) * 50)
    expected = (float(a.min()), float(a.max()))
    assert finite_range(a) == expected
    assert finite_range(a, chunk=7) == expected  # one row per chunk
    assert finite_range(a[:0]) is None


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_finite_range_names_the_first_bad_value(bad):
    a = np.zeros((5, 3))
    a[3, 2] = bad
    with pytest.raises(ValueError, match=r"^x: contains NaN or inf \(first at index \(3, 2\)\)"):
        finite_range(a, chunk=3)


def test_seqnn_predict_prints_the_warning_in_one_line(tmp_path):
    assert run("seqnn-train", cwd=tmp_path).returncode == 0  # the digits MLP: inputs 0..16
    x = sn.datasets.digits.load_data()[1][0][:3].astype("float32")  # 0..16
    np.save(tmp_path / "png_like.npy", x / 16 * 255)
    proc = run("seqnn-predict", "model.safetensors", "png_like.npy", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr.startswith("seqnn-predict: warning: predict: x holds values in [0, 255], far outside "
                                  "the range [0, 16] of the inputs this model was trained on"), proc.stderr
    assert len(proc.stderr.splitlines()) == 1
    np.save(tmp_path / "scaled.npy", x)
    quiet = run("seqnn-predict", "model.safetensors", "scaled.npy", cwd=tmp_path)
    assert quiet.returncode == 0 and quiet.stderr == "", quiet.stderr
