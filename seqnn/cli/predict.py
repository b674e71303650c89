"""seqnn-predict: run a saved model on files or a dataset split; print or save its predictions.

For a classifier it prints, per sample, the predicted class and its
probability (the k best with ``--top-k``); for a regressor the predicted
values: the first few samples by default, every one with ``--all``.
``--out FILE.csv`` writes them all as CSV instead. When labels are
known (``--data``, a CSV ``--target`` column, ``y`` in an .npz, or
``--labels``) it ends with the accuracy, the per-class report and the
confusion matrix (mean squared / absolute error for a regressor).
"""
from __future__ import annotations

import argparse
import csv
import os
import sys
from typing import Sequence

import numpy as np

from .. import metrics
from .._version import __version__
from ..errors import BackendUnavailableError
from ..models import load_model
from . import data as cli_data
from . import inputs, plot_file
from .args import positive_int
from .errors import ArgumentParser, UsageError, run

PROG = "seqnn-predict"
FIRST_ROWS = 10  # sample lines printed by default: the start of the table, then the summary

EPILOG = f"""\
examples:
  seqnn-predict model.safetensors --data digits --split test     accuracy, per-class report, confusion matrix
  seqnn-predict model.safetensors images.npy --top-k 3            the 3 most likely classes per sample
  seqnn-predict model.safetensors t10k-images-idx3-ubyte.gz --labels t10k-labels-idx1-ubyte.gz
  seqnn-predict model.safetensors digit.pgm                       one image (PNG/JPEG need Pillow)
  seqnn-predict model.safetensors table.csv --target label --out predictions.csv

INPUT: {inputs.SUPPORTED}.
Samples are fed to the model as stored (a model saved by seqnn-train does its own scaling); a file whose
samples hold the model's number of values is reshaped to the model's input shape.
A mistake (missing file, wrong shape for the model) exits with status 2 and one line on stderr; any other
error exits with 1 and a traceback. SEQNN_DEBUG=1 shows the full traceback of any error.
"""


