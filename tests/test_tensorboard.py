"""callbacks.TensorBoard: the event files read back (tags, steps, values), Keras's arguments and layout.

The files are parsed here from their record format with tensorboardX's protobufs
(CRCs checked), so the tests need only the writer package; where TensorBoard
itself is installed, its EventAccumulator and graph converter read them too.
"""
import glob
import inspect
import json
import os
import struct
import subprocess
import sys

import numpy as np
import pytest

import seqnn as sn
from seqnn.callbacks import LambdaCallback, TensorBoard

pytest.importorskip("tensorboardX")
from tensorboardX.crc32c import crc32c
from tensorboardX.proto.event_pb2 import Event


# ------------------------------------------------------------ reading files ---
def _masked(crc):
    return (((crc >> 15) | (crc << 17)) + 0xA282EAD8) & 0xFFFFFFFF


def read_events(run_dir):
    """Every Event in the run directory's event files, in file then record order (CRCs verified)."""
    events = []
    for path in sorted(glob.glob(os.path.join(run_dir, "events.out.tfevents.*"))):
        with open(path, "rb") as f:
            data = f.read()
        position = 0
        while position < len(data):
            header = data[position:position + 8]
            (length,) = struct.unpack("<Q", header)
            (length_crc,) = struct.unpack("<I", data[position + 8:position + 12])
            assert length_crc == _masked(crc32c(header)), f"{path}: bad length CRC at byte {position}"
            record = data[position + 12:position + 12 + length]
            (record_crc,) = struct.unpack("<I", data[position + 12 + length:position + 16 + length])
            assert record_crc == _masked(crc32c(record)), f"{path}: bad record CRC at byte {position}"
            events.append(Event.FromString(record))
            position += 16 + length
    return events


def scalars(run_dir):
    """{tag: [(step, value), ...]} of a run's scalar summaries."""
    out = {}
    for event in read_events(run_dir):
        for value in event.summary.value:
            if value.WhichOneof("value") == "simple_value":
                out.setdefault(value.tag, []).append((event.step, value.simple_value))
    return out


def histograms(run_dir):
    """{tag: [(step, HistogramProto), ...]}."""
    out = {}
    for event in read_events(run_dir):
        for value in event.summary.value:
            if value.WhichOneof("value") == "histo":
                out.setdefault(value.tag, []).append((event.step, value.histo))
    return out


def steps(series):
    return [step for step, _ in series]


def values(series):
    return [value for _, value in series]


# ---------------------------------------------------------------- training ---
def data(n=48, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, 4)).astype(np.float32)
    return x, np.argmax(x @ rng.normal(size=(4, 3)), axis=1)


def model_for(optimizer=None):
    model = sn.Sequential([sn.Input((4,)), sn.layers.Dense(8, activation="relu", name="hidden"),
                           sn.layers.Dense(3, activation="softmax", name="out")])
    return model.compile(optimizer=optimizer or sn.optimizers.Adam(0.01), loss="sparse_categorical_crossentropy",
                         metrics=["accuracy"])


def test_epoch_scalars_go_to_train_and_validation_as_keras_names_them(tmp_path):
    x, y = data(64)
    history = model_for().fit(x, y, epochs=3, batch_size=16, validation_split=0.25, verbose=0,
                              callbacks=[TensorBoard(tmp_path / "logs")])
    assert sorted(os.listdir(tmp_path / "logs")) == ["train", "validation"]
    train, validation = scalars(tmp_path / "logs" / "train"), scalars(tmp_path / "logs" / "validation")
    assert sorted(train) == ["epoch_accuracy", "epoch_learning_rate", "epoch_loss"]
    for key in ("loss", "accuracy"):
        assert steps(train[f"epoch_{key}"]) == [0, 1, 2]
        np.testing.assert_allclose(values(train[f"epoch_{key}"]), history.history[key], rtol=1e-6)
        assert steps(validation[f"epoch_{key}"]) == [0, 1, 2]
        np.testing.assert_allclose(values(validation[f"epoch_{key}"]), history.history[f"val_{key}"], rtol=1e-6)
        # after each validation, at the optimizer's step count: 48 training samples / 16 = 3 steps an epoch
        assert steps(validation[f"evaluation_{key}_vs_iterations"]) == [3, 6, 9]
        np.testing.assert_allclose(values(validation[f"evaluation_{key}_vs_iterations"]),
                                   history.history[f"val_{key}"], rtol=1e-6)
    assert values(train["epoch_learning_rate"]) == pytest.approx([0.01] * 3)
    assert not any(tag.startswith("batch_") for tag in train)
    assert histograms(tmp_path / "logs" / "train") == {}  # histogram_freq=0


