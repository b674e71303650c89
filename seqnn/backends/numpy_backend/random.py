"""Counter-based random numbers (Philox) for dropout and Gaussian noise on numpy."""
import numpy as np


class PhiloxRNG:
    """A seeded Philox-4x64 stream whose whole state is a small JSON-able dict.

    Philox is counter-based: the state is (key, counter), so saving and
    restoring it resumes the stream exactly, and the Metal/CUDA backends can
    generate the same family of streams on the device.
    """

    def __init__(self, seed: int):
        self.generator = np.random.Generator(np.random.Philox(key=int(seed) & (2**64 - 1)))

    @property
    def state(self) -> dict:
        s = self.generator.bit_generator.state
        return {
            "counter": [int(v) for v in s["state"]["counter"]],
            "key": [int(v) for v in s["state"]["key"]],
            "buffer": [int(v) for v in s["buffer"]],
            "buffer_pos": int(s["buffer_pos"]),
            "has_uint32": int(s["has_uint32"]),
            "uinteger": int(s["uinteger"]),
        }

    @state.setter
    def state(self, value: dict) -> None:
        self.generator.bit_generator.state = {
            "bit_generator": "Philox",
            "state": {"counter": np.array(value["counter"], np.uint64),
                      "key": np.array(value["key"], np.uint64)},
            "buffer": np.array(value["buffer"], np.uint64),
            "buffer_pos": value["buffer_pos"],
            "has_uint32": value["has_uint32"],
            "uinteger": value["uinteger"],
        }

    def uniform(self, shape, dtype):
        return self.generator.random(shape, dtype=dtype)

    def normal(self, shape, dtype):
        return self.generator.standard_normal(shape, dtype=dtype)


class RandomOps:
    def rng(self, seed):
        return PhiloxRNG(seed)

    def dropout(self, x, rate, rng, out=None, mask_out=None):
        u = rng.uniform(x.shape, x.dtype)
        keep = u >= rate
        mask = np.multiply(keep, x.dtype.type(1.0 / (1.0 - rate)), out=mask_out)
        return np.multiply(x, mask, out=out), mask

    def gaussian_noise(self, x, stddev, rng, out=None):
        noise = rng.normal(x.shape, x.dtype)
        noise *= x.dtype.type(stddev)
        return np.add(x, noise, out=out)
