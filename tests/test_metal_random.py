"""kernels/random.metal on the MSL emulator: the same dropout masks as numpy, bit for bit, under any launch."""
import numpy as np
import pytest

from metal_emulator import metalcompute as mc
from seqnn.backends import counter_rng

if mc.find_compiler() is None:
    pytest.skip("the MSL emulator needs a C++ compiler", allow_module_level=True)

SOURCE = (__import__("pathlib").Path(__file__).parents[1] / "kernels" / "random.metal").read_text()
DROPOUT = ("x_offset", "y_offset", "mask_offset", "seed_low", "seed_high", "position_low", "position_high", "n",
           "threshold", "scale")
NOISE = ("x_offset", "y_offset", "seed_low", "seed_high", "position_low", "position_high", "n", "stddev")


def params(fields, seed=0, offset=0, **values):
    """The kernel's params struct: 4-byte fields, 64-bit values split into halves."""
    values.update(seed_low=seed & 0xFFFFFFFF, seed_high=seed >> 32, position_low=offset & 0xFFFFFFFF,
                  position_high=offset >> 32)
    return b"".join(np.float32(values.get(f, 0)).tobytes() if f in ("scale", "stddev")
                    else np.uint32(values.get(f, 0)).tobytes() for f in fields)


@pytest.mark.parametrize("threadgroup", [32, 1024])
@pytest.mark.parametrize("n, offset", [(1, 0), (33, 5), (1000, 123456789)])
def test_dropout_masks_equal_the_numpy_backends(threadgroup, n, offset):
    from seqnn.backends import get

    rate, seed = 0.3, 2**63 + 12345
    dev = mc.Device(threadgroup=threadgroup, order="shuffle")
    fn = dev.kernel(SOURCE).function("dropout")
    x = np.random.default_rng(0).standard_normal(n).astype(np.float32)
    x_buf, y_buf, mask_buf = dev.buffer(x.tobytes()), dev.buffer(4 * n), dev.buffer(4 * n)
    fn(n, x_buf, y_buf, mask_buf, dev.buffer(params(DROPOUT, seed=seed, offset=offset, n=n,
                                                       threshold=counter_rng.keep_threshold(rate),
                                                       scale=1 / (1 - rate))))
    stream = get("numpy").rng(seed)
    stream.offset = offset
    want_y, want_mask = get("numpy").dropout(x, rate, stream)
    np.testing.assert_array_equal(np.frombuffer(mask_buf, np.float32), want_mask)
    np.testing.assert_array_equal(np.frombuffer(y_buf, np.float32), want_y)


def test_gaussian_noise_matches_numpy_to_float32_rounding():
    from seqnn.backends import get

    n, seed = 4097, 77
    dev = mc.Device()
    x = np.zeros(n, np.float32)
    y_buf = dev.buffer(4 * n)
    dev.kernel(SOURCE).function("gaussian_noise")(n, dev.buffer(x.tobytes()), y_buf,
                                                  dev.buffer(params(NOISE, seed=seed, n=n, stddev=1.5)))
    want = get("numpy").gaussian_noise(x, 1.5, get("numpy").rng(seed))
    np.testing.assert_allclose(np.frombuffer(y_buf, np.float32), want, rtol=1e-5, atol=1e-5)
