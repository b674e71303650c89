"""Training curves: every logged quantity per epoch, training and validation, in one figure."""
from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

import numpy as np

from ._figure import check_figsize, new_figure

_WHERE = "seqnn.plot.history"
_LEARNING_RATE_KEYS = ("learning_rate", "lr")


def history(history, keys: Sequence[str] | None = None, validation_freq=1, title: str | None = None,
            figsize: tuple[float, float] | None = None):
    """Draw the loss and every metric of a training run, one panel each.

    Each panel shows one quantity per epoch: the training value as a solid
    line (label ``"train"``) and, when it was logged, the ``val_`` value as a
    dashed line (label ``"validation"``). The loss comes first, then the
    metrics in the order they were logged, then the learning rate (on a log
    scale when it spans a factor of 10 or more) if a callback logged it. A
    key with a vector per epoch (one number per class, say, that a custom
    callback logged) gets one line per component (``"train 0"``, ``"train 1"``,
    ...).

    Epochs are numbered from 1, as the progress bar counts them; a History
    that continued from ``initial_epoch`` keeps its own epoch numbers.

    Args:
        history: what ``fit`` returns (a ``History``), or its ``.history`` dict
            (``{"loss": [...], "val_loss": [...], ...}``).
        keys: the quantities to draw, as named in the training logs
            (``["loss"]``; ``"val_loss"`` draws ``"loss"``'s panel); default all.
        validation_freq: as given to ``fit``: needed only when validation did
            not run every epoch, to place the validation points (an integer N:
            every N-th epoch; or a list of 1-based epochs).
        title: a title over the whole figure.
        figsize: (width, height) in inches; default 4.5 × 3.4 per panel.

    Returns:
        The ``matplotlib.figure.Figure``; its axes are the panels, each titled
        by its key. Save it with ``fig.savefig("curves.png")``.

    Raises:
        TypeError: ``history`` is neither a History nor a dict of lists.
        ValueError: no values, a key that was not logged, values that are not
            numbers, or lists whose lengths do not match the epochs.
        ModuleNotFoundError: matplotlib is not installed.

    Example::

        history = model.fit(x, y, epochs=20, validation_split=0.1)
        seqnn.plot.history(history).savefig("curves.png")
    """
    logs, epochs = _logs_and_epochs(history)
    panels = _panels(logs, keys)
    x_train = _epoch_numbers(logs, epochs)
    x_val = _validation_epochs(logs, x_train, validation_freq)
    columns = min(len(panels), 3)
    rows = math.ceil(len(panels) / columns)
    figure = new_figure(_WHERE, check_figsize(figsize, (4.5 * columns, 3.4 * rows), _WHERE))
    axes = figure.subplots(rows, columns, squeeze=False).ravel()
    for ax, key in zip(axes, panels):
        _draw_panel(ax, key, logs, x_train, x_val)
    for ax in axes[len(panels):]:
        figure.delaxes(ax)
    if title is not None:
        figure.suptitle(str(title))
    return figure


def _logs_and_epochs(history) -> tuple[dict[str, np.ndarray], list[int] | None]:
    """The logged values as float arrays (one row per epoch) and the History's 0-based epoch indices."""
    epochs = None
    if isinstance(getattr(history, "history", None), Mapping):
        epochs = getattr(history, "epoch", None)
        history = history.history
    if not isinstance(history, Mapping):
        raise TypeError(f"{_WHERE}: expected a History (what fit returns) or its .history dict, "
                        f"got {type(history).__name__}")
    logs = {}
    for key, values in history.items():
        if not isinstance(key, str):
            raise TypeError(f"{_WHERE}: history keys must be strings, got {key!r}")
        try:
            array = np.asarray(values, dtype=np.float64)
        except (TypeError, ValueError):
            raise ValueError(f"{_WHERE}: history[{key!r}] must be a list of numbers (one per epoch), "
                             f"got {_describe(values)}") from None
        if array.ndim not in (1, 2):
            raise ValueError(f"{_WHERE}: history[{key!r}] must hold one number (or one vector) per epoch, "
                             f"got an array of shape {array.shape}")
        if len(array):
            logs[key] = array
    if not logs:
        raise ValueError(f"{_WHERE}: the history holds no values to plot (did fit run an epoch?)")
    return logs, None if epochs is None else [int(e) for e in epochs]


def _describe(values) -> str:
    text = repr(values)
    return text if len(text) <= 60 else text[:57] + "..."


