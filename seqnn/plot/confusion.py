"""The confusion matrix as a picture: coloured cells with their counts, as scikit-learn draws it."""
from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from ._figure import check_figsize, new_figure

_WHERE = "seqnn.plot.confusion_matrix"
_NORMALIZE = (None, "true", "pred", "all")


def confusion_matrix(y_true, y_pred, *, display_labels: Sequence | None = None, normalize: str | None = None,
                     num_classes: int | None = None, sample_weight=None, include_values: bool = True,
                     values_format: str | None = None, cmap="Blues", colorbar: bool = True,
                     xticks_rotation: str | float = "horizontal", title: str | None = None,
                     figsize: tuple[float, float] | None = None):
    """Draw the confusion matrix of predictions: rows are true classes, columns predicted classes.

    The layout and the arguments follow scikit-learn's
    ``ConfusionMatrixDisplay.from_predictions``: each cell is coloured by its
    value and shows it as text (white on dark cells), the axes are labelled
    "True label" and "Predicted label", and a colorbar sits beside the matrix.
    The counts are :func:`seqnn.metrics.confusion_matrix`'s, so ``y_pred`` may
    be class ids or the model's scores.

    Args:
        y_true: integer labels (n,) / (n, 1), or one-hot rows (n, C).
        y_pred: class ids (n,), scores or probabilities (n, C) as ``predict``
            returns them, or binary probabilities (n,) / (n, 1).
        display_labels: a name per class for the ticks (default 0 … C-1).
        normalize: None (counts), ``"true"`` (each row sums to 1: recall per
            class), ``"pred"`` (each column sums to 1: precision per class) or
            ``"all"`` (the whole matrix sums to 1). An empty row or column
            shows 0, as in scikit-learn.
        num_classes: C; default: the width of ``y_pred`` / ``y_true``, else the
            largest class id + 1.
        sample_weight: a weight per sample; the cells are then weighted sums.
        include_values: write each cell's value in it.
        values_format: a format spec for the cell texts (``"d"``, ``".2f"``);
            default: integers in full, other values with ``".2g"``.
        cmap: a matplotlib colormap or its name.
        colorbar: draw a colorbar.
        xticks_rotation: ``"horizontal"``, ``"vertical"`` or an angle in degrees
            for the predicted-class labels.
        title: a title over the matrix.
        figsize: (width, height) in inches; default grows with the class count.

    Returns:
        The ``matplotlib.figure.Figure``. Its first axes holds the matrix (an
        image) and, with ``include_values``, one text per cell at (column, row).

    Raises:
        ValueError: an unknown ``normalize``, a ``display_labels`` of the wrong
            length, or labels and predictions that do not fit together.
        ModuleNotFoundError: matplotlib is not installed.

    Example::

        probs = model.predict(x_test)
        seqnn.plot.confusion_matrix(y_test, probs, normalize="true").savefig("confusion.png")
    """
    from ..metrics import confusion_matrix as count_confusion

    if normalize not in _NORMALIZE:
        raise ValueError(f"{_WHERE}: normalize must be one of None, 'true', 'pred', 'all'; got {normalize!r}")
    if values_format is not None and not isinstance(values_format, str):
        raise TypeError(f"{_WHERE}: values_format must be a format spec string such as '.2f', "
                        f"got {type(values_format).__name__}")
    counts = count_confusion(y_true, y_pred, num_classes=num_classes, sample_weight=sample_weight)
    classes = len(counts)
    labels = _labels(display_labels, classes)
    matrix = normalized(counts, normalize)
    side = min(max(4.0, 0.5 * classes + 2.5), 16.0)
    figure = new_figure(_WHERE, check_figsize(figsize, (side + (1.0 if colorbar else 0.0), side), _WHERE))
    ax = figure.add_subplot()
    image = ax.imshow(matrix, interpolation="nearest", cmap=cmap)
    if include_values:
        _write_values(ax, image, matrix, values_format)
    if colorbar:
        figure.colorbar(image, ax=ax)
    ax.set(xticks=np.arange(classes), yticks=np.arange(classes), xticklabels=labels, yticklabels=labels,
           xlabel="Predicted label", ylabel="True label")
    ax.set_ylim(classes - 0.5, -0.5)
    for tick in ax.get_xticklabels():
        tick.set_rotation(xticks_rotation)
    if title is not None:
        ax.set_title(str(title))
    return figure


def normalized(counts: np.ndarray, normalize: str | None) -> np.ndarray:
    """``counts`` divided by its row sums (``"true"``), column sums (``"pred"``) or total (``"all"``).

    Args:
        counts: a (C, C) confusion matrix, rows true classes.
        normalize: None (``counts`` unchanged), "true", "pred" or "all".

    Returns:
        The matrix; an empty row or column (nothing to divide by) is all zeros.
    """
    if normalize is None:
        return counts
    counts = counts.astype(np.float64)
    if normalize == "true":
        totals = counts.sum(axis=1, keepdims=True)
    elif normalize == "pred":
        totals = counts.sum(axis=0, keepdims=True)
    else:
        totals = counts.sum()
    return np.divide(counts, totals, out=np.zeros_like(counts), where=np.asarray(totals) != 0)


def _labels(display_labels, classes: int) -> list[str]:
    if display_labels is None:
        return [str(i) for i in range(classes)]
    if isinstance(display_labels, str):
        raise TypeError(f"{_WHERE}: display_labels must be a sequence of names, one per class, "
                        f"got the string {display_labels!r}")
    labels = [str(name) for name in display_labels]
    if len(labels) != classes:
        raise ValueError(f"{_WHERE}: display_labels has {len(labels)} names but the matrix has {classes} classes")
    return labels


def cell_text(value, values_format: str | None) -> str:
    """scikit-learn's rule: ``values_format`` if given, else the shorter of ``"d"`` (integers) and ``".2g"``."""
    if values_format is not None:
        try:
            return format(value, values_format)
        except (ValueError, TypeError) as error:
            raise ValueError(f"{_WHERE}: values_format {values_format!r} cannot format the cell value "
                             f"{value!r} ({error})") from None
    text = format(value, ".2g")
    if isinstance(value, (int, np.integer)):
        whole = format(value, "d")
        if len(whole) < len(text):
            text = whole
    return text


def _write_values(ax, image, matrix: np.ndarray, values_format: str | None) -> None:
    dark, light = image.cmap(1.0), image.cmap(0.0)
    threshold = (matrix.max() + matrix.min()) / 2.0
    for (row, column), value in np.ndenumerate(matrix):
        ax.text(column, row, cell_text(value, values_format), ha="center", va="center",
                color=light if value >= threshold and matrix.max() > matrix.min() else dark)
