"""DataParallel: every process holds the whole model and trains on its shard of each global batch, over MPI.

The model is Horovod's (and Keras 3's ``keras.distribution.DataParallel``)::

    # train.py, started as: mpiexec -n 4 python train.py
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy",
                  distribution=sn.distribute.DataParallel())
    model.fit(x, y, batch_size=128, epochs=10)   # 128 is the global batch: 32 rows per process

What makes N processes train the model that one process would:

* ``batch_size`` is the global batch; each process computes a contiguous
  shard of it (:mod:`~seqnn.distribute.shards`), reading only those rows;
* at ``fit``'s start every process takes rank 0's weights, optimizer state,
  shuffling and random streams (:mod:`~seqnn.distribute.state_sync`);
* dropout and noise masks depend on the seed and the sample's position in
  the global batch (:mod:`~seqnn.distribute.sharded_rng`);
* per step, one sum of the flat gradient arena over the processes, in a
  fixed order (:meth:`~seqnn.distribute.collectives.Collectives.allreduce_sum_`),
  gives every process the global batch's gradient, bit-identical everywhere,
  before regularization, clipping and the update. With ``exact_sums`` (the
  default) the loss weighs each row by ``1/n`` of the global batch, the
  batch sums of the Dense layers' gradients are float64 and the arena is
  summed in float64 and rounded once (:mod:`~seqnn.distribute.exact_sums`):
  the float32 gradient is the one a one-process ``DataParallel()`` run
  computes, bit for bit almost always. Without it, each process scales its
  float32 gradient by its share ``nᵣ/n`` and the float32 arena is summed,
  which agrees with one process to rounding;
* the loss, and the predictions and targets the metrics need, are gathered
  before the callbacks see them, so logs, History, EarlyStopping and
  ReduceLROnPlateau are the same on every process and equal to one
  process's (metrics bit for bit: they see the same rows in the same order);
* only rank 0 (the chief) writes files and shows progress.

Validation inside ``fit`` is sharded the same way. ``evaluate``, ``predict``
and the one-batch methods called outside ``fit`` run whole on every process
(equal results, no communication). BatchNormalization: see
:mod:`~seqnn.distribute.batch_statistics`.
"""
from __future__ import annotations

import math

import numpy as np

from ..argument_checks import check_bool
from . import runtime, state_sync
from .base import Distribution
from .batch_statistics import average_statistics
from .collectives import Collectives
from .errors import PeerFailedError, ProcessMismatchError
from .exact_sums import ExactSums, exact_share
from .failure import FailureNotices, JobGuards
from .host import host_view, write_back
from .sharded_rng import shard_streams, unshard_streams
from .sharder import Sharder

_FEATURE = "seqnn.distribute.DataParallel"


