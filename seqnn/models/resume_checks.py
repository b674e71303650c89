"""Checking a backup's ``training_state`` against the fit that is about to resume from it.

A backup file comes from disk, so every field is checked before anything is
applied: its type, its range, and that it describes this fit (the same
layers with random streams, metrics and callbacks). Only the fields that
:func:`seqnn.models.resume.capture` writes are accepted, and state is only
ever written back where ``capture`` read it: the metric attributes that
:func:`seqnn.metrics.base.running_state` lists, the callbacks' own
``set_state``. So no name from a file reaches ``setattr`` unchecked.
"""
from __future__ import annotations

import copy
import math
from typing import Any

import numpy as np

from ..metrics.base import running_state
from .file_layout import BACKUP_PREFIXES

# Every field capture() writes; "learning_rate" only when the optimizer has no schedule.
REQUIRED = ("epoch", "steps_done", "shuffle_rng", "loss_total", "loss_count", "layer_rngs", "history", "metrics",
            "callbacks")
OPTIONAL = ("learning_rate",)


class BackupStateError(ValueError):
    """A backup's training state does not fit the running fit, or is not valid."""


def check(model, callbacks, state: Any, arrays: dict[str, np.ndarray], path: str) -> None:
    """Raise :class:`BackupStateError` naming the file and the field unless ``state`` fits this fit."""
    Checker(model, callbacks, path).check(state, arrays)


