"""fit / evaluate / predict and their one-batch forms, for Sequential.

The loops follow Keras: per epoch, shuffle, train batch by batch, validate,
call the callbacks; metrics and the loss are running values over the epoch.
Every argument is checked before any work starts (see ``_check_xy``).
"""
from __future__ import annotations

import contextlib
from typing import Any

import numpy as np

from .. import random as sn_random
from ..argument_checks import check_bool
from ..callbacks import CallbackList
from ..callbacks.progbar_logger import check_verbose
from ..float_errors import ignores_underflow
from . import arguments as A
from . import data as D
from . import input_range
from .build_rollback import unbuilt_on_error
from .resume import FitProgress

_DEFAULT_BATCH = 32
#: predict runs a batch through the layers in row chunks whose buffers stay within this many bytes
INFERENCE_BUFFER_BYTES = 64 << 20
_FIRST_INFERENCE_ROWS = 128


class Trainer:
    """Mixin with the training and inference loops; the model provides layers and compile state."""

    # --------------------------------------------------------- one batch ---
    # The numeric steps ignore harmless underflow whatever numpy's error state (see seqnn.float_errors);
    # the loops around them, which call user callbacks, run under the user's own state.
    def _run_layers(self, x, training: bool):
        self._buffer_rows = max(self._buffer_rows, x.shape[0])  # the layers' buffers are sized for this many rows
        for layer in self._layers:
            x = layer.forward(x, training=training)
        return x

    _forward = ignores_underflow(_run_layers)  # for callers outside the decorated steps below

    @ignores_underflow
    def _train_batch(self, x, y, w) -> tuple[float, Any]:
        """Forward, loss, backward, update. Returns (loss incl. penalties, predictions for metrics).

        The loss is read back once, at the end: the step's only wait for the device.
        """
        with self.backend.step_scope(self._step_tuners, ("train", x.shape[1:]), x.shape[0]):
            out = self._run_layers(x, training=True)
            loss = self._train_loss
            value = loss.forward(out, y, w)
            dy = loss.backward()
            first = self._first_trainable
            for i in range(len(self._layers) - 1, first - 1, -1):
                dy = self._layers[i].backward(dy, need_input_grad=i > first)
            value = self._distribution.reduce_gradients(self, value)  # data-parallel: the global batch's
            for layer in self._regularized:
                value = self.backend.add(value, layer.regularization_penalty())
                layer.add_regularization_gradients()
            self.optimizer.apply()
            return self.backend.item(value), self._predictions(out)

    @ignores_underflow
    def _test_batch(self, x, y, w) -> tuple[float, Any]:
        with self.backend.step_scope(self._step_tuners, ("test", x.shape[1:]), x.shape[0]):
            out = self._run_layers(x, training=False)
            value = self._train_loss.forward(out, y, w)
            value = self._distribution.reduce_loss(self, value)  # data-parallel: the global batch's
            for layer in self._regularized:
                value = self.backend.add(value, layer.regularization_penalty())
            return self.backend.item(value), self._predictions(out)

    def _predictions(self, out):
        """What the model outputs: the loss's probabilities when the final activation was fused into it."""
        return self._train_loss.probabilities if self._deferred_activation is not None else out

    @ignores_underflow
    def _predict_batch(self, x):
        with self.backend.step_scope(self._step_tuners, ("predict", x.shape[1:]), x.shape[0]):
            out = self._run_layers(x, training=False)
            if self._deferred_activation is not None:
                out = self._deferred_activation.forward(self.backend, out, out=out)
            return out

    # ---------------------------------------------------- data conversion ---
    def _to_backend(self, x, y, w):
        b = self.backend
        xb = b.asarray(x, self.dtype)
        # y was put in the loss's form when it was checked (whole arrays up front, loader batches as they come).
        yb = None if y is None else b.asarray(y, self._train_loss.target_dtype(self.dtype))
        wb = None if w is None else b.asarray(w, self.dtype)
        return xb, yb, wb

    # ---------------------------------------------------------- checking ---
    def _ensure_built_for(self, x: np.ndarray, name: str) -> None:
        D.check_features(x, None, name)
        if not self.built:
            self.build((None, *x.shape[1:]))
        D.check_features(x, self.input_shape[1:], name)

    def _ensure_built_and_finite(self, x: np.ndarray, what: str | None) -> bool:
        """predict's checks: x fits the model (building it) and holds no NaN or inf (else it stays unbuilt).
        Unless ``what`` is None, warns when x lies far outside the inputs the model was trained on (→ True)."""
        # A built model has nothing to undo: no rollback set-up (this runs for every single-sample predict).
        with contextlib.nullcontext() if self.built else unbuilt_on_error(self):
            self._ensure_built_for(x, "x")
            seen = D.finite_range(x, "x")
        return what is not None and input_range.warn_if_far_outside(self.training_input_range, seen, what)

    def _check_xy(self, x, y, sample_weight, class_weight=None, name_x="x", name_y="y"):
        """Validate in-memory data; returns (x, y, weights, x's (min, max)) with y in the loss's form."""
        x = D.as_array(x, name_x)
        if y is None:
            raise ValueError(f"{name_y}: targets are required when {name_x} is an array")
        y = D.as_array(y, name_y)
        D.check_numeric(y, name_y)
        sw = None if sample_weight is None else D.sample_weights(sample_weight)
        D.check_lengths(**{name_x: x, name_y: y, "sample_weight": sw})
        self._ensure_built_for(x, name_x)
        x_range = D.finite_range(x, name_x)
        D.check_finite(y, name_y)  # a NaN target turns every weight into NaN, as a NaN input does
        try:
            y = self.loss.validate_targets(y, self.output_shape)
        except ValueError as e:
            raise ValueError(str(e).replace("y:", f"{name_y}:", 1)) from None
        if sw is not None and (not np.all(np.isfinite(sw)) or np.any(sw < 0)):
            raise ValueError("sample_weight: must be finite and non-negative")
        class_weight = A.check_class_weight(class_weight)
        if class_weight is not None:
            cw = D.class_weights_for(y, class_weight, self.loss.sparse_targets)
            sw = cw if sw is None else sw * cw
        return x, y, sw, x_range

    def _check_batch(self, x, y, w):
        """Checks for a batch from a data loader (arrays are checked whole, up front); returns
        (x, y, w, x's (min, max))."""
        was_built = self.built
        with unbuilt_on_error(self):
            self._ensure_built_for(x, "x")
            x_range = D.finite_range(x, "x")
            if y is not None:
                D.check_finite(y, "y")
                y = self.loss.validate_targets(y, self.output_shape)
        if not was_built:  # the first batch built the model: bind the arena, optimizer and metrics to its weights
            self._prepare()
        return x, y, w, x_range

    def _require_loss(self, what: str) -> None:
        self._require_compiled(what)
        if self.loss is None:
            raise ValueError(f"{what}() needs a loss; pass loss=... to compile()")

    # ------------------------------------------------------------ logging ---
    @ignores_underflow
    def _metric_logs(self, loss_total: float, loss_count: float) -> dict:
        return {"loss": loss_total / loss_count if loss_count else 0.0, **self._compile_metrics.results()}

    @ignores_underflow
    def _update_metrics(self, y_host, pred, w_host) -> None:
        if self.compiled_metrics:
            self._compile_metrics.update(y_host, self.backend.to_numpy(pred), w_host)

    def _reset_metrics(self) -> None:
        self._compile_metrics.reset()

    def reset_metrics(self) -> None:
        """Reset the compiled metrics' running state (``fit`` and ``evaluate`` do it at their start)."""
        self._reset_metrics()

    # ---------------------------------------------------------------- fit ---
    def fit(self, x: Any = None, y: Any = None, batch_size: int | None = None, epochs: int = 1,
            verbose: Any = "auto", callbacks: list | None = None, validation_split: float = 0.0,
            validation_data: Any = None, shuffle: bool = True, class_weight: dict | None = None,
            sample_weight: Any = None, initial_epoch: int = 0, steps_per_epoch: int | None = None,
            validation_steps: int | None = None, validation_batch_size: int | None = None,
            validation_freq: int | list = 1, seed: int | None = None):
        """Train for ``epochs`` epochs; returns a :class:`~seqnn.callbacks.History`.

        ``x`` is an array (with ``y``) or an iterable of ``(x, y[, sample_weight])``
        batches. ``validation_split`` takes the *last* fraction of the arrays,
        before shuffling (Keras's rule). ``shuffle`` reshuffles the training
        arrays every epoch. ``seed`` fixes the shuffling and dropout masks
        (otherwise they follow the global seed, see ``utils.set_random_seed``):
        the same seed and initial weights give bit-identical trained weights.
        ``validation_freq``: validate every N epochs, or at the listed (1-based) epochs.
        """
        self._require_loss("fit")
        batch_size = _DEFAULT_BATCH if batch_size is None else batch_size
        D.check_positive_int(batch_size, "batch_size")
        D.check_positive_int(epochs, "epochs")
        D.check_positive_int(steps_per_epoch, "steps_per_epoch", allow_none=True)
        D.check_positive_int(validation_steps, "validation_steps", allow_none=True)
        D.check_positive_int(validation_batch_size, "validation_batch_size", allow_none=True)
        check_verbose(verbose)
        A.check_initial_epoch(initial_epoch)
        A.check_validation_freq(validation_freq)
        A.check_seed(seed)
        validation_split = A.check_validation_split(validation_split)
        shuffle = A.check_shuffle(shuffle)
        callbacks = A.callback_list(callbacks)
        A.check_class_weight(class_weight)
        if validation_split and validation_data is not None:
            validation_split = 0.0  # Keras: validation_data takes precedence
        with unbuilt_on_error(self):  # a refused argument leaves an unbuilt model unbuilt
            train_batches, val, train_range = self._fit_sources(x, y, batch_size, validation_split, validation_data, shuffle,
                                                   class_weight, sample_weight, steps_per_epoch, validation_steps,
                                                   validation_batch_size, seed)
            self._prepare()
            self._reseed_layers(seed)
        self.training_input_range = input_range.union(self.training_input_range, train_range)
        callback_list = CallbackList(callbacks, add_history=True, add_progbar=verbose != 0, model=self,
                                     verbose=verbose, epochs=epochs, steps=train_batches.num_steps())
        self._distribution.begin_fit(self, train_batches, val)
        try:
            return self._fit_loop(train_batches, val, epochs, initial_epoch, validation_freq, callback_list,
                                  checked=isinstance(train_batches, D.ArrayBatches))
        except BaseException as error:
            self._distribution.fit_failed(self, error)  # the other processes stop too, instead of waiting
            raise
        finally:
            self._distribution.end_fit(self)

    def _fit_sources(self, x, y, batch_size, validation_split, validation_data, shuffle, class_weight,
                     sample_weight, steps_per_epoch, validation_steps, validation_batch_size, seed):
        """The training and validation batches of fit, every array checked."""
        if D.is_array_like(x) or isinstance(x, (list, tuple)) and not _looks_like_batches(x):
            # x's range includes a validation_split part: it is data the user scaled for training all the same.
            x, y, sw, train_range = self._check_xy(x, y, sample_weight, class_weight)
            val = None
            if validation_split:
                (x, y, sw), (xv, yv, swv) = D.split_validation([x, y, sw], validation_split)
                val = (xv, yv, swv)
            train_batches = (x, y, sw)  # batched below, once the validation data has passed its checks too
        elif x is None:
            raise ValueError("fit() needs training data: x (and y), or a data loader as x")
        else:
            train_batches, train_range = D.LoaderBatches(x, steps_per_epoch), None  # recorded batch by batch
            if y is not None:
                raise ValueError("y: must be None when x is a data loader (the loader yields the targets)")
            if validation_split:
                raise ValueError("validation_split needs array data; pass validation_data with a data loader")
            if class_weight is not None or sample_weight is not None:
                raise ValueError("class_weight and sample_weight need array data; a data loader can yield "
                                 "(x, y, sample_weight) batches instead")
            val = None
        if validation_data is not None:
            val = self._validation_source(validation_data, validation_batch_size or batch_size, validation_steps)
        elif val is not None:
            val = D.ArrayBatches(*val, validation_batch_size or batch_size, False, None, validation_steps)
        if isinstance(train_batches, tuple):
            # The shuffling seed is drawn last: a refused call leaves the global seed stream where it was.
            rng = np.random.default_rng(sn_random.next_seed() if seed is None else seed)
            train_batches = D.ArrayBatches(*train_batches, batch_size, bool(shuffle), rng, steps_per_epoch)
        return train_batches, val, train_range

    def _validation_source(self, validation_data, batch_size, steps):
        if (isinstance(validation_data, tuple) and len(validation_data) in (2, 3)
                and not _looks_like_batches(validation_data)):
            xv, yv, *wv = validation_data
            xv, yv, swv, _ = self._check_xy(xv, yv, wv[0] if wv else None, name_x="validation_data x",
                                            name_y="validation_data y")
            return D.ArrayBatches(xv, yv, swv, batch_size, False, None, steps)
        if isinstance(validation_data, (list, tuple)) and not _looks_like_batches(validation_data):
            raise ValueError("validation_data must be a tuple (x_val, y_val) or (x_val, y_val, sample_weight), "
                             f"got a {type(validation_data).__name__} of length {len(validation_data)}")
        return D.LoaderBatches(validation_data, steps, name="validation_data")

    def _reseed_layers(self, seed: int | None) -> None:
        if seed is None:
            return
        for index, layer in enumerate(self._layers):
            if hasattr(layer, "reseed"):
                layer.reseed(int(np.random.SeedSequence([seed, index]).generate_state(1, np.uint64)[0] >> 1))

    def _fit_loop(self, batches, val, epochs, initial_epoch, validation_freq, cbs, checked):
        self.stop_training = False
        progress = self._progress = FitProgress(batches=batches, epoch=initial_epoch, epochs=epochs)
        self._active_callbacks = cbs
        logs: dict = {}
        cbs.on_train_begin()
        if progress.resume is not None:  # set by restore_training (BackupAndRestore.on_train_begin)
            progress.resume()
            progress.resume = None
        start, skip = progress.epoch, progress.steps_done
        for epoch in range(start, epochs):
            progress.epoch, progress.epoch_start_shuffle = epoch, batches.shuffle_state
            batches.start_epoch(epoch, initial_epoch)  # a loader's order for this epoch, resumed or not
            progress.epoch_finished = False
            if epoch != start or skip == 0:  # not continuing a partly done epoch
                self._reset_metrics()
                skip, progress.loss_total, progress.loss_count = 0, 0.0, 0.0
            progress.steps_done = skip
            cbs.on_epoch_begin(epoch)
            for step, (xh, yh, wh) in enumerate(batches.epoch(skip), start=skip):
                cbs.on_train_batch_begin(step)
                if not checked:
                    xh, yh, wh, seen = self._check_batch(xh, yh, wh)
                    self.training_input_range = input_range.union(self.training_input_range, seen)
                value, pred = self._train_batch(*self._to_backend(xh, yh, wh))
                value, rows, yh, pred, wh = self._distribution.whole_batch(self, value, len(xh), yh, pred, wh)
                progress.loss_total += value * rows
                progress.loss_count += rows
                progress.steps_done = step + 1
                self._update_metrics(yh, pred, wh)
                logs = self._metric_logs(progress.loss_total, progress.loss_count)
                cbs.on_train_batch_end(step, logs)
                if self.stop_training:
                    break
            batches.end_epoch()
            if progress.loss_count == 0:
                raise ValueError(f"x: the training data produced no batches in epoch {epoch + 1}; a generator "
                                 "that runs out needs steps_per_epoch (or pass a re-iterable data loader)")
            epoch_logs = self._metric_logs(progress.loss_total, progress.loss_count)
            if val is not None and _due(epoch, validation_freq):
                val.start_epoch(epoch, initial_epoch)
                val_logs = self._evaluate_loop(val, cbs, checked=isinstance(val, D.ArrayBatches))
                epoch_logs.update({f"val_{k}": v for k, v in val_logs.items()})
            progress.epoch_finished = True  # a backup written now resumes at the next epoch
            cbs.on_epoch_end(epoch, epoch_logs)
            logs = epoch_logs
            if self.stop_training:
                break
        cbs.on_train_end(logs)
        self._active_callbacks = None
        return cbs.history

    # ----------------------------------------------------------- evaluate ---
    def evaluate(self, x: Any = None, y: Any = None, batch_size: int | None = None, verbose: Any = "auto",
                 sample_weight: Any = None, steps: int | None = None, callbacks: list | None = None,
                 return_dict: bool = False):
        """Loss and metrics on data: the loss alone, ``[loss, *metrics]``, or a dict with ``return_dict``."""
        self._require_loss("evaluate")
        batch_size = _DEFAULT_BATCH if batch_size is None else batch_size
        D.check_positive_int(batch_size, "batch_size")
        D.check_positive_int(steps, "steps", allow_none=True)
        check_verbose(verbose)
        check_bool(return_dict, "evaluate", "return_dict")
        callbacks = A.callback_list(callbacks)
        with unbuilt_on_error(self):
            if D.is_array_like(x) or isinstance(x, (list, tuple)) and not _looks_like_batches(x):
                x, y, sw, seen = self._check_xy(x, y, sample_weight)
                input_range.warn_if_far_outside(self.training_input_range, seen, "evaluate")
                batches = D.ArrayBatches(x, y, sw, batch_size, False, None, steps)
            elif x is None:
                raise ValueError("evaluate() needs data: x and y, or a data loader as x")
            else:
                batches = D.LoaderBatches(x, steps)
            self._prepare()
        cbs = CallbackList(callbacks, add_progbar=verbose != 0, model=self, verbose=verbose,
                           steps=batches.num_steps())
        logs = self._evaluate_loop(batches, cbs, checked=isinstance(batches, D.ArrayBatches))
        if return_dict:
            return logs
        values = list(logs.values())
        return values[0] if len(values) == 1 else values

    def _evaluate_loop(self, batches, cbs, checked) -> dict:
        self._reset_metrics()
        cbs.on_test_begin()
        total, count, logs, warned = 0.0, 0.0, {}, False
        for step, (xh, yh, wh) in enumerate(batches):
            cbs.on_test_batch_begin(step)
            if not checked:
                xh, yh, wh, seen = self._check_batch(xh, yh, wh)
                if not warned:
                    warned = input_range.warn_if_far_outside(self.training_input_range, seen, "evaluate")
            xb, yb, wb = self._to_backend(xh, yh, wh)
            value, pred = self._test_batch(xb, yb, wb)
            value, rows, yh, pred, wh = self._distribution.whole_batch(self, value, len(xh), yh, pred, wh)
            total += value * rows
            count += rows
            self._update_metrics(yh, pred, wh)
            logs = self._metric_logs(total, count)
            cbs.on_test_batch_end(step, logs)
        if count == 0:
            raise ValueError("evaluation data produced no batches")
        cbs.on_test_end(logs)
        return logs

    # ------------------------------------------------------------ predict ---
    def predict(self, x: Any, batch_size: int | None = None, verbose: Any = "auto", steps: int | None = None,
                callbacks: list | None = None) -> np.ndarray:
        """Model outputs for ``x`` (an array or a loader of batches), as one float array."""
        batch_size = _DEFAULT_BATCH if batch_size is None else batch_size
        D.check_positive_int(batch_size, "batch_size")
        D.check_positive_int(steps, "steps", allow_none=True)
        check_verbose(verbose)
        callbacks = A.callback_list(callbacks)
        if D.is_array_like(x) or isinstance(x, (list, tuple)) and not _looks_like_batches(x):
            x = D.as_array(x, "x")
            self._ensure_built_and_finite(x, "predict")
            if 0 < len(x) <= batch_size and verbose == 0 and not callbacks:
                # One batch that nothing watches: no loop to set up (a single sample's latency is the sum
                # of such overheads).
                return self._predict_rows(x)
            batches, checked = D.ArrayBatches(x, None, None, batch_size, False, None, steps), True
        else:
            batches, checked = D.LoaderBatches(x, steps, with_targets=False), False
        cbs = CallbackList(callbacks, add_progbar=verbose != 0, model=self, verbose=verbose,
                           steps=batches.num_steps())
        cbs.on_predict_begin()
        outputs, warned = [], False
        for step, (xh, _, _) in enumerate(batches):
            cbs.on_predict_batch_begin(step)
            if not checked:
                warned = self._ensure_built_and_finite(xh, None if warned else "predict") or warned
            out = self._predict_rows(xh)
            outputs.append(out)
            cbs.on_predict_batch_end(step, {"outputs": out})
        cbs.on_predict_end()
        if not outputs:
            raise ValueError("x: predict() got no batches")
        return outputs[0] if len(outputs) == 1 else np.concatenate(outputs)

    def _predict_rows(self, x: np.ndarray) -> np.ndarray:
        """The model's outputs for host rows ``x``, run through the layers in chunks whose buffers stay
        within ``INFERENCE_BUFFER_BYTES`` (or the size training already gave them).

        A layer keeps its buffers, sized for the most rows it has seen, for the model's lifetime: one
        ``predict(x, batch_size=1024)`` of a CNN would otherwise hold 231 MiB of them (MNIST's conv2
        patches alone are 143 MiB) against 81 MiB for training at batch 128. A model whose buffers are
        small per row (an MLP) runs a whole batch at once.
        """
        n, start, out = len(x), 0, None
        while start < n:
            if self._buffer_rows == 0:
                rows = _FIRST_INFERENCE_ROWS  # nothing run yet: the first chunk tells the buffers' size
            elif n - start <= self._buffer_rows:
                rows = n  # the buffers hold this many rows already (a single sample's path: nothing to add)
            else:
                held = sum(getattr(buf, "nbytes", 0) for layer in self._layers
                           for buf in getattr(layer, "_workspace", {}).values())
                rows = max(self._buffer_rows, INFERENCE_BUFFER_BYTES * self._buffer_rows // held) if held else n
            xb = self.backend.asarray(x[start:start + rows], self.dtype)
            part = self.backend.to_numpy(self._predict_batch(xb))
            if out is None:
                if rows >= n:
                    return np.array(part)
                out = np.empty((n, *part.shape[1:]), part.dtype)
            out[start:start + len(part)] = part
            start += len(part)
        return out

    def predict_on_batch(self, x: Any) -> np.ndarray:
        """Outputs for one batch, with no batching loop or callbacks."""
        return self._one_batch(x, "predict_on_batch", training=False)

    def __call__(self, x: Any, training: bool = False) -> np.ndarray:
        """``model(x, training=False)`` as in Keras: outputs for one batch (dropout on if training)."""
        return self._one_batch(x, "model(x)", check_bool(training, "model(x, training=...)", "training"))

    def _one_batch(self, x: Any, what: str, training: bool) -> np.ndarray:
        x = D.as_array(x, "x")
        self._ensure_built_and_finite(x, what)
        xb = self.backend.asarray(x, self.dtype)
        out = self._forward(xb, training=True) if training else self._predict_batch(xb)
        return np.array(self.backend.to_numpy(out))

    # --------------------------------------------------- one-batch training ---
    def train_on_batch(self, x: Any, y: Any = None, sample_weight: Any = None, class_weight: dict | None = None,
                       return_dict: bool = False):
        """One optimizer step on one batch; returns that batch's loss (and metrics), as evaluate does."""
        self._require_loss("train_on_batch")
        check_bool(return_dict, "train_on_batch", "return_dict")
        with unbuilt_on_error(self):
            x, y, sw, seen = self._check_xy(x, y, sample_weight, class_weight)
            self._prepare()
        self.training_input_range = input_range.union(self.training_input_range, seen)
        self._reset_metrics()
        value, pred = self._train_batch(*self._to_backend(x, y, sw))
        self._update_metrics(y, pred, sw)
        return self._batch_result(self._metric_logs(value, 1.0), return_dict)

    def test_on_batch(self, x: Any, y: Any = None, sample_weight: Any = None, return_dict: bool = False):
        """Loss (and metrics) on one batch, without training."""
        self._require_loss("test_on_batch")
        check_bool(return_dict, "test_on_batch", "return_dict")
        with unbuilt_on_error(self):
            x, y, sw, seen = self._check_xy(x, y, sample_weight)
            self._prepare()
        input_range.warn_if_far_outside(self.training_input_range, seen, "test_on_batch")
        self._reset_metrics()
        value, pred = self._test_batch(*self._to_backend(x, y, sw))
        self._update_metrics(y, pred, sw)
        return self._batch_result(self._metric_logs(value, 1.0), return_dict)

    @staticmethod
    def _batch_result(logs: dict, return_dict: bool):
        if return_dict:
            return logs
        values = list(logs.values())
        return values[0] if len(values) == 1 else values


def _due(epoch: int, freq) -> bool:
    if isinstance(freq, int):
        return (epoch + 1) % freq == 0
    return (epoch + 1) in freq


def _looks_like_batches(x) -> bool:
    """A list/tuple of (x, y) tuples is a loader; a nested list of numbers is an array."""
    return bool(x) and isinstance(x[0], tuple)
