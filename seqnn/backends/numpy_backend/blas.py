"""Matrix products: BLAS on its own threads, or held to one thread with large products split over seqnn's.

Left alone, OpenBLAS splits every gemm over its own worker threads, which
spin after each call; seqnn's batch threads (``batch_threads``) then compete
with them for the same cores, and with any other busy process on the machine
a gemm waits for its slowest, descheduled worker. Measured on a 2-core
machine with other work running, an MLP epoch took 3.4–8.9 s with OpenBLAS on
2 threads against 0.8–1.3 s on 1 (see benchmarks/README.md).

So every product seqnn computes runs with the BLAS library held to one thread
(through threadpoolctl, for OpenBLAS, MKL, BLIS or Accelerate alike), and a
large one is split by output rows over seqnn's thread pool instead: each
thread calls the single-threaded BLAS on its own rows (numpy releases the GIL
around BLAS), and the pool's threads block instead of spinning when idle.
Rows are independent, so the result is bit-identical whatever the split.

That is the right choice on a busy machine, and the wrong one on an idle
machine, where OpenBLAS's threads are faster for the products of a small
model; :mod:`.thread_tuning` times the steps and picks, through
:func:`set_native_threads`, step by step.

The BLAS setting is changed only for the duration of each product and put
back afterwards, so user code sees its own thread count; a lock and a depth
count keep concurrent products from restoring each other's setting. Without
threadpoolctl installed, products are plain ``numpy.matmul`` calls (the
reference behaviour).
"""
from __future__ import annotations

import threading
import time

import numpy as np

from .batch_threads import over_batch, thread_count

# Split a product over threads from this many multiply-adds on (~0.4 ms on one core): below it the
# hand-off to the pool costs more than it saves.
MIN_SPLIT_MACS = 1 << 26
# OpenBLAS runs a product below 4·65536 multiply-adds on the calling thread anyway; such small ones
# (single-sample predictions) skip the thread-count change, which costs more than they take.
MIN_HELD_MACS = 1 << 18
# Each thread gets at least this many rows (a gemm on fewer rows runs far below the BLAS's speed).
MIN_ROWS_PER_THREAD = 16

_lock = threading.Lock()
_depth = 0
_saved: list[int] = []
_libraries: tuple | None = None
_native = threading.local()  # per thread: whether BLAS keeps its own threads (see set_native_threads)


def set_native_threads(native: bool) -> None:
    """From now on, this thread's products run on BLAS's own threads (``native``) or held to one."""
    _native.on = native


def _blas_libraries() -> tuple:
    """threadpoolctl's controllers of the loaded BLAS libraries, or () without threadpoolctl (looked up once)."""
    global _libraries
    if _libraries is None:
        try:
            from threadpoolctl import ThreadpoolController
        except ImportError:
            _libraries = ()
        else:
            _libraries = tuple(ThreadpoolController().select(user_api="blas").lib_controllers)
    return _libraries


def _hold_one_thread(libraries) -> None:
    global _depth, _saved
    with _lock:
        if _depth == 0:
            _saved = [lib.get_num_threads() for lib in libraries]
            for lib, n in zip(libraries, _saved):
                if n != 1:
                    lib.set_num_threads(1)
        _depth += 1


def _release(libraries) -> None:
    global _depth
    with _lock:
        _depth -= 1
        if _depth == 0:
            for lib, n in zip(libraries, _saved):
                if n != 1:
                    lib.set_num_threads(n)


def matmul(a, b, out):
    """``np.matmul(a, b, out=out)``: on BLAS's own threads, or held to one and split by rows of ``out``
    over seqnn's threads when large (the mode :func:`set_native_threads` chose), with the same bits.

    ``a`` is (…, M, K) (any view numpy hands to BLAS, transposes included),
    ``b`` (…, K, N) and ``out`` (…, M, N), broadcast as numpy does.
    """
    libraries = _blas_libraries() if out.size * a.shape[-1] >= MIN_HELD_MACS else ()
    if not libraries:
        return np.matmul(a, b, out=out)
    if not getattr(_native, "on", False):
        key = (a.shape, a.strides, b.shape, b.strides, out.shape, out.strides, out.dtype.str)
        same = _same_bits.get(key)
        if same is None:
            return _held_checked(a, b, out, libraries, key)
        if same:
            return _held(a, b, out, libraries)
    return _on_blas_threads(a, b, out)


# When a product last ran on BLAS's own threads (time.perf_counter()): they spin for a while afterwards,
# which thread_tuning must know to time the steps held to one thread fairly.
last_on_blas_threads = float("-inf")


def _on_blas_threads(a, b, out):
    global last_on_blas_threads
    np.matmul(a, b, out=out)
    last_on_blas_threads = time.perf_counter()
    return out


def _held(a, b, out, libraries):
    m = out.shape[-2]
    threads = min(thread_count(), m // MIN_ROWS_PER_THREAD)
    _hold_one_thread(libraries)
    try:
        if threads < 2 or out.size * a.shape[-1] < MIN_SPLIT_MACS:
            np.matmul(a, b, out=out)
        else:
            def rows(start, stop):
                np.matmul(a[..., start:stop, :], b, out=out[..., start:stop, :])

            over_batch(rows, m, 1 << 62)
    finally:
        _release(libraries)
    return out


# Whether a product of this shape and layout gives the same bits held to one thread as on BLAS's own
# threads. Usually it does (BLAS splits the output's rows and columns over its threads, and so does
# seqnn), but not always: OpenBLAS 0.3.31 blocks the inner dimension differently with 2 threads for
# some shapes (128×784·784×256, the MNIST MLP's first layer, is one), and the sum then rounds
# differently. A step's mode is chosen by timing (see thread_tuning), so such a product must not
# depend on it: it always runs on BLAS's own threads.
_same_bits: dict = {}


def _held_checked(a, b, out, libraries, key):
    """The first product of a shape: computed both ways, and the answer kept once the operands tell.

    The operands themselves are the test data (copies of random data would double the memory of a
    large batch for a moment, and glibc then keeps it): a difference in the order of the sums shows in
    some of the outputs, unless the products are exact whatever the order. Mostly zero outputs (zero
    weights before the first update; fewer than one in 8 nonzero) prove nothing, so the question then
    stays open until a later call. Until it is settled, the result is BLAS's own, which both modes give.
    """
    _held(a, b, out, libraries)
    native = _on_blas_threads(a, b, np.empty_like(out))
    if 8 * np.count_nonzero(native) >= native.size:
        _same_bits[key] = bool(np.array_equal(out, native))
    np.copyto(out, native)
    return out