def test_no_validation_writes_no_validation_run(tmp_path):
    x, y = data()
    model_for().fit(x, y, epochs=2, batch_size=16, verbose=0, callbacks=[TensorBoard(str(tmp_path))])
    assert sorted(os.listdir(tmp_path)) == ["train"]
    assert steps(scalars(tmp_path / "train")["epoch_loss"]) == [0, 1]


def test_batch_scalars_every_batch_with_the_rate_each_batch_used(tmp_path):
    x, y = data()
    schedule = sn.optimizers.schedules.ExponentialDecay(0.05, decay_steps=1, decay_rate=0.5)
    seen = []
    recorder = LambdaCallback(on_train_batch_end=lambda batch, logs: seen.append(dict(logs)))
    model_for(sn.optimizers.SGD(schedule)).fit(x, y, epochs=2, batch_size=16, verbose=0,
                                               callbacks=[TensorBoard(tmp_path, update_freq="batch"), recorder])
    train = scalars(tmp_path / "train")
    assert steps(train["batch_loss"]) == [1, 2, 3, 4, 5, 6]  # optimizer.iterations after each batch
    np.testing.assert_allclose(values(train["batch_loss"]), [logs["loss"] for logs in seen], rtol=1e-6)
    np.testing.assert_allclose(values(train["batch_accuracy"]), [logs["accuracy"] for logs in seen], rtol=1e-6)
    np.testing.assert_allclose(values(train["batch_learning_rate"]), [0.05 * 0.5 ** k for k in range(6)], rtol=1e-6)
    # the epoch's rate is the optimizer's rate for its next step, as in Keras
    np.testing.assert_allclose(values(train["epoch_learning_rate"]), [0.05 * 0.5 ** 3, 0.05 * 0.5 ** 6], rtol=1e-6)


def test_update_freq_n_and_steps_continue_across_fit_calls(tmp_path):
    x, y = data()
    model = model_for()
    model.fit(x, y, epochs=2, batch_size=16, verbose=0, callbacks=[TensorBoard(tmp_path / "a", update_freq=2)])
    assert steps(scalars(tmp_path / "a" / "train")["batch_loss"]) == [2, 4, 6]
    model.fit(x, y, epochs=1, batch_size=16, verbose=0, callbacks=[TensorBoard(tmp_path / "b", update_freq=1)])
    assert steps(scalars(tmp_path / "b" / "train")["batch_loss"]) == [7, 8, 9]


def test_learning_rate_a_callback_logged_is_the_one_written(tmp_path):
    x, y = data()
    scheduler = sn.callbacks.LearningRateScheduler(lambda epoch, lr: 0.1 / (epoch + 1))
    model_for().fit(x, y, epochs=3, batch_size=16, verbose=0, callbacks=[scheduler, TensorBoard(tmp_path)])
    assert values(scalars(tmp_path / "train")["epoch_learning_rate"]) == pytest.approx([0.1, 0.05, 0.1 / 3])


def test_weight_histograms_every_histogram_freq_epochs(tmp_path):
    x, y = data()
    model = model_for()
    snapshots = {}
    grab = LambdaCallback(on_epoch_end=lambda epoch, logs: snapshots.__setitem__(epoch, {
        f"{layer.name}/{key}": w for layer in model.layers for key, w in zip(layer.params, layer.get_weights())}))
    model.fit(x, y, epochs=5, batch_size=16, verbose=0, callbacks=[TensorBoard(tmp_path, histogram_freq=2), grab])
    found = histograms(tmp_path / "train")
    assert sorted(found) == ["hidden/bias/histogram", "hidden/kernel/histogram", "out/bias/histogram",
                             "out/kernel/histogram"]
    for tag, series in found.items():
        assert steps(series) == [0, 2, 4]  # Keras's rule: epoch % histogram_freq == 0
        for epoch, histo in series:
            weights = snapshots[epoch][tag[:-len("/histogram")]].astype(np.float64)
            assert histo.num == weights.size and sum(histo.bucket) == weights.size
            assert histo.min == pytest.approx(weights.min()) and histo.max == pytest.approx(weights.max())
            assert histo.sum == pytest.approx(weights.sum(), abs=1e-6)
            assert histo.sum_squares == pytest.approx((weights ** 2).sum(), rel=1e-6)


