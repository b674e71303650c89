"""The collective operations of a data-parallel job: ordered sums, gathers, broadcasts, each with a deadline.

Every operation is MPI's non-blocking form, waited for by :meth:`Collectives.wait`,
which drives MPI's progress, checks for failure notices from other processes
(:mod:`seqnn.distribute.failure`) and gives up after ``timeout`` seconds with
:class:`~seqnn.distribute.CollectiveTimeoutError`. A blocking MPI call could
do neither.

**The ordered sum.** :meth:`Collectives.allreduce_sum_` sums a flat vector
over the processes with every element added in rank order, ``((v₀ + v₁) + v₂) + …``,
whatever MPI's algorithms would choose, so a run repeats bit for bit and
every process gets identical bits. It is a reduce-scatter followed by an
allgather (the structure of a ring or Rabenseifner allreduce): the vector is
cut into ``N`` contiguous chunks, rank ``c`` receives chunk ``c`` from every
process (``MPI_Alltoallv``), adds the ``N`` copies in rank order, and every
process collects the ``N`` summed chunks (``MPI_Allgatherv``). Each process
sends and receives ``2(N−1)/N`` of the vector's bytes, as a ring allreduce does.
"""
from __future__ import annotations

import os
import pickle
import time

import numpy as np

from .errors import CollectiveTimeoutError

_SPIN_SECONDS = 0.001  # poll this long as MPI's blocking calls do: most waits end within it
_YIELD_SECONDS = 0.005  # then yield the core between polls this long; then sleep between polls
_NOTICE_EVERY = 16      # polls between checks for failure notices, the clock and the phase


class Collectives:
    """Collective operations on ``comm`` (seqnn's private communicator), waited for with ``timeout`` seconds."""

    def __init__(self, comm, notices, timeout: float | None):
        self.comm, self.notices, self.timeout = comm, notices, timeout
        self.rank, self.size = comm.Get_rank(), comm.Get_size()
        self._scratch: dict[tuple, np.ndarray] = {}
        from mpi4py import MPI  # a Collectives exists only in an MPI job: mpi4py is loaded

        self.mpi_in_place, self.mpi_sum = MPI.IN_PLACE, MPI.SUM

    # ------------------------------------------------------------ waiting ---
    def wait(self, request, what: str) -> None:
        """Wait for ``request`` to complete; raise if another process failed or ``timeout`` passes.

        It polls, as MPI's blocking calls do, for the first ``_SPIN_SECONDS``;
        then it yields the core at each poll (to a process of the job that
        shares the core, when there are more processes than cores) until
        ``_YIELD_SECONDS``; then it sleeps between polls.
        """
        if request.Test():
            return
        start = time.perf_counter()
        polls = 0
        while not request.Test():
            polls += 1
            if polls % _NOTICE_EVERY:
                continue
            self.notices.check()
            waited = time.perf_counter() - start
            if self.timeout is not None and waited > self.timeout:
                raise CollectiveTimeoutError(
                    f"rank {self.rank} of {self.size}: {what} waited {waited:.0f} s for the other processes "
                    f"(DataParallel(timeout={self.timeout:g})); one of them stopped without saying so or is "
                    "stuck (a process that dies ends the job through mpiexec)")
            if waited > _YIELD_SECONDS:
                time.sleep(0.0001 if waited < 1.0 else 0.005)
            elif waited > _SPIN_SECONDS:
                os.sched_yield()

    # -------------------------------------------------------------- sums ---
    def _buffer(self, size: int, dtype) -> np.ndarray:
        key = (size, np.dtype(dtype).str)
        buffer = self._scratch.get(key)
        if buffer is None:
            buffer = self._scratch[key] = np.empty(size, dtype)
        return buffer

    def allreduce_sum_(self, flat: np.ndarray, what: str = "the gradient sum") -> None:
        """In place: ``flat ← Σ_r flat_r`` over the processes, each element summed in rank order 0, 1, …, N−1.

        With two processes each element is one addition, and ``a + b == b + a``
        exactly in floating point, so MPI's own allreduce (faster) gives the
        same bits.
        """
        n, size = flat.size, self.size
        if size == 2:
            self.wait(self.comm.Iallreduce(self.mpi_in_place, flat, op=self.mpi_sum), what)
            return
        bounds = [c * n // size for c in range(size + 1)]
        counts = [bounds[c + 1] - bounds[c] for c in range(size)]
        mine = counts[self.rank]
        pieces = self._buffer(mine * size, flat.dtype)
        self.wait(self.comm.Ialltoallv([flat, (counts, bounds[:-1])],
                                       [pieces, ([mine] * size, [r * mine for r in range(size)])]), what)
        total = pieces[:mine]  # rank 0's copy of this chunk; the others are added to it in rank order
        for r in range(1, size):
            total += pieces[r * mine:(r + 1) * mine]
        self.wait(self.comm.Iallgatherv(total, [flat, (counts, bounds[:-1])]), what)

    # ----------------------------------------------------------- gathers ---
    def allgather(self, values: np.ndarray, what: str) -> np.ndarray:
        """Every process's ``values`` (same shape everywhere), stacked in rank order: shape ``(N, *values.shape)``."""
        values = np.ascontiguousarray(values)
        out = np.empty((self.size, *values.shape), values.dtype)
        self.wait(self.comm.Iallgather(values, out), what)
        return out

    def allgather_rows(self, rows: np.ndarray, counts, what: str) -> np.ndarray:
        """Every process's ``rows`` (2-D, ``counts[r]`` rows on rank r, same columns), concatenated in rank order."""
        rows = np.ascontiguousarray(rows)
        width = rows.shape[1]
        out = np.empty((sum(counts), width), rows.dtype)
        sizes = [c * width for c in counts]
        displacements = [sum(sizes[:r]) for r in range(self.size)]
        self.wait(self.comm.Iallgatherv(rows, [out, (sizes, displacements)]), what)
        return out

    def allgather_object(self, value, what: str) -> list:
        """Every process's ``value`` (any picklable object), in rank order."""
        data = np.frombuffer(pickle.dumps(value), np.uint8)
        lengths = self.allgather(np.array([data.size], np.int64), what)[:, 0]
        joined = self.allgather_rows(data.reshape(-1, 1), [int(n) for n in lengths], what)[:, 0]
        ends = np.cumsum(lengths)
        return [pickle.loads(joined[end - length:end].tobytes()) for end, length in zip(ends, lengths)]

    # -------------------------------------------------------- broadcasts ---
    def broadcast_(self, array: np.ndarray, what: str) -> None:
        """In place: rank 0's ``array`` on every process (contiguous, same shape and dtype everywhere)."""
        self.wait(self.comm.Ibcast(array, root=0), what)

    def broadcast_object(self, value, what: str):
        """Rank 0's ``value`` (any picklable object) on every process."""
        data = np.frombuffer(pickle.dumps(value), np.uint8) if self.rank == 0 else None
        length = np.array([0 if data is None else data.size], np.int64)
        self.broadcast_(length, what)
        buffer = data.copy() if data is not None else np.empty(int(length[0]), np.uint8)
        self.broadcast_(buffer, what)
        return pickle.loads(buffer.tobytes())

    def barrier(self, what: str) -> None:
        """Wait until every process has come here."""
        self.wait(self.comm.Ibarrier(), what)
