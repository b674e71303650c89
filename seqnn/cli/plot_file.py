"""``--plot FILE`` of the console commands: checked before any work starts, written at the end.

A missing matplotlib, a file type matplotlib cannot write or a directory that
does not exist is a usage error found before training or predicting, not
after it.
"""
from __future__ import annotations

import os

from .errors import UsageError

# PNG at this resolution is sharp on screens and small enough to attach anywhere.
DPI = 150


def check(path: str, flag: str = "--plot") -> None:
    """Refuse ``path`` now unless a figure can be saved there.

    Args:
        path: the file the figure will be saved to; its extension picks the format.
        flag: the option's name, for the messages.

    Raises:
        UsageError: matplotlib is missing (naming ``pip install matplotlib`` and
            the ``plots`` extra), the extension is not a format matplotlib
            writes, or the directory does not exist.
    """
    from ..plot._figure import require_matplotlib

    try:
        require_matplotlib(flag)
    except ModuleNotFoundError as error:
        raise UsageError(str(error)) from None
    from matplotlib.backend_bases import FigureCanvasBase

    formats = FigureCanvasBase.get_supported_filetypes()
    extension = os.path.splitext(path)[1].lower().lstrip(".")
    if extension not in formats:
        raise UsageError(f"{flag}: cannot save a figure as {path!r}: the file name must end in .png, .svg or .pdf "
                         f"(or another type matplotlib writes: {', '.join(sorted(formats))})")
    directory = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(directory):
        raise UsageError(f"{flag}: directory {directory} does not exist")


def save(figure, path: str) -> None:
    """Write ``figure`` to ``path`` (the format from its extension)."""
    figure.savefig(path, dpi=DPI)
