"""ReduceLROnPlateau: lower the learning rate when a monitored quantity stops improving."""
from __future__ import annotations

from ..argument_checks import check_verbose
from ._learning_rate import log_learning_rate, require_settable_learning_rate
from ._output import print_msg
from ._state import check_keys, encoded_float, whole_number
from .monitor_callback import MonitorCallback, check_non_negative_int, check_number, encode_float


class ReduceLROnPlateau(MonitorCallback):
    """Multiply the learning rate by ``factor`` after ``patience`` epochs without improvement.

    Keras 3's rules, at each epoch's end (epochs where ``monitor`` is not
    logged are skipped, with one warning per fit):

    1. During a cooldown, the counter goes down by one and ``wait`` stays 0.
    2. A value better than the best by more than ``min_delta`` becomes the
       best and resets ``wait``.
    3. Otherwise, outside a cooldown, ``wait += 1``; at ``wait >= patience``
       the rate becomes ``max(lr * factor, min_lr)`` (unless it is already at
       ``min_lr``), a cooldown of ``cooldown`` epochs starts and ``wait`` is 0.

    Because step 1 runs before step 3, the last cooldown epoch already counts
    towards ``patience``: ``cooldown=1`` changes nothing and ``cooldown=N``
    leaves N - 1 epochs out. That is Keras's counting, kept for identical
    schedules.

    ``logs["learning_rate"]`` is set to the rate used during the epoch (before
    any reduction), so History, CSVLogger and the progress bar, which run
    after user callbacks, record it.

    Args:
        monitor: quantity to watch, e.g. ``"val_loss"``.
        factor: ``new_lr = lr * factor``; must be in [0, 1).
        patience: epochs without improvement before the rate is reduced.
        verbose: 1 prints each reduction.
        mode: ``"auto"``, ``"min"`` or ``"max"`` (see ``MonitorCallback``).
        min_delta: an improvement must be larger than this (absolute value).
        cooldown: epochs after a reduction during which no reduction happens.
        min_lr: lower bound on the learning rate.

    Example::

        model.fit(x, y, validation_split=0.1, epochs=50,
                  callbacks=[ReduceLROnPlateau(factor=0.5, patience=3, min_lr=1e-5)])
    """

    def __init__(self, monitor: str = "val_loss", factor: float = 0.1, patience: int = 10, verbose: int = 0,
                 mode: str = "auto", min_delta: float = 1e-4, cooldown: int = 0, min_lr: float = 0.0):
        super().__init__(monitor=monitor, mode=mode, min_delta=min_delta)
        factor = check_number("ReduceLROnPlateau", "factor", factor)
        if not 0.0 <= factor < 1.0:
            raise ValueError(f"ReduceLROnPlateau does not support a factor outside [0, 1) (new_lr = lr * factor); "
                             f"received factor={factor}")
        min_lr = check_number("ReduceLROnPlateau", "min_lr", min_lr)
        if min_lr < 0:
            raise ValueError(f"ReduceLROnPlateau: min_lr must be >= 0, got {min_lr}")
        self.factor = factor
        self.patience = check_non_negative_int("ReduceLROnPlateau", "patience", patience)
        self.cooldown = check_non_negative_int("ReduceLROnPlateau", "cooldown", cooldown)
        self.min_lr = min_lr
        self.verbose = check_verbose(verbose, "ReduceLROnPlateau")
        self._reset()

    def _reset(self) -> None:
        self.wait = 0
        self.cooldown_counter = 0
        self.best: float | None = None

    def in_cooldown(self) -> bool:
        return self.cooldown_counter > 0

    def on_train_begin(self, logs=None):
        require_settable_learning_rate("ReduceLROnPlateau", self.model)
        self._reset()
        self._reset_monitor()

    def on_epoch_end(self, epoch, logs=None):
        optimizer = self.model.optimizer
        log_learning_rate(self.model, logs)
        current = self.get_monitor_value(logs)
        if current is None:
            return
        if self.in_cooldown():
            self.cooldown_counter -= 1
            self.wait = 0
        if self._is_improvement(current, self.best):
            self.best = current
            self.wait = 0
        elif not self.in_cooldown():
            self.wait += 1
            if self.wait >= self.patience:
                old_lr = float(optimizer.learning_rate)
                if old_lr > self.min_lr:
                    new_lr = max(old_lr * self.factor, self.min_lr)
                    optimizer.learning_rate = new_lr
                    if self.verbose > 0:
                        print_msg(f"Epoch {epoch + 1}: ReduceLROnPlateau reducing learning rate to {new_lr}.")
                    self.cooldown_counter = self.cooldown
                    self.wait = 0

    # ------------------------------------------------------ resumable state ---
    def get_state(self) -> dict:
        # The learning rate itself is part of the optimizer's state, saved by the backup.
        return {"wait": self.wait, "cooldown_counter": self.cooldown_counter, "best": encode_float(self.best)}

    def set_state(self, state: dict) -> None:
        state = check_keys("ReduceLROnPlateau", state, ("wait", "cooldown_counter", "best"))
        self.wait, self.cooldown_counter, self.best = (
            whole_number("ReduceLROnPlateau", state, "wait"), whole_number("ReduceLROnPlateau", state, "cooldown_counter"),
            encoded_float("ReduceLROnPlateau", state, "best"))
