"""LearningRateScheduler: set the learning rate at each epoch's start from a function."""
from __future__ import annotations

import inspect
import math
from numbers import Real
from typing import Callable

from ..argument_checks import check_verbose
from ._learning_rate import log_learning_rate, require_settable_learning_rate
from ._output import print_msg
from ._state import check_keys, whole_number
from .callback import Callback


def _takes_two_arguments(schedule: Callable) -> bool:
    """Keras accepts ``schedule(epoch, lr)`` and the older ``schedule(epoch)``.

    Keras tells them apart by calling with two arguments and retrying with one
    on TypeError, which also swallows a TypeError raised inside the schedule;
    the signature answers the question without calling it.
    """
    try:
        inspect.signature(schedule).bind(0, 0.1)
        return True
    except TypeError:
        return False
    except ValueError:  # no signature available (some builtins): assume the current API
        return True


class LearningRateScheduler(Callback):
    """At each epoch's start, ``lr = schedule(epoch, lr)`` (epoch 0-based, lr the current rate).

    ``logs["learning_rate"]`` is set at each epoch's end to the rate used
    during that epoch, so History and CSVLogger (which run after user
    callbacks) record it. A one-argument ``schedule(epoch)`` works too, as in
    Keras. The schedule must return a finite number >= 0 (Keras accepts only
    floats; seqnn also takes ints and numpy scalars).

    Resuming with BackupAndRestore in the middle of an epoch does not apply
    the schedule to that epoch a second time (that would compound a
    multiplicative schedule such as ``lr * 0.9``): the state records the last
    epoch it was applied to.

    Args:
        schedule: ``(epoch, lr) -> new lr``.
        verbose: 1 prints each new rate.

    Example::

        def schedule(epoch, lr):
            return lr if epoch < 10 else lr * 0.9

        model.fit(x, y, epochs=30, callbacks=[LearningRateScheduler(schedule)])
    """

    def __init__(self, schedule: Callable, verbose: int = 0):
        super().__init__()
        if not callable(schedule):
            raise TypeError(f"LearningRateScheduler: schedule must be a function (epoch, lr) -> lr, "
                            f"got {type(schedule).__name__}")
        self.schedule = schedule
        self.verbose = check_verbose(verbose, "LearningRateScheduler")
        self._two_arguments = _takes_two_arguments(schedule)
        self._applied_epoch: int | None = None

    def on_train_begin(self, logs=None):
        require_settable_learning_rate("LearningRateScheduler", self.model)
        self._applied_epoch = None

    def on_epoch_begin(self, epoch, logs=None):
        if epoch == self._applied_epoch:
            return  # resumed in the middle of this epoch: its rate is already set
        optimizer = self.model.optimizer
        lr = float(optimizer.learning_rate)
        new_lr = self.schedule(epoch, lr) if self._two_arguments else self.schedule(epoch)
        if isinstance(new_lr, bool) or not isinstance(new_lr, Real) or not math.isfinite(new_lr) or new_lr < 0:
            shown = f"schedule({epoch}, {lr})" if self._two_arguments else f"schedule({epoch})"
            raise ValueError(f"LearningRateScheduler: the output of the schedule function should be a finite "
                             f"float >= 0; {shown} returned {new_lr!r}")
        optimizer.learning_rate = float(new_lr)
        self._applied_epoch = epoch
        if self.verbose > 0:
            print_msg(f"Epoch {epoch + 1}: LearningRateScheduler setting learning rate to {float(new_lr)}.")

    def on_epoch_end(self, epoch, logs=None):
        log_learning_rate(self.model, logs)

    # ------------------------------------------------------ resumable state ---
    def get_state(self) -> dict:
        return {"applied_epoch": self._applied_epoch}

    def set_state(self, state: dict) -> None:
        state = check_keys("LearningRateScheduler", state, ("applied_epoch",))
        self._applied_epoch = whole_number("LearningRateScheduler", state, "applied_epoch", allow_none=True)
