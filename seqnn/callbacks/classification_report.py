"""ClassificationReport: per-class precision, recall, F1 and the confusion matrix during training."""
from __future__ import annotations

import os
from typing import Sequence

import numpy as np

from ..argument_checks import check_verbose, describe
from ._output import print_msg
from .callback import Callback


def format_confusion(matrix: np.ndarray, names: Sequence[str]) -> str:
    """A confusion matrix as an aligned table: rows are true classes, columns predicted classes."""
    corner = "true\\pred"
    cells = [[f"{v:g}" if matrix.dtype.kind == "f" else str(v) for v in row] for row in matrix]
    name_width = max(len(corner), *(len(n) for n in names))
    width = max(3, *(len(n) for n in names), *(len(c) for row in cells for c in row))
    lines = [f"{corner:>{name_width}}" + "".join(f" {n:>{width}}" for n in names)]
    lines += [f"{name:>{name_width}}" + "".join(f" {c:>{width}}" for c in row) for name, row in zip(names, cells)]
    return "\n".join(lines)


class ClassificationReport(Callback):
    """Every ``every`` epochs, report per-class metrics on ``validation_data``.

    At the end of every ``every``-th epoch it predicts on ``validation_data``
    (given here explicitly, so it does not depend on how ``fit`` got its
    validation data, and works with data loaders in ``fit``) and prints a
    table of precision, recall, F1 and support per class, the accuracy and the
    macro / weighted averages, then the confusion matrix (rows: true class,
    columns: predicted class). The class count comes from the model's output
    (a single sigmoid output is 2 classes), so classes missing from the
    validation data still get a row.

    The numbers come from :func:`seqnn.metrics.confusion_matrix` and
    :func:`seqnn.metrics.report_from_confusion`; the last ones are kept as
    ``self.report`` (a dict in scikit-learn's layout) and ``self.confusion``.

    Predicting runs in inference mode (no dropout) and draws no random
    numbers, so it does not change what training does.

    Args:
        validation_data: ``(x_val, y_val)`` or ``(x_val, y_val, sample_weight)``;
            labels as integers or one-hot rows. Required.
        every: report every N epochs (epochs N, 2N, ...).
        file: also append each report to this text file.
        target_names: a name per class for the table (default "0", "1", ...).
        digits: decimals in the table.
        batch_size: batch size for ``predict``.
        verbose: 1 (default) prints the report; 0 only writes ``file`` (if any)
            and keeps ``self.report`` / ``self.confusion``.

    Example::

        model.fit(x, y, epochs=20, callbacks=[ClassificationReport((x_val, y_val), every=5)])
    """

    def __init__(self, validation_data=None, every: int = 1, file: str | os.PathLike | None = None,
                 target_names: Sequence[str] | None = None, digits: int = 3, batch_size: int = 32,
                 verbose: int = 1):
        super().__init__()
        if validation_data is None:
            raise ValueError("ClassificationReport: validation_data=(x_val, y_val) is required")
        if not isinstance(validation_data, (tuple, list)) or len(validation_data) not in (2, 3):
            raise ValueError("ClassificationReport: validation_data must be a tuple (x_val, y_val) or "
                             f"(x_val, y_val, sample_weight), got {type(validation_data).__name__}"
                             + (f" of length {len(validation_data)}" if isinstance(validation_data, (tuple, list))
                                else ""))
        x, y, *w = validation_data
        if len(x) != len(y) or (w and w[0] is not None and len(w[0]) != len(y)):
            raise ValueError(f"ClassificationReport: validation_data x has {len(x)} samples but y has {len(y)}"
                             + (f" and sample_weight {len(w[0])}" if w and w[0] is not None else ""))
        for name, value, low in (("every", every, 1), ("batch_size", batch_size, 1), ("digits", digits, 0)):
            if isinstance(value, bool) or not isinstance(value, int) or value < low:
                raise ValueError(f"ClassificationReport: {name} must be an integer >= {low}, got {value!r}")
        if file is not None and not isinstance(file, (str, os.PathLike)):
            raise TypeError(f"ClassificationReport: file must be a path (or None), got {describe(file)}")
        if target_names is not None and (isinstance(target_names, (str, bytes))
                                         or not hasattr(target_names, "__iter__")):
            raise TypeError(f"ClassificationReport: target_names must be a list of class names (or None), "
                            f"got {describe(target_names)}")
        self.validation_data = (x, y, w[0] if w else None)
        self.every = every
        self.file = None if file is None else os.fspath(file)
        self.target_names = None if target_names is None else [str(n) for n in target_names]
        self.digits = digits
        self.batch_size = batch_size
        self.verbose = check_verbose(verbose, "ClassificationReport")
        self.report: dict | None = None
        self.confusion: np.ndarray | None = None

    def _num_classes(self) -> int:
        width = self.model.output_shape[-1] if self.model.output_shape else None
        return 2 if width in (None, 1) else int(width)

    def on_epoch_end(self, epoch, logs=None):
        if (epoch + 1) % self.every:
            return
        from ..metrics import confusion_matrix, format_report, report_from_confusion

        x, y, weights = self.validation_data
        probabilities = self.model.predict(x, batch_size=self.batch_size, verbose=0)
        num_classes = self._num_classes()
        names = self.target_names or [str(i) for i in range(num_classes)]
        if len(names) != num_classes:
            raise ValueError(f"ClassificationReport: target_names has {len(names)} names but the model "
                             f"predicts {num_classes} classes")
        self.confusion = confusion_matrix(y, probabilities, num_classes=num_classes, sample_weight=weights)
        self.report = report_from_confusion(self.confusion, names)
        text = (f"Epoch {epoch + 1}: classification report on validation_data ({len(x)} samples)\n"
                f"{format_report(self.report, self.digits)}\n"
                f"confusion matrix (rows: true class, columns: predicted class)\n"
                f"{format_confusion(self.confusion, names)}")
        if self.verbose:
            print_msg(text)
        if self.file is not None:
            with open(self.file, "a", encoding="utf-8") as f:
                f.write(text + "\n\n")
