"""TensorBoard: loss, metrics, learning rate and weight histograms as TensorBoard event files."""
from __future__ import annotations

import json
import os
import time
import warnings

import numpy as np

from .._optional import require
from .callback import Callback

# Keras arguments that seqnn accepts, so Keras scripts run, but has nothing to write for; a non-default
# value warns once, at construction.
_IGNORED = {"write_images": False, "embeddings_freq": 0, "embeddings_metadata": None}


class TensorBoard(Callback):
    """Write what training logs as TensorBoard event files, in Keras's layout.

    View them with ``tensorboard --logdir logs`` (TensorBoard itself is a
    separate ``pip install tensorboard``). Like Keras, the callback writes:

    - every epoch, each training key of the logs as ``epoch_<key>`` (say
      ``epoch_loss``, ``epoch_accuracy``) under ``log_dir/train``, and each
      ``val_<key>`` as ``epoch_<key>`` under ``log_dir/validation``, so the
      two runs share one chart per quantity; the step is the 0-based epoch;
    - ``epoch_learning_rate`` under ``train`` every epoch: the rate a
      learning-rate callback logged for the epoch, else the optimizer's
      current ``learning_rate``;
    - with ``update_freq="batch"`` or N, every N-th training batch, each log
      key (running averages over the epoch, as the progress bar shows) as
      ``batch_<key>``, plus ``batch_learning_rate`` (the rate that batch
      used); the step is ``model.optimizer.iterations``, so it keeps counting
      across ``fit`` calls and resumed runs;
    - after each validation (and each ``evaluate`` given this callback),
      ``evaluation_<key>_vs_iterations`` under ``validation`` at step
      ``model.optimizer.iterations``;
    - with ``histogram_freq=N``, a histogram of every weight at epochs 0, N,
      2N, ... (Keras's rule ``epoch % N == 0``) under ``train``, tagged
      ``<layer>/<weight>/histogram`` (``dense/kernel/histogram``; a nested
      model's layers as ``<model>/<layer>/<weight>/histogram``);
    - with ``write_graph=True``, the model's JSON config as the ``keras``
      summary that TensorBoard's Graphs tab draws as a conceptual graph (the
      same record Keras writes); a model without a JSON config skips it
      with a warning;
    - with ``write_steps_per_second=True``, ``epoch_steps_per_second`` and
      (with batch logging) ``batch_steps_per_second``.

    A vector in the logs (one number per class, say, that a custom callback
    added) is written as one scalar per component: ``epoch_<key>/0``,
    ``epoch_<key>/1``, ...; values that are not numbers are skipped.
    Event files are created on first use (no empty validation run without
    validation), flushed at every epoch's end so that TensorBoard shows a
    run while it trains, and closed when training ends. The callback reads
    the model only through its public API: ``layers`` and their
    ``get_weights()``, ``optimizer.learning_rate`` and
    ``optimizer.iterations``, and ``to_json()``.

    Keras's arguments are accepted with Keras's names and defaults. Three are
    accepted and ignored (a non-default value warns): ``write_images``
    (weight images), ``embeddings_freq`` and ``embeddings_metadata`` (the
    projector; seqnn has no Embedding layer). ``profile_batch`` must stay 0:
    like Keras 3 on its numpy and torch backends, seqnn has no profiler to
    trace with, so a non-zero value is refused.

    The event files are written by ``tensorboardX`` (the ``tensorboard`` extra:
    ``pip install "seqnn-ml[tensorboard]"``). It was chosen over TensorBoard's
    own writer because it is the lighter dependency: a pure-Python wheel whose
    only requirements are numpy, packaging and protobuf, all with wheels for
    Linux, macOS and Windows, whereas the ``tensorboard`` package brings a
    web server, grpcio and a platform-specific data server that training does
    not need. tensorboardX is maintained (regular releases, used by many
    training libraries) and its files are the standard format TensorBoard reads.

    Args:
        log_dir: the directory for this run's event files (``train/`` and
            ``validation/`` are created inside it). Use a new directory per
            run: TensorBoard shows every file under it.
        histogram_freq: epochs between weight histograms; 0 writes none.
        write_graph: write the model's config for TensorBoard's Graphs tab.
        write_images: accepted for Keras compatibility; ignored.
        write_steps_per_second: also log training steps per second.
        update_freq: ``"epoch"`` (scalars once per epoch), ``"batch"`` (also
            after every batch) or an integer N (also after every N-th batch).
        profile_batch: must be 0 (no profiler; see above).
        embeddings_freq: accepted for Keras compatibility; ignored.
        embeddings_metadata: accepted for Keras compatibility; ignored.

    Raises:
        TypeError / ValueError: an argument of the wrong type or out of range,
            named in the message.
        ModuleNotFoundError: tensorboardX is not installed (the message names
            ``pip install tensorboardX`` and the ``tensorboard`` extra).

    Example::

        tensorboard = seqnn.callbacks.TensorBoard(log_dir="logs/run1", histogram_freq=1)
        model.fit(x, y, epochs=10, validation_split=0.1, callbacks=[tensorboard])
        # then: tensorboard --logdir logs
    """

    def __init__(self, log_dir: str | os.PathLike = "logs", histogram_freq: int = 0, write_graph: bool = True,
                 write_images: bool = False, write_steps_per_second: bool = False, update_freq: str | int = "epoch",
                 profile_batch: int = 0, embeddings_freq: int = 0, embeddings_metadata=None):
        super().__init__()
        if not isinstance(log_dir, (str, os.PathLike)):
            raise TypeError(f"TensorBoard: log_dir must be a directory path, got {log_dir!r}")
        if not os.fspath(log_dir):
            raise ValueError("TensorBoard: log_dir must be a directory path, got an empty string")
        _check_int("histogram_freq", histogram_freq, 0, "epochs between weight histograms; 0 writes none")
        for name, value in (("write_graph", write_graph), ("write_images", write_images),
                            ("write_steps_per_second", write_steps_per_second)):
            if not isinstance(value, (bool, np.bool_)):
                raise TypeError(f"TensorBoard: {name} must be True or False, got {value!r}")
        if isinstance(update_freq, str):
            if update_freq not in ("epoch", "batch"):
                raise ValueError(f"TensorBoard: update_freq must be 'epoch', 'batch' or a positive integer "
                                 f"(batches between writes), got {update_freq!r}")
        else:
            _check_int("update_freq", update_freq, 1, "batches between writes, or 'epoch' or 'batch'")
        if profile_batch not in (0, None, "0", (0, 0), [0, 0]):
            raise ValueError(f"TensorBoard: profile_batch={profile_batch!r}: seqnn has no profiler to trace batches "
                             "with (as Keras 3 on its numpy and torch backends); leave profile_batch=0")
        _check_int("embeddings_freq", embeddings_freq, 0, "epochs between embedding snapshots; 0 writes none")
        ignored = [name for name, value in (("write_images", write_images), ("embeddings_freq", embeddings_freq),
                                            ("embeddings_metadata", embeddings_metadata))
                   if value != _IGNORED[name]]
        if ignored:
            warnings.warn(f"TensorBoard: {', '.join(ignored)} {'is' if len(ignored) == 1 else 'are'} accepted for "
                          "Keras compatibility but not supported by seqnn, and ignored", UserWarning, stacklevel=2)
        require("tensorboardX", "tensorboard", "seqnn.callbacks.TensorBoard")
        self.log_dir = os.fspath(log_dir)
        self.histogram_freq = int(histogram_freq)
        self.write_graph = bool(write_graph)
        self.write_images = bool(write_images)
        self.write_steps_per_second = bool(write_steps_per_second)
        # As in Keras: "batch" is every batch, so the attribute is "epoch" or a number of batches.
        self.update_freq = {"batch": 1, "epoch": "epoch"}.get(update_freq, update_freq) \
            if isinstance(update_freq, str) else int(update_freq)
        self.profile_batch = 0
        self.embeddings_freq = int(embeddings_freq)
        self.embeddings_metadata = embeddings_metadata
        self._writers: dict = {}
        self._training = False
        self._batches_seen = 0
        self._batch_rate: float | None = None
        self._batch_start = self._epoch_start = 0.0
        self._epoch_start_step = 0

    # ------------------------------------------------------------ writers ---
    def _writer(self, run: str):
        """The event writer for ``log_dir/<run>`` ("train" or "validation"), created on first use."""
        if run not in self._writers:
            from tensorboardX import SummaryWriter

            self._writers[run] = SummaryWriter(os.path.join(self.log_dir, run))
        return self._writers[run]

    def _flush(self) -> None:
        for writer in self._writers.values():
            writer.flush()

    def _close(self) -> None:
        for writer in self._writers.values():
            writer.close()
        self._writers = {}

    # ---------------------------------------------------- model, read-only ---
    def _optimizer(self):
        return getattr(self.model, "optimizer", None)

    def _step(self) -> int:
        """The global training step: the optimizer's update count (a count of batches without one)."""
        iterations = getattr(self._optimizer(), "iterations", None)
        if isinstance(iterations, (int, np.integer)) and not isinstance(iterations, bool):
            return int(iterations)
        return self._batches_seen

    def _learning_rate(self) -> float | None:
        rate = getattr(self._optimizer(), "learning_rate", None)
        try:
            return None if rate is None else float(rate)
        except (TypeError, ValueError):
            return None

    # -------------------------------------------------------------- hooks ---
    def on_train_begin(self, logs=None):
        self._close()
        self._training = True
        self._batches_seen = 0
        if self.write_graph:
            self._write_model_config()

    def on_epoch_begin(self, epoch, logs=None):
        self._epoch_start = time.perf_counter()
        self._epoch_start_step = self._step()

    def on_train_batch_begin(self, batch, logs=None):
        if self.update_freq != "epoch":
            self._batch_rate = self._learning_rate()  # the rate this batch's update uses
            self._batch_start = time.perf_counter()

    def on_train_batch_end(self, batch, logs=None):
        self._batches_seen += 1
        if self.update_freq == "epoch":
            return
        step = self._step()
        if step % self.update_freq:
            return
        values = dict(logs or {})
        if self._batch_rate is not None:
            values.setdefault("learning_rate", self._batch_rate)
        if self.write_steps_per_second:
            elapsed = time.perf_counter() - self._batch_start
            if elapsed > 0:
                values["steps_per_second"] = 1.0 / elapsed
        self._write_scalars("train", "batch_", values, step)

    def on_epoch_end(self, epoch, logs=None):
        logs = dict(logs or {})
        train = {key: value for key, value in logs.items() if not key.startswith("val_")}
        validation = {key[len("val_"):]: value for key, value in logs.items() if key.startswith("val_")}
        if "learning_rate" not in train:
            rate = self._learning_rate()
            if rate is not None:
                train["learning_rate"] = rate
        if self.write_steps_per_second:
            elapsed = time.perf_counter() - self._epoch_start
            if elapsed > 0:
                train["steps_per_second"] = (self._step() - self._epoch_start_step) / elapsed
        self._write_scalars("train", "epoch_", train, epoch)
        self._write_scalars("validation", "epoch_", validation, epoch)
        if self.histogram_freq and epoch % self.histogram_freq == 0:
            self._write_histograms(epoch)
        self._flush()

    def on_test_end(self, logs=None):
        if logs and self._optimizer() is not None:
            step = self._step()
            self._write_scalars("validation", "", {f"evaluation_{key}_vs_iterations": value
                                                   for key, value in logs.items()}, step)
        if self._training:
            return
        self._close()  # evaluate() alone: nothing else will close the file

    def on_train_end(self, logs=None):
        self._training = False
        self._close()

    # ------------------------------------------------------------ records ---
    def _write_scalars(self, run: str, prefix: str, values: dict, step: int) -> None:
        """Every number in ``values`` as ``<prefix><key>``; a vector as one scalar per component."""
        if not values:
            return
        writer = self._writer(run)
        for key, value in values.items():
            array = np.asarray(value)
            if array.dtype.kind not in "biuf":
                continue  # not a number (a string a custom callback logged): nothing to chart
            if array.ndim == 0:
                writer.add_scalar(prefix + key, float(array), step)
            elif array.ndim == 1:
                for index, component in enumerate(array):
                    writer.add_scalar(f"{prefix}{key}/{index}", float(component), step)

    def _write_histograms(self, epoch: int) -> None:
        writer = self._writer("train")
        for tag, values in _weights(self.model.layers, ""):
            writer.add_histogram(f"{tag}/histogram", values, epoch)

    def _write_model_config(self) -> None:
        """The model's JSON config as Keras's ``keras`` summary (TensorBoard's Graphs tab reads it)."""
        try:
            config = self.model.to_json()
            json.loads(config)
        except (AttributeError, TypeError, ValueError, NotImplementedError) as error:
            warnings.warn(f"TensorBoard: write_graph: the model has no JSON config ({error}); no graph written",
                          UserWarning, stacklevel=2)
            return
        from tensorboardX.proto.summary_pb2 import Summary, SummaryMetadata
        from tensorboardX.proto.tensor_pb2 import TensorProto
        from tensorboardX.proto.tensor_shape_pb2 import TensorShapeProto

        # The record Keras's keras_model_summary writes: a string tensor of the config, tagged "keras",
        # marked for the graph_keras_model plugin (content b"1" is the plugin data's version).
        metadata = SummaryMetadata(plugin_data=SummaryMetadata.PluginData(plugin_name="graph_keras_model",
                                                                          content=b"1"))
        tensor = TensorProto(dtype="DT_STRING", string_val=[config.encode("utf-8")], tensor_shape=TensorShapeProto())
        summary = Summary(value=[Summary.Value(tag="keras", metadata=metadata, tensor=tensor)])
        self._writer("train").file_writer.add_summary(summary, global_step=0)


def _weights(layers, prefix: str):
    """``(tag, array)`` for every built weight: ``<layer>/<weight>``, through nested models."""
    for layer in layers:
        inner = getattr(layer, "layers", None)
        if isinstance(inner, list):
            yield from _weights(inner, f"{prefix}{layer.name}/")
        elif getattr(layer, "built", False):
            for key, value in zip(layer.params, layer.get_weights()):
                yield f"{prefix}{layer.name}/{key}", value


def _check_int(name: str, value, low: int, meaning: str) -> None:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise TypeError(f"TensorBoard: {name} must be an integer ({meaning}), got {value!r}")
    if value < low:
        raise ValueError(f"TensorBoard: {name} must be >= {low} ({meaning}), got {value!r}")
