"""TerminateOnNaN: stop training as soon as the loss is NaN or infinite."""
from __future__ import annotations

import math

from ..argument_checks import check_bool
from ._output import print_msg
from .callback import Callback


class TerminateOnNaN(Callback):
    """Stop training at the end of the first batch whose loss is NaN or ±inf.

    The loss in the batch logs is the running mean over the epoch, so once one
    batch diverges it stays non-finite: stopping at once saves the remaining
    batches from turning every weight into NaN. By default the stop is
    graceful (``model.stop_training``), so ``on_epoch_end`` and
    ``on_train_end`` still run: ``EarlyStopping(restore_best_weights=True)``
    can then put back the last good weights. ``raise_error=True`` raises a
    RuntimeError instead, skipping that cleanup (as in Keras 3).

    Example::

        model.fit(x, y, callbacks=[TerminateOnNaN()])
    """

    def __init__(self, raise_error: bool = False):
        super().__init__()
        self.raise_error = check_bool(raise_error, "TerminateOnNaN", "raise_error")

    def on_batch_end(self, batch, logs=None):
        loss = (logs or {}).get("loss")
        if loss is None or math.isfinite(loss):
            return
        if self.raise_error:
            raise RuntimeError(f"NaN or Inf loss encountered at batch {batch}. Loss value: {loss}. "
                               "Terminating training immediately.")
        print_msg(f"Batch {batch}: Invalid loss, terminating training")
        self.model.stop_training = True
