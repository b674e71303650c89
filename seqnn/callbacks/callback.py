"""The Callback base class, with Keras's hooks."""
from __future__ import annotations


class Callback:
    """Base class for objects that hook into fit, evaluate and predict.

    Override any of the hooks; each receives ``logs``, a dict of plain Python
    floats (or None). ``self.model`` is set before training starts and
    ``self.params`` holds ``{"epochs", "steps", "verbose"}``. Set
    ``self.model.stop_training = True`` to end training after the current batch.

    Order of calls in ``fit``: on_train_begin; per epoch on_epoch_begin, per
    batch on_train_batch_begin/end, then validation (on_test_begin, per batch
    on_test_batch_begin/end, on_test_end), then on_epoch_end; finally
    on_train_end. ``on_batch_begin``/``on_batch_end`` are called with the
    train-batch hooks, as in Keras.
    """

    # True for a callback that must see every other callback's work first (BackupAndRestore: the state
    # it saves includes theirs); CallbackList runs it after them, before the progress bar.
    runs_last = False
    # True for a callback that only shows progress (ProgbarLogger): it keeps no state a resumed run needs,
    # so a backup leaves it out, and a rerun may add or drop it (-v, --quiet) and still resume.
    display_only = False

    def __init__(self):
        self.model = None
        self.params: dict = {}

    def set_model(self, model) -> None:
        self.model = model

    def set_params(self, params: dict) -> None:
        self.params = params

    def on_batch_begin(self, batch, logs=None): pass
    def on_batch_end(self, batch, logs=None): pass
    def on_epoch_begin(self, epoch, logs=None): pass
    def on_epoch_end(self, epoch, logs=None): pass
    def on_train_batch_begin(self, batch, logs=None): self.on_batch_begin(batch, logs=logs)
    def on_train_batch_end(self, batch, logs=None): self.on_batch_end(batch, logs=logs)
    def on_test_batch_begin(self, batch, logs=None): pass
    def on_test_batch_end(self, batch, logs=None): pass
    def on_predict_batch_begin(self, batch, logs=None): pass
    def on_predict_batch_end(self, batch, logs=None): pass
    def on_train_begin(self, logs=None): pass
    def on_train_end(self, logs=None): pass
    def on_test_begin(self, logs=None): pass
    def on_test_end(self, logs=None): pass
    def on_predict_begin(self, logs=None): pass
    def on_predict_end(self, logs=None): pass

    # Resumable state (saved by BackupAndRestore): a stateful callback returns
    # JSON-able values here (floats, ints, strings, lists, dicts; no arrays) and
    # takes them back in set_state, which runs after on_train_begin. Arrays go
    # through an optional get_state_arrays() / set_state_arrays(dict) pair.
    def get_state(self) -> dict:
        return {}

    def set_state(self, state: dict) -> None:
        pass
