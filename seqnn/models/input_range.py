"""The range of the inputs a model was trained on, and the warning when it is asked about inputs far outside it.

A model trained on pixels scaled to [0, 16] answers a PNG in [0, 255] with
confident nonsense and no error: every shape and type is right, only the
scale is wrong. So ``fit`` records the smallest and largest input value it
trained on (one pair for the whole input, not per feature: a pixel that was
always 0 in training must not raise a warning for every new image), the
model file keeps it, and ``predict``/``evaluate`` warn with
:class:`~seqnn.errors.InputRangeWarning` when their inputs reach beyond that range by more
than its own width on either side. Inside that margin (a test image a little
brighter than any training image, standardised data with a new outlier) they
stay quiet.
"""
from __future__ import annotations

import json
import math

from .. import user_warnings
from ..errors import InputRangeWarning
from ..saving import json_text

METADATA_KEY = "training_input_range"


def union(a: tuple[float, float] | None, b: tuple[float, float] | None) -> tuple[float, float] | None:
    if a is None or b is None:
        return a or b
    return min(a[0], b[0]), max(a[1], b[1])


def warn_if_far_outside(trained: tuple[float, float] | None, seen: tuple[float, float] | None,
                        what: str) -> bool:
    """Warn (once, returning True) when ``seen`` reaches beyond ``trained`` widened by its width on each side."""
    if trained is None or seen is None:
        return False
    lo, hi = trained
    margin = hi - lo if hi > lo else max(abs(hi), 1.0)
    if lo - margin <= seen[0] and seen[1] <= hi + margin:
        return False
    user_warnings.warn(
        f"{what}: x holds values in [{_number(seen[0])}, {_number(seen[1])}], far outside the range "
        f"[{_number(lo)}, {_number(hi)}] of the inputs this model was trained on; scale them the way the "
        "training data was scaled (the predictions of unscaled inputs are meaningless)", InputRangeWarning)
    return True


def to_metadata(trained: tuple[float, float]) -> str:
    return json.dumps([trained[0], trained[1]])


def from_metadata(metadata: dict, path: str) -> tuple[float, float] | None:
    """The recorded range of a model file, or None for files without one; ValueError when it is malformed."""
    if METADATA_KEY not in metadata:
        return None
    value = json_text.parse(metadata[METADATA_KEY], f"{path}: metadata {METADATA_KEY!r}")
    if (not isinstance(value, list) or len(value) != 2
            or not all(isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v) for v in value)
            or value[0] > value[1]):
        raise ValueError(f"{path}: metadata {METADATA_KEY!r} must be [min, max], two finite numbers with "
                         f"min <= max, got {metadata[METADATA_KEY]!r}"[:300])
    return float(value[0]), float(value[1])


def _number(value: float) -> str:
    return f"{value:.4g}"
