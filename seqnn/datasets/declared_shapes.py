"""Whether numpy can make an array of a shape a file declares, checked before numpy is asked."""
from __future__ import annotations

import math
import sys


def beyond_numpy(shape: tuple, itemsize: int) -> bool:
    """True when numpy refuses this shape and item size with its own "array is too big" error.

    numpy multiplies the non-zero dimensions and the item size and compares
    the product with the largest index, even when another dimension is zero
    and the array would be empty: ``(0, 10**18)`` of ``complex128`` is refused.
    """
    return math.prod(d for d in shape if d) * max(itemsize, 1) > sys.maxsize
