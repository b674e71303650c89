"""Argument types shared by the console commands: each turns one command-line string into a value.

argparse reports a type's ``ArgumentTypeError`` as ``argument --flag: <message>``,
so the messages here say what was expected and what came; the flag is named there.
"""
from __future__ import annotations

import argparse


def positive_int(text: str) -> int:
    return _int_at_least(text, 1, "a positive integer")


def non_negative_int(text: str) -> int:
    return _int_at_least(text, 0, "a non-negative integer")


def column(text: str) -> str | int:
    """A CSV column: its 0-based index when ``text`` is an integer, else its name."""
    try:
        return int(text)
    except ValueError:
        return text


def _int_at_least(text: str, low: int, what: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = low - 1
    if value < low:
        raise argparse.ArgumentTypeError(f"expected {what}, got {text!r}")
    return value
