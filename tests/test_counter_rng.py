"""The counter-based stream behind dropout and Gaussian noise: SplitMix64, word by position."""
import numpy as np
import pytest

from seqnn import backends
from seqnn.backends import counter_rng


def test_known_answers_of_splitmix64():
    # The first outputs of SplitMix64 seeded with 0 (Steele, Lea and Flood's reference generator).
    assert [int(w) for w in counter_rng.words(0, 0, 3)] == [0xE220A8397B1DCDAF, 0x6E789E6AA1B965F4,
                                                             0x06C45D188009454F]


def test_a_word_depends_on_the_seed_and_its_position_only():
    whole = counter_rng.words(1234, 10, 50)
    for k in (0, 7, 49):
        assert counter_rng.words(1234, 10 + k, 1)[0] == whole[k]
    assert not np.array_equal(whole, counter_rng.words(1235, 10, 50))


def test_dropout_continues_the_stream_and_restores_from_its_state():
    b = backends.get("numpy")
    x = np.ones((8, 33), np.float32)
    stream = b.rng(99)
    first, _ = b.dropout(x, 0.5, stream)
    saved = dict(stream.state)
    second, _ = b.dropout(x, 0.5, stream)
    assert not np.array_equal(first, second)
    again = b.rng(0)
    again.state = saved
    np.testing.assert_array_equal(b.dropout(x, 0.5, again)[0], second)
    with pytest.raises(ValueError, match="expected {'splitmix64': \\[seed, offset\\]}"):
        again.state = {"counter": [0, 0], "key": [1, 2]}


def test_gaussian_noise_is_standard_normal():
    b = backends.get("numpy")
    z = b.gaussian_noise(np.zeros(200_000), 2.0, b.rng(5))
    assert abs(z.mean()) < 0.02 and abs(z.std() - 2.0) < 0.02
    assert abs(np.mean(np.abs(z) > 2 * 1.96) - 0.05) < 0.003  # the tails of a normal, not just its moments
