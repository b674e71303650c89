"""Optimizer steps on a small fake parameter arena, shared by the optimizer tests."""
import numpy as np

import seqnn as sn
from seqnn.parameters import ParameterArena

# Gradient scale per step: shrinking and growing, so that AMSGrad's maximum,
# Adamax's decaying max and RMSprop's averages all take different branches.
GRAD_SCALES = [3.0, 1.0, 0.2, 2.0, 0.1, 0.05, 1.5, 0.3]


class FakeLayer:
    """The part of a layer that ParameterArena reads."""

    def __init__(self, rng, **shapes):
        self.params = {name: rng.standard_normal(shape) for name, shape in shapes.items()}
        self.grads = {}
        self.trainable_names = list(shapes)


def make_arena(dtype="float64", seed=0, backend=None):
    rng = np.random.default_rng(seed)
    layers = [FakeLayer(rng, kernel=(3, 4), bias=(4,)), FakeLayer(rng, kernel=(4, 2), bias=(2,))]
    return ParameterArena(backend or sn.backends.get("numpy"), dtype, layers)


def gradient_sequence(size, seed=1):
    rng = np.random.default_rng(seed)
    return [scale * rng.standard_normal(size) for scale in GRAD_SCALES]


def run_seqnn(opt, grads, dtype="float64", backend=None):
    """Parameters after each step, as float64 copies."""
    arena = make_arena(dtype, backend=backend)
    opt.build(arena)
    history = []
    for g in grads:
        arena.backend.copy_into(arena.grads, g.astype(dtype))
        opt.apply()
        history.append(np.array(arena.values, dtype=np.float64))
    return history
