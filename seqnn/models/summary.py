"""Text for ``Sequential.summary()``: one row per layer, then parameter totals."""
from __future__ import annotations


def _shape(layer) -> str:
    return str(tuple(layer.output_shape)).replace(",)", ")") if layer.built else "?"


def format_summary(model, line_length: int = 80) -> str:
    widths = [int(line_length * 0.45), int(line_length * 0.33)]
    widths.append(line_length - sum(widths))

    def row(cells):
        return "".join(str(c)[: w - 1].ljust(w) for c, w in zip(cells, widths)).rstrip()

    lines = [f'Model: "{model.name}"', "─" * line_length,
             row(["Layer (type)", "Output Shape", "Param #"]), "═" * line_length]
    if model.input_layer is not None:
        shape = str(tuple(model.input_layer.batch_shape)).replace(",)", ")")
        lines.append(row([f"{model.input_layer.name} (InputLayer)", shape, 0]))
    for layer in model.layers:
        params = f"{layer.count_params():,}" if layer.built else "0 (unbuilt)"
        lines.append(row([f"{layer.name} ({type(layer).__name__})", _shape(layer), params]))
    trainable = sum(int(layer.params[key].size) for layer in model.layers if layer.built
                    for key in layer.trainable_names)
    total = sum(layer.count_params() for layer in model.layers if layer.built)
    lines += ["─" * line_length,
              f"Total params: {total:,}",
              f"Trainable params: {trainable:,}",
              f"Non-trainable params: {total - trainable:,}",
              "─" * line_length]
    return "\n".join(lines)
