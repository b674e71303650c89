"""Backing up a running fit and resuming from the backup: ``model.backup_training`` / ``restore_training``.

A backup is a model file (weights, optimizer state, config) with the loop's
``training_state`` in its metadata and the running metrics' and callbacks'
arrays as extra tensors (see :mod:`seqnn.models.resume`).

Restoring is all or nothing. :func:`restore_training` reads and checks the
whole file first (weights, optimizer state, every field of the training
state, against this model and this fit) and changes nothing; the fit applies
it once every callback's ``on_train_begin`` has run, and if applying fails
anyway (a callback's ``set_state`` refusing a value), what was applied is
rolled back. A refused backup leaves the model as it was.
"""
from __future__ import annotations

import copy
import math
import os

import numpy as np

from ..metrics.base import restore_running_state, running_state
from ..saving import safetensors_file
from ..saving.tensor_checks import check_names_and_shapes
from . import input_range, resume, resume_checks
from .file_layout import FORMAT, OPTIMIZER_PREFIX, save_model, weight_shapes
from .loading import check_optimizer_state, file_argument, metadata_json, set_optimizer_state


def backup_training(model, filepath: str | os.PathLike) -> None:
    """Write everything needed to resume the running fit exactly from this point, atomically."""
    progress = _running_fit(model, "backup_training")
    state, arrays = resume.capture(model, model._active_callbacks, progress.epoch_finished)
    save_model(model, filepath, include_optimizer=True, training_state=state, extra_tensors=arrays)


def restore_training(model, filepath: str | os.PathLike) -> None:
    """Check a backup against the running fit; the fit resumes from it once ``on_train_begin`` is over.

    Raises ValueError naming the file and the problem, changing nothing,
    unless the backup fits this model and this fit in every respect.
    """
    progress = _running_fit(model, "restore_training")
    path = file_argument(filepath, "restore_training")
    try:
        tensors, metadata = safetensors_file.read(path)
    except MemoryError:
        raise ValueError(f"{path}: not enough memory to read this backup") from None
    if metadata.get("format") != FORMAT:
        raise ValueError(f"{path}: not a seqnn file (its metadata has no format='seqnn')")
    if "training_state" not in metadata:
        raise ValueError(f"{path}: not a training backup (no training_state metadata)")
    state = metadata_json(metadata, "training_state", path)
    trained_on = input_range.from_metadata(metadata, path)
    callbacks = model._active_callbacks
    weights = {k: v for k, v in tensors.items() if k.startswith("layers.")}
    check_names_and_shapes(weight_shapes(model), weights, path)
    optimizer_state = {k[len(OPTIMIZER_PREFIX):]: v for k, v in tensors.items() if k.startswith(OPTIMIZER_PREFIX)}
    model._prepare()
    scalars = check_optimizer_state(model, optimizer_state, path)
    arrays = {k: v for k, v in tensors.items() if not k.startswith(("layers.", OPTIMIZER_PREFIX))}
    resume_checks.check(model, callbacks, state, arrays, path)

    def apply() -> None:
        snapshot = _Snapshot(model, callbacks)
        try:
            model.set_weights([weights[name] for name in weight_shapes(model)])
            set_optimizer_state(model, optimizer_state, scalars)
            resume.apply(model, callbacks, state, arrays)
            _probe_metrics(model)
            # A data loader's batches before the interruption count as trained on, as the weights do.
            model.training_input_range = input_range.union(model.training_input_range, trained_on)
        except Exception as e:
            snapshot.restore()
            raise ValueError(f"{path}: the backup does not fit this run ({type(e).__name__}: {e}); nothing "
                             "was changed") from None

    progress.resume = apply


def _probe_metrics(model) -> None:
    """Restored metrics must go on working: on copies, take a batch shaped like this model's and give a result,
    then do it again after a reset, as the next epoch will. A state that no real batches could have produced
    (counts of another size, a number where an array belongs, a size the next reset would get wrong) fails
    here, while it can still be rolled back, instead of in the middle of an epoch."""
    if not model.compiled_metrics:
        return
    probe = copy.deepcopy(model._compile_metrics)
    output = tuple(d or 1 for d in model.output_shape[1:])
    predictions = np.full((2, *output), 1.0 / max(1, math.prod(output)))
    targets = None
    for candidate in (np.zeros(2, np.int64), np.zeros((2, *output), np.float32)):
        try:
            targets = model.loss.validate_targets(candidate, model.output_shape)
            break
        except ValueError:
            continue
    for _ in range(2):  # this epoch, then the next one
        if targets is not None:
            probe.update(targets, predictions, None)
        probe.results()
        probe.reset()


def _running_fit(model, what: str):
    progress = getattr(model, "_progress", None)
    if progress is None or getattr(model, "_active_callbacks", None) is None:
        raise ValueError(f"{what}: only during fit (from a callback, as BackupAndRestore does); no fit is running")
    return progress


class _Snapshot:
    """What applying a backup changes, taken just before, so that a failure can put it back."""

    def __init__(self, model, callbacks):
        self.model, self.callbacks = model, callbacks
        progress = model._progress
        self.position = (progress.epoch, progress.steps_done, progress.loss_total, progress.loss_count)
        self.shuffle = progress.batches.shuffle_state
        self.rngs = {i: layer.rng.state for i, layer in enumerate(model.layers)
                     if getattr(layer, "rng", None) is not None}
        optimizer = model.optimizer
        self.learning_rate = None if optimizer.uses_schedule else optimizer.learning_rate
        self.weights = model.get_weights()
        self.optimizer_variables = {k: np.array(optimizer.backend.to_numpy(v)) for k, v in optimizer.variables().items()}
        self.optimizer_scalars = optimizer.state_scalars()
        history = callbacks.history
        self.history = None if history is None else (list(history.epoch),
                                                     {k: list(v) for k, v in history.history.items()})
        self.metrics = [{k: np.array(v) if isinstance(v, np.ndarray) else v for k, v in running_state(m).items()}
                        for m in model.compiled_metrics]
        self.callback_states = [(cb.get_state(), dict(cb.get_state_arrays()) if hasattr(cb, "get_state_arrays")
                                 else None) for cb in callbacks.stateful]

    def restore(self) -> None:
        model, progress = self.model, self.model._progress
        progress.epoch, progress.steps_done, progress.loss_total, progress.loss_count = self.position
        progress.batches.shuffle_state = self.shuffle
        for index, state in self.rngs.items():
            model.layers[index].rng.state = state
        if self.learning_rate is not None:
            model.optimizer.learning_rate = self.learning_rate
        model.set_weights(self.weights)
        for name, view in model.optimizer.variables().items():
            model.optimizer.backend.copy_into(view, self.optimizer_variables[name])
        model.optimizer.set_state_scalars(self.optimizer_scalars)
        if self.history is not None:
            self.callbacks.history.epoch, self.callbacks.history.history = self.history
        for metric, state in zip(model.compiled_metrics, self.metrics):
            restore_running_state(metric, state)
        for cb, (state, arrays) in zip(self.callbacks.stateful, self.callback_states):
            cb.set_state(state)
            if arrays:
                cb.set_state_arrays(arrays)
