"""CallbackList: runs a set of callbacks in a fixed order."""
from __future__ import annotations

from typing import Iterable

from .callback import Callback
from .history import History
from .progbar_logger import ProgbarLogger

_HOOKS = [f"on_{phase}_{when}" for phase in ("train", "test", "predict") for when in ("begin", "end")] + [
    f"on_{phase}_batch_{when}" for phase in ("train", "test", "predict") for when in ("begin", "end")] + [
    "on_epoch_begin", "on_epoch_end"]


class CallbackList:
    """User callbacks first, then History, BackupAndRestore and the progress bar.

    History and ProgbarLogger run last so they see keys that user callbacks add
    to ``logs`` (a learning-rate scheduler writing ``learning_rate``, say). A
    History or ProgbarLogger the user passes replaces the built-in one and also
    moves to the end. A callback with ``runs_last`` (BackupAndRestore) runs
    after every other callback but the progress bar has handled the epoch (or
    batch), so the state it saves includes theirs; one at most.
    """

    def __init__(self, callbacks: Iterable[Callback] | None = None, add_history: bool = False,
                 add_progbar: bool = False, model=None, **params):
        user = list(callbacks or [])
        for cb in user:
            if not isinstance(cb, Callback):
                raise TypeError(f"callbacks: expected seqnn.callbacks.Callback instances, got {type(cb).__name__}")
        history = next((cb for cb in user if isinstance(cb, History)), None)
        progbar = next((cb for cb in user if isinstance(cb, ProgbarLogger)), None)
        last = [cb for cb in user if getattr(cb, "runs_last", False)]
        if len(last) > 1:
            raise ValueError(f"callbacks: pass at most one BackupAndRestore (or other callback that runs last), "
                             f"got {', '.join(type(cb).__name__ for cb in last)}")
        backup = last[0] if last else None
        ordered = [cb for cb in user if cb is not history and cb is not progbar and cb is not backup]
        if history is None and add_history:
            history = History()
        if progbar is None and add_progbar:
            progbar = ProgbarLogger()
        self.callbacks = ordered + [cb for cb in (history, backup, progbar) if cb is not None]
        self.history = history
        if model is not None:
            self.set_model(model)
        self.set_params(params)

    def set_model(self, model) -> None:
        for cb in self.callbacks:
            cb.set_model(model)

    def set_params(self, params: dict) -> None:
        for cb in self.callbacks:
            cb.set_params(params)

    def __iter__(self):
        return iter(self.callbacks)

    @property
    def stateful(self) -> list[Callback]:
        """The callbacks whose state a backup keeps: all but the display-only ones (``Callback.display_only``)."""
        return [cb for cb in self.callbacks if not cb.display_only]


def _dispatch(hook: str, indexed: bool):
    # Every hook gets a dict, never None: Keras's own callbacks and guides call logs.keys() anywhere.
    if indexed:
        def call(self, index, logs=None):
            logs = {} if logs is None else logs
            for cb in self.callbacks:
                getattr(cb, hook)(index, logs=logs)
    else:
        def call(self, logs=None):
            logs = {} if logs is None else logs
            for cb in self.callbacks:
                getattr(cb, hook)(logs=logs)
    call.__name__ = hook
    return call


for _hook in _HOOKS:
    setattr(CallbackList, _hook, _dispatch(_hook, indexed="batch" in _hook or "epoch" in _hook))
