"""Model and weights files that lie: each is refused with a ValueError naming the file and the problem.

Regression tests: a tiny file that declares huge weights, unchecked ``data_offsets``, deep JSON nesting, a non-string
``class_name``, config typos, and the console commands' reports of them.
"""
import json
import threading

import numpy as np
import pytest
from model_files import (dense_bomb, join, metadata_json, model_file, nested, peak_memory, small_model, split,
                         with_metadata)

import seqnn as sn
from seqnn.cli import predict as cli_predict
from seqnn.cli import train as cli_train

MiB = 1 << 20


@pytest.fixture
def saved(tmp_path):
    """(path, bytes) of a real saved model."""
    path = tmp_path / "m.safetensors"
    small_model().save(path)
    return path, path.read_bytes()


def refused(path, *fragments, loader=sn.load_model):
    with pytest.raises(ValueError) as info:
        loader(path)
    message = str(info.value)
    assert str(path) in message
    for fragment in fragments:
        assert fragment in message, message
    return message


# ------------------------------------------------------- 1. size bombs ---
def test_a_247_byte_file_declaring_dense_10_million_costs_almost_nothing(tmp_path):
    path = tmp_path / "bomb.safetensors"
    raw = dense_bomb(units=10**7, inputs=10)
    raw = with_metadata(raw, seqnn_version="0.0.0-pad-to-247")
    assert len(raw) == 247
    path.write_bytes(raw)
    error, peak = peak_memory(lambda: sn.load_model(path))
    assert isinstance(error, ValueError) and "missing tensors: layers.0.bias, layers.0.kernel" in str(error)
    assert peak < 5 * MiB  # the declared kernel alone is 400 MB in float32


@pytest.mark.parametrize("units", [10**9, 10**12, 2**62, 10**40])
def test_declared_sizes_beyond_memory_are_a_value_error_not_a_memory_error(tmp_path, units):
    path = tmp_path / "bomb.safetensors"
    path.write_bytes(dense_bomb(units=units))
    error, peak = peak_memory(lambda: sn.load_model(path))
    assert isinstance(error, ValueError), repr(error)
    assert str(path) in str(error) and peak < 5 * MiB


def test_a_declared_shape_that_disagrees_with_the_file_tensor_allocates_nothing_for_it(tmp_path):
    path = tmp_path / "lie.safetensors"
    tensors = {"layers.0.kernel": np.zeros((10, 2), np.float32), "layers.0.bias": np.zeros(2, np.float32)}
    config = {"layers": [{"class_name": "InputLayer", "config": {"shape": [10]}},
                         {"class_name": "Dense", "config": {"units": 10**7}}]}
    path.write_bytes(model_file(config, tensors=tensors))
    error, peak = peak_memory(lambda: sn.load_model(path))
    assert isinstance(error, ValueError) and "shape mismatches: layers.0.bias: model (10000000,), file (2,)" in str(error)
    assert peak < 5 * MiB


def test_loading_runs_no_initialiser(saved, monkeypatch):
    path, _ = saved

    def refuse(*args, **kwargs):
        raise AssertionError("an initialiser ran while loading")

    monkeypatch.setattr(sn.initializers.Initializer, "__call__", refuse)
    model = sn.load_model(path)
    assert model.count_params() == 4 * 5 + 5 + 5 * 3 + 3


def test_loading_draws_nothing_from_the_global_random_stream(saved):
    path, _ = saved
    sn.utils.set_random_seed(7)
    expected = sn.random.next_seed()
    sn.utils.set_random_seed(7)
    sn.load_model(path, compile=False)
    # Dropout draws its seed at build; the weights' initialisers draw nothing.
    sn.utils.set_random_seed(7)
    sn.Sequential([sn.Input((4,)), sn.layers.Dropout(0.2)])
    after_dropout_only = sn.random.next_seed()
    sn.utils.set_random_seed(7)
    sn.load_model(path, compile=False)
    assert sn.random.next_seed() == after_dropout_only != expected


