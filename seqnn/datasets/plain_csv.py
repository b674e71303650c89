"""The fast path of ``load_csv``: a plain numeric CSV file parsed by numpy in one vectorised pass.

"Plain" means what numpy's parser and Python's ``csv`` module read alike: no
quote characters, no NUL bytes, a whitespace-free delimiter, and every row
with exactly the header's number of fields. Each cell must then parse as a
finite number. Whenever one of these does not hold, :func:`read_plain_csv`
returns None and ``load_csv`` reads the file again cell by cell, which finds
the problem and names its line and column (the fast path only vouches for
files that the strict reader would accept with the same values).
"""
from __future__ import annotations

import csv
import warnings
from array import array
from typing import Callable

import numpy as np


class _NotPlain(Exception):
    """A line the fast path does not vouch for; the strict reader takes over."""


def read_plain_csv(path: str, delimiter: str,
                   select: Callable[[list[str]], tuple[list[int], list[int]]]):
    """``(header, feature_idx, target_idx, values, lines)`` for a plain file, else None.

    Args:
        path: the CSV file (UTF-8, with or without a byte-order mark).
        delimiter: the one-character field separator.
        select: ``header -> (feature_idx, target_idx)``; its errors (an
            unknown column) propagate.

    Returns:
        None when the file is not plain or a cell is not a finite number;
        otherwise the header, the selected column indices, the float64
        values of the feature columns then the target columns (one row per
        data line), and each row's physical line number (1-based).
    """
    if delimiter.isspace() or delimiter == '"':
        return None
    # newline=None splits lines where csv does (\n, \r\n, \r), so line numbers agree with the strict reader's.
    with open(path, encoding="utf-8-sig") as f:
        header, header_line = _header(f, delimiter)
        if header is None:
            return None
        feature_idx, target_idx = select(header)
        lines = array("q")
        rows = _data_lines(f, header_line, len(header), delimiter, lines)
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", UserWarning)  # numpy's "input contained no data"
                values = np.loadtxt(rows, dtype=np.float64, delimiter=delimiter, comments=None, quotechar=None,
                                    usecols=feature_idx + target_idx, ndmin=2, encoding=None)
        except (_NotPlain, ValueError):
            return None
    if len(values) != len(lines) or not np.isfinite(values).all():
        return None
    return header, feature_idx, target_idx, values, lines


def _header(f, delimiter: str) -> tuple[list[str] | None, int]:
    """The first non-blank line's column names (None unless they are plain, present and distinct)."""
    for number, line in enumerate(f, start=1):
        if _blank(line, delimiter):
            continue
        if '"' in line or "\0" in line:
            return None, number
        header = [name.strip() for name in next(csv.reader([line], delimiter=delimiter))]
        if not all(header) or len(set(header)) != len(header):
            return None, number
        return header, number
    return None, 0


def _data_lines(f, header_line: int, fields: int, delimiter: str, lines: array):
    """The non-blank lines after the header, each checked to be plain; their line numbers go to ``lines``."""
    separators = fields - 1
    for number, line in enumerate(f, start=header_line + 1):
        if _blank(line, delimiter):
            continue
        if line.count(delimiter) != separators or '"' in line or "\0" in line:
            raise _NotPlain
        lines.append(number)
        yield line


def _blank(line: str, delimiter: str) -> bool:
    """What the strict reader skips: a line of nothing but whitespace (``,,`` is a row of missing values)."""
    return not line.strip() and delimiter not in line
