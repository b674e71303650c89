"""A model diagram: the layers top to bottom as boxes joined by arrows, drawn with matplotlib alone.

Keras's ``plot_model`` needs pydot and the Graphviz programs; a Sequential
model is a chain, so seqnn lays the boxes out itself and needs nothing but
matplotlib. The figure saves as PNG, SVG or PDF like any other.
"""
from __future__ import annotations

import math

from ._figure import new_figure

_WHERE = "seqnn.plot.model"
_FONT_SIZE = 9.0
_CHAR_WIDTH = 0.075   # inches per character at _FONT_SIZE (DejaVu Sans averages ~0.6 em)
_LINE_HEIGHT = 0.19   # inches per text line
_GAP = 0.38           # inches between boxes (the arrow)
_MARGIN = 0.25
_LAYER_COLOR = "#dce8f7"
_INPUT_COLOR = "#eeeeee"


def model(model, show_shapes: bool = True, show_params: bool = True, title: str | None = None):
    """Draw a model's layers top to bottom, one box each, joined by arrows.

    Each box shows the layer's name and class (``"dense (Dense)"``) and, when
    asked, its output shape (``"output: (None, 64)"``) and parameter count
    (``"params: 4,160"``, with the non-trainable part when there is one). A
    box for the input shape comes first, and the title line gives the model's
    name and total parameter count. Layers that are not built yet (no input
    shape known) show ``?``. A nested model is one box.

    Args:
        model: a ``Sequential`` (anything with ``layers`` and ``name``).
        show_shapes: write each layer's output shape.
        show_params: write each layer's parameter count and the total.
        title: the line over the boxes; default the model's name and size.

    Returns:
        The ``matplotlib.figure.Figure`` (one axes, no frame). Every line of
        text is one matplotlib Text, top to bottom. Save it with
        ``fig.savefig("model.png")`` or ``"model.svg"``.

    Raises:
        TypeError: ``model`` has no ``layers``.
        ValueError: the model has no layers.
        ModuleNotFoundError: matplotlib is not installed.

    Example::

        seqnn.plot.model(model).savefig("model.svg")
    """
    layers = getattr(model, "layers", None)
    if not isinstance(layers, list):
        raise TypeError(f"{_WHERE}: expected a seqnn model (with .layers), got {type(model).__name__}")
    if not layers:
        raise ValueError(f"{_WHERE}: the model {getattr(model, 'name', '')!r} has no layers to draw")
    boxes = _input_box(model, show_shapes) + [_layer_box(layer, show_shapes, show_params) for layer in layers]
    heading = title if title is not None else _heading(model, layers, show_params)
    return _draw(boxes, str(heading))


def _input_box(model, show_shapes: bool) -> list[tuple[list[str], str]]:
    shape = getattr(model, "input_shape", None)
    if shape is None:
        return []
    return [(["input" + (f": {_shape_text(shape)}" if show_shapes else "")], _INPUT_COLOR)]


def _layer_box(layer, show_shapes: bool, show_params: bool) -> tuple[list[str], str]:
    lines = [f"{layer.name} ({type(layer).__name__})"]
    built = bool(getattr(layer, "built", False))
    if show_shapes:
        lines.append(f"output: {_shape_text(layer.output_shape) if built else '?'}")
    if show_params:
        lines.append(f"params: {_params_text(layer) if built else '?'}")
    return lines, _LAYER_COLOR


def _shape_text(shape) -> str:
    return str(tuple(shape)).replace(",)", ")")


def _params_text(layer) -> str:
    total = layer.count_params()
    trainable_keys = set(layer.trainable_names)
    frozen = sum(math.prod(value.shape) for key, value in layer.params.items() if key not in trainable_keys)
    return f"{total:,}" + (f" ({frozen:,} non-trainable)" if frozen else "")


def _heading(model, layers, show_params: bool) -> str:
    name = str(getattr(model, "name", type(model).__name__))
    if not show_params:
        return name
    if not all(getattr(layer, "built", False) for layer in layers):
        return f"{name}: not built"
    return f"{name}: {sum(layer.count_params() for layer in layers):,} parameters"


def _draw(boxes: list[tuple[list[str], str]], heading: str):
    """A new figure with ``heading`` on top and each box's lines centred in it, arrows between boxes."""
    from matplotlib.patches import FancyArrowPatch, FancyBboxPatch

    longest = max([len(heading)] + [len(line) for lines, _ in boxes for line in lines])
    box_width = longest * _CHAR_WIDTH + 0.4
    width = box_width + 2 * _MARGIN
    heights = [len(lines) * _LINE_HEIGHT + 0.2 for lines, _ in boxes]
    height = 2 * _MARGIN + _LINE_HEIGHT + 0.15 + sum(heights) + _GAP * (len(boxes) - 1)
    figure = new_figure(_WHERE, (width, height), layout=None)
    ax = figure.add_axes((0, 0, 1, 1))
    # Axes units are inches from the top-left corner, so every size above is what gets drawn.
    ax.set_xlim(0, width)
    ax.set_ylim(height, 0)
    ax.set_axis_off()
    center = width / 2
    ax.text(center, _MARGIN + _LINE_HEIGHT / 2, heading, ha="center", va="center", fontsize=_FONT_SIZE + 1,
            fontweight="bold")
    top = _MARGIN + _LINE_HEIGHT + 0.15
    for index, ((lines, color), box_height) in enumerate(zip(boxes, heights)):
        if index:
            ax.add_patch(FancyArrowPatch((center, top - _GAP), (center, top), arrowstyle="-|>",
                                         mutation_scale=10, color="#555555", shrinkA=0, shrinkB=1))
        ax.add_patch(FancyBboxPatch((_MARGIN, top), box_width, box_height,
                                    boxstyle="round,pad=0,rounding_size=0.06", facecolor=color,
                                    edgecolor="#4a4a4a", linewidth=0.8))
        for row, line in enumerate(lines):
            ax.text(center, top + 0.1 + (row + 0.5) * _LINE_HEIGHT, line, ha="center", va="center",
                    fontsize=_FONT_SIZE, fontweight="bold" if row == 0 and color == _LAYER_COLOR else "normal")
        top += box_height + _GAP
    return figure
