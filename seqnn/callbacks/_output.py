"""Where callbacks print their messages, and how numbers in log lines look.

Messages go through ``tqdm.write``: while a live progress bar is on the
screen it clears the bar, prints the line and redraws the bar, so a message
from, say, ReduceLROnPlateau at an epoch's end does not get mangled into the
bar. With no live bar it is a plain ``print``. The stream is looked up at call
time (``sys.stdout`` by default), so redirected or captured output works.
"""
from __future__ import annotations

import sys
from typing import TextIO


def print_msg(message: str, file: TextIO | None = None) -> None:
    """Print one message line without breaking a live tqdm bar."""
    from tqdm import tqdm

    tqdm.write(message, file=file if file is not None else sys.stdout)


def format_value(value) -> str:
    """Keras's progress-bar rule: 4 decimals, scientific notation for tiny magnitudes (a learning rate of 1e-5)."""
    if isinstance(value, float):
        return f"{value:.4f}" if abs(value) > 1e-3 or value == 0.0 else f"{value:.4e}"
    return str(value)


def format_logs(logs: dict) -> str:
    """``loss: 0.1234 - accuracy: 0.9000`` in the order the keys were logged."""
    return " - ".join(f"{key}: {format_value(value)}" for key, value in logs.items())
