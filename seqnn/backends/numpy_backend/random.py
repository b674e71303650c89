"""Dropout masks and Gaussian noise from the counter-based stream (seqnn.backends.counter_rng)."""
import numpy as np

from .. import counter_rng


class RandomOps:
    def rng(self, seed):
        return counter_rng.CounterStream(seed)

    def dropout(self, x, rate, rng, out=None, mask_out=None):
        bits = counter_rng.words(*rng.take(x.size), x.size).reshape(x.shape)
        keep = (bits >> np.uint64(40)) >= np.uint64(counter_rng.keep_threshold(rate))
        mask = np.multiply(keep, x.dtype.type(1.0 / (1.0 - rate)), out=mask_out)
        return np.multiply(x, mask, out=out), mask

    def gaussian_noise(self, x, stddev, rng, out=None):
        """x + stddev·z, z standard normal by Box–Muller from the two uniforms of one word per element."""
        u1, u2 = counter_rng.uniforms(counter_rng.words(*rng.take(x.size), x.size).reshape(x.shape))
        noise = np.sqrt(-2.0 * np.log1p(-u1)) * np.cos(2.0 * np.pi * u2) * stddev  # log(1 − u1): u1 < 1
        return np.add(x, noise.astype(x.dtype), out=out)
