"""LambdaCallback: a callback from plain functions."""
from __future__ import annotations

from .callback import Callback


class LambdaCallback(Callback):
    """``LambdaCallback(on_epoch_end=lambda epoch, logs: ...)``; any Keras hook name works."""

    def __init__(self, **hooks):
        super().__init__()
        for name, fn in hooks.items():
            if not (name.startswith("on_") and hasattr(Callback, name)):
                raise ValueError(f"LambdaCallback: unknown hook {name!r}")
            setattr(self, name, _adapt(fn))


def _adapt(fn):
    def hook(*args, logs=None):
        return fn(*args, logs)

    return hook