def _base(key: str) -> str:
    return key.removeprefix("val_")


def _panels(logs: dict, keys: Sequence[str] | None) -> list[str]:
    """Panel names in drawing order: loss, the metrics as logged, the learning rate last."""
    order = []
    for key in logs:
        if _base(key) not in order:
            order.append(_base(key))
    if keys is not None:
        if isinstance(keys, str):
            keys = [keys]
        wanted = []
        for key in keys:
            if not isinstance(key, str) or _base(key) not in order:
                raise ValueError(f"{_WHERE}: keys: {key!r} was not logged; the history has "
                                 f"{', '.join(sorted(logs))}")
            if _base(key) not in wanted:
                wanted.append(_base(key))
        if not wanted:
            raise ValueError(f"{_WHERE}: keys must name at least one quantity, got {list(keys)!r}")
        return wanted
    first = [k for k in order if k == "loss"]
    last = [k for k in order if k in _LEARNING_RATE_KEYS]
    return first + [k for k in order if k not in first and k not in last] + last


def _epoch_numbers(logs: dict, epochs: list[int] | None) -> np.ndarray:
    """1-based epoch numbers of the training values (every non-``val_`` key has one value per epoch)."""
    train = {k: v for k, v in logs.items() if not k.startswith("val_")}
    if not train:  # only validation keys: number their values 1, 2, ...
        return np.arange(1, max(len(v) for v in logs.values()) + 1)
    reference = "loss" if "loss" in train else next(iter(train))
    count = len(train[reference])
    for key, values in train.items():
        if len(values) != count:
            raise ValueError(f"{_WHERE}: history[{key!r}] has {len(values)} values but "
                             f"history[{reference!r}] has {count}; training keys need one value per epoch")
    if epochs is not None and len(epochs) == count:
        return np.asarray(epochs, dtype=np.int64) + 1
    return np.arange(1, count + 1)


def _validation_epochs(logs: dict, x_train: np.ndarray, validation_freq) -> dict[str, np.ndarray]:
    """The epoch number of each validation value, per ``val_`` key."""
    out = {}
    for key, values in logs.items():
        if not key.startswith("val_"):
            continue
        if len(values) == len(x_train):
            out[key] = x_train
            continue
        due = x_train[_due_mask(x_train, validation_freq)]
        if len(due) != len(values):
            raise ValueError(f"{_WHERE}: history[{key!r}] has {len(values)} values for {len(x_train)} epochs; "
                             f"pass validation_freq= as given to fit (got {validation_freq!r}, which places "
                             f"{len(due)} validation values)")
        out[key] = due
    return out


def _due_mask(epoch_numbers: np.ndarray, validation_freq) -> np.ndarray:
    """Which epochs (1-based numbers) ran validation, by fit's rule for ``validation_freq``."""
    if isinstance(validation_freq, (int, np.integer)) and not isinstance(validation_freq, bool) \
            and validation_freq >= 1:
        return epoch_numbers % int(validation_freq) == 0
    if isinstance(validation_freq, (list, tuple)) and all(
            isinstance(e, (int, np.integer)) and not isinstance(e, bool) for e in validation_freq):
        return np.isin(epoch_numbers, list(validation_freq))
    raise ValueError(f"{_WHERE}: validation_freq must be a positive integer or a list of epochs, "
                     f"got {validation_freq!r}")


def _draw_panel(ax, key: str, logs: dict, x_train: np.ndarray, x_val: dict) -> None:
    from matplotlib.ticker import MaxNLocator

    drawn = []
    for log_key, label, style in ((key, "train", "-"), ("val_" + key, "validation", "--")):
        if log_key not in logs:
            continue
        values = logs[log_key]
        x = x_val[log_key] if log_key.startswith("val_") else x_train
        if values.ndim == 1:
            drawn += ax.plot(x, values, linestyle=style, marker="o", markersize=3, label=label)
        else:
            for component in range(values.shape[1]):
                drawn += ax.plot(x, values[:, component], linestyle=style, marker="o", markersize=3,
                                 label=f"{label} {component}", color=f"C{component}")
    ax.set_title(key)
    ax.set_xlabel("epoch")
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.grid(True, alpha=0.3)
    if key in _LEARNING_RATE_KEYS:
        values = np.concatenate([line.get_ydata() for line in drawn])
        if np.all(values > 0) and values.max() >= 10 * values.min():
            ax.set_yscale("log")
    if len(drawn) > 1:
        ax.legend()