def test_nested_model_weights_are_tagged_by_path(tmp_path):
    base = sn.Sequential([sn.Input((4,)), sn.layers.Dense(5, name="features")], name="base")
    model = sn.Sequential([base, sn.layers.Dense(3, activation="softmax", name="head")])
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
    x, y = data()
    model.fit(x, y, epochs=1, verbose=0, callbacks=[TensorBoard(tmp_path, histogram_freq=1)])
    assert sorted(histograms(tmp_path / "train")) == [
        "base/features/bias/histogram", "base/features/kernel/histogram", "head/bias/histogram",
        "head/kernel/histogram"]


def test_write_graph_stores_the_model_config_as_keras_does(tmp_path):
    x, y = data()
    model = model_for()
    model.fit(x, y, epochs=1, verbose=0, callbacks=[TensorBoard(tmp_path / "on")])
    records = [(event.step, value) for event in read_events(tmp_path / "on" / "train")
               for value in event.summary.value if value.tag == "keras"]
    assert len(records) == 1
    step, value = records[0]
    assert step == 0
    assert value.metadata.plugin_data.plugin_name == "graph_keras_model"
    assert value.metadata.plugin_data.content == b"1"
    assert json.loads(value.tensor.string_val[0]) == json.loads(model.to_json())
    model.fit(x, y, epochs=1, verbose=0, callbacks=[TensorBoard(tmp_path / "off", write_graph=False)])
    assert not [v for e in read_events(tmp_path / "off" / "train") for v in e.summary.value if v.tag == "keras"]


def test_steps_per_second_and_vector_logs(tmp_path):
    x, y = data()
    add_vector = LambdaCallback(on_epoch_end=lambda epoch, logs: logs.__setitem__("per_class", [0.25, 0.5, epoch]))
    model_for().fit(x, y, epochs=2, batch_size=16, verbose=0,
                    callbacks=[add_vector, TensorBoard(tmp_path, write_steps_per_second=True, update_freq="batch")])
    train = scalars(tmp_path / "train")
    assert steps(train["epoch_steps_per_second"]) == [0, 1] and min(values(train["epoch_steps_per_second"])) > 0
    assert steps(train["batch_steps_per_second"]) == [1, 2, 3, 4, 5, 6]
    assert values(train["epoch_per_class/2"]) == [0.0, 1.0] and values(train["epoch_per_class/0"]) == [0.25, 0.25]


def test_evaluate_alone_writes_evaluation_scalars_and_closes(tmp_path):
    x, y = data()
    model = model_for()
    model.fit(x, y, epochs=1, batch_size=16, verbose=0)
    callback = TensorBoard(tmp_path)
    result = model.evaluate(x, y, verbose=0, return_dict=True, callbacks=[callback])
    found = scalars(tmp_path / "validation")
    assert found["evaluation_loss_vs_iterations"] == [(3, pytest.approx(result["loss"], rel=1e-6))]
    assert callback._writers == {}  # closed: nothing else would close it
    assert not os.path.exists(tmp_path / "train")


def test_eventaccumulator_and_the_graph_plugin_read_the_files(tmp_path):
    pytest.importorskip("tensorboard")
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator
    from tensorboard.plugins.graph import keras_util

    x, y = data()
    model = model_for()
    history = model.fit(x, y, epochs=2, batch_size=16, validation_split=0.25, verbose=0,
                        callbacks=[TensorBoard(tmp_path, histogram_freq=1)])
    train = EventAccumulator(str(tmp_path / "train"), size_guidance={"scalars": 0, "histograms": 0, "tensors": 0})
    train.Reload()
    assert [e.value for e in train.Scalars("epoch_loss")] == pytest.approx(history.history["loss"], rel=1e-6)
    assert [e.step for e in train.Histograms("out/kernel/histogram")] == [0, 1]
    validation = EventAccumulator(str(tmp_path / "validation"))
    validation.Reload()
    assert [e.value for e in validation.Scalars("epoch_loss")] == pytest.approx(history.history["val_loss"], rel=1e-6)
    (config,) = train.Tensors("keras")
    graph = keras_util.keras_model_to_graph_def(json.loads(config.tensor_proto.string_val[0]))
    nodes = {node.name: node for node in graph.node}
    assert {"sequential/hidden", "sequential/out"} <= set(nodes)
    assert list(nodes["sequential/out"].input) == ["sequential/hidden"]
    assert nodes["sequential/hidden"].attr["keras_class"].s == b"Dense"


