"""History: records every epoch's logs; ``fit`` returns it."""
from __future__ import annotations

from .callback import Callback


class History(Callback):
    """``history.history`` maps each logs key to its list of per-epoch values.

    ``history.epoch`` lists the epoch indices run and ``history.params`` the
    fit parameters. Attached to every ``fit`` (as ``model.history`` too).
    """

    def __init__(self):
        super().__init__()
        self.history: dict[str, list[float]] = {}
        self.epoch: list[int] = []

    def on_train_begin(self, logs=None):
        self.epoch = []
        self.history = {}

    def on_epoch_end(self, epoch, logs=None):
        self.epoch.append(epoch)
        for key, value in (logs or {}).items():
            self.history.setdefault(key, []).append(value)
        if self.model is not None:
            self.model.history = self
