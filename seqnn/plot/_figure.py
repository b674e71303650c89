"""New matplotlib figures for seqnn.plot: matplotlib imported on first use, never pyplot.

Every plot is a standalone :class:`matplotlib.figure.Figure` made with the
object-oriented API. pyplot's global state (current figure, interactive
backend, figure manager) is never touched, so drawing works headless, in
threads and in notebooks, and the caller decides what happens to the figure
(``fig.savefig(path)``, or display it).
"""
from __future__ import annotations

from .._optional import require


def new_figure(feature: str, figsize: tuple[float, float], layout: str | None = "constrained"):
    """A fresh Figure of ``figsize`` inches.

    Args:
        feature: the public function drawing it, named in the error when
            matplotlib is missing ("seqnn.plot.history").
        figsize: (width, height) in inches.
        layout: matplotlib's layout engine ("constrained" keeps titles, labels
            and colorbars from overlapping) or None to place everything by hand.

    Returns:
        A ``matplotlib.figure.Figure``.

    Raises:
        ModuleNotFoundError: matplotlib is not installed (the message names
            ``pip install matplotlib`` and the ``plots`` extra).
    """
    require_matplotlib(feature)
    from matplotlib.figure import Figure

    return Figure(figsize=figsize, layout=layout)


def require_matplotlib(feature: str) -> None:
    """Import matplotlib, or raise the ModuleNotFoundError that names the ``plots`` extra."""
    require("matplotlib", "plots", feature)


def check_figsize(figsize, default: tuple[float, float], where: str) -> tuple[float, float]:
    """``figsize`` as two positive floats (``default`` when None); ValueError naming ``where`` otherwise."""
    if figsize is None:
        return default
    try:
        width, height = (float(v) for v in figsize)
    except (TypeError, ValueError):
        raise ValueError(f"{where}: figsize must be (width, height) in inches, got {figsize!r}") from None
    if not (width > 0 and height > 0):
        raise ValueError(f"{where}: figsize must be two positive numbers of inches, got {figsize!r}")
    return width, height
