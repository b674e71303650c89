"""Numeric CSV files with a header row, read strictly.

(Named ``tabular`` so that it does not shadow the standard library's ``csv``.)
Every selected cell must be a finite number; an empty, non-numeric, NaN or
infinite value is an error that names the file, the line and the column, so
a bad row is never silently dropped or turned into NaN. Columns that are not
selected are not parsed, so a text column (an id, a name) can stay in the file
when ``features`` leaves it out.
"""
from __future__ import annotations

import csv
import math
import os
from array import array
from typing import Sequence, Union

import numpy as np

from .errors import DataFileError
from .plain_csv import read_plain_csv

Column = Union[str, int]


def load_csv(path: str | os.PathLike, target: Column | Sequence[Column] | None = None,
             features: Sequence[Column] | None = None, dtype: str | np.dtype = "float32",
             target_dtype: str | np.dtype | None = None, delimiter: str = ",",
             drop: Sequence[Column] | None = None):
    """Read a numeric CSV file: ``x`` alone, or ``(x, y)`` when ``target`` is given.

    Args:
        path: a text file whose first row names the columns.
        target: the column(s) that hold the targets, by name or 0-based index
            (negative counts from the end). One column gives ``y`` of shape
            (n,), a list of columns (n, k).
        features: the columns of ``x``, by name or index, in that order;
            default every column except the target columns.
        dtype: dtype of ``x``.
        target_dtype: dtype of ``y``; by default int64 when every target is a
            whole number (class labels), else ``dtype``.
        delimiter: the one-character field separator.
        drop: columns to leave out of the default features (an id, a name);
            only when ``features`` is not given. Unselected columns are not
            parsed, so they may hold text.

    Returns:
        ``x`` of shape (n, len(features)), or ``(x, y)``.

    Raises:
        ValueError: no header, an unknown or repeated column, a row with the
            wrong number of fields, or a cell that is empty or not a finite
            number (naming the line and the column).

    Example::

        x, y = load_csv("houses.csv", target="price")
        x, y = load_csv("iris.csv", target=-1, features=["sepal_length", "petal_length"])
    """
    path = os.fspath(path)
    if not isinstance(delimiter, str) or len(delimiter) != 1:
        raise ValueError(f"delimiter must be one character, got {delimiter!r}")
    try:
        # The fast pass parses a plain file in one vectorised call; anything it does not vouch for (quotes,
        # a bad cell, a ragged row) is read again cell by cell, which finds and names the problem.
        fast = read_plain_csv(path, delimiter, lambda header: _columns(header, target, features, drop, path))
        if fast is not None:
            header, feature_idx, target_idx, values, lines = fast
            x_values, y_values = values[:, :len(feature_idx)], values[:, len(feature_idx):]
        else:
            header, feature_idx, target_idx, x_values, y_values, lines = _read_strictly(
                path, delimiter, target, features, drop)
    except UnicodeDecodeError as e:
        raise ValueError(f"{path}: not a UTF-8 text file ({e.reason} at byte {e.start})") from None
    except csv.Error as e:
        raise ValueError(f"{path}: malformed CSV ({e})") from None
    if not len(lines):
        raise ValueError(f"{path}: no data rows after the header")
    x = _cast(x_values, dtype, lines, [header[i] for i in feature_idx], path)
    if target is None:
        return x
    y = y_values
    if target_dtype is None:
        target_dtype = np.int64 if np.all(y == np.round(y)) and np.all(np.abs(y) < 2**53) else dtype
    y = _cast(y, target_dtype, lines, [header[i] for i in target_idx], path)
    single = isinstance(target, (str, int, np.integer))
    return x, (y[:, 0] if single else y)


def _read_strictly(path: str, delimiter: str, target, features, drop):
    """Every selected cell through ``float`` (the slow path, whose errors name the line and the column)."""
    with open(path, newline="", encoding="utf-8-sig") as f:
        reader = csv.reader(f, delimiter=delimiter)
        header = read_header(reader, path)
        feature_idx, target_idx = _columns(header, target, features, drop, path)
        x_rows, y_rows, lines = _read_rows(reader, header, feature_idx, target_idx, path)
    x = np.frombuffer(x_rows, np.float64).reshape(-1, len(feature_idx))
    y = np.frombuffer(y_rows, np.float64).reshape(-1, len(target_idx)) if target_idx else None
    return header, feature_idx, target_idx, x, y, lines


def _columns(header: list[str], target, features, drop, path: str) -> tuple[list[int], list[int]]:
    """The indices of the feature and the target columns (none for ``target=None``)."""
    target_idx = _resolve(target, header, path, "target") if target is not None else []
    if drop is not None and features is not None:
        raise ValueError("drop: give features (the columns to use) or drop (the columns to leave out), not both")
    if features is None:
        if isinstance(drop, (str, int)):
            drop = [drop]
        dropped = _resolve(drop, header, path, "drop") if drop else []
        feature_idx = [i for i in range(len(header)) if i not in target_idx and i not in dropped]
    else:
        if isinstance(features, (str, int)):
            raise TypeError(f"features must be a list of column names or indices, got {features!r}")
        feature_idx = _resolve(features, header, path, "features")
    if not feature_idx:
        raise ValueError(f"{path}: no feature columns left (the file has columns {header})")
    overlap = sorted(set(feature_idx) & set(target_idx))
    if overlap:
        raise ValueError(f"{path}: column(s) {[header[i] for i in overlap]} are both features and target")
    return feature_idx, target_idx