# ------------------------------------------------- 2. safetensors header ---
@pytest.mark.parametrize("offsets, fragment", [
    ("nope", "data_offsets must be [begin, end]"),
    ([0], "data_offsets must be [begin, end]"),
    ([0, "80"], "data_offsets must be [begin, end]"),
    ([-8, 72], "data_offsets must be [begin, end]"),
    ([80, 0], "data_offsets must be [begin, end]"),
    ([0, 2**64 + 80], "takes 80 bytes but data_offsets"),
    ([0, 1e3], "data_offsets must be [begin, end]"),
    ([True, 81], "data_offsets must be [begin, end]"),
    (None, "data_offsets must be [begin, end]"),
])
def test_unchecked_data_offsets_are_value_errors(saved, offsets, fragment):
    path, raw = saved
    header, data = split(raw)
    header["layers.0.kernel"]["data_offsets"] = offsets
    path.write_bytes(join(header, data))
    refused(path, "layers.0.kernel", fragment)
    refused(path, fragment, loader=small_model().load_weights)


@pytest.mark.parametrize("change, fragment", [
    (lambda h: h["layers.0.kernel"].update(shape=[10**12, 10**12]), "takes 4000000000000000000000000 bytes"),
    (lambda h: h["layers.0.kernel"].update(shape=[4, -5]), "shape must be a list"),
    (lambda h: h["layers.0.kernel"].update(shape=[[4], 5]), "shape must be a list"),
    (lambda h: h["layers.0.kernel"].update(shape=[1] * 65), "shape must be a list"),
    (lambda h: h["layers.0.kernel"].update(dtype="BF16"), "dtype 'BF16' is not one seqnn reads"),
    (lambda h: h["layers.0.kernel"].update(dtype=7), "dtype 7"),
    (lambda h: h["layers.0.kernel"].update(extra=1), "expected the keys"),
    (lambda h: h.update({"layers.0.kernel": [1, 2]}), "expected the keys"),
    (lambda h: h["layers.0.bias"].update(data_offsets=h["layers.0.kernel"]["data_offsets"][:1] * 2),
     "takes 20 bytes"),
    (lambda h: h.update(__metadata__={"format": 5}), "__metadata__ must map strings to strings"),
])
def test_damaged_header_entries_are_value_errors(saved, change, fragment):
    path, raw = saved
    header, data = split(raw)
    change(header)
    path.write_bytes(join(header, data))
    refused(path, fragment)


def test_overlapping_and_trailing_bytes_are_named(saved):
    path, raw = saved
    header, data = split(raw)
    header["layers.0.bias"]["data_offsets"] = header["layers.0.kernel"]["data_offsets"][:1] * 2
    header["layers.0.bias"]["shape"] = [0]
    path.write_bytes(join(header, data))
    refused(path, "leaves a gap")
    header, data = split(raw)
    path.write_bytes(join(header, data + b"junk"))
    refused(path, "4 bytes after the last tensor")


def test_duplicate_keys_in_the_header_are_refused(saved):
    path, raw = saved
    header, data = split(raw)
    text = json.dumps(header)
    text = text[:-1] + ', "layers.0.bias": ' + json.dumps(header["layers.0.bias"]) + "}"
    path.write_bytes(join(None, data, raw_header=text.encode()))
    refused(path, "duplicate keys ['layers.0.bias']")


# ------------------------------------------------------- deep JSON nesting ---
@pytest.mark.parametrize("depth", [65, 5000, 200_000])
def test_deep_nesting_in_the_header_is_a_value_error(tmp_path, depth):
    path = tmp_path / "deep.safetensors"
    path.write_bytes(join(None, raw_header=('{"a": ' + nested(depth) + "}").encode()))
    refused(path, "nested too deeply")


@pytest.mark.parametrize("key", ["model_config", "compile_config"])
@pytest.mark.parametrize("depth", [100, 100_000])
def test_deep_nesting_in_the_configs_is_a_value_error(saved, key, depth):
    path, raw = saved
    path.write_bytes(with_metadata(raw, **{key: '{"layers": ' + nested(depth) + "}"}))
    refused(path, f"metadata {key!r}", "nested too deeply")


