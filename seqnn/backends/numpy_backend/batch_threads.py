"""Memory-bound array work split over the batch axis across threads.

numpy's ufuncs run on one core while its BLAS uses them all, so in a CNN the
elementwise passes over large activations (pooling, ReLU, im2col/col2im) run
on one core of several. ufunc loops release the GIL, so the same passes on
disjoint slices of the batch run truly in parallel from a thread pool.

Each chunk writes only its own rows and nothing is reduced across chunks, so
results are bit-identical to the one-thread run whatever the thread count.
The count is ``SEQNN_NUM_THREADS``, else ``OMP_NUM_THREADS`` (as BLAS and
PyTorch read it), else the cores this process may run on, at most 8.
"""
from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor
from typing import Callable

import numpy as np

# Below this many elements a pass is too short (tens of microseconds) to pay for a hand-off to threads.
MIN_PARALLEL_ELEMENTS = 1 << 17
_MAX_THREADS = 8

_executor: ThreadPoolExecutor | None = None
_threads: int | None = None


def thread_count() -> int:
    """How many threads batch-split work uses (read from the environment once)."""
    global _threads
    if _threads is None:
        _threads = _configured_threads()
    return _threads


def _configured_threads() -> int:
    for name in ("SEQNN_NUM_THREADS", "OMP_NUM_THREADS"):
        value = os.environ.get(name, "").strip()
        if value:
            try:
                return max(1, min(_MAX_THREADS, int(value)))
            except ValueError:
                raise ValueError(f"{name} must be a positive integer, got {value!r}") from None
    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        cores = os.cpu_count() or 1
    return max(1, min(_MAX_THREADS, cores))


def over_batch(work: Callable[[int, int], None], n: int, elements: int) -> None:
    """Run ``work(start, stop)`` on row ranges that cover ``range(n)``, in parallel when worth it.

    ``elements`` is the size of the largest array the work touches; small
    work runs as one call on this thread.
    """
    threads = min(thread_count(), n)
    if threads < 2 or elements < MIN_PARALLEL_ELEMENTS:
        work(0, n)
        return
    global _executor
    if _executor is None:
        _executor = ThreadPoolExecutor(max_workers=thread_count(), thread_name_prefix="seqnn-batch")
    bounds = [n * i // threads for i in range(threads + 1)]
    # This thread takes the first range itself: one hand-off fewer, and it would only wait otherwise.
    futures = [_executor.submit(work, bounds[i], bounds[i + 1]) for i in range(1, threads)]
    try:
        work(bounds[0], bounds[1])
    finally:
        for future in futures:
            future.result()


def map_rows(ufunc: Callable, out, *arrays):
    """``ufunc(*arrays, out=out)`` for same-shaped arrays, split over their first axis; returns ``out``."""
    if out is None:
        out = np.empty_like(arrays[0])
    if out.ndim == 0 or out.size < MIN_PARALLEL_ELEMENTS:  # the common small case, without the machinery
        return ufunc(*arrays, out=out)
    over_batch(lambda start, stop: ufunc(*(a[start:stop] for a in arrays), out=out[start:stop]),
               out.shape[0], out.size)
    return out


def _forget_pool_after_fork() -> None:
    # A forked child inherits the executor object but none of its threads.
    global _executor
    _executor = None


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_forget_pool_after_fork)