class Checker:
    def __init__(self, model, callbacks, path: str):
        self.model, self.callbacks, self.path = model, callbacks, path
        self.progress = model._progress

    def fail(self, field: str, problem: str) -> None:
        raise BackupStateError(f"{self.path}: training_state.{field}: {problem}")

    # ---------------------------------------------------------- the whole ---
    def check(self, state: Any, arrays: dict[str, np.ndarray]) -> None:
        if not isinstance(state, dict):
            raise BackupStateError(f"{self.path}: training_state must be a JSON object, got {type(state).__name__}")
        unknown = sorted(set(state) - set(REQUIRED) - set(OPTIONAL))
        missing = sorted(set(REQUIRED) - set(state))
        if unknown or missing:
            raise BackupStateError(f"{self.path}: training_state has unknown fields {unknown} and lacks {missing}; "
                                   "it was not written by this version of seqnn's BackupAndRestore")
        self.position(state)
        self.random_state(state)
        self.learning_rate(state)
        self.history(state["history"])
        self.metrics(state["metrics"], arrays)
        self.callback_states(state["callbacks"], arrays)
        stray = sorted(k for k in arrays if not k.startswith(BACKUP_PREFIXES))
        if stray:
            raise BackupStateError(f"{self.path}: unexpected tensors {stray[:10]}")

    # -------------------------------------------------------- the position ---
    def position(self, state: dict) -> None:
        epochs = self.progress.epochs
        epoch = state["epoch"]
        if not _is_int(epoch) or not 0 <= epoch <= epochs:
            self.fail("epoch", f"expected a whole number from 0 to {epochs} (this fit's epochs), got {epoch!r}")
        steps = self.progress.batches.num_steps()
        steps_done = state["steps_done"]
        if not _is_int(steps_done) or steps_done < 0 or (steps is not None and steps_done > steps):
            bound = f"from 0 to {steps} (batches per epoch)" if steps is not None else "of at least 0"
            self.fail("steps_done", f"expected a whole number {bound}, got {steps_done!r}")
        for name in ("loss_total", "loss_count"):
            value = state[name]
            if not _is_number(value) or not math.isfinite(value) or (name == "loss_count" and value < 0):
                self.fail(name, f"expected a finite number{' >= 0' if name == 'loss_count' else ''}, got {value!r}")
        # loss_count counts the samples of the steps done: at least one per step, none before the first.
        count = state["loss_count"]
        if steps_done == 0 and (count != 0 or state["loss_total"] != 0):
            self.fail("loss_count", f"no step of the epoch is done, so no loss is counted yet; got "
                      f"loss_total={state['loss_total']!r}, loss_count={count!r}")
        if steps_done > 0 and (count < steps_done or not float(count).is_integer()):
            self.fail("loss_count", f"expected the number of samples in the {steps_done} step"
                      f"{'s' if steps_done > 1 else ''} done (a whole number >= {steps_done}), got {count!r}")

    def random_state(self, state: dict) -> None:
        current = self.progress.batches.shuffle_state
        if (state["shuffle_rng"] is None) != (current is None):
            self.fail("shuffle_rng", "the backup was written by a fit that " +
                      ("did not shuffle, but this one does" if current is not None else
                       "shuffled, but this one does not") + "; resume with the same fit() arguments")
        if current is not None:
            same_structure(current, state["shuffle_rng"], "shuffle_rng", self.fail)
        rngs = state["layer_rngs"]
        expected = {str(i): layer.rng.state for i, layer in enumerate(self.model.layers)
                    if getattr(layer, "rng", None) is not None}
        if not isinstance(rngs, dict) or set(rngs) != set(expected):
            self.fail("layer_rngs", f"expected the random streams of layers {sorted(expected)}, got "
                      f"{sorted(rngs) if isinstance(rngs, dict) else type(rngs).__name__}")
        for index, current_state in expected.items():
            same_structure(current_state, rngs[index], f"layer_rngs.{index}", self.fail)
            trial = copy.copy(self.model.layers[int(index)].rng)  # the generator judges its own state
            try:
                trial.state = rngs[index]
            except (ValueError, TypeError, OverflowError) as e:
                self.fail(f"layer_rngs.{index}", str(e))

    def learning_rate(self, state: dict) -> None:
        scheduled = self.model.optimizer.uses_schedule
        if scheduled and "learning_rate" in state:
            self.fail("learning_rate", "present, but this fit's optimizer takes its rate from a schedule")
        if not scheduled:
            value = state.get("learning_rate")
            if not _is_number(value) or not math.isfinite(value) or value < 0:
                self.fail("learning_rate", f"expected a finite number >= 0, got {value!r}")

    # -------------------------------------------------- history and metrics ---
    def history(self, history: Any) -> None:
        if history is None:
            return
        if not isinstance(history, dict) or set(history) != {"epoch", "history"}:
            self.fail("history", "expected {\"epoch\": [...], \"history\": {...}} or null")
        epochs = history["epoch"]
        if not isinstance(epochs, list) or not all(_is_int(e) and e >= 0 for e in epochs):
            self.fail("history.epoch", "expected a list of epoch numbers")
        logs = history["history"]
        if not isinstance(logs, dict):
            self.fail("history.history", "expected a map of log keys to lists of numbers")
        for key, values in logs.items():
            if not isinstance(values, list) or not all(_is_number(v) for v in values):
                self.fail(f"history.history[{key!r}]", "expected a list of numbers")

    def metrics(self, saved: Any, arrays: dict[str, np.ndarray]) -> None:
        metrics = self.model.compiled_metrics
        if not isinstance(saved, list) or len(saved) not in (0, len(metrics)):
            self.fail("metrics", f"expected a list of {len(metrics)} metric states (or none), got "
                      f"{len(saved) if isinstance(saved, list) else type(saved).__name__}")
        known = [running_state(metric) for metric in metrics]
        width = math.prod(d for d in self.model.output_shape[1:] if d is not None)
        for index, numbers in enumerate(saved):
            if not isinstance(numbers, dict):
                self.fail(f"metrics[{index}]", f"expected a JSON object, got {type(numbers).__name__}")
            config = metrics[index].get_config()
            for name, value in numbers.items():
                if name not in known[index] or isinstance(known[index][name], np.ndarray):
                    self.fail(f"metrics[{index}]", f"{name!r} is not a number that {type(metrics[index]).__name__} "
                              "keeps")
                self.metric_number(f"metrics[{index}].{name}", known[index][name], value, name in config, width)
        for name, value in arrays.items():
            if not name.startswith("metrics."):
                continue
            index, _, attribute = name[len("metrics."):].partition(".")
            if not index.isdigit() or int(index) >= len(saved) or attribute not in known[int(index)]:
                raise BackupStateError(f"{self.path}: tensor {name!r} is not the state of a compiled metric")
            current = known[int(index)][attribute]
            # Same rank and kind, not the same shape: some metrics size their counts at the first batch.
            if current is not None and (not isinstance(current, np.ndarray) or current.ndim != value.ndim
                                        or current.dtype.kind != value.dtype.kind):
                raise BackupStateError(f"{self.path}: tensor {name!r} is {value.dtype}{list(value.shape)}, "
                                       f"the metric keeps {_describe_array(current)}")

    def metric_number(self, field: str, current: Any, value: Any, configured: bool, width: int) -> None:
        """A running value may be any number of its kind; the metric's configuration may not change; a size
        the metric has not set yet (``num_labels``, ``num_classes``: None before the first batch) is at most
        the model's output width, which is what it would be set to."""
        if current is None:
            if value is not None and not (_is_int(value) and 0 <= value <= width):
                self.fail(field, f"the metric sets it from the model's outputs: expected None or a whole number "
                          f"from 0 to {width}, got {value!r}")
        elif configured:
            if value != current:
                self.fail(field, f"is the metric's configuration, {current!r}; the backup says {value!r}")
        elif not _same_scalar_kind(current, value):
            self.fail(field, f"expected a value like {current!r}, got {value!r}")

    # ------------------------------------------------------------ callbacks ---
    def callback_states(self, saved: Any, arrays: dict[str, np.ndarray]) -> None:
        current = [type(cb).__name__ for cb in self.callbacks.stateful]
        if not isinstance(saved, list) or not all(
                isinstance(entry, dict) and set(entry) == {"class", "state"} for entry in saved):
            self.fail("callbacks", "expected a list of {\"class\": ..., \"state\": {...}}")
        names = [entry["class"] for entry in saved]
        if names != current:
            raise BackupStateError(f"{self.path}: the backup was written with callbacks {names} but this run has "
                                   f"{current}; resume with the same callbacks (or delete the backup to start over)")
        for index, (cb, entry) in enumerate(zip(self.callbacks.stateful, saved)):
            expected = getattr(cb, "get_state", dict)()
            state = entry["state"]
            if not isinstance(state, dict) or set(state) != set(expected):
                got = sorted(state) if isinstance(state, dict) else type(state).__name__
                self.fail(f"callbacks[{index}].state", f"{names[index]} keeps {sorted(expected)}, got {got}")
        for name in arrays:
            if not name.startswith("callbacks."):
                continue
            index = name[len("callbacks."):].partition(".")[0]
            if not index.isdigit() or int(index) >= len(saved) \
                    or not hasattr(self.callbacks.stateful[int(index)], "set_state_arrays"):
                raise BackupStateError(f"{self.path}: tensor {name!r} is not the state of a callback")


