"""The numpy backend's threaded paths give the same bits as the plain numpy reference.

Products split by rows over seqnn's threads (``blas.matmul``), optimizer
updates run in cache-sized blocks (``optimizers.in_blocks``) and the periodic
flush of subnormal optimizer moments are checked against plain numpy here;
their speed lives in benchmarks/, never in a test.
"""
import numpy as np
import pytest

from seqnn.backends.numpy_backend import NumpyBackend, blas
from seqnn.backends.numpy_backend import optimizers as opt


@pytest.mark.parametrize("form", ["nn", "tn", "nt", "batched"])
def test_split_matmul_matches_numpy(monkeypatch, form):
    monkeypatch.setattr(blas, "MIN_SPLIT_MACS", 0)  # split even these small products
    rng = np.random.default_rng(0)
    if form == "batched":  # the conv input-gradient form: one dy against every kernel tap
        a, b = rng.standard_normal((1, 200, 24), np.float32), rng.standard_normal((9, 24, 7), np.float32)
    else:
        a = rng.standard_normal((37, 200) if form == "tn" else (200, 37), np.float32)
        b = rng.standard_normal((50, 37) if form == "nt" else (37, 50), np.float32)
        a = a.T if form == "tn" else a
        b = b.T if form == "nt" else b
    out = np.empty(np.matmul(a, b).shape, np.float32)
    blas.matmul(a, b, out)
    np.testing.assert_array_equal(out, np.matmul(a, b))


def test_blas_thread_count_is_put_back():
    libs = blas._blas_libraries()
    before = [lib.get_num_threads() for lib in libs]
    a = np.ones((512, 512), np.float32)
    blas.matmul(a, a, np.empty_like(a))
    assert [lib.get_num_threads() for lib in libs] == before


@pytest.mark.parametrize("amsgrad", [False, True])
def test_blocked_adam_is_bit_identical(monkeypatch, amsgrad):
    n = 3 * opt.BLOCK + 123
    rng = np.random.default_rng(1)
    state = [rng.standard_normal(n).astype(np.float32) for _ in range(2)]
    moments = [np.abs(rng.standard_normal(n)).astype(np.float32) * 1e-3 for _ in range(3)]
    runs = []
    for minimum in (1 << 62, 0):  # whole vectors, then blocks
        monkeypatch.setattr(opt, "BLOCKED_MIN_ELEMENTS", minimum)
        p, g = (a.copy() for a in state)
        m, v, vmax = (a.copy() for a in moments)
        b = NumpyBackend()
        for step in range(1, 4):
            b.adam_update(p, g, m, v, vmax if amsgrad else None, 1e-3, 0.9, 0.999, 1e-7, step)
        runs.append((p, m, v))
    for x, y in zip(*runs):
        np.testing.assert_array_equal(x, y)


def test_flush_subnormals_zeroes_only_subnormals():
    tiny = np.finfo(np.float32).tiny
    v = np.array([tiny / 4, -tiny / 2, tiny, -tiny, 1e-3, 0.0], np.float32)
    opt.flush_subnormals(v)
    np.testing.assert_array_equal(v, np.array([0, 0, tiny, -tiny, 1e-3, 0], np.float32))
