"""Warnings that point at the user's line, not at the seqnn function that noticed the problem."""
from __future__ import annotations

import sys
import warnings


def warn(message: str, category: type[Warning] = UserWarning) -> None:
    """``warnings.warn`` attributed to the first caller outside the seqnn package."""
    level, frame = 2, sys._getframe(1)  # stacklevel 1 is this function, 2 its caller
    while frame is not None and frame.f_globals.get("__name__", "").partition(".")[0] == "seqnn":
        level, frame = level + 1, frame.f_back
    warnings.warn(message, category, stacklevel=level)
