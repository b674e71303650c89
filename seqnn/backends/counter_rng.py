"""Counter-based random numbers for dropout masks and Gaussian noise: SplitMix64.

Word ``p`` of the stream keyed by ``seed`` is ``mix64(seed + (p + 1)·γ)``,
with γ the 64-bit golden ratio and ``mix64`` Stafford's "variant 13" finalizer
(SplitMix64: Steele, Lea and Flood, "Fast splittable pseudorandom number
generators", OOPSLA 2014). A word is a pure function of the seed and its
position, so every backend (numpy here, ``kernels/random.metal`` on Metal)
computes the same masks, element by element and in any order, and a stream's
whole state is two integers, which checkpoints save. One 64-bit word per
element: its top 24 bits give a float32 uniform in [0, 1) exactly on every
device; a Gaussian takes its next 24 bits as the second uniform.
"""
from __future__ import annotations

import numpy as np

GAMMA = 0x9E3779B97F4A7C15
_MIX = ((30, 0xBF58476D1CE4E5B9), (27, 0x94D049BB133111EB))
_MASK64 = 2**64 - 1
MAX_OFFSET = 2**62


def words(seed: int, offset: int, count: int) -> np.ndarray:
    """Words ``offset`` .. ``offset + count − 1`` of the stream keyed by ``seed``, as uint64."""
    z = np.arange(offset + 1, offset + count + 1, dtype=np.uint64)
    z *= np.uint64(GAMMA)  # uint64 arithmetic wraps modulo 2⁶⁴, as the algorithm wants
    z += np.uint64(int(seed) & _MASK64)
    shifted = np.empty_like(z)
    for shift, multiplier in _MIX:
        np.right_shift(z, np.uint64(shift), out=shifted)
        z ^= shifted
        z *= np.uint64(multiplier)
    np.right_shift(z, np.uint64(31), out=shifted)
    z ^= shifted
    return z


def keep_threshold(rate: float) -> int:
    """Dropout keeps element ``i`` when ``word_i >> 40 >= threshold``: probability 1 − rate, to 2⁻²⁴."""
    return int(np.ceil(rate * 2**24))


def uniforms(bits: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Two float64 uniforms in [0, 1) per word, from bits 63..40 and 39..16, each a multiple of 2⁻²⁴."""
    high = (bits >> np.uint64(40)).astype(np.float64)
    low = ((bits >> np.uint64(16)) & np.uint64(0xFFFFFF)).astype(np.float64)
    return high * 2.0**-24, low * 2.0**-24


class CounterStream:
    """A seeded stream and how many words it has used: ``state`` is that pair, JSON-able."""

    def __init__(self, seed: int):
        self.seed, self.offset = int(seed) & _MASK64, 0

    def take(self, count: int) -> tuple[int, int]:
        """Reserve the next ``count`` words: (seed, first position) for whoever computes them."""
        start, self.offset = self.offset, self.offset + count
        return self.seed, start

    @property
    def state(self) -> dict:
        return {"splitmix64": [self.seed, self.offset]}

    @state.setter
    def state(self, value: dict) -> None:
        if not isinstance(value, dict) or "splitmix64" not in value:
            raise ValueError("random stream state: expected {'splitmix64': [seed, offset]} (a checkpoint from an "
                             f"older seqnn stored another generator), got {value!r}")
        pair = value["splitmix64"]
        # A checkpoint is read from disk: the seed is a 64-bit key, and an offset past 2**62 words is no
        # stream that ran (and would overflow the int64 positions that words() computes).
        if (not isinstance(pair, (list, tuple)) or len(pair) != 2
                or not all(isinstance(v, (int, np.integer)) and not isinstance(v, bool) for v in pair)
                or not 0 <= pair[0] <= _MASK64 or not 0 <= pair[1] <= MAX_OFFSET):
            raise ValueError(f"random stream state: expected {{'splitmix64': [seed, offset]}} with 0 <= seed < 2**64 "
                             f"and 0 <= offset <= 2**62, got {value!r}")
        self.seed, self.offset = int(pair[0]), int(pair[1])
