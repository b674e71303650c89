"""The training loop's position and random state, captured and re-applied for exact resume.

``BackupAndRestore`` writes this next to the weights and optimizer state; a
rerun of the same script re-applies it after ``on_train_begin`` and continues
at the same batch with the same shuffling order and dropout masks, so it ends
with weights bit-identical to an uninterrupted run. Captured:

* ``epoch`` and ``steps_done``: where to continue (a backup written at an
  epoch's end points at the next epoch's first batch);
* ``shuffle_rng``: the shuffling generator's state at the start of that epoch,
  so its permutation is drawn again identically;
* ``layer_rngs``: each layer's random generator (dropout masks);
* ``loss_total`` / ``loss_count``: the running loss of a partly done epoch;
* ``learning_rate``: the optimizer's current rate (callbacks may have changed it);
* ``history`` and the ``callbacks``' own state (``Callback.get_state``).

* ``metrics``: the compiled metrics' running state (numbers in the JSON,
  arrays as ``metrics.<i>.<attribute>`` tensors), so the resumed epoch logs
  the same values.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

import numpy as np

from ..metrics.base import restore_running_state, running_state


@dataclass
class FitProgress:
    """Where the fit loop is; updated as it goes (cheap attribute writes)."""

    batches: object = None
    epoch: int = 0
    epochs: int = 0
    steps_done: int = 0
    epoch_start_shuffle: dict | None = None
    epoch_finished: bool = False  # every batch and the validation of ``epoch`` are done
    loss_total: float = 0.0
    loss_count: float = 0.0
    # Applies a checked backup once every callback's on_train_begin has run (see seqnn.models.backup).
    resume: Callable[[], None] | None = field(default=None, repr=False)


def capture(model, callbacks, epoch_finished: bool) -> tuple[dict, dict[str, np.ndarray]]:
    """(JSON-able state, arrays) describing the loop now; ``epoch_finished`` at an epoch's end."""
    progress: FitProgress = model._progress
    if epoch_finished:
        state = {"epoch": progress.epoch + 1, "steps_done": 0, "shuffle_rng": progress.batches.shuffle_state,
                 "loss_total": 0.0, "loss_count": 0.0}
    else:
        state = {"epoch": progress.epoch, "steps_done": progress.steps_done,
                 "shuffle_rng": progress.epoch_start_shuffle,
                 "loss_total": progress.loss_total, "loss_count": progress.loss_count}
    state["layer_rngs"] = {str(i): layer.rng.state for i, layer in enumerate(model.layers)
                           if getattr(layer, "rng", None) is not None}
    if not model.optimizer.uses_schedule:
        state["learning_rate"] = model.optimizer.learning_rate
    history = callbacks.history
    state["history"] = {"epoch": list(history.epoch), "history": history.history} if history else None
    arrays: dict[str, np.ndarray] = {}
    state["metrics"] = []
    for index, metric in enumerate([] if epoch_finished else model.compiled_metrics):
        numbers = {}
        for path, value in running_state(metric).items():
            if isinstance(value, np.ndarray):
                arrays[f"metrics.{index}.{path}"] = value
            else:
                numbers[path] = value.item() if isinstance(value, np.generic) else value
        state["metrics"].append(numbers)
    state["callbacks"] = []
    for index, cb in enumerate(callbacks.stateful):
        state["callbacks"].append({"class": type(cb).__name__, "state": _call(cb, "get_state", {})})
        for name, value in _call(cb, "get_state_arrays", {}).items():
            arrays[f"callbacks.{index}.{name}"] = np.asarray(value)
    return state, arrays


def apply(model, callbacks, state: dict, arrays: dict[str, np.ndarray]) -> None:
    """Re-apply a captured state to a freshly started fit (after ``on_train_begin``).

    ``state`` and ``arrays`` must have passed :func:`seqnn.models.resume_checks.check`.
    """
    progress: FitProgress = model._progress
    progress.epoch, progress.steps_done = int(state["epoch"]), int(state["steps_done"])
    progress.loss_total, progress.loss_count = float(state["loss_total"]), float(state["loss_count"])
    progress.batches.shuffle_state = state["shuffle_rng"]
    for index, rng_state in state["layer_rngs"].items():
        model.layers[int(index)].rng.state = rng_state
    if "learning_rate" in state:
        model.optimizer.learning_rate = state["learning_rate"]
    if state.get("history") and callbacks.history is not None:
        callbacks.history.epoch = list(state["history"]["epoch"])
        callbacks.history.history = {k: list(v) for k, v in state["history"]["history"].items()}
    for index, (metric, numbers) in enumerate(zip(model.compiled_metrics, state.get("metrics", []))):
        prefix = f"metrics.{index}."
        restore_running_state(metric, {**numbers, **{k[len(prefix):]: v for k, v in arrays.items()
                                                     if k.startswith(prefix)}})
    saved = state.get("callbacks", [])  # the same callbacks as this run's: checked
    for index, (cb, entry) in enumerate(zip(callbacks.stateful, saved)):
        if hasattr(cb, "set_state"):
            cb.set_state(entry["state"])
        prefix = f"callbacks.{index}."
        own = {k[len(prefix):]: v for k, v in arrays.items() if k.startswith(prefix)}
        if own:
            cb.set_state_arrays(own)


def _call(cb, method: str, default):
    fn = getattr(cb, method, None)
    return default if fn is None else fn()