# --------------------------------------------------------------- arguments ---
def test_keras_argument_names_and_defaults():
    parameters = inspect.signature(TensorBoard).parameters
    assert {name: p.default for name, p in parameters.items()} == {
        "log_dir": "logs", "histogram_freq": 0, "write_graph": True, "write_images": False,
        "write_steps_per_second": False, "update_freq": "epoch", "profile_batch": 0, "embeddings_freq": 0,
        "embeddings_metadata": None}
    callback = TensorBoard(update_freq="batch")
    assert callback.update_freq == 1 and callback.log_dir == "logs"


@pytest.mark.parametrize("kwargs, error, fragment", [
    ({"log_dir": None}, TypeError, "log_dir must be a directory path, got None"),
    ({"log_dir": ""}, ValueError, "log_dir must be a directory path, got an empty string"),
    ({"histogram_freq": -1}, ValueError, "histogram_freq must be >= 0"),
    ({"histogram_freq": 1.5}, TypeError, "histogram_freq must be an integer"),
    ({"histogram_freq": True}, TypeError, "histogram_freq must be an integer"),
    ({"update_freq": "epochs"}, ValueError, "update_freq must be 'epoch', 'batch' or a positive integer"),
    ({"update_freq": 0}, ValueError, "update_freq must be >= 1"),
    ({"update_freq": 2.0}, TypeError, "update_freq must be an integer"),
    ({"write_graph": "yes"}, TypeError, "write_graph must be True or False, got 'yes'"),
    ({"write_steps_per_second": 1}, TypeError, "write_steps_per_second must be True or False"),
    ({"profile_batch": 5}, ValueError, "profile_batch=5: seqnn has no profiler"),
    ({"profile_batch": (10, 20)}, ValueError, "leave profile_batch=0"),
    ({"embeddings_freq": -2}, ValueError, "embeddings_freq must be >= 0"),
])
def test_argument_errors_name_the_argument(tmp_path, kwargs, error, fragment):
    with pytest.raises(error) as caught:
        TensorBoard(**{"log_dir": tmp_path, **kwargs})
    assert str(caught.value).startswith("TensorBoard: ") and fragment in str(caught.value)


def test_an_unknown_argument_is_refused():
    with pytest.raises(TypeError, match="write_histograms"):
        TensorBoard(write_histograms=True)


@pytest.mark.parametrize("kwargs, named", [
    ({"write_images": True}, "write_images is"),
    ({"embeddings_freq": 1, "embeddings_metadata": "meta.tsv"}, "embeddings_freq, embeddings_metadata are"),
])
def test_ignored_keras_arguments_warn(tmp_path, kwargs, named):
    with pytest.warns(UserWarning, match=f"TensorBoard: {named} accepted for Keras compatibility but not supported"):
        TensorBoard(tmp_path, **kwargs)


def test_without_tensorboardx_the_error_names_the_extra(monkeypatch):
    monkeypatch.setitem(sys.modules, "tensorboardX", None)
    with pytest.raises(ModuleNotFoundError) as caught:
        TensorBoard()
    message = str(caught.value)
    assert message.startswith("seqnn.callbacks.TensorBoard needs tensorboardX, which is not installed: "
                              "pip install tensorboardX")
    assert "'tensorboard' extra" in message and "seqnn-ml[tensorboard]" in message


def test_import_seqnn_imports_no_writer_package():
    code = ("import sys, seqnn\n"
            "seqnn.callbacks.TensorBoard\n"
            "loaded = [m for m in sys.modules if m.split('.')[0] in ('tensorboardX', 'tensorboard', 'matplotlib')]\n"
            "print(loaded)\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=False)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "[]"
