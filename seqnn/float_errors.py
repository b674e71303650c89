"""The floating-point error state that seqnn computes under: underflow ignored, the rest the user's.

numpy reports underflow, overflow, division by zero and invalid operations
as the user's error state says (``np.seterr``, ``np.errstate``). Underflow is
expected in a network and harmless: the exponential of a very negative logit
in a softmax or a sigmoid, a tiny gradient times a tiny activation, a
probability times a small weight; IEEE 754 rounds each to a subnormal number
or to 0, which changes nothing that is learned. With ``np.seterr(all="raise")``
it would stop ordinary training with a FloatingPointError, so seqnn's numeric
work ignores it whatever the user's state.

Overflow, division by zero and invalid operations keep the user's setting:
seqnn's own formulas avoid them (max-subtracted softmax, log-sum-exp,
clipped logarithms), so when one happens it means a diverging model or bad
data, which a user who asks numpy to raise wants to see.

``np.errstate`` restores the user's state on exit and is local to the
thread (and context), so seqnn never changes the state the user's own code
runs under, callbacks included: only the numeric steps are wrapped, not the
loops that call user code.
"""
from __future__ import annotations

import functools
from typing import Callable, TypeVar

import numpy as np

F = TypeVar("F", bound=Callable)


def ignores_underflow(fn: F) -> F:
    """Decorator: ``fn`` runs with numpy ignoring underflow; the rest of the error state stays the user's."""

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        with np.errstate(under="ignore"):
            return fn(*args, **kwargs)

    return wrapper  # type: ignore[return-value]
