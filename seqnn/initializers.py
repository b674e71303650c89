"""Weight initialisers (Keras's names, arguments and rules).

An initializer is called with a shape and a dtype and returns a host numpy
array; the layer moves it to its backend. Drawing on the host from one seeded
stream makes the initial weights identical on every backend.

Fans follow Keras: for a kernel of shape (..., in, out) the receptive field is
the product of the leading dimensions, fan_in = receptive·in and fan_out =
receptive·out.
"""
from __future__ import annotations

import math
import numbers
from typing import Any, Sequence

import numpy as np

from . import random as sn_random
from .registry import Configurable, Registry


def compute_fans(shape: Sequence[int]) -> tuple[float, float]:
    """``(fan_in, fan_out)`` of a weight shape, by Keras's rule.

    A kernel of shape (..., in, out) has a receptive field of the product of
    its leading dimensions: fan_in = receptive·in, fan_out = receptive·out. A
    vector's fans are both its length, a scalar's both 1.

    Args:
        shape: the weight's shape, e.g. ``(3, 3, 16, 32)`` for a 3×3 Conv2D
            kernel from 16 to 32 channels.

    Returns:
        ``(fan_in, fan_out)`` as floats.

    >>> sn.initializers.compute_fans((3, 3, 16, 32))
    (144.0, 288.0)
    """
    shape = tuple(shape)
    if len(shape) == 0:
        return 1.0, 1.0
    if len(shape) == 1:
        return float(shape[0]), float(shape[0])
    receptive = math.prod(shape[:-2])
    return float(receptive * shape[-2]), float(receptive * shape[-1])


class Initializer(Configurable):
    """Base class. Subclasses implement ``sample(shape, rng)`` returning float64."""

    def __init__(self, seed: int | None = None):
        if seed is not None and (isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0):
            raise ValueError(f"seed must be a non-negative integer or None, got {seed!r}")
        self.seed = None if seed is None else int(seed)

    def __call__(self, shape: Sequence[int], dtype: Any = "float32") -> np.ndarray:
        # A fixed seed gives the same values on every call (Keras 3 behaviour);
        # otherwise each call draws from the global stream.
        rng = sn_random.generator(self.seed)
        return np.asarray(self.sample(tuple(int(d) for d in shape), rng), dtype=dtype)

    def sample(self, shape, rng):
        raise NotImplementedError

    def get_config(self) -> dict:
        return {"seed": self.seed} if self.seed is not None else {}




registry = Registry("initializer", base=Initializer)
register = registry.register


@register("zeros", "zero")
class Zeros(Initializer):
    """All zeros (``"zeros"``, the default bias initializer).

    >>> sn.initializers.Zeros()((2, 3)).tolist()
    [[0.0, 0.0, 0.0], [0.0, 0.0, 0.0]]
    """

    def sample(self, shape, rng):
        return np.zeros(shape)


@register("ones", "one")
class Ones(Initializer):
    """All ones (``"ones"``; BatchNormalization's and LayerNormalization's default scale).

    >>> sn.initializers.Ones()((3,)).tolist()
    [1.0, 1.0, 1.0]
    """

    def sample(self, shape, rng):
        return np.ones(shape)


@register("constant")
class Constant(Initializer):
    """Every element equal to ``value``.

    Args:
        value: the number every element takes (default 0).

    >>> sn.initializers.Constant(0.5)((2,)).tolist()
    [0.5, 0.5]
    """

    def __init__(self, value: float = 0.0):
        super().__init__()
        self.value = float(value)

    def sample(self, shape, rng):
        return np.full(shape, self.value)

    def get_config(self):
        return {"value": self.value}


@register("random_normal", "normal")
class RandomNormal(Initializer):
    """N(mean, stddev²)."""

    def __init__(self, mean: float = 0.0, stddev: float = 0.05, seed: int | None = None):
        super().__init__(seed)
        self.mean, self.stddev = float(mean), _check_stddev(stddev)

    def sample(self, shape, rng):
        return rng.normal(self.mean, self.stddev, shape)

    def get_config(self):
        return {"mean": self.mean, "stddev": self.stddev, **super().get_config()}


@register("random_uniform", "uniform")
class RandomUniform(Initializer):
    """U(minval, maxval)."""

    def __init__(self, minval: float = -0.05, maxval: float = 0.05, seed: int | None = None):
        super().__init__(seed)
        if maxval <= minval:
            raise ValueError(f"maxval must be > minval, got minval={minval!r}, maxval={maxval!r}")
        self.minval, self.maxval = float(minval), float(maxval)

    def sample(self, shape, rng):
        return rng.uniform(self.minval, self.maxval, shape)

    def get_config(self):
        return {"minval": self.minval, "maxval": self.maxval, **super().get_config()}


@register("truncated_normal")
class TruncatedNormal(Initializer):
    """N(mean, stddev²) with draws beyond two standard deviations redrawn."""

    def __init__(self, mean: float = 0.0, stddev: float = 0.05, seed: int | None = None):
        super().__init__(seed)
        self.mean, self.stddev = float(mean), _check_stddev(stddev)

    def sample(self, shape, rng):
        return self.mean + self.stddev * _truncated_standard_normal(shape, rng)

    def get_config(self):
        return {"mean": self.mean, "stddev": self.stddev, **super().get_config()}


def _check_stddev(stddev) -> float:
    if isinstance(stddev, bool) or not isinstance(stddev, numbers.Real) or not stddev >= 0:
        raise ValueError(f"stddev must be a non-negative number, got {stddev!r}")
    return float(stddev)


def _truncated_standard_normal(shape, rng) -> np.ndarray:
    out = rng.standard_normal(shape)
    bad = np.abs(out) > 2.0
    while bad.any():
        out[bad] = rng.standard_normal(int(bad.sum()))
        bad = np.abs(out) > 2.0
    return out