class DataParallel(Distribution):
    """Data-parallel training over the processes of an MPI job (``mpiexec -n N python script.py``).

    Without a launcher (``python script.py``) it is one process, which trains
    as N processes do: with ``exact_sums`` its gradient sums are float64 too
    (the reference N processes match); without, it changes nothing. It needs
    mpi4py and an MPI library (``pip install mpi4py mpich``, or seqnn's
    ``mpi`` extra); without them it raises
    :class:`~seqnn.distribute.MPIUnavailableError` saying so.

    Args:
        timeout: seconds any process waits in a collective operation for the
            others before giving up with
            :class:`~seqnn.distribute.CollectiveTimeoutError` (None: wait
            forever). A process that raises tells the others at once, and one
            that dies ends the job through the launcher; the timeout catches a
            process that is stuck or went on alone. It must exceed the longest
            time one process can spend outside the training loop's
            collectives, e.g. the chief writing a checkpoint.
        exact_sums: make the gradient independent of how the batch is split
            (:mod:`~seqnn.distribute.exact_sums`): the Dense layers' weight
            gradients are summed over the batch in float64, carried in
            float64 through the sum over the processes and rounded once, so
            that N processes train the model a one-process ``DataParallel()``
            run trains, to the bit in practice, over whole epochs. It costs
            float64 products for those gradients and twice the bytes in the
            gradient sum (docs/guide/distributed.rst measures it). False: each
            process sums its shard in float32, which agrees with one process to
            rounding, and the runs drift apart over an epoch (1e-7 relative
            after a few hundred steps, 5e-2 after an MNIST epoch).

    Attributes:
        rank, size: this process's rank and the number of processes.
        is_chief: rank 0, the process that writes files.
    """

    def __init__(self, timeout: float | None = 600.0, exact_sums: bool = True):
        if timeout is not None and (isinstance(timeout, bool) or not isinstance(timeout, (int, float))
                                    or not math.isfinite(timeout) or timeout <= 0):
            raise ValueError(f"DataParallel: timeout must be a positive number of seconds or None, got {timeout!r}")
        self.timeout = None if timeout is None else float(timeout)
        self.exact_sums = check_bool(exact_sums, "DataParallel", "exact_sums")
        runtime.require_mpi4py(_FEATURE)
        world = runtime.world(_FEATURE)
        self.rank, self.size = world.rank, world.size
        self._sharder: Sharder | None = None
        self._attached: list = []
        self._exact: ExactSums | None = None
        self._loss = None
        self._step = 0
        self._local_loss = 0.0
        if self.size > 1:
            comm = world.private_comm()
            if world.guards is None:
                world.guards = JobGuards(world)
            self._guards = world.guards
            self._notices = FailureNotices(comm, world.mpi, self.rank, self.size)
            self._collectives = Collectives(comm, self._notices, self.timeout)
            self._sharder = Sharder(self.rank, self.size)

    # ------------------------------------------------------------ fit ---
    def begin_fit(self, model, batches, validation) -> None:
        if self._sharder is None and not self.exact_sums:
            return
        if not model.built:
            raise ValueError("fit: with distribution=DataParallel() and a data loader, build the model before fit "
                             "(give it an Input, or call model.build((None, *sample_shape))), so that every "
                             "process starts from rank 0's weights and computes the same sums")
        if self.exact_sums:
            self._exact = ExactSums(model)
            self._exact.attach()
        if self._sharder is None:
            return
        sources = [source for source in (batches, validation) if source is not None]
        state_sync.broadcast_model(self._collectives, model, sources)
        for source in sources:
            self._attach(source)
        shard_streams(model, self._sharder)
        if self.exact_sums:
            self._sharder.on_shard = self._weigh_rows_by_the_global_batch
            self._loss = model._train_loss
        self._sharder.current = None

    def _weigh_rows_by_the_global_batch(self, shard) -> None:
        """Exact sums: during a sharded step the loss divides by the global batch's rows, not the shard's."""
        self._loss.batch_rows = None if shard is None else shard.total

    def _attach(self, source) -> None:
        """Give a batch source the sharder: a loader that can read only its rows (BatchLoader) gets it itself."""
        inner = getattr(source, "source", None)
        reads_rows = hasattr(inner, "sharder") and not getattr(source, "one_shot", True)
        target = inner if reads_rows else source
        target.sharder = self._sharder
        self._attached.append(target)

    def end_fit(self, model) -> None:
        if self._exact is not None:
            self._exact.detach()
            self._exact = None
        if self._sharder is None:
            return
        for target in self._attached:
            target.sharder = None
        self._attached = []
        self._sharder.current = None
        self._sharder.on_shard, self._loss = None, None
        unshard_streams(model)

    def fit_failed(self, model, error: BaseException) -> None:
        if self._sharder is None:
            return
        reason = f"{type(error).__name__}: {error}"[:500]
        self._guards.failed(reason)
        if not isinstance(error, PeerFailedError):  # only the process that failed first tells the others
            self._notices.send(reason)

    # ----------------------------------------------------------- steps ---
    def _current(self):
        return None if self._sharder is None else self._sharder.current

    def _share(self, model, shard, rank: int | None = None) -> float:
        """What rank ``rank``'s loss and gradient are multiplied by in the sums over the processes."""
        reduction = model._train_loss.reduction
        if self.exact_sums:  # the loss weighed the rows by 1/n of the global batch already
            return exact_share(shard, reduction, rank)
        return shard.share(reduction, rank)

    def reduce_gradients(self, model, value):
        """Sum this shard's gradient over the processes (in rank order), each scaled by its share.

        With exact sums the sum is in float64 and rounded once (on one
        process too). The data loss is kept back for :meth:`whole_batch`,
        which gathers it with the metrics' inputs; the step goes on with 0,
        adding the regularization penalties (equal on every process) to it.
        """
        shard = self._current()
        if shard is None:
            if self._exact is not None:  # one process: the float64 sums rounded, as N processes round theirs
                self._exact.finish(model)
            return value
        b = model.backend
        self._step += 1
        self._local_loss = b.item(value)
        share = self._share(model, shard)
        what = f"the gradient sum of step {self._step}"
        if self._exact is not None:
            self._exact.finish(model, self._collectives, share, what)
        else:
            grads = model.arena.grads
            if share != 1.0:
                b.scale_(grads, share)
            host = host_view(b, grads)
            self._collectives.allreduce_sum_(host, what)
            write_back(b, grads, host)
        average_statistics(self._collectives, model, shard)
        return b.zeros((), model.dtype)

    def reduce_loss(self, model, value):
        shard = self._current()
        if shard is None:
            return value
        self._step += 1
        self._local_loss = model.backend.item(value)
        return model.backend.zeros((), model.dtype)

    def whole_batch(self, model, value, rows, y, predictions, sample_weight):
        """One gather: every process's loss, and the rows the metrics need; then the global batch's loss.

        Each process sends a row ``[loss, batch rows, step]`` followed by its
        shard's rows ``[predictions | y | sample_weight]`` (float64, which
        holds float32 values and integer labels below 2**53 exactly; an empty
        shard's stand-in row sends nothing). The loss is
        ``Σᵣ shareᵣ·lossᵣ`` in rank order, plus the penalties in ``value``.
        """
        shard = self._current()
        if shard is None:
            return value, rows, y, predictions, sample_weight
        self._sharder.current = None
        b = model.backend
        parts = []
        if model.compiled_metrics:
            parts = [np.asarray(b.to_numpy(predictions)), np.asarray(y)]
            if sample_weight is not None:
                parts.append(np.asarray(sample_weight))
        widths = [math.prod(part.shape[1:]) for part in parts]
        width = max(3, sum(widths))
        payload = np.zeros((1 + shard.count, width), np.float64)
        payload[0, :3] = self._local_loss, shard.total, self._step
        start = 0
        for part, w in zip(parts, widths):
            payload[1:, start:start + w] = part[:shard.count].reshape(shard.count, w)
            start += w
        counts = [1 + count for count in shard.counts]
        gathered = self._collectives.allgather_rows(payload, counts, f"the loss and outputs of step {self._step}")
        heads = np.cumsum([0, *counts[:-1]])
        self._check_in_step(gathered[heads], shard)
        loss = 0.0
        for rank, head in enumerate(heads):
            loss += self._share(model, shard, rank) * gathered[head, 0]
        value = loss + value  # the penalties (the same on every process) were all the step added
        if not parts:
            return value, shard.total, y, predictions, sample_weight
        rows_only = np.delete(gathered, heads, axis=0)
        whole, start = [], 0
        for part, w in zip(parts, widths):
            whole.append(rows_only[:, start:start + w].reshape(shard.total, *part.shape[1:]).astype(part.dtype))
            start += w
        return (value, shard.total, whole[1], b.asarray(whole[0], model.dtype),
                whole[2] if sample_weight is not None else None)

    def _check_in_step(self, heads: np.ndarray, shard) -> None:
        """Every process reports the same step and the same global batch size, or the job is out of step."""
        if np.all(heads[:, 1] == shard.total) and np.all(heads[:, 2] == heads[0, 2]):
            return
        detail = ", ".join(f"rank {r}: step {int(step)}, a batch of {int(n)} rows"
                           for r, (_, n, step) in enumerate(heads[:, :3]))
        raise ProcessMismatchError(f"rank {self.rank} of {self.size}: the processes are not on the same batch "
                                   f"({detail}); every process must run the same fit on the same data (a data "
                                   "loader of your own must yield the same global batches on every process)")

    # --------------------------------------------------------- waiting ---
    def barrier(self, what: str = "barrier") -> None:
        if self.size > 1:
            self._collectives.barrier(what)

    def check_same(self, value, what: str) -> None:
        if self.size == 1:
            return
        values = self._collectives.allgather_object(value, f"comparing {what}")
        if any(v != values[0] for v in values):
            detail = ", ".join(f"rank {r}: {v!r}" for r, v in enumerate(values))
            raise ProcessMismatchError(f"rank {self.rank} of {self.size}: the processes disagree on {what} ({detail})")

    def __repr__(self) -> str:
        return (f"DataParallel(timeout={self.timeout!r}, exact_sums={self.exact_sums!r}) "
                f"[rank {self.rank} of {self.size}]")
