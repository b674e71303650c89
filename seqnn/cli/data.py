"""Training data for ``seqnn-train --data``: a named dataset, a CSV file or an NPZ file.

Named datasets come with their test split and pixel range. Files get a test
split of ``--test-split`` (stratified for classification), the task is
inferred from the targets (whole numbers 0..99 are class labels, anything
else is regression) unless ``--task`` says otherwise, and the statistics the
presets need to take raw values (pixel range, feature and target mean/std)
are computed on the training part only.
"""
from __future__ import annotations

import csv
import os
import shlex
from dataclasses import dataclass, field
from typing import Callable, NamedTuple

import numpy as np

from .. import datasets
from ..datasets import tabular
from .args import column
from .errors import UsageError
from .presets import ModelSpec


class NamedDataset(NamedTuple):
    """A dataset that ``--data NAME`` names, and how the commands treat it."""
    load_data: Callable            # load_data(data_dir) -> ((x_train, y_train), (x_test, y_test))
    scale: float                   # the Rescaling that maps its pixels to [0, 1]
    source: str                    # where the data comes from, for the report
    epochs: int                    # default --epochs
    batch_size: int                # default --batch-size
    class_names: list | None = None


NAMED = {
    "digits": NamedDataset(lambda data_dir: datasets.digits.load_data(), 1 / 16, "embedded", 30, 32),
    "mnist": NamedDataset(datasets.mnist.load_data, 1 / 255, "IDX files", 10, 128),
    "fashion_mnist": NamedDataset(datasets.fashion_mnist.load_data, 1 / 255, "IDX files", 10, 128,
                                  datasets.fashion_mnist.CLASS_NAMES),
}
ALIASES = {"fashion-mnist": "fashion_mnist", "fashion": "fashion_mnist"}
FILE_DEFAULTS = {"epochs": 20, "batch_size": 32}
MAX_CLASSES = 100


@dataclass
class TrainingData:
    name: str
    source: str
    x_train: np.ndarray
    y_train: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray
    task: str
    spec: ModelSpec
    defaults: dict = field(default_factory=dict)
    class_names: list | None = None

    def summary(self) -> str:
        shape = tuple(self.x_train.shape[1:])
        what = (f"{self.spec.num_outputs} classes" if self.task == "classification"
                else f"regression, {self.spec.num_outputs} target(s)")
        return (f"{self.name} ({self.source}): {len(self.x_train)} training and {len(self.x_test)} test samples "
                f"of shape {shape}, {what}")


def dataset_name(text: str) -> str | None:
    """The canonical name of a named dataset, or None if ``text`` is not one."""
    key = text.lower()
    key = ALIASES.get(key, key)
    return key if key in NAMED else None


def load(data: str, data_dir: str | None = None, target: str | None = None, task: str = "auto",
         test_split: float = 0.2, limit: int | None = None, seed: int | None = 0,
         drop: list[str] | None = None) -> TrainingData:
    """Load ``--data`` for training (see the module docstring); ``drop``: CSV columns to leave out."""
    name = dataset_name(data)
    if drop and os.path.splitext(data)[1].lower() != ".csv":
        raise UsageError(f"--drop applies to CSV files; {data!r} is not one")
    if name is not None:
        named = NAMED[name]
        (x, y), (xt, yt) = named.load_data(data_dir)
        if limit:
            x, y = x[:limit], y[:limit]
        spec = ModelSpec(tuple(x.shape[1:]), "classification", 10, scale=named.scale)
        return TrainingData(name, named.source, x, y, xt, yt, "classification", spec,
                            {"epochs": named.epochs, "batch_size": named.batch_size}, named.class_names)
    ext = os.path.splitext(data)[1].lower()
    if ext not in (".csv", ".npz"):
        if os.path.exists(data):
            raise UsageError(f"--data: {data!r} is not a .csv or .npz file (other file types are not supported "
                             "for training)")
        raise UsageError(f"--data: unknown dataset {data!r}; named datasets are {', '.join(NAMED)}, or give "
                         "a .csv (with --target) or .npz file")
    if not os.path.isfile(data):
        raise UsageError(f"--data: no such file: {data}")
    if ext == ".csv":
        if not target:
            raise UsageError("--target: name the CSV column that holds the targets (e.g. --target label)")
        x, y = _load_csv(data, column(target), [column(c) for c in drop or []])
        split = None
    else:
        if target:
            raise UsageError("--target applies to CSV files; an .npz file names its arrays x and y")
        loaded = datasets.load_npz(data)
        split = loaded if isinstance(loaded[0], tuple) else None
        x, y = (None, None) if split else loaded
        _check_values(data, *(loaded if split is None else (*split[0], *split[1])))
    task = _task(y if split is None else split[0][1], task)
    if split is None:
        if not 0.0 < test_split < 1.0:
            raise UsageError(f"--test-split must be a fraction in (0, 1), got {test_split}")
        stratify = y if task == "classification" and _stratifiable(y) else None
        x, xt, y, yt = datasets.train_test_split(x, y, test_size=test_split, stratify=stratify, seed=seed)
        source = f"file, {round(test_split * 100)} % held out for testing"
    else:
        (x, y), (xt, yt) = split
        source = "file with its own test split"
    if limit:
        x, y = x[:limit], y[:limit]
    spec = _file_spec(x, y, yt, task)
    return TrainingData(os.path.basename(data), source, x, y, xt, yt, task, spec, dict(FILE_DEFAULTS))


