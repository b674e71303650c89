"""CSVLogger: one CSV row per epoch, written as training runs."""
from __future__ import annotations

import csv
import os
import warnings

from ..argument_checks import check_bool
from ..distribute.base import distribution_of
from ._state import check_keys, whole_number
from .callback import Callback


class CSVLogger(Callback):
    """Stream each epoch's logs to a CSV file.

    The file is Keras's layout: a header ``epoch,<keys>`` with the first
    epoch's log keys in sorted order, then one row per epoch; ``epoch`` is
    0-based as in Keras, values are written with Python's ``str`` (full
    precision), and a key missing in a later epoch (a ``val_`` key on an
    epoch without validation) is written as ``NA``. Lines end in ``\\n``
    (Keras writes the csv module's ``\\r\\n``). The file is flushed after every
    row, so it can be read (``tail -f``, pandas) while training runs.

    ``append=True`` continues an existing file: no second header, and rows use
    that file's columns (read from its header), so repeated runs line up. A key
    that appears after the header was written (validation that starts later
    with ``validation_freq``) cannot get a column; it is left out with one
    warning.

    The file is set up at the first epoch's end rather than at train start,
    so that a run resumed by BackupAndRestore can continue it (see
    :meth:`get_state`) instead of truncating it first. It is open only while
    a row is written: a ``fit`` that fails (an exception, Ctrl-C) between
    two epochs never reaches ``on_train_end``, and must not leave an open
    file behind. In data-parallel training only rank 0 writes the file.

    Args:
        filename: path of the CSV file.
        separator: the one-character field separator.
        append: continue an existing file instead of overwriting it.

    Example::

        model.fit(x, y, epochs=10, callbacks=[CSVLogger("training.csv")])
    """

    def __init__(self, filename: str | os.PathLike, separator: str = ",", append: bool = False):
        super().__init__()
        if not isinstance(filename, (str, os.PathLike)) or not os.fspath(filename):
            raise ValueError(f"CSVLogger: filename must be a file path, got {filename!r}")
        if not isinstance(separator, str) or len(separator) != 1 or separator in "\r\n\"":
            raise ValueError(f"CSVLogger: separator must be one character (not a quote or newline), "
                             f"got {separator!r}")
        self.filename = os.fspath(filename)
        self.sep = separator
        self.append = check_bool(append, "CSVLogger", "append")
        self._reset()

    def _reset(self) -> None:
        self.keys: list[str] | None = None
        self._prepared = False  # the file is truncated, or continued, for this run
        self._size = 0          # its size after the last row written
        self._header_written = False
        self._resume: dict | None = None
        self._warned_extra = False

    # ------------------------------------------------------------ the file ---
    def _prepare(self) -> None:
        """Create or truncate the file, or continue it (``append``, a resumed run), for this run's rows."""
        continuing = self._resume is not None or self.append
        if self._resume is not None:
            self.keys = self._resume["keys"]
            if os.path.exists(self.filename) and os.path.getsize(self.filename) > self._resume["size"]:
                # Rows written after the backup belong to epochs that will run again.
                os.truncate(self.filename, self._resume["size"])
        if continuing and self.keys is None:
            self.keys = self._header_keys()
        with open(self.filename, "a" if continuing else "w", newline="", encoding="utf-8") as f:
            self._size = f.seek(0, os.SEEK_END)
        self._header_written = self._size > 0
        self._resume = None  # consumed: from now on the file is the state
        self._prepared = True

    def _write(self, *rows: list) -> None:
        with open(self.filename, "a", newline="", encoding="utf-8") as f:
            csv.writer(f, delimiter=self.sep, lineterminator="\n").writerows(rows)
            self._size = f.tell()

    def _header_keys(self) -> list[str] | None:
        """The columns of an existing file's header (after ``epoch``), or None for a missing or empty file."""
        try:
            with open(self.filename, newline="", encoding="utf-8") as f:
                header = next(csv.reader(f, delimiter=self.sep), None)
        except FileNotFoundError:
            return None
        if not header:
            return None
        if header[0] != "epoch":
            raise ValueError(f"CSVLogger: cannot append to {self.filename}: its first line does not start with "
                             f"an 'epoch' column (found {header[:3]}); is it a CSVLogger file with separator "
                             f"{self.sep!r}?")
        return header[1:]

    # --------------------------------------------------------------- hooks ---
    def on_train_begin(self, logs=None):
        self._reset()

    def on_epoch_end(self, epoch, logs=None):
        if not distribution_of(self.model).is_chief:
            return
        logs = logs or {}
        if not self._prepared:
            self._prepare()
        if self.keys is None:
            self.keys = sorted(logs)
        header = [] if self._header_written else [["epoch", *self.keys]]
        extra = [key for key in logs if key not in self.keys]
        if extra and not self._warned_extra:
            self._warned_extra = True
            warnings.warn(f"CSVLogger: {', '.join(extra)} appeared after the header of {self.filename} was "
                          f"written (columns: epoch, {', '.join(self.keys)}), so it is not logged", UserWarning,
                          stacklevel=2)
        self._write(*header, [epoch, *(_cell(logs.get(key, "NA")) for key in self.keys)])
        self._header_written = True

    def on_train_end(self, logs=None):
        if not distribution_of(self.model).is_chief:
            return
        if not self._prepared:
            self._prepare()  # no epoch ran: still leave the file Keras would (created, or truncated to the backup)
        self._prepared = False

    # ------------------------------------------------------ resumable state ---
    def get_state(self) -> dict:
        """Where the file ends now (bytes) and its columns.

        A resumed run truncates the file to that size, dropping rows of epochs
        that ran after the backup was written and will run again, and appends.
        """
        if self._prepared:
            return {"size": self._size, "keys": self.keys}
        if self._resume is not None:  # resumed, and nothing written since
            return dict(self._resume)
        if self.keys is not None:     # written and closed: training ended
            return {"size": os.path.getsize(self.filename), "keys": self.keys}
        if self.append and os.path.exists(self.filename):
            return {"size": os.path.getsize(self.filename), "keys": None}
        return {"size": 0, "keys": None}  # this run will overwrite the file

    def set_state(self, state: dict) -> None:
        state = check_keys("CSVLogger", state, ("size", "keys"))
        size, keys = whole_number("CSVLogger", state, "size"), state["keys"]
        if keys is not None and (not isinstance(keys, list) or not all(isinstance(k, str) for k in keys)):
            raise ValueError(f"CSVLogger.set_state: keys must be a list of column names or None, got {keys!r}")
        self._prepared = False
        self._resume = {"size": size, "keys": keys}


def _cell(value):
    """Lists and arrays as one quoted ``[a, b]`` cell, as Keras writes them; everything else as ``str``."""
    if isinstance(value, str) or not hasattr(value, "__iter__") or getattr(value, "ndim", 1) == 0:
        return value
    return f"[{', '.join(map(str, value))}]"