def read_header(reader, path: str) -> list[str]:
    """The column names in the first non-blank row of ``reader`` (a ``csv.reader``); ValueError if unusable."""
    for row in reader:
        if _blank(row):
            continue
        header = [name.strip() for name in row]
        empty = [i for i, name in enumerate(header) if not name]
        if empty:
            raise ValueError(f"{path}, line {reader.line_num}: the header has an empty column name "
                             f"(column {empty[0]}); the first row must name every column")
        seen: set[str] = set()
        repeated = [n for n in header if n in seen or seen.add(n)]
        if repeated:
            raise ValueError(f"{path}, line {reader.line_num}: column name {repeated[0]!r} appears twice in the header")
        return header
    raise ValueError(f"{path}: empty file; expected a header row naming the columns")


def _resolve(columns, header: list[str], path: str, what: str) -> list[int]:
    """Column names or indices → indices, with errors that list the columns the file has."""
    single = isinstance(columns, (str, int, np.integer)) and not isinstance(columns, bool)
    items = [columns] if single else list(columns)
    out = []
    for item in items:
        if isinstance(item, bool) or not isinstance(item, (str, int, np.integer)):
            raise TypeError(f"{what}: expected column names or indices, got {item!r}")
        if isinstance(item, str):
            if item not in header:
                raise ValueError(f"{what}: no column {item!r} in {path}; its columns are {header}")
            index = header.index(item)
        else:
            index = int(item) + (len(header) if item < 0 else 0)
            if not 0 <= index < len(header):
                raise ValueError(f"{what}: column index {int(item)} is out of range for {path}, "
                                 f"which has {len(header)} columns")
        if index in out:
            raise ValueError(f"{what}: column {header[index]!r} is listed twice")
        out.append(index)
    if not out:
        raise ValueError(f"{what}: no columns given")
    return out


def _read_rows(reader, header, feature_idx, target_idx, path) -> tuple[array, array, array]:
    """The selected cells, row after row, as flat float64 buffers (8 bytes a value, where a list of
    Python floats would cost about 40: a CSV of one-digit values would take 20 times its size), and
    each row's line number."""
    x_rows, y_rows, lines = array("d"), array("d"), array("q")
    for row in reader:
        if _blank(row):
            continue
        if len(row) != len(header):
            raise ValueError(f"{path}, line {reader.line_num}: expected {len(header)} fields (as in the header), "
                             f"got {len(row)}")
        x_rows.extend([_number(row, i, header, reader.line_num, path) for i in feature_idx])
        if target_idx:
            y_rows.extend([_number(row, i, header, reader.line_num, path) for i in target_idx])
        lines.append(reader.line_num)
    return x_rows, y_rows, lines


def _cast(values: np.ndarray, dtype, lines: array, columns: list[str], path: str) -> np.ndarray:
    """``values`` (float64, one row per line in ``lines``) as ``dtype``. A value that ``dtype`` cannot
    hold is an error naming its line and column: numpy would make it inf, or wrap it around, with only a
    RuntimeWarning."""
    dtype = np.dtype(dtype)
    if dtype.kind == "f":
        low, high = -float(np.finfo(dtype).max), float(np.finfo(dtype).max)
    elif dtype.kind in "iu":
        info = np.iinfo(dtype)
        low, high = float(info.min), float(np.nextafter(info.max + 1.0, 0))  # max + 1.0 is exact as a float
    else:
        return values.astype(dtype)
    if values.min() < low or values.max() > high:  # reductions first: no temporary array for a good file
        row, column = (int(i) for i in np.argwhere((values < low) | (values > high))[0])
        raise DataFileError(path, f"a value out of range for {dtype}",
                            f"{path}, line {lines[row]}, column {columns[column]!r}: {float(values[row, column]):g} "
                            f"does not fit in {dtype}")
    return values.astype(dtype)


class CsvCellError(DataFileError):
    """A selected CSV cell that is empty or not a finite number; ``line`` and ``column`` (its name) say where."""

    def __init__(self, path: str, line: int, column: str, problem: str):
        super().__init__(path, problem, f"{path}, line {line}, column {column!r}: {problem}")
        self.line, self.column = line, column

    def __reduce__(self):
        return type(self), (self.path, self.line, self.column, self.problem)


def _number(row, i, header, line, path) -> float:
    text = row[i].strip()
    if not text:
        raise CsvCellError(path, line, header[i], "missing value")
    try:
        value = float(text)
    except ValueError:
        raise CsvCellError(path, line, header[i], f"{text!r} is not a number") from None
    if not math.isfinite(value):
        raise CsvCellError(path, line, header[i], f"{text!r} is not a finite number")
    return value


def _blank(row) -> bool:
    """An empty line (``,,,`` is a row of missing values, not a blank line)."""
    return len(row) <= 1 and not "".join(row).strip()