def _load_csv(path: str, target: str | int, drop: list) -> tuple[np.ndarray, np.ndarray]:
    """``load_csv`` for training: every column but the target and ``drop``, with a hint for a text column."""
    try:
        return datasets.load_csv(path, target=target, drop=drop or None)
    except tabular.CsvCellError as e:
        if "not a number" not in e.problem or "not a finite" in e.problem:
            raise
        if e.column == _column_name(path, target):
            raise UsageError(f"{e} (the --target column must hold numbers: class ids 0..{MAX_CLASSES - 1} "
                             "or values)") from None
        raise UsageError(f"{e} (a text column? leave it out with --drop {_quoted(e.column)})") from None
    except ValueError as e:
        if str(e).startswith("drop:"):
            raise UsageError(f"--{e}") from None
        raise


def _column_name(path: str, column: str | int) -> str:
    """The name of ``column`` (a name, or an index into the header of the CSV file ``path``)."""
    if isinstance(column, str):
        return column
    with open(path, newline="", encoding="utf-8-sig") as f:
        header = tabular.read_header(csv.reader(f), path)
    return header[column]


def _quoted(name: str) -> str:
    return shlex.quote(name)


def _check_values(path: str, *arrays: np.ndarray) -> None:
    """An NPZ file may hold arrays of anything numpy can store; training needs finite numbers (fit would
    refuse NaN too, but without naming the file)."""
    for array in arrays:
        if array.dtype.kind not in "biuf":
            raise UsageError(f"--data: {path} holds an array of dtype {array.dtype.str}; expected numbers "
                             "(bool, integer or float)")
        if array.dtype.kind == "f" and not np.all(np.isfinite(array)):
            raise UsageError(f"--data: {path} holds NaN or inf; clean or impute the data first")


def _task(y: np.ndarray, requested: str) -> str:
    is_labels = (y.ndim == 1 or (y.ndim == 2 and y.shape[1] == 1)) and y.dtype.kind in "iuf" and len(y) > 0 \
        and bool(np.all(y == np.round(y))) and y.min() >= 0 and y.max() < MAX_CLASSES
    if requested == "auto":
        return "classification" if is_labels and y.dtype.kind in "iu" else "regression"
    if requested == "classification" and not is_labels:
        raise UsageError(f"--task classification: targets must be whole numbers 0..{MAX_CLASSES - 1} "
                         f"(class labels), got values from {y.min()} to {y.max()}")
    return requested


def _stratifiable(y: np.ndarray) -> bool:
    return bool(np.unique(y, return_counts=True)[1].min() >= 2)


def _file_spec(x: np.ndarray, y: np.ndarray, yt: np.ndarray, task: str) -> ModelSpec:
    if x.dtype.kind not in "biuf":
        raise UsageError(f"--data: the inputs must be numeric, got dtype {x.dtype}")
    shape = tuple(x.shape[1:])
    scale, stats = None, None
    if x.dtype == np.uint8:
        scale = 1 / 255
    elif len(shape) == 1:
        xf = np.asarray(x, np.float64)
        std = xf.std(axis=0)
        stats = (xf.mean(axis=0), np.where(std > 0, std, 1.0))
    if task == "classification":
        classes = int(max(np.max(y), np.max(yt))) + 1
        return ModelSpec(shape, task, max(classes, 2), scale=scale, feature_stats=stats)
    yf = np.asarray(y, np.float64).reshape(len(y), -1)
    std = yf.std(axis=0)
    return ModelSpec(shape, task, yf.shape[1], scale=scale, feature_stats=stats,
                     target_stats=(yf.mean(axis=0), np.where(std > 0, std, 1.0)))
