"""ModelCheckpoint: save the model (or its weights) during training."""
from __future__ import annotations

import os
import string
import warnings

from ..argument_checks import check_bool, check_verbose
from ..distribute.base import distribution_of
from ..file_names import NATIVE_SUFFIX, KerasFileNameWarning, check_save_path
from ._output import print_msg
from ._state import check_keys, encoded_float, whole_number
from .monitor_callback import MonitorCallback, check_number, encode_float


def _check_template(filepath: str) -> None:
    """Refuse at construction a template that can never be filled: bad braces or positional ``{}`` fields."""
    try:
        fields = [name for _, name, _, _ in string.Formatter().parse(filepath) if name is not None]
    except ValueError as e:
        raise ValueError(f"ModelCheckpoint: filepath {filepath!r} is not a valid template ({e}); write literal "
                         "braces as {{ and }}") from None
    positional = [name for name in fields if name == "" or name.isdigit()]
    if positional:
        raise ValueError(f"ModelCheckpoint: filepath {filepath!r} has a positional field {{}}; name the value, "
                         "e.g. {epoch:02d} or {val_loss:.3f}")


def _silent(message: str) -> None:
    """What a data-parallel process other than rank 0 prints: nothing."""


class ModelCheckpoint(MonitorCallback):
    """Save the model or its weights every epoch (or every N batches), optionally only when it improves.

    Files are ``.safetensors``, written atomically by ``model.save`` (the
    whole model: config, weights, optimizer state; reload with
    ``seqnn.load_model``) or ``model.save_weights`` (``save_weights_only``;
    reload with ``model.load_weights``). A crash mid-write leaves the
    previous file intact. A missing parent directory is created. In
    data-parallel training only rank 0 writes and prints (every process
    keeps the same ``best``).

    ``filepath`` is a template filled with ``str.format``: ``{epoch}`` is the
    1-based epoch (as in Keras), every logs key is available
    (``"ckpt-{epoch:02d}-{val_loss:.3f}.safetensors"``), and with an integer
    ``save_freq`` also ``{batch}`` (1-based batch within the epoch). Without
    fields, the one file is overwritten each time.

    ``save_best_only``: save only when ``monitor`` improves on the best value so
    far (or on ``initial_value_threshold``, the starting best). The best value
    is kept across ``fit`` calls on the same instance, as in Keras, so a later
    ``fit`` only overwrites the best file with something better. Where the
    monitored key is missing, it warns once and does not save (Keras saves
    anyway; overwriting the best file with an unjudged model defeats the
    option).

    The file is always safetensors. Its name ends in ``.safetensors``, or in
    one of Keras's suffixes (``.keras``, ``.weights.h5``, ``.h5``), accepted so
    Keras scripts run unchanged, with a warning that the file is not a Keras
    archive; other names are refused at construction, as Keras does.

    Args:
        filepath: file path template ending in ``.safetensors`` (or a Keras suffix).
        monitor: quantity compared with ``save_best_only``.
        verbose: 1 prints a line per decision.
        save_best_only: save only improvements of ``monitor``.
        save_weights_only: write the weights only (``model.save_weights``).
        mode: ``"auto"``, ``"min"`` or ``"max"`` (see ``MonitorCallback``).
        save_freq: ``"epoch"``, or an integer N: save after every N training
            batches (counted across epochs), with the batch logs (running
            training values; no ``val_`` keys).
        initial_value_threshold: starting best value for ``save_best_only``.

    Example::

        ModelCheckpoint("best.safetensors", monitor="val_accuracy", save_best_only=True)
    """

    def __init__(self, filepath: str | os.PathLike, monitor: str = "val_loss", verbose: int = 0,
                 save_best_only: bool = False, save_weights_only: bool = False, mode: str = "auto",
                 save_freq: str | int = "epoch", initial_value_threshold: float | None = None):
        super().__init__(monitor=monitor, mode=mode, min_delta=0.0)
        self.filepath = check_save_path(filepath, "ModelCheckpoint")
        _check_template(self.filepath)
        if save_freq != "epoch" and (isinstance(save_freq, bool) or not isinstance(save_freq, int)
                                     or save_freq <= 0):
            raise ValueError(f"ModelCheckpoint: unrecognized save_freq: {save_freq!r}; expected 'epoch' or a "
                             "positive integer number of batches")
        self.verbose = check_verbose(verbose, "ModelCheckpoint")
        self.save_best_only = check_bool(save_best_only, "ModelCheckpoint", "save_best_only")
        self.save_weights_only = check_bool(save_weights_only, "ModelCheckpoint", "save_weights_only")
        self.save_freq = save_freq
        self.initial_value_threshold = check_number("ModelCheckpoint", "initial_value_threshold",
                                                    initial_value_threshold, allow_none=True)
        self.best: float | None = self.initial_value_threshold
        self._batches_since_save = 0
        self._current_epoch = 0

    # --------------------------------------------------------------- hooks ---
    def on_train_begin(self, logs=None):
        self._reset_monitor()
        self._batches_since_save = 0

    def on_epoch_begin(self, epoch, logs=None):
        self._current_epoch = epoch

    def on_train_batch_end(self, batch, logs=None):
        if self.save_freq == "epoch":
            return
        self._batches_since_save += 1
        if self._batches_since_save >= self.save_freq:
            self._batches_since_save = 0
            self._save(self._current_epoch, batch, logs)

    def on_epoch_end(self, epoch, logs=None):
        if self.save_freq == "epoch":
            self._save(epoch, None, logs)

    # -------------------------------------------------------------- saving ---
    def _save(self, epoch: int, batch: int | None, logs: dict | None) -> None:
        logs = logs or {}
        filepath = self._file_path(epoch, batch, logs)
        if not self._should_save(epoch, logs, filepath) or not distribution_of(self.model).is_chief:
            return
        if os.path.isdir(filepath):
            raise ValueError(f"ModelCheckpoint: filepath {filepath} is an existing directory; give a file path "
                             f"ending in {NATIVE_SUFFIX}")
        directory = os.path.dirname(filepath)
        if directory:
            os.makedirs(directory, exist_ok=True)
        with warnings.catch_warnings():
            # Warned once for the template at construction, not again for every file it names.
            warnings.simplefilter("ignore", KerasFileNameWarning)
            if self.save_weights_only:
                self.model.save_weights(filepath)
            else:
                self.model.save(filepath)

    def _should_save(self, epoch: int, logs: dict, filepath: str) -> bool:
        say = print_msg if distribution_of(self.model).is_chief else _silent
        if not self.save_best_only:
            if self.verbose > 0:
                say(f"Epoch {epoch + 1}: saving model to {filepath}")
            return True
        current = self.get_monitor_value(logs)
        if current is None:
            return False
        # Keras starts from ±inf, and says so: "val_loss improved from inf to 0.31416".
        best = f"{self.best:.5f}" if self.best is not None else "-inf" if self.direction == "max" else "inf"
        if self._is_improvement(current, self.best):
            if self.verbose > 0:
                say(f"Epoch {epoch + 1}: {self.monitor} improved from {best} to {current:.5f}, "
                    f"saving model to {filepath}")
            self.best = current
            return True
        if self.verbose > 0:
            print_msg(f"Epoch {epoch + 1}: {self.monitor} did not improve from {best}")
        return False

    def _file_path(self, epoch: int, batch: int | None, logs: dict) -> str:
        values = dict(logs)
        values["epoch"] = epoch + 1
        if batch is not None:
            values.setdefault("batch", batch + 1)
        try:
            return self.filepath.format(**values)
        except KeyError as e:
            raise ValueError(f"ModelCheckpoint: failed to fill in filepath {self.filepath!r}: {e} is not "
                             f"logged here; available: {', '.join(values)}") from None
        except ValueError as e:
            raise ValueError(f"ModelCheckpoint: failed to fill in filepath {self.filepath!r}: {e}") from None

    # ------------------------------------------------------ resumable state ---
    def get_state(self) -> dict:
        return {"best": encode_float(self.best), "batches_since_save": self._batches_since_save}

    def set_state(self, state: dict) -> None:
        state = check_keys("ModelCheckpoint", state, ("best", "batches_since_save"))
        self.best, self._batches_since_save = (encoded_float("ModelCheckpoint", state, "best"),
                                               whole_number("ModelCheckpoint", state, "batches_since_save"))