# --------------------------------------------------------------- helpers ---
def same_structure(template: Any, value: Any, field: str, fail) -> None:
    """``value`` has ``template``'s keys, list lengths and kinds of leaves (random generator states).

    Integers must be non-negative and below 2**128, as the states of the
    generators seqnn uses are.
    """
    stack = [(template, value, field)]
    while stack:
        expected, got, where = stack.pop()
        if isinstance(expected, dict):
            if not isinstance(got, dict) or set(got) != set(expected):
                fail(where, f"expected the keys {sorted(expected)}, got "
                     f"{sorted(got) if isinstance(got, dict) else type(got).__name__}")
            stack.extend((expected[k], got[k], f"{where}.{k}") for k in expected)
        elif isinstance(expected, (list, tuple)):
            if not isinstance(got, list) or len(got) != len(expected):
                fail(where, f"expected a list of {len(expected)}, got {got!r}")
            stack.extend((e, g, f"{where}[{i}]") for i, (e, g) in enumerate(zip(expected, got)))
        elif isinstance(expected, str):
            if got != expected:
                fail(where, f"expected {expected!r}, got {got!r}")
        elif _is_int(expected):
            if not _is_int(got) or not 0 <= got < 2**128:
                fail(where, f"expected a whole number from 0 to 2**128, got {got!r}")
        elif not _same_scalar_kind(expected, got):
            fail(where, f"expected a value like {expected!r}, got {got!r}")


def _same_scalar_kind(expected: Any, value: Any) -> bool:
    if expected is None:
        return value is None or isinstance(value, (bool, int, float))
    if isinstance(expected, (bool, np.bool_)):
        return isinstance(value, bool)
    if isinstance(expected, (int, np.integer)):
        return _is_int(value)
    if isinstance(expected, (float, np.floating)):
        return _is_number(value)
    return False


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _describe_array(value: Any) -> str:
    return f"{value.dtype}{list(value.shape)}" if isinstance(value, np.ndarray) else type(value).__name__
