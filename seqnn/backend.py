"""Keras's ``keras.backend`` functions that scripts call, answered for seqnn.

seqnn computes in float32 on channels-last images (the compute backends
themselves live in :mod:`seqnn.backends`), so these report those choices::

    from seqnn import backend as K
    K.image_data_format()      # 'channels_last'
"""
from __future__ import annotations

from .naming import clear_session

_FORMATS = ("channels_last",)


def image_data_format() -> str:
    """The image layout layers expect: always ``"channels_last"`` (N, H, W, C)."""
    return "channels_last"


def set_image_data_format(data_format: str) -> None:
    """Accepts ``"channels_last"`` only: seqnn's layers have no channels-first form."""
    if data_format not in _FORMATS:
        raise ValueError(f"set_image_data_format: seqnn supports only 'channels_last', got {data_format!r}")


def floatx() -> str:
    """The default float type: ``"float32"`` (``compile(dtype="float64")`` changes it per model)."""
    return "float32"


def epsilon() -> float:
    """The fuzz factor Keras's losses and metrics use: 1e-7."""
    return 1e-7


def backend() -> str:
    """The name of the default compute backend (Keras answers "tensorflow", "jax", ...)."""
    from . import backends

    return backends.get("auto").name


__all__ = ["backend", "clear_session", "epsilon", "floatx", "image_data_format", "set_image_data_format"]
