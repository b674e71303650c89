"""Batch-split threading of the numpy backend's memory-bound ops: same bits as one thread."""
import numpy as np
import pytest

from seqnn import backends
from seqnn.backends.numpy_backend import batch_threads

B = backends.get("numpy")


def run_with_threads(monkeypatch, threads, fn):
    """fn() with ``threads`` threads and no size threshold, so even tiny arrays are split."""
    monkeypatch.setattr(batch_threads, "_threads", threads)
    monkeypatch.setattr(batch_threads, "MIN_PARALLEL_ELEMENTS", 0)
    return fn()


def conv_and_pool_step(x, kernel, bias, strides, padding, dilation, pool, pool_strides):
    """Forward and backward of conv → relu → max pool, returning every array produced."""
    y, saved = B.conv2d(x, kernel, bias, strides, padding, dilation)
    y = B.relu(y)
    p, indices = B.maxpool2d(y, pool, pool_strides, ((0, 0), (0, 0)))
    rng = np.random.default_rng(1)
    dp = rng.standard_normal(p.shape).astype(x.dtype)
    dy = B.maxpool2d_backward(dp, indices, y.shape, pool, pool_strides, ((0, 0), (0, 0)))
    dy = B.relu_backward(dy, None, y)
    dk = B.conv2d_backward_kernel(dy, x, saved, kernel.shape, strides, padding, dilation,
                                  bias_out=np.empty_like(bias))
    dx = B.conv2d_backward_input(dy.copy(), kernel, x.shape, strides, padding, dilation)
    return [y, p, indices, dy, dk, dx]


@pytest.mark.parametrize("n", [1, 3, 8])
@pytest.mark.parametrize("cin", [1, 5])  # column and row patch layouts
@pytest.mark.parametrize("strides,padding,dilation,pool,pool_strides", [
    ((1, 1), ((0, 0), (0, 0)), (1, 1), (2, 2), (2, 2)),
    ((2, 1), ((1, 1), (0, 2)), (1, 2), (3, 3), (1, 2)),  # overlapping pool windows
])
def test_threaded_ops_match_one_thread_bit_for_bit(monkeypatch, n, cin, strides, padding, dilation, pool,
                                                   pool_strides):
    rng = np.random.default_rng(0)
    x = rng.standard_normal((n, 11, 12, cin)).astype(np.float32)
    kernel = rng.standard_normal((3, 2, cin, 4)).astype(np.float32)
    bias = rng.standard_normal(4).astype(np.float32)
    args = (x, kernel, bias, strides, padding, dilation, pool, pool_strides)
    single = run_with_threads(monkeypatch, 1, lambda: conv_and_pool_step(*args))
    for threads in (2, 3):
        split = run_with_threads(monkeypatch, threads, lambda: conv_and_pool_step(*args))
        for a, b in zip(single, split):
            np.testing.assert_array_equal(a, b)


def test_work_is_split_into_disjoint_ranges_that_cover_the_batch(monkeypatch):
    seen = []
    run_with_threads(monkeypatch, 3, lambda: batch_threads.over_batch(lambda a, b: seen.append((a, b)), 10, 10))
    assert sorted(seen) == [(0, 3), (3, 6), (6, 10)]
    seen.clear()
    run_with_threads(monkeypatch, 4, lambda: batch_threads.over_batch(lambda a, b: seen.append((a, b)), 2, 10))
    assert sorted(seen) == [(0, 1), (1, 2)]  # never more ranges than rows


def test_small_work_stays_on_the_calling_thread(monkeypatch):
    monkeypatch.setattr(batch_threads, "_threads", 4)
    seen = []
    batch_threads.over_batch(lambda a, b: seen.append((a, b)), 100, batch_threads.MIN_PARALLEL_ELEMENTS - 1)
    assert seen == [(0, 100)]


def test_an_error_in_a_worker_reaches_the_caller(monkeypatch):
    def work(start, stop):
        if start > 0:
            raise RuntimeError("chunk failed")

    with pytest.raises(RuntimeError, match="chunk failed"):
        run_with_threads(monkeypatch, 2, lambda: batch_threads.over_batch(work, 4, 4))


@pytest.mark.parametrize("env,expected", [
    ({"SEQNN_NUM_THREADS": "3", "OMP_NUM_THREADS": "1"}, 3),
    ({"OMP_NUM_THREADS": "2"}, 2),
    ({"SEQNN_NUM_THREADS": "64"}, 8),
    ({"SEQNN_NUM_THREADS": "0"}, 1),
])
def test_thread_count_from_the_environment(monkeypatch, env, expected):
    for name in ("SEQNN_NUM_THREADS", "OMP_NUM_THREADS"):
        monkeypatch.delenv(name, raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    assert batch_threads._configured_threads() == expected


def test_bad_thread_count_names_the_variable(monkeypatch):
    monkeypatch.setenv("SEQNN_NUM_THREADS", "many")
    with pytest.raises(ValueError, match=r"SEQNN_NUM_THREADS must be a positive integer, got 'many'"):
        batch_threads._configured_threads()
