"""LambdaCallback: a callback from plain functions."""
from __future__ import annotations

from ..argument_checks import describe
from .callback import Callback


class LambdaCallback(Callback):
    """``LambdaCallback(on_epoch_end=lambda epoch, logs: ...)``; any Keras hook name works.

    Batch and epoch hooks take ``(index, logs)``, begin/end hooks ``(logs)``,
    as in Keras. A hook given as None is left out (Keras's defaults are None).
    """

    def __init__(self, **hooks):
        super().__init__()
        for name, fn in hooks.items():
            if not (name.startswith("on_") and hasattr(Callback, name)):
                raise ValueError(f"LambdaCallback: unknown hook {name!r}")
            if fn is None:
                continue
            if not callable(fn):
                raise TypeError(f"LambdaCallback: {name} must be a function (or None), got {describe(fn)}")
            setattr(self, name, _indexed(fn) if ("batch" in name or "epoch" in name) else _plain(fn))


def _indexed(fn):
    def hook(index, logs=None):
        return fn(index, logs)

    return hook


def _plain(fn):
    def hook(logs=None):
        return fn(logs)

    return hook
