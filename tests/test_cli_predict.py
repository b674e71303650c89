"""seqnn-predict, run as the installed console script on every input type it reads."""
import csv
import gzip
import struct

import numpy as np
import pytest

import seqnn as sn
from cli_helpers import assert_usage_error, in_process, read_csv_rows, run


@pytest.fixture(scope="module")
def workdir(tmp_path_factory):
    """A directory holding model.safetensors: the default seqnn-train run (mlp on digits)."""
    path = tmp_path_factory.mktemp("predict")
    proc = run("seqnn-train", cwd=path)
    assert proc.returncode == 0, proc.stderr
    return path


@pytest.fixture(scope="module")
def digits_test():
    return sn.datasets.digits.load_data()[1]


def accuracy_of(out):
    return float(out.split("accuracy: ")[1].split()[0])


def test_dataset_split_report(workdir):
    proc = run("seqnn-predict", "model.safetensors", "--data", "digits", "--split", "test", cwd=workdir)
    assert proc.returncode == 0, proc.stderr
    out = proc.stdout
    assert "360 samples from digits (test split)" in out
    assert accuracy_of(out) >= 0.95
    assert "precision" in out and "macro avg" in out and "confusion matrix" in out
    rows = [line for line in out.splitlines() if line[:1].isdigit() and len(line.split()) == 4]
    assert len(rows) == 10  # by default the first 10 samples: index, class, confidence, label
    assert "... and 350 more samples (--all prints every one" in out
    every = run("seqnn-predict", "model.safetensors", "--data", "digits", "--split", "test", "--all", cwd=workdir)
    rows = [line for line in every.stdout.splitlines() if line[:1].isdigit() and len(line.split()) == 4]
    assert len(rows) == 360 and "more samples" not in every.stdout


def test_npy_input_top_k_and_labels(workdir, digits_test):
    x, y = digits_test
    np.save(workdir / "x.npy", x[:5])
    np.save(workdir / "y.npy", y[:5])
    proc = run("seqnn-predict", "model.safetensors", "x.npy", "--top-k", "3", cwd=workdir)
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.strip().splitlines()
    assert lines[1].split() == ["sample", "class", "confidence", "class_2", "confidence_2", "class_3",
                                "confidence_3"]
    assert len(lines) == 2 + 5 and "accuracy" not in proc.stdout
    probs = sn.load_model(workdir / "model.safetensors").predict(x[:5], verbose=0)
    for line, p in zip(lines[2:], probs):
        cells = line.split()
        assert int(cells[1]) == p.argmax() and float(cells[2]) == pytest.approx(p.max(), abs=1e-4)
        assert float(cells[2]) >= float(cells[4]) >= float(cells[6])
    proc = run("seqnn-predict", "model.safetensors", "x.npy", "--labels", "y.npy", cwd=workdir)
    assert proc.returncode == 0 and "accuracy: " in proc.stdout and "confusion matrix" in proc.stdout


def test_flat_rows_are_reshaped_and_out_writes_csv(workdir, digits_test):
    x, y = digits_test
    np.save(workdir / "flat.npy", x[:7].reshape(7, 64).astype(np.float32))
    proc = run("seqnn-predict", "model.safetensors", "flat.npy", "--out", "pred.csv", cwd=workdir)
    assert proc.returncode == 0, proc.stderr
    assert "wrote 7 predictions to pred.csv" in proc.stdout
    rows = read_csv_rows(workdir / "pred.csv")
    assert len(rows) == 7 and set(rows[0]) == {"sample", "class", "confidence"}