def test_models_nested_in_models_load_to_ten_deep_and_are_refused_at_twenty(tmp_path):
    def nest(depth):
        config = {"layers": [{"class_name": "InputLayer", "config": {"shape": [2]}},
                             {"class_name": "Dense", "config": {"units": 2}}]}
        for _ in range(depth):
            config = {"layers": [{"class_name": "Sequential", "config": config}]}
        return config

    path = tmp_path / "nested.safetensors"
    path.write_bytes(model_file(nest(10)))
    with pytest.raises(ValueError, match="missing tensors: " + r"layers\.0\." * 11 + "bias"):
        sn.load_model(path)  # built ten deep; the file holds no weights
    path.write_bytes(model_file(nest(20)))  # 80 JSON levels
    refused(path, "nested too deeply")


# ------------------------------------------------------- config content ---
@pytest.mark.parametrize("class_name", [5, None, ["Dense"], {"a": 1}, True])
def test_a_class_name_that_is_not_a_string_is_named(saved, class_name):
    path, raw = saved
    config = metadata_json(raw, "model_config")
    config["layers"][1]["class_name"] = class_name
    path.write_bytes(with_metadata(raw, model_config=config))
    refused(path, "model_config.layers[1]", "class_name")


def test_a_config_typo_names_the_field_the_layer_and_the_argument(saved):
    path, raw = saved
    config = metadata_json(raw, "model_config")
    config["layers"][1]["config"]["unitz"] = config["layers"][1]["config"].pop("units")
    path.write_bytes(with_metadata(raw, model_config=config))
    message = refused(path, "model_config.layers[1] (Dense 'dense", "unitz")
    assert "__init__()" not in message


@pytest.mark.parametrize("field, value, fragment", [
    ("units", "5", "units must be a positive integer"),
    ("units", -1, "units must be a positive integer"),
    ("activation", "no_such", "unknown activation 'no_such'"),
    ("activation", {"class_name": 3}, "activation"),
    ("kernel_initializer", [1, 2], "initializer"),
    ("name", 5, "config.name: expected a string"),
])
def test_bad_layer_arguments_name_the_entry(saved, field, value, fragment):
    path, raw = saved
    config = metadata_json(raw, "model_config")
    config["layers"][1]["config"][field] = value
    path.write_bytes(with_metadata(raw, model_config=config))
    refused(path, "model_config.layers[1]", fragment)


@pytest.mark.parametrize("change, fragment", [
    (lambda c: c.update(loss="no_such_loss"), "unknown loss"),
    (lambda c: c.update(optimizer={"class_name": "Adam", "config": {"learning_rate": "fast"}}), "learning_rate"),
    (lambda c: c.update(surprise=1), "surprise"),
    (lambda c: c.update(metrics=5), "metrics"),
    (lambda c: c.update(dtype="float16"), "dtype"),
])
def test_a_bad_compile_config_names_the_field(saved, change, fragment):
    path, raw = saved
    config = metadata_json(raw, "compile_config")
    change(config)
    path.write_bytes(with_metadata(raw, compile_config=config))
    refused(path, "compile_config", fragment)
    assert sn.load_model(path, compile=False).built  # without compiling, the file still loads


@pytest.mark.parametrize("config", [[], 5, "x", {"layers": "no"}, {"layers": [5]}, {"layers": [], "name": 3},
                                    {"layers": [], "trainable": "yes"}])
def test_a_model_config_of_the_wrong_shape_is_named(saved, config):
    path, raw = saved
    path.write_bytes(with_metadata(raw, model_config=config))
    refused(path, "model_config")


def test_a_huge_input_shape_is_refused_for_the_weights_it_lacks(saved):
    path, raw = saved
    config = metadata_json(raw, "model_config")
    config["layers"][0]["config"]["batch_shape"] = [None, 2**70]
    path.write_bytes(with_metadata(raw, model_config=config))
    error, peak = peak_memory(lambda: sn.load_model(path))
    assert isinstance(error, ValueError) and "layers.0.kernel: model (1180591620717411303424, 5), file (4, 5)" \
        in str(error)
    assert peak < 5 * MiB


def test_integer_optimizer_step_out_of_range_is_refused(saved):
    path, raw = saved
    header, data = split(raw)
    start = header["optimizer.step"]["data_offsets"][0]
    data = data[:start] + np.array([-3], np.int64).tobytes() + data[start + 8:]
    path.write_bytes(join(header, data))
    refused(path, "optimizer.step = -3")


