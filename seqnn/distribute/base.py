"""Distribution: how a model's training is spread over processes; the base class trains in one.

The training loop (:mod:`seqnn.models.trainer`) calls these hooks at fixed
points of every ``fit``. The base class is the one-process strategy, every
hook a no-op, so a model compiled without ``distribution=`` runs exactly the
code it ran before distribution existed, at the cost of a method call per hook:

* :meth:`begin_fit` / :meth:`end_fit` around the loop, :meth:`fit_failed` when
  it raises;
* :meth:`reduce_gradients` after the backward pass of a training step (before
  regularization penalties and the optimizer): the gradients become the
  global batch's; :meth:`reduce_loss` after the loss of a test step;
* :meth:`whole_batch` after each step, before the metrics: the global
  batch's loss, rows count, targets, predictions and weights.

The loss that :meth:`reduce_gradients` and :meth:`reduce_loss` return is the
one the step adds the regularization penalties to (the same on every
process); :meth:`whole_batch` receives that total and returns the global
batch's. A distribution may keep the data loss back until then, so that one
collective operation carries the loss and the metrics' inputs together.

Callbacks that write files ask :attr:`is_chief`; :meth:`barrier` and
:meth:`check_same` let them wait for the chief or agree on what they see.
:class:`~seqnn.distribute.DataParallel` implements the hooks over MPI.
"""
from __future__ import annotations

from typing import Any


class Distribution:
    """One process trains the whole model: the default of ``compile``."""

    rank = 0
    size = 1

    @property
    def is_chief(self) -> bool:
        """Whether this process writes the files (checkpoints, logs, backups, ``model.save``) and shows progress."""
        return self.rank == 0

    # --------------------------------------------------------- fit's hooks ---
    def begin_fit(self, model, batches, validation) -> None:
        """``fit`` is about to run its loop over ``batches`` (and ``validation``, or None)."""

    def end_fit(self, model) -> None:
        """``fit``'s loop has ended (normally or not)."""

    def fit_failed(self, model, error: BaseException) -> None:
        """``fit``'s loop raised ``error`` on this process."""

    def reduce_gradients(self, model, value):
        """After a training step's backward pass, with its loss ``value`` (0-d backend array): sum the gradients.

        Returns the loss the step goes on with (adds the penalties to).
        """
        return value

    def reduce_loss(self, model, value):
        """After a test step's loss ``value``: returns the loss the step goes on with."""
        return value

    def whole_batch(self, model, value: float, rows: int, y, predictions,
                    sample_weight) -> tuple[float, int, Any, Any, Any]:
        """After a step: ``(loss, rows, y, predictions, sample_weight)`` of the global batch.

        ``value`` is the step's loss as the step computed it (penalties
        included); ``rows``, ``y``, ``predictions``, ``sample_weight`` this
        process's batch.
        """
        return value, rows, y, predictions, sample_weight

    # ----------------------------------------------------------- waiting ---
    def barrier(self, what: str = "barrier") -> None:
        """Wait until every process has come here (``what`` names the place in errors)."""

    def check_same(self, value: Any, what: str) -> None:
        """Raise :class:`~seqnn.distribute.ProcessMismatchError` unless ``value`` is equal on every process."""

    def __repr__(self) -> str:
        return f"{type(self).__name__}()"


#: The one-process strategy every model starts with.
LOCAL = Distribution()


def get(identifier: Any) -> Distribution:
    """``compile``'s ``distribution``: None (one process) or a :class:`Distribution` such as ``DataParallel()``."""
    if identifier is None:
        return LOCAL
    if isinstance(identifier, Distribution):
        return identifier
    raise TypeError(f"compile: distribution must be None or a seqnn.distribute.Distribution such as "
                    f"seqnn.distribute.DataParallel(), got {type(identifier).__name__}: {identifier!r}"[:300])


def distribution_of(model) -> Distribution:
    """The distribution a model was compiled with (the one-process one for None or any other object)."""
    return getattr(model, "_distribution", LOCAL)
