"""A live progress display on a terminal that never cuts a number off.

tqdm fits its line to the terminal by cutting it at the right edge, so
metrics appended to a bar (``set_postfix``) disappear on a narrow terminal,
and a line the terminal wrapped instead cannot be redrawn in place. So the
bar (description, bar, counts, rate, ETA) gets a line of its own, which
tqdm shortens by shrinking the bar, and the running logs go on the lines
below it, wrapped at the ``" - "`` between two metrics to the terminal's
width: as many lines as the logs need. Each line is a tqdm instance at its
own ``position``, so tqdm's cursor handling redraws them in place, and
``tqdm.write`` messages (callbacks' notices) still clear and redraw them.
"""
from __future__ import annotations

import os
import time
from typing import TextIO

from ._output import format_logs

_REFRESH_SECONDS = 0.1  # redraw the log lines at most this often, as tqdm's own bar (mininterval)


def terminal_width(stream: TextIO, default: int = 80) -> int:
    """Columns of the terminal ``stream`` writes to (``default`` when it has none)."""
    try:
        return os.get_terminal_size(stream.fileno()).columns or default
    except (AttributeError, ValueError, OSError):
        return default


def wrap_logs(logs: dict, width: int) -> list[str]:
    """The logs as ``key: value`` parts joined by " - ", broken into lines of at most ``width`` columns."""
    return wrap_parts(format_logs(logs).split(" - ") if logs else [], width)


def wrap_parts(parts: list[str], width: int) -> list[str]:
    """``parts`` joined by " - " into lines of at most ``width`` columns, broken only between two parts.

    So a number is never split. A part wider than the line (a long metric
    name) breaks after its colon, the value starting the next line, and a
    name wider than the line is cut into line-wide pieces: every line stays
    within the width, or the terminal would wrap it and a redraw in place
    would go wrong.
    """
    pieces: list[str] = []
    for part in parts:
        if len(part) <= width:
            pieces.append(part)
            continue
        name, _, value = part.rpartition(": ")
        name += ":"
        pieces.extend(name[i:i + width] for i in range(0, len(name), width))
        pieces.append(value)
    lines: list[str] = []
    for piece in pieces:
        if lines and not lines[-1].endswith(":") and len(lines[-1]) + 3 + len(piece) <= width:
            lines[-1] += " - " + piece
        elif lines and lines[-1].endswith(":") and len(lines[-1]) + 1 + len(piece) <= width:
            lines[-1] += " " + piece
        else:
            lines.append(piece)
    return lines


class LiveBar:
    """A bar line and the running logs below it, redrawn in place; ``close`` removes them all.

    Args:
        stream: the terminal to draw on.
        total: the number of steps (None when unknown).
        description: the text before the bar ("Epoch 3/10").
    """

    def __init__(self, stream: TextIO, total: int | None, description: str):
        from tqdm import tqdm

        self._tqdm, self._stream = tqdm, stream
        self._bar = tqdm(total=total, file=stream, desc=description, unit="step", leave=False,
                         dynamic_ncols=True, position=0)
        self._log_lines: list = []  # one tqdm instance per line of logs, below the bar
        self._drawn_at = 0.0

    @property
    def steps_done(self) -> int:
        return self._bar.n

    def update(self, steps_done: int, logs: dict | None) -> None:
        self._bar.update(steps_done - self._bar.n)
        now = time.monotonic()
        if logs and now - self._drawn_at >= _REFRESH_SECONDS:
            self._draw_logs(logs)
            self._drawn_at = now

    def _draw_logs(self, logs: dict) -> None:
        lines = wrap_logs(logs, max(terminal_width(self._stream) - 1, 20))  # the last column would wrap
        while len(self._log_lines) < len(lines):
            self._log_lines.append(self._tqdm(total=0, file=self._stream, bar_format="{desc}", leave=False,
                                              position=len(self._log_lines) + 1))
        for line, text in zip(self._log_lines, lines + [""] * (len(self._log_lines) - len(lines))):
            line.set_description_str(text, refresh=True)

    def close(self) -> None:
        """Clear every line of the display (the caller then prints the finished line, whole)."""
        for line in reversed(self._log_lines):
            line.close()
        self._log_lines = []
        self._bar.close()
