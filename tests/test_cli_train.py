"""seqnn-train, run as the installed console script in a subprocess (digits and small files: fast)."""
import csv
import os
import signal
import subprocess
import sys
import time

import numpy as np
import pytest

import seqnn as sn
from cli_helpers import (SCRIPTS, assert_usage_error, cli_env, command, in_process, installed_script, read_csv_rows,
                         run)


def test_console_scripts_are_installed():
    """The tests run on an installed package (pip install -e ".[dev]"): both scripts stand beside this Python."""
    for name in SCRIPTS:
        assert installed_script(name), f"{name} is not installed beside {sys.executable}; run pip install -e ."
    proc = subprocess.run([installed_script("seqnn-train"), "--version"], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == f"seqnn {sn.__version__}"


def test_no_arguments_trains_the_mlp_on_digits_and_saves(tmp_path):
    proc = run("seqnn-train", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    out = proc.stdout
    assert "digits" in out and "preset mlp" in out and "30 epochs" in out and "saved:    model.safetensors" in out
    accuracy = float(out.split("test accuracy: ")[1].split()[0])
    assert accuracy >= 0.95
    model = sn.load_model(tmp_path / "model.safetensors")
    assert model.input_shape == (None, 8, 8) and model.name == "mlp"
    _, (xt, yt) = sn.datasets.digits.load_data()
    assert model.evaluate(xt, yt, verbose=0, return_dict=True)["accuracy"] == pytest.approx(accuracy, abs=1e-4)


def test_help_lists_every_flag(tmp_path):
    proc = run("seqnn-train", "--help", cwd=tmp_path)
    assert proc.returncode == 0
    for flag in ("--model", "--data", "--data-dir", "--target", "--epochs", "--batch-size", "--optimizer", "--lr",
                 "--validation-split", "--seed", "--backend", "--out", "--checkpoint-dir", "--csv-log", "--drop",
                 "--early-stopping", "--resume", "--verbose", "build_model()", "examples:"):
        assert flag in proc.stdout, flag


USER_MISTAKES = [
    (["--model", "resnet"], ["unknown preset 'resnet'", "mlp, cnn"]),
    (["--data", "imagenet"], ["unknown dataset 'imagenet'", "digits, mnist, fashion_mnist"]),
    (["--data", "absent.csv", "--target", "y"], ["no such file: absent.csv"]),
    (["--model", "absent.py"], ["no such file: absent.py"]),
    (["--epochs", "0"], ["argument --epochs: expected a positive integer, got '0'"]),
    (["--seed", "-1"], ["argument --seed: expected a non-negative integer, got '-1'"]),
    (["--optimizer", "adamm"], ["unknown optimizer 'adamm'", "adam"]),
    (["--backend", "tpu"], ["tpu"]),
    (["--out", "model.pt"], ["--out: the filepath must end in .safetensors", "model.pt"]),
    (["--validation-split", "1.5"], ["--validation-split must be in [0, 1)"]),
    (["--no-such-flag"], ["unrecognized arguments: --no-such-flag"]),
    (["--data", "mnist"], ["mnist: files not found", "train-images-idx3-ubyte.gz", ".cache"]),
    (["--data", "fashion_mnist"], ["fashion_mnist: files not found"]),
]


@pytest.mark.parametrize("args, fragments", USER_MISTAKES[:1] + USER_MISTAKES[-2:-1])
def test_user_mistakes_exit_2_with_one_line(tmp_path, args, fragments):
    assert_usage_error(run("seqnn-train", *args, cwd=tmp_path), *fragments)


@pytest.mark.parametrize("args, fragments", USER_MISTAKES)
def test_user_mistakes_in_process(tmp_path, monkeypatch, capsys, args, fragments):
    """The same checks without starting a process per case (the two above prove the installed script)."""
    from seqnn.cli import train
    for key, value in cli_env(tmp_path).items():
        monkeypatch.setenv(key, value)
    monkeypatch.delenv("SEQNN_DATA_DIR", raising=False)
    monkeypatch.chdir(tmp_path)
    assert_usage_error(in_process(train.main, args, capsys), *fragments)  # argparse's exits come back as 2 too


def test_cnn_preset_trains_on_digits_with_same_padding(tmp_path):
    proc = run("seqnn-train", "--model", "cnn", "--epochs", "2", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert "Conv2D(32, 3x3, relu) -> MaxPooling2D(2x2) -> Conv2D(64, 3x3, relu)" in proc.stdout
    model = sn.load_model(tmp_path / "model.safetensors")
    convs = [layer for layer in model.layers if isinstance(layer, sn.layers.Conv2D)]
    assert [c.padding for c in convs] == ["same", "same"]  # 8x8 digits would shrink to nothing with "valid"
    accuracy = float(proc.stdout.split("test accuracy: ")[1].split()[0])
    assert accuracy >= 0.8, proc.stdout


def write_table(path, n=300, regression=True, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, 3)) * [1, 10, 100] + [0, 50, -200]
    z = (x - [0, 50, -200]) / [1, 10, 100]
    y = 3 * z[:, 0] - 2 * z[:, 1] + z[:, 2] + 1000 if regression else (z[:, 0] + z[:, 1] > 0).astype(int)
    with open(path, "w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(["f1", "f2", "f3", "target"])
        writer.writerows([[*row, t] for row, t in zip(x.round(4), np.round(y, 4))])


def test_csv_regression_trains_in_the_targets_units(tmp_path):
    write_table(tmp_path / "table.csv")
    proc = run("seqnn-train", "--data", "table.csv", "--target", "target", "--epochs", "40", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert "regression, 1 target(s)" in proc.stdout and "standardize" not in proc.stdout.split("model:")[0]
    mae = float(proc.stdout.split("mae ")[-1].split()[0].rstrip(",)"))
    assert mae < 0.5  # targets spread ±4 around 1000: the model learned the relation, in the original units
    model = sn.load_model(tmp_path / "model.safetensors")
    # The standardising layers (per-feature statistics, not trained) travel with the model.
    assert isinstance(model.layers[0], sn.layers.Normalization) and not model.layers[0].trainable_names
    assert isinstance(model.layers[-1], sn.layers.Normalization) and model.layers[-1].invert
    assert model.count_params() == 2 * 3 + (3 * 256 + 256) + (256 * 128 + 128) + (128 + 1) + 2 * 1


def test_csv_classification_and_target_by_index(tmp_path):
    write_table(tmp_path / "labels.csv", regression=False)
    proc = run("seqnn-train", "--data", "labels.csv", "--target", "3", "--epochs", "20", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert "2 classes" in proc.stdout and float(proc.stdout.split("test accuracy: ")[1].split()[0]) > 0.9


def test_csv_without_target_and_bad_cell(tmp_path):
    write_table(tmp_path / "t.csv")
    assert_usage_error(run("seqnn-train", "--data", "t.csv", cwd=tmp_path), "--target")
    (tmp_path / "bad.csv").write_text("a,y\n1,0\n2,x\n")
    assert_usage_error(run("seqnn-train", "--data", "bad.csv", "--target", "y", cwd=tmp_path),
                       "line 3, column 'y'", "not a number")


def test_csv_text_column_is_named_with_a_drop_hint_and_drop_leaves_it_out(tmp_path, capsys, monkeypatch):
    from seqnn.cli import train

    monkeypatch.chdir(tmp_path)
    rows = "".join(f"{name}{i},{i % 7},{i % 2}\n" for i in range(40) for name in ("ann", "bob"))
    (tmp_path / "people.csv").write_text("id,age,label\n" + rows)
    common = ["--data", "people.csv", "--target", "label", "--epochs", "1", "--quiet"]
    assert_usage_error(in_process(train.main, common, capsys), "line 2, column 'id'", "'ann0' is not a number",
                       "--drop id")
    proc = in_process(train.main, common + ["--drop", "id"], capsys)
    assert proc.returncode == 0, proc.stderr
    assert "of shape (1,)" in proc.stdout
    assert_usage_error(in_process(train.main, common + ["--drop", "nope"], capsys), "--drop: no column 'nope'")
    assert_usage_error(in_process(train.main, ["--drop", "id"], capsys), "--drop applies to CSV files")
    (tmp_path / "texty.csv").write_text("a,label\n1,cat\n2,dog\n")
    assert_usage_error(in_process(train.main, ["--data", "texty.csv", "--target", "1"], capsys),
                       "column 'label'", "the --target column must hold numbers")


def test_npz_with_its_own_split_and_uint8_images(tmp_path):
    (x, y), (xt, yt) = sn.datasets.digits.load_data()
    np.savez(tmp_path / "d.npz", x_train=(x * 15).astype(np.uint8), y_train=y, x_test=(xt * 15).astype(np.uint8),
             y_test=yt)
    proc = run("seqnn-train", "--data", "d.npz", "--epochs", "15", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert "Rescaling(1/255)" in proc.stdout and "own test split" in proc.stdout
    assert float(proc.stdout.split("test accuracy: ")[1].split()[0]) > 0.9


def test_json_config_and_python_build_model(tmp_path):
    config = sn.Sequential([sn.layers.Input((8, 8)), sn.layers.Flatten(), sn.layers.Rescaling(1 / 16),
                            sn.layers.Dense(32, activation="relu"), sn.layers.Dense(10, activation="softmax")])
    (tmp_path / "m.json").write_text(config.to_json())
    proc = run("seqnn-train", "--model", "m.json", "--epochs", "3", "--lr", "0.01", "--optimizer", "rmsprop",
               cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert "config m.json" in proc.stdout and "RMSprop (learning rate 0.01)" in proc.stdout
    (tmp_path / "m.py").write_text(
        "import seqnn as sn\n"
        "def build_model(input_shape, num_classes):\n"
        "    return (sn.Sequential([sn.layers.Input(input_shape), sn.layers.Flatten(),\n"
        "                           sn.layers.Dense(num_classes, activation='softmax')])\n"
        "            .compile(optimizer=sn.optimizers.SGD(0.1), loss='sparse_categorical_crossentropy',\n"
        "                     metrics=['accuracy']))\n")
    proc = run("seqnn-train", "--model", "m.py", "--epochs", "2", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert "build_model() in m.py (compiled there)" in proc.stdout and "SGD" in proc.stdout
    assert_usage_error(run("seqnn-train", "--model", "m.py", "--lr", "0.1", cwd=tmp_path), "compiled model")
    (tmp_path / "none.py").write_text("x = 1\n")
    assert_usage_error(run("seqnn-train", "--model", "none.py", cwd=tmp_path), "does not define", "build_model()")
    (tmp_path / "bad.json").write_text("{not json")
    assert_usage_error(run("seqnn-train", "--model", "bad.json", cwd=tmp_path), "not valid JSON")


def test_callback_flags_write_their_files(tmp_path):
    proc = run("seqnn-train", "--epochs", "40", "--validation-split", "0.2", "--early-stopping", "2",
               "--checkpoint-dir", "ckpt", "--csv-log", "log.csv", "--verbose", "--out", "out/m.safetensors",
               cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert "Epoch 1/40" in proc.stdout and "Total params" in proc.stdout  # --verbose: summary and epoch lines
    assert sorted(os.listdir(tmp_path / "ckpt")) == ["best.safetensors", "last.safetensors"]
    rows = read_csv_rows(tmp_path / "log.csv")
    assert rows and "val_loss" in rows[0] and [int(r["epoch"]) for r in rows] == list(range(len(rows)))
    if len(rows) < 40:
        assert "stopped early" in proc.stdout
    assert (tmp_path / "out" / "m.safetensors").exists()


def test_interrupted_run_resumes_with_the_same_command(tmp_path):
    args = ["--epochs", "150", "--limit", "64", "--batch-size", "32", "--resume", "--csv-log", "log.csv"]
    proc = subprocess.Popen(command("seqnn-train") + args, cwd=tmp_path, env=cli_env(tmp_path),
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    backup = tmp_path / "model.backup" / "backup.safetensors"
    deadline = time.time() + 60
    while not backup.exists() and proc.poll() is None and time.time() < deadline:
        time.sleep(0.01)
    if proc.poll() is not None:
        pytest.skip("training finished before it could be interrupted")
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, err
    assert "interrupted; run the same command again" in err and "Traceback" not in err
    done_before = len(read_csv_rows(tmp_path / "log.csv"))
    assert done_before < 150
    again = run("seqnn-train", *args, cwd=tmp_path)
    assert again.returncode == 0, again.stderr
    assert "resuming: from the backup" in again.stdout
    rows = read_csv_rows(tmp_path / "log.csv")
    assert [int(r["epoch"]) for r in rows] == list(range(150))  # each epoch exactly once, across both runs
    assert not backup.exists()


def test_data_dir_flag_reads_idx_files(tmp_path):
    """mnist from --data-dir, with fake files whose hashes cannot match: a clear hash error, exit 2."""
    import gzip
    import struct
    d = tmp_path / "fake"
    d.mkdir()
    for stem in sn.datasets.mnist.FILES.values():
        shape = (4, 28, 28) if "images" in stem else (4,)
        raw = bytes([0, 0, 8, len(shape)]) + struct.pack(f">{len(shape)}I", *shape) + bytes(int(np.prod(shape)))
        (d / f"{stem}.gz").write_bytes(gzip.compress(raw))
    line = assert_usage_error(run("seqnn-train", "--data", "mnist", "--data-dir", d, cwd=tmp_path),
                              "SHA-256 mismatch", "expected ", "got ")
    assert str(d) in line


@pytest.mark.slow
def test_mlp_preset_reaches_98_percent_on_mnist_in_10_epochs(tmp_path, mnist_dir):
    """The default preset on MNIST: at least 98 % in 10 epochs (97.91-98.36 % over seeds 0-9, mean 98.16 %)."""
    proc = run("seqnn-train", "--data", "mnist", "--epochs", "10", cwd=tmp_path,
               env=cli_env(tmp_path, SEQNN_DATA_DIR=mnist_dir), timeout=600)
    assert proc.returncode == 0, proc.stderr
    assert float(proc.stdout.split("test accuracy: ")[1].split()[0]) >= 0.98, proc.stdout


# ------------------------------------------------- errors: mistakes vs bugs ---
BUGGY_MODELS = {
    "syntax.py": ("def build_model(:\n    pass\n", ["SyntaxError", 'syntax.py", line 1']),
    "zero.py": ("def helper():\n    return 1 / 0\n\ndef build_model():\n    return helper()\n",
                ["ZeroDivisionError: division by zero", 'zero.py", line 2, in helper', "return 1 / 0",
                 'zero.py", line 5, in build_model']),
    "own_check.py": ("def build_model():\n    raise ValueError('my own check failed')\n",
                     ["ValueError: my own check failed", 'own_check.py", line 2']),
    "typo.py": ("import seqnn as sn\ndef build_model():\n    return sn.Sequential().add(None + 1)\n",
                ["TypeError", 'typo.py", line 3']),
}


@pytest.mark.parametrize("name", sorted(BUGGY_MODELS))
def test_error_in_the_model_file_shows_its_traceback(tmp_path, capsys, monkeypatch, name):
    from seqnn.cli import train

    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("SEQNN_DEBUG", raising=False)
    source, fragments = BUGGY_MODELS[name]
    (tmp_path / name).write_text(source)
    proc = in_process(train.main, ["--model", name, "--epochs", "1"], capsys)
    assert proc.returncode == 1, proc.stderr
    for fragment in fragments:
        assert fragment in proc.stderr, proc.stderr
    assert "SEQNN_DEBUG=1" in proc.stderr.splitlines()[-1]
    assert "seqnn/cli/train.py" not in proc.stderr  # seqnn's own frames are left out


def test_seqnn_check_inside_build_model_is_one_line_naming_the_users_line(tmp_path, capsys, monkeypatch):
    from seqnn.cli import train

    monkeypatch.chdir(tmp_path)
    (tmp_path / "neg.py").write_text("import seqnn as sn\n\ndef build_model():\n    return sn.Sequential()"
                                     ".add(sn.layers.Dense(-3))\n")
    line = assert_usage_error(in_process(train.main, ["--model", "neg.py"], capsys), "Dense", "neg.py, line 4")
    assert "units" in line


def test_bug_inside_seqnn_keeps_its_file_and_line(tmp_path, capsys, monkeypatch):
    from seqnn.cli import data as cli_data, train

    def broken(*args, **kwargs):
        return None + 1  # a bug, not a check: a TypeError no `raise` statement made

    monkeypatch.setattr(cli_data, "load", broken)
    proc = in_process(train.main, [], capsys)
    assert proc.returncode == 1
    assert "test_cli_train.py" in proc.stderr and "None + 1" in proc.stderr and "TypeError" in proc.stderr


def test_seqnn_debug_shows_the_full_traceback(tmp_path, monkeypatch):
    from seqnn.cli import train
    from seqnn.cli.errors import UsageError

    monkeypatch.setenv("SEQNN_DEBUG", "1")
    with pytest.raises(UsageError):
        train.main(["--validation-split", "1.5"])
    assert "SEQNN_DEBUG=1" in train.build_parser().format_help()


def test_user_input_errors_carry_the_mixin():
    from seqnn.cli.errors import UsageError
    from seqnn.errors import BackendUnavailableError, UserInputError

    for error in (UsageError, sn.datasets.DataFileError, BackendUnavailableError, sn.datasets.DatasetNotFoundError):
        assert issubclass(error, UserInputError)