def test_csv_input_with_a_label_column(workdir, digits_test):
    x, y = digits_test
    with open(workdir / "d.csv", "w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow([f"p{i}" for i in range(64)] + ["digit"])
        writer.writerows([[*row, label] for row, label in zip(x.reshape(-1, 64)[:40].tolist(), y[:40])])
    proc = run("seqnn-predict", "model.safetensors", "d.csv", "--target", "digit", "--quiet", cwd=workdir)
    assert proc.returncode == 0, proc.stderr
    assert "40 samples" in proc.stdout and accuracy_of(proc.stdout) > 0.85
    assert_usage_error(run("seqnn-predict", "model.safetensors", "d.csv", cwd=workdir),
                       "wrong shape for this model", "--target")


def idx(a):
    a = np.asarray(a, np.uint8)
    return bytes([0, 0, 8, a.ndim]) + struct.pack(f">{a.ndim}I", *a.shape) + a.tobytes()


@pytest.mark.parametrize("compress", [True, False])
def test_idx_input_and_idx_labels(workdir, digits_test, compress):
    x, y = digits_test
    suffix = ".gz" if compress else ""
    pack = gzip.compress if compress else (lambda b: b)
    (workdir / f"imgs-idx3-ubyte{suffix}").write_bytes(pack(idx(x)))
    (workdir / f"lbls-idx1-ubyte{suffix}").write_bytes(pack(idx(y)))
    proc = run("seqnn-predict", "model.safetensors", f"imgs-idx3-ubyte{suffix}", "--labels",
               f"lbls-idx1-ubyte{suffix}", "-q", cwd=workdir)
    assert proc.returncode == 0, proc.stderr
    assert accuracy_of(proc.stdout) >= 0.95


def test_truncated_idx_is_a_clear_error(workdir, digits_test):
    (workdir / "cut.idx").write_bytes(idx(digits_test[0])[:-10])
    assert_usage_error(run("seqnn-predict", "model.safetensors", "cut.idx", cwd=workdir), "IDX data truncated")


def test_pgm_images_binary_and_text(workdir, digits_test):
    x, y = digits_test
    image = x[0]
    (workdir / "a.pgm").write_bytes(b"P5\n# a digit\n8 8\n16\n" + image.tobytes())
    (workdir / "b.pgm").write_text("P2\n8 8\n16\n" + "\n".join(" ".join(map(str, row)) for row in x[1]) + "\n")
    proc = run("seqnn-predict", "model.safetensors", "a.pgm", "b.pgm", cwd=workdir)
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.strip().splitlines()
    assert "2 samples from 2 files" in lines[0] and len(lines) == 4
    (workdir / "short.pgm").write_bytes(b"P5 8 8 16\n" + image.tobytes()[:20])
    assert_usage_error(run("seqnn-predict", "model.safetensors", "short.pgm", cwd=workdir), "truncated PGM")
    (workdir / "big.pgm").write_bytes(b"P5 28 28 255\n" + bytes(784))
    assert_usage_error(run("seqnn-predict", "model.safetensors", "big.pgm", cwd=workdir),
                       "wrong shape for this model", "(8, 8)", "(28, 28)")


def test_png_needs_pillow_or_reads_with_it(workdir, digits_test):
    try:
        from PIL import Image
    except ImportError:
        (workdir / "x.png").write_bytes(b"\x89PNG\r\n\x1a\n")
        assert_usage_error(run("seqnn-predict", "model.safetensors", "x.png", cwd=workdir), "needs Pillow",
                           'pip install Pillow (or seqnn\'s \'images\' extra: pip install "seqnn-ml[images]"')
        return
    Image.fromarray(digits_test[0][0]).save(workdir / "x.png")
    proc = run("seqnn-predict", "model.safetensors", "x.png", cwd=workdir)
    assert proc.returncode == 0, proc.stderr
    assert "1 samples" in proc.stdout


def test_help(workdir):
    proc = run("seqnn-predict", "--help", cwd=workdir)
    assert proc.returncode == 0
    for text in ("MODEL", "INPUT", "--data", "--split", "--top-k", "--out", "--labels", "--target", "examples:",
                 ".pgm"):
        assert text in proc.stdout, text


@pytest.mark.parametrize("args, fragments", [
    (["absent.safetensors", "--data", "digits"], ["MODEL: no such file: absent.safetensors"]),
    (["model.safetensors"], ["nothing to predict"]),
    (["model.safetensors", "absent.npy"], ["no such file: absent.npy"]),
    (["model.safetensors", "--data", "cifar"], ["unknown dataset 'cifar'"]),
    (["model.safetensors", "x.npy", "--data", "digits"], ["not both"]),
    (["model.safetensors", "--data", "mnist"], ["mnist: files not found"]),
    (["model.safetensors", "notes.txt"], ["unsupported input type"]),
    (["model.safetensors", "--data", "digits", "--top-k", "0"],
     ["argument --top-k: expected a positive integer, got '0'"]),
    (["model.safetensors", "--data", "digits", "--batch-size", "x"], ["argument --batch-size", "got 'x'"]),
    (["model.safetensors", "--data", "digits", "--labels", "y.npy"], ["--labels applies to INPUT files"]),
    (["notes.txt", "--data", "digits"], ["notes.txt"]),
])
def test_user_mistakes_exit_2_with_one_line(workdir, monkeypatch, capsys, args, fragments):
    (workdir / "notes.txt").write_text("just some text\n")
    np.save(workdir / "x.npy", np.zeros((2, 8, 8)))
    if args[-1] == "mnist":  # one case through the installed script; the rest in-process (faster)
        assert_usage_error(run("seqnn-predict", *args, cwd=workdir), *fragments)
        return
    from seqnn.cli import predict
    monkeypatch.chdir(workdir)
    monkeypatch.setenv("HOME", str(workdir))
    monkeypatch.setenv("SEQNN_DATASETS_MIRROR", "http://127.0.0.1:1/")
    assert_usage_error(in_process(predict.main, args, capsys), *fragments)


def test_labels_of_the_wrong_length_or_range(workdir, digits_test):
    np.save(workdir / "x3.npy", digits_test[0][:3])
    np.save(workdir / "y2.npy", np.array([1, 2]))
    np.save(workdir / "y99.npy", np.array([1, 2, 99]))
    assert_usage_error(run("seqnn-predict", "model.safetensors", "x3.npy", "--labels", "y2.npy", cwd=workdir),
                       "2 labels for 3 samples")
    assert_usage_error(run("seqnn-predict", "model.safetensors", "x3.npy", "--labels", "y99.npy", cwd=workdir),
                       "class ids 0..9")


def test_regressor_prints_values_and_errors(tmp_path):
    rng = np.random.default_rng(0)
    x = rng.normal(size=(200, 2))
    y = x[:, 0] * 2 + 5
    np.savez(tmp_path / "r.npz", x=x, y=y)
    proc = run("seqnn-train", "--data", "r.npz", "--epochs", "30", "--task", "regression", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    proc = run("seqnn-predict", "model.safetensors", "r.npz", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert "regressor" in proc.stdout and "prediction" in proc.stdout
    assert float(proc.stdout.split("mean absolute error: ")[1].split()[0]) < 0.5
