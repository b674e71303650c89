"""EarlyStopping: stop training when a monitored quantity has stopped improving."""
from __future__ import annotations

import numpy as np

from ..argument_checks import check_bool, check_verbose
from ._output import print_msg
from ._state import check_keys, encoded_float, whole_number
from .monitor_callback import MonitorCallback, check_non_negative_int, check_number, encode_float


class EarlyStopping(MonitorCallback):
    """Stop training when ``monitor`` has not improved for ``patience`` epochs.

    The rules are Keras 3's, at each epoch's end:

    1. Skip the epoch if ``monitor`` is not logged (one warning per fit) or
       ``epoch < start_from_epoch`` (warm-up).
    2. ``wait += 1``. If the value improves on the best so far by more than
       ``min_delta``, it becomes the best (and, with ``restore_best_weights``,
       the weights are copied); ``wait`` restarts at 0 only if the value also
       improves on ``baseline`` (when one is given).
    3. Otherwise, if ``wait >= patience`` (and this is not epoch 0), set
       ``model.stop_training`` and record ``stopped_epoch``.

    So with a ``baseline`` the run stops after ``patience`` epochs unless some
    epoch beats the baseline, and ``patience=0`` stops at the first epoch that
    does not improve.

    ``restore_best_weights``: at ``on_train_end`` the weights from the end of
    the best epoch are put back whenever training ends: stopped by this
    callback, by another one, or after the last epoch (as Keras 3 does; Keras 2
    restored only when this callback stopped the run). The first monitored
    epoch's weights are kept even if it does not beat ``baseline``, so there is
    always something to restore.

    Args:
        monitor: quantity to watch, e.g. ``"val_loss"``.
        min_delta: an improvement must be larger than this (absolute value).
        patience: epochs without improvement before stopping.
        verbose: 1 prints when it stops and when it restores weights.
        mode: ``"auto"``, ``"min"`` or ``"max"`` (see ``MonitorCallback``).
        baseline: a value to beat; ``wait`` keeps counting until an epoch does.
        restore_best_weights: restore the best epoch's weights when training ends.
        start_from_epoch: epochs (0-based count) to ignore before monitoring starts.

    Attributes:
        stopped_epoch: the (0-based) epoch at which it stopped training, 0 if it did not.
        best: the best value seen (None before the first monitored epoch).
        best_epoch: the (0-based) epoch of ``best``.
        wait: epochs since the last improvement (counting as above).

    Example::

        model.fit(x, y, validation_split=0.1, epochs=100,
                  callbacks=[EarlyStopping(patience=3, restore_best_weights=True)])
    """

    def __init__(self, monitor: str = "val_loss", min_delta: float = 0, patience: int = 0, verbose: int = 0,
                 mode: str = "auto", baseline: float | None = None, restore_best_weights: bool = False,
                 start_from_epoch: int = 0):
        super().__init__(monitor=monitor, mode=mode, min_delta=min_delta)
        self.patience = check_non_negative_int("EarlyStopping", "patience", patience)
        self.start_from_epoch = check_non_negative_int("EarlyStopping", "start_from_epoch", start_from_epoch)
        self.baseline = check_number("EarlyStopping", "baseline", baseline, allow_none=True)
        self.verbose = check_verbose(verbose, "EarlyStopping")
        self.restore_best_weights = check_bool(restore_best_weights, "EarlyStopping", "restore_best_weights")
        self._reset()

    def _reset(self) -> None:
        # Everything is reset per fit, so one instance can be reused (Keras 3 also resets `best` since 2024).
        self.wait = 0
        self.stopped_epoch = 0
        self.best: float | None = None
        self.best_epoch = 0
        self.best_weights: list[np.ndarray] | None = None

    def on_train_begin(self, logs=None):
        self._reset()
        self._reset_monitor()

    def on_epoch_end(self, epoch, logs=None):
        current = self.get_monitor_value(logs)
        if current is None or epoch < self.start_from_epoch:
            return
        if self.restore_best_weights and self.best_weights is None:
            # Nothing better yet: the current weights are the best so far.
            self.best_weights, self.best_epoch = self.model.get_weights(), epoch
        self.wait += 1
        if self._is_improvement(current, self.best):
            self.best, self.best_epoch = current, epoch
            if self.restore_best_weights:
                self.best_weights = self.model.get_weights()
            if self.baseline is None or self._is_improvement(current, self.baseline):
                self.wait = 0
            return
        if self.wait >= self.patience and epoch > 0:
            self.stopped_epoch = epoch
            self.model.stop_training = True

    def on_train_end(self, logs=None):
        if self.stopped_epoch > 0 and self.verbose > 0:
            print_msg(f"Epoch {self.stopped_epoch + 1}: early stopping")
        if self.restore_best_weights and self.best_weights is not None:
            if self.verbose > 0:
                print_msg(f"Restoring model weights from the end of the best epoch: {self.best_epoch + 1}.")
            self.model.set_weights(self.best_weights)

    # ------------------------------------------------------ resumable state ---
    def get_state(self) -> dict:
        return {"wait": self.wait, "stopped_epoch": self.stopped_epoch, "best": encode_float(self.best),
                "best_epoch": self.best_epoch}

    def set_state(self, state: dict) -> None:
        state = check_keys("EarlyStopping", state, ("wait", "stopped_epoch", "best", "best_epoch"))
        values = (whole_number("EarlyStopping", state, "wait"), whole_number("EarlyStopping", state, "stopped_epoch"),
                  encoded_float("EarlyStopping", state, "best"),
                  whole_number("EarlyStopping", state, "best_epoch"))
        self.wait, self.stopped_epoch, self.best, self.best_epoch = values
        self.best_weights = None  # set_state_arrays brings them back, if there were any

    def get_state_arrays(self) -> dict[str, np.ndarray]:
        """The best weights as ``best_weights.<i>`` (in ``get_weights()`` order); empty when none are kept."""
        if self.best_weights is None:
            return {}
        return {f"best_weights.{i}": w for i, w in enumerate(self.best_weights)}

    def set_state_arrays(self, arrays: dict[str, np.ndarray]) -> None:
        prefix = "best_weights."
        indexed = sorted((int(k[len(prefix):]), v) for k, v in arrays.items() if k.startswith(prefix))
        if [i for i, _ in indexed] != list(range(len(indexed))) or len(indexed) != len(arrays):
            raise ValueError(f"EarlyStopping: saved best weights are incomplete; got {sorted(arrays)[:10]}")
        if indexed and self.model is not None:
            shapes = [tuple(layer.params[key].shape) for _, layer, key in self.model.weight_entries()]
            got = [tuple(v.shape) for _, v in indexed]
            if got != shapes or any(v.dtype.kind != "f" for _, v in indexed):
                raise ValueError(f"EarlyStopping: saved best weights do not fit the model: shapes {got[:10]}, "
                                 f"the model's {shapes[:10]}")
        self.best_weights = [np.array(v) for _, v in indexed] or None