@register("variance_scaling")
class VarianceScaling(Initializer):
    """Variance scale/n with n = fan_in, fan_out or their mean.

    ``distribution``: "truncated_normal" (σ = √(scale/n) / 0.8796, the
    standard deviation of a unit normal truncated at ±2, as Keras),
    "untruncated_normal", or "uniform" (limit √(3·scale/n)).
    """

    def __init__(self, scale: float = 1.0, mode: str = "fan_in",
                 distribution: str = "truncated_normal", seed: int | None = None):
        super().__init__(seed)
        if scale <= 0:
            raise ValueError(f"scale must be > 0, got {scale!r}")
        if mode not in ("fan_in", "fan_out", "fan_avg"):
            raise ValueError(f"mode must be 'fan_in', 'fan_out' or 'fan_avg', got {mode!r}")
        distribution = {"normal": "truncated_normal"}.get(distribution, distribution)
        if distribution not in ("truncated_normal", "untruncated_normal", "uniform"):
            raise ValueError("distribution must be 'truncated_normal', 'untruncated_normal' "
                             f"or 'uniform', got {distribution!r}")
        self.scale, self.mode, self.distribution = float(scale), mode, distribution

    def sample(self, shape, rng):
        fan_in, fan_out = compute_fans(shape)
        n = {"fan_in": fan_in, "fan_out": fan_out, "fan_avg": (fan_in + fan_out) / 2.0}[self.mode]
        variance = self.scale / max(1.0, n)
        if self.distribution == "uniform":
            limit = math.sqrt(3.0 * variance)
            return rng.uniform(-limit, limit, shape)
        if self.distribution == "untruncated_normal":
            return math.sqrt(variance) * rng.standard_normal(shape)
        return math.sqrt(variance) / 0.87962566103423978 * _truncated_standard_normal(shape, rng)

    def get_config(self):
        return {"scale": self.scale, "mode": self.mode, "distribution": self.distribution,
                **super().get_config()}


def _variance_scaling_preset(name: str, scale: float, mode: str, distribution: str, doc: str):
    class Preset(VarianceScaling):
        def __init__(self, seed: int | None = None):
            super().__init__(scale=scale, mode=mode, distribution=distribution, seed=seed)

        def get_config(self):
            return Initializer.get_config(self)

    Preset.__name__ = Preset.__qualname__ = name
    Preset.__doc__ = doc
    return Preset


GlorotUniform = register("glorot_uniform", "xavier_uniform")(_variance_scaling_preset(
    "GlorotUniform", 1.0, "fan_avg", "uniform", "U(−l, l), l = √(6 / (fan_in + fan_out))."))
GlorotNormal = register("glorot_normal", "xavier_normal")(_variance_scaling_preset(
    "GlorotNormal", 1.0, "fan_avg", "truncated_normal", "Truncated normal, σ² = 2 / (fan_in + fan_out)."))
HeUniform = register("he_uniform", "kaiming_uniform")(_variance_scaling_preset(
    "HeUniform", 2.0, "fan_in", "uniform", "U(−l, l), l = √(6 / fan_in)."))
HeNormal = register("he_normal", "kaiming_normal")(_variance_scaling_preset(
    "HeNormal", 2.0, "fan_in", "truncated_normal", "Truncated normal, σ² = 2 / fan_in."))
LecunUniform = register("lecun_uniform")(_variance_scaling_preset(
    "LecunUniform", 1.0, "fan_in", "uniform", "U(−l, l), l = √(3 / fan_in)."))
LecunNormal = register("lecun_normal")(_variance_scaling_preset(
    "LecunNormal", 1.0, "fan_in", "truncated_normal", "Truncated normal, σ² = 1 / fan_in."))


@register("orthogonal")
class Orthogonal(Initializer):
    """A (semi-)orthogonal matrix times ``gain`` (Saxe et al., 2014).

    The shape is flattened to (prod(shape[:-1]), shape[-1]); the Q of a QR
    decomposition of a Gaussian matrix, sign-corrected so the distribution is
    uniform (Haar), fills it.
    """

    def __init__(self, gain: float = 1.0, seed: int | None = None):
        super().__init__(seed)
        self.gain = float(gain)

    def sample(self, shape, rng):
        if len(shape) < 2:
            raise ValueError(f"Orthogonal needs a shape of rank >= 2, got {shape}")
        rows, cols = math.prod(shape[:-1]), shape[-1]
        a = rng.standard_normal((max(rows, cols), min(rows, cols)))
        q, r = np.linalg.qr(a)
        q *= np.sign(np.diag(r))
        if rows < cols:
            q = q.T
        return self.gain * q.reshape(shape)

    def get_config(self):
        return {"gain": self.gain, **super().get_config()}


def get(identifier: Any) -> Initializer:
    """An initializer from a name, a config dict, a class or an instance (returned as is).

    Args:
        identifier: ``"glorot_uniform"`` (names are case-insensitive),
            ``{"class_name": "RandomNormal", "config": {"stddev": 0.1}}``, an
            Initializer subclass or instance.

    Returns:
        The :class:`Initializer`.

    Raises:
        ValueError: an unknown name (the message lists the known ones).

    >>> sn.initializers.get("he_normal")
    HeNormal()
    """
    return registry.get(identifier)


def serialize(initializer: Initializer) -> dict:
    """``{"class_name": ..., "config": ...}``: the plain-JSON form that :func:`get` turns back into the initializer.

    >>> sn.initializers.serialize(sn.initializers.RandomNormal(stddev=0.1))
    {'class_name': 'RandomNormal', 'config': {'mean': 0.0, 'stddev': 0.1}}
    """
    return {"class_name": type(initializer).__name__, "config": initializer.get_config()}