def build_parser() -> ArgumentParser:
    p = ArgumentParser(prog=PROG, description="Predict with a model saved by seqnn-train (or model.save).",
                       epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--version", action="version", version=f"seqnn {__version__}")
    p.add_argument("model", metavar="MODEL", help="a .safetensors model file")
    p.add_argument("inputs", nargs="*", metavar="INPUT", help="files of samples (several files are concatenated)")
    p.add_argument("--data", metavar="NAME", help="predict a named dataset instead: digits, mnist, fashion_mnist")
    p.add_argument("--split", choices=("test", "train"), default="test",
                   help="which part of --data (or of an .npz with x_train/x_test) (default: test)")
    p.add_argument("--data-dir", metavar="DIR", help="directory with the mnist / fashion_mnist IDX files")
    p.add_argument("--target", metavar="COLUMN", help="CSV input: the column holding the labels (name or index)")
    p.add_argument("--labels", metavar="FILE", help="true labels (.npy, IDX or one-column .csv) for the report")
    p.add_argument("--top-k", type=positive_int, default=1, metavar="K",
                   help="show the K most likely classes (default: 1)")
    p.add_argument("--out", metavar="FILE", help="write the predictions to this CSV file instead of printing them")
    p.add_argument("--limit", type=positive_int, metavar="N", help="predict only the first N samples")
    p.add_argument("--batch-size", type=positive_int, default=256, metavar="N", help="samples per batch (default: 256)")
    lines = p.add_mutually_exclusive_group()
    lines.add_argument("--all", action="store_true",
                       help=f"a line for every sample (default: the first {FIRST_ROWS}, then the summary)")
    lines.add_argument("-q", "--quiet", action="store_true", help="no line per sample: only the summary and report")
    p.add_argument("--plot", metavar="FILE",
                   help="draw the confusion matrix to FILE (.png, .svg, .pdf); needs the true labels and "
                        "matplotlib (the plots extra)")
    return p


def main(argv: Sequence[str] | None = None) -> int:
    """``seqnn-predict`` with the arguments ``argv`` (default: the command line); returns the exit
    status (see :func:`seqnn.cli.errors.run`)."""
    return run(PROG, _main, argv)


def _main(argv: Sequence[str] | None) -> int:
    args = build_parser().parse_args(argv)
    if args.plot:
        plot_file.check(args.plot)
    if not os.path.isfile(args.model):
        raise UsageError(f"MODEL: no such file: {args.model}")
    model = _load(args.model)
    if not model.built:
        raise UsageError(f"MODEL: {args.model} holds no weights")
    expected = tuple(model.input_shape[1:])
    x, labels, class_names, source = _samples(args, expected)
    if args.plot and labels is None:
        raise UsageError("--plot: the confusion matrix needs the true labels: use --data NAME, --labels FILE, "
                         "a CSV --target column or an .npz that holds y")
    if args.limit:
        x, labels = x[:args.limit], None if labels is None else labels[:args.limit]
    probs, classifier = _as_probabilities(model, model.predict(x, batch_size=args.batch_size, verbose=0))
    if args.plot and not classifier:
        raise UsageError(f"--plot: a confusion matrix needs a classifier, and {args.model} is a regressor "
                         "(it predicts values, not classes)")
    print(f"{len(x)} samples from {source}, model {args.model} ({'classifier' if classifier else 'regressor'}, "
          f"input {expected})")
    rows, header = (_class_rows(probs, args.top_k, class_names) if classifier else _value_rows(probs))
    if labels is not None:
        labels = _check_labels(labels, len(x), probs, classifier, args.labels or source)
        header, rows = header + ["label"], [r + [_label_text(v, class_names)] for r, v in zip(rows, labels)]
    if args.out:
        _write_csv(args.out, header, rows)
        print(f"wrote {len(rows)} predictions to {args.out}")
    elif not args.quiet:
        shown = rows if args.all else rows[:FIRST_ROWS]
        _print_table(header, shown)
        if len(shown) < len(rows):
            print(f"... and {len(rows) - len(shown)} more samples (--all prints every one, --out FILE.csv "
                  "writes them)")
    if labels is not None:
        print(_report(probs, labels, classifier, class_names))
    if args.plot:
        _plot_confusion(args.plot, probs, labels, class_names)
        print(f"wrote the confusion matrix to {args.plot}")
    return 0


def _plot_confusion(path: str, probs: np.ndarray, labels: np.ndarray, names) -> None:
    """--plot: the confusion matrix of the true ``labels`` against the predicted classes, saved to ``path``."""
    from .. import plot

    num_classes = max(probs.shape[1], 2)
    scores = probs if probs.shape[1] > 1 else probs[:, 0]  # one sigmoid unit: the probability of class 1
    names = names if names is not None and len(names) == num_classes else None
    plot_file.save(plot.confusion_matrix(labels, scores, num_classes=num_classes, display_labels=names), path)


def _load(path: str):
    """The model with its loss (to tell a classifier from a regressor); without it if compiling fails here."""
    try:
        return load_model(path)
    except BackendUnavailableError:  # saved with a backend this machine lacks: the weights still load
        return load_model(path, compile=False)


def _samples(args, expected):
    """(x, labels or None, class names or None, description) from --data or the INPUT files."""
    if args.data:
        if args.inputs:
            raise UsageError("give INPUT files or --data NAME, not both")
        name = cli_data.dataset_name(args.data)
        if name is None:
            raise UsageError(f"--data: unknown dataset {args.data!r}; named datasets are "
                             f"{', '.join(cli_data.NAMED)} (files go in INPUT)")
        for flag, value in (("--labels", args.labels), ("--target", args.target)):
            if value is not None:
                raise UsageError(f"{flag} applies to INPUT files; --data {name} brings its own labels")
        named = cli_data.NAMED[name]
        train, test = named.load_data(args.data_dir)
        x, labels = train if args.split == "train" else test
        x = inputs.fit_to_model(x, expected, f"--data {name}")
        return x, labels, named.class_names, f"{name} ({args.split} split)"
    if not args.inputs:
        raise UsageError("nothing to predict: give INPUT files or --data NAME (see --help)")
    parts = [inputs.read_samples(path, expected, args.target, args.split) for path in args.inputs]
    x = parts[0][0] if len(parts) == 1 else np.concatenate([p[0] for p in parts])
    labels = None
    if all(p[1] is not None for p in parts):
        labels = parts[0][1] if len(parts) == 1 else np.concatenate([p[1] for p in parts])
    if args.labels:
        labels = inputs.read_labels(args.labels)
    source = args.inputs[0] if len(args.inputs) == 1 else f"{len(args.inputs)} files"
    return x, labels, None, source


def _as_probabilities(model, out: np.ndarray) -> tuple[np.ndarray, bool]:
    """(outputs, is_classifier): a cross-entropy model's logits become probabilities."""
    loss = getattr(model, "loss", None)
    last = model.layers[-1]
    activation = str(getattr(getattr(last, "output_activation", None), "name", "") or "").lower()
    if out.ndim != 2:
        return out, False
    if loss is not None and "crossentropy" not in type(loss).__name__.lower():
        return out, False
    if loss is None and activation not in ("softmax", "sigmoid"):
        return out, False
    if getattr(loss, "from_logits", False):
        if out.shape[1] == 1:
            out = 1 / (1 + np.exp(-out))
        else:
            e = np.exp(out - out.max(axis=1, keepdims=True))
            out = e / e.sum(axis=1, keepdims=True)
    return out, True


def _class_rows(probs: np.ndarray, k: int, names):
    if probs.shape[1] == 1:  # one sigmoid unit: class 1 with probability p
        probs = np.concatenate([1 - probs, probs], axis=1)
    k = min(k, probs.shape[1])
    best = np.argsort(-probs, axis=1, kind="stable")[:, :k]
    header = ["sample", "class", "confidence"]
    for j in range(2, k + 1):
        header += [f"class_{j}", f"confidence_{j}"]
    rows = []
    for i, order in enumerate(best):
        row = [str(i)]
        for c in order:
            row += [_label_text(c, names), f"{probs[i, c]:.4f}"]
        rows.append(row)
    return rows, header


def _value_rows(out: np.ndarray):
    out = out.reshape(len(out), -1)
    header = ["sample"] + (["prediction"] if out.shape[1] == 1 else [f"prediction_{j}" for j in range(out.shape[1])])
    return [[str(i)] + [f"{v:.6g}" for v in row] for i, row in enumerate(out)], header


def _label_text(value, names) -> str:
    if isinstance(value, np.ndarray):
        return " ".join(f"{v:.6g}" for v in value.reshape(-1))
    if isinstance(value, (float, np.floating)):
        if not float(value).is_integer():
            return f"{value:.6g}"
        value = int(value)
    if names is not None and 0 <= value < len(names):
        return names[int(value)]
    return str(value)


def _check_labels(labels: np.ndarray, n: int, probs: np.ndarray, classifier: bool, where: str) -> np.ndarray:
    """``where``: the file (or dataset) the labels came from, for the messages."""
    labels = np.asarray(labels)
    if len(labels) != n:
        raise UsageError(f"labels ({where}): {len(labels)} labels for {n} samples")
    if not classifier:
        return labels
    classes = max(probs.shape[1], 2)
    if labels.ndim == 2 and labels.shape[1] == classes:
        labels = labels.argmax(axis=1)  # one-hot rows
    labels = labels.reshape(-1) if labels.ndim == 2 and labels.shape[1] == 1 else labels
    if labels.ndim != 1 or labels.dtype.kind not in "biuf" or not np.all(labels == np.round(labels)) \
            or labels.min() < 0 or labels.max() >= classes:
        raise UsageError(f"labels ({where}): expected class ids 0..{classes - 1}, one per sample, got shape "
                         f"{labels.shape} "
                         f"with values {labels.min()}..{labels.max()}")
    return labels.astype(np.int64)


def _report(probs: np.ndarray, labels: np.ndarray, classifier: bool, names) -> str:
    if not classifier:
        out, y = probs.reshape(len(probs), -1), labels.reshape(len(labels), -1).astype(np.float64)
        err = out - y
        return f"mean squared error: {np.mean(err ** 2):.6g}\nmean absolute error: {np.mean(np.abs(err)):.6g}"
    num_classes = max(probs.shape[1], 2)
    matrix = metrics.confusion_matrix(labels, probs if probs.shape[1] > 1 else probs[:, 0], num_classes=num_classes)
    correct, total = int(np.trace(matrix)), int(matrix.sum())
    lines = [f"accuracy: {correct / total:.4f} ({correct} of {total} correct)", ""]
    report = metrics.confusion.report_from_confusion(matrix, names)
    lines += [metrics.confusion.format_report(report), "",
              "confusion matrix (rows: true class, columns: predicted class):"]
    width = max(len(str(int(matrix.max()))), len(str(num_classes - 1))) + 1
    lines.append(" " * 6 + "".join(f"{c:>{width}}" for c in range(num_classes)))
    for c, row in enumerate(matrix):
        lines.append(f"{c:>5} " + "".join(f"{int(v):>{width}}" for v in row))
    return "\n".join(lines)


def _print_table(header: list[str], rows: list[list[str]]) -> None:
    widths = [max([len(h)] + [len(r[j]) for r in rows]) for j, h in enumerate(header)]
    out = sys.stdout
    out.write("  ".join(h.ljust(w) for h, w in zip(header, widths)).rstrip() + "\n")
    for r in rows:
        out.write("  ".join(v.ljust(w) for v, w in zip(r, widths)).rstrip() + "\n")


def _write_csv(path: str, header: list[str], rows: list[list[str]]) -> None:
    directory = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(directory):
        raise UsageError(f"--out: directory {directory} does not exist")
    with open(path, "w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f, lineterminator="\n")
        writer.writerow(header)
        writer.writerows(rows)


if __name__ == "__main__":
    sys.exit(main())
