"""Which file names seqnn saves under: one rule for ``save``, ``save_weights`` and ``ModelCheckpoint``.

seqnn writes one format, safetensors. Its own suffix is ``.safetensors``;
the names that Keras scripts write (``.keras``, ``.h5``, ``.hdf5``, which
covers ``.weights.h5``) are accepted too, so those scripts run unchanged, and
the file is still safetensors: a :class:`KerasFileNameWarning` says so once
per path, because Keras cannot open it (``seqnn.load_model`` and
``load_weights`` read it back). Any other name is refused, as Keras refuses
names without its suffixes.
"""
from __future__ import annotations

import os
import warnings

from . import user_warnings

NATIVE_SUFFIX = ".safetensors"
KERAS_SUFFIXES = (".keras", ".h5", ".hdf5")


class KerasFileNameWarning(UserWarning):
    """A file written under a Keras file name holds safetensors, not a Keras archive."""


# Once per path (the message names the path), unless the user sets another filter.
warnings.filterwarnings("once", category=KerasFileNameWarning)


def check_save_path(filepath, what: str) -> str:
    """``filepath`` as a string if seqnn may save under it; warns for a Keras name, refuses others.

    ``what`` names the caller in messages (``"save"``, ``"ModelCheckpoint"``...).
    """
    if not isinstance(filepath, (str, os.PathLike)):
        raise TypeError(f"{what}: filepath must be a str or os.PathLike ending in {NATIVE_SUFFIX}, "
                        f"got {type(filepath).__name__}: {filepath!r}")
    path = os.fspath(filepath)
    if not isinstance(path, str):
        raise TypeError(f"{what}: filepath must be text ending in {NATIVE_SUFFIX}, got bytes: {path!r}")
    if not path:
        raise ValueError(f"{what}: filepath is empty; give a file name ending in {NATIVE_SUFFIX}, "
                         f"e.g. 'model{NATIVE_SUFFIX}'")
    lower = path.lower()
    if lower.endswith(NATIVE_SUFFIX):
        return path
    if lower.endswith(KERAS_SUFFIXES):
        user_warnings.warn(f"{what}: {path} will hold seqnn's safetensors format, not a Keras archive: Keras "
                           f"cannot open it, seqnn.load_model / load_weights read it back. Name it "
                           f"*{NATIVE_SUFFIX} to say so.", KerasFileNameWarning)
        return path
    raise ValueError(f"{what}: the filepath must end in {NATIVE_SUFFIX} (seqnn's format) or a Keras name "
                     f"({', '.join(KERAS_SUFFIXES)}, also written as safetensors); got filepath={path!r}")