def test_a_backup_file_loads_as_a_model(tmp_path):
    x = np.random.default_rng(0).normal(size=(32, 4)).astype(np.float32)
    y = np.arange(32) % 3

    class Keep(sn.callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            self.model.backup_training(tmp_path / "b.safetensors")

    model = small_model()
    model.fit(x, y, epochs=1, batch_size=8, verbose=0, callbacks=[Keep()])
    loaded = sn.load_model(tmp_path / "b.safetensors")
    assert np.array_equal(loaded.predict(x, verbose=0), model.predict(x, verbose=0))
    fresh = small_model()
    fresh.load_weights(tmp_path / "b.safetensors")
    assert np.array_equal(fresh.predict(x, verbose=0), model.predict(x, verbose=0))


def test_load_model_names_a_bad_filepath_argument():
    with pytest.raises(TypeError, match="load_model: filepath must be a str or os.PathLike, got int"):
        sn.load_model(5)
    with pytest.raises(ValueError, match="load_model: filepath is empty"):
        sn.load_model("")


def test_a_model_with_2000_layers_loads(tmp_path):
    # Adding a layer costs the same for the 2000th as for the first (the 10,000-layer figure is in the docs).
    model = sn.Sequential([sn.Input((2,))] + [sn.layers.Dense(2) for _ in range(2000)])
    model.save(tmp_path / "long.safetensors")
    assert len(sn.load_model(tmp_path / "long.safetensors").layers) == 2000


def test_loads_in_two_threads_at_once_do_not_interfere(saved):
    path, _ = saved
    results = []

    def load():
        results.append(sn.load_model(path).count_params())

    threads = [threading.Thread(target=load) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert results == [43] * 4


# ------------------------------------------------------- console commands ---
@pytest.mark.parametrize("damage", [
    lambda raw: with_metadata(raw, model_config='{"layers": ' + nested(100_000) + "}"),
    lambda raw: raw[:100],
    lambda raw: dense_bomb(),
])
def test_seqnn_predict_reports_a_hostile_model_file_in_one_line(tmp_path, capsys, damage, saved):
    _, raw = saved
    model = tmp_path / "bad.safetensors"
    model.write_bytes(damage(raw))
    np.save(tmp_path / "x.npy", np.zeros((2, 4), np.float32))
    status = cli_predict.main([str(model), str(tmp_path / "x.npy")])
    err = capsys.readouterr().err
    assert status == 2 and err.count("\n") == 1 and "Traceback" not in err and str(model) in err, err


def test_seqnn_train_reports_a_hostile_json_config_in_one_line(tmp_path, capsys):
    config = tmp_path / "model.json"
    config.write_text(json.dumps({"layers": [{"class_name": "Dense", "config": {"unitz": 3}}]}))
    status = cli_train.main(["--model", str(config), "--epochs", "1"])
    err = capsys.readouterr().err
    assert status == 2 and err.count("\n") == 1, err
    assert "config.layers[0] (Dense): bad config: missing 1 required positional argument: 'units'; unknown " \
           "arguments 'unitz' (Dense takes activation, " in err and str(config) in err
    config.write_text("{\"layers\": " + nested(100_000) + "}")
    status = cli_train.main(["--model", str(config), "--epochs", "1"])
    err = capsys.readouterr().err
    assert status == 2 and "nested too deeply" in err and err.count("\n") == 1, err


def test_a_compile_config_cannot_ask_a_metric_for_billions_of_thresholds(saved):
    # Found by the fuzz suite: AUC built its thresholds from the number in the file, 4 GB for 5e9 of them.
    path, raw = saved
    config = metadata_json(raw, "compile_config")
    config["metrics"] = [{"class_name": "AUC", "config": {"num_thresholds": 5_000_000_000}}]
    path.write_bytes(with_metadata(raw, compile_config=config))
    error, peak = peak_memory(lambda: sn.load_model(path))
    assert isinstance(error, ValueError) and "num_thresholds must be an integer from 2 to 1,000,000" in str(error)
    assert str(path) in str(error) and peak < 5 * MiB
