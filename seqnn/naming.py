"""Automatic names, unique per process as in Keras: ``dense``, ``dense_1``, ...; ``sequential``, ``sequential_1``.

A layer or model created without ``name=`` takes the next free name for its
kind when it is constructed, so two models built in one script have layers
``dense`` ... and ``dense_2`` ..., as Keras shows them. ``clear_session()``
starts the counts again (Keras's ``keras.utils.clear_session``).
"""
from __future__ import annotations

import re

# How many automatic names each prefix has handed out in this process (a registry of names).
_issued: dict[str, int] = {}


def snake_case(class_name: str) -> str:
    """Keras's ``to_snake_case``: "Conv2DTranspose" → "conv2d_transpose", "F1Score" → "f1_score", "ReLU" → "re_lu"."""
    name = re.sub(r"(.)([A-Z][a-z]+)", r"\1_\2", class_name)
    return re.sub(r"([a-z])([A-Z])", r"\1_\2", name).lower()


def unique_name(prefix: str) -> str:
    """``prefix`` the first time, then ``prefix_1``, ``prefix_2``, ..."""
    count = _issued.get(prefix, 0)
    _issued[prefix] = count + 1
    return prefix if count == 0 else f"{prefix}_{count}"


def clear_session() -> None:
    """Forget the automatic names handed out so far: the next Dense is ``dense`` again."""
    _issued.clear()
