"""
Write your own callback
=======================

Hook into training to log, measure, or stop it. A callback subclasses
``seqnn.callbacks.Callback`` and overrides the hooks it needs (Keras's set:
``on_train_begin``, ``on_epoch_end``, ``on_train_batch_end``, ...).
``self.model`` is the model being trained and ``logs`` is a dict of floats
(``loss``, ``accuracy``, ``val_...``). Two are shown here on the embedded
digits: one records the loss of every batch and times each epoch, the other
stops training once validation accuracy reaches a target.

.. code-block:: bash

   python examples/custom_callback.py [--epochs 50] [--target 0.95]
"""
import argparse
import time

import seqnn as sn

parser = argparse.ArgumentParser(
    description="Write your own callback: log, measure or stop training.")
parser.add_argument("--epochs", type=int, default=50)
parser.add_argument("--target", type=float, default=0.95,
                    help="validation accuracy at which to stop")
parser.add_argument("--seed", type=int, default=0)
args = parser.parse_args()

# %%
# Two callbacks
# -------------
# The first keeps a list of every batch's running loss and of each epoch's
# wall time; the second sets ``model.stop_training`` (Keras's way to stop)
# once the monitored value reaches the target.


class BatchLossAndTiming(sn.callbacks.Callback):
    """Keep every batch's running loss and each epoch's wall time."""

    def on_train_begin(self, logs=None):
        self.batch_losses, self.epoch_seconds = [], []

    def on_epoch_begin(self, epoch, logs=None):
        self._start = time.perf_counter()

    def on_train_batch_end(self, batch, logs=None):
        self.batch_losses.append(logs["loss"])

    def on_epoch_end(self, epoch, logs=None):
        self.epoch_seconds.append(time.perf_counter() - self._start)


class StopAtAccuracy(sn.callbacks.Callback):
    """Stop once ``monitor`` reaches ``target`` (Keras's way: model.stop_training)."""

    def __init__(self, target: float, monitor: str = "val_accuracy"):
        super().__init__()
        self.target, self.monitor = target, monitor
        self.stopped_at = None

    def on_epoch_end(self, epoch, logs=None):
        value = (logs or {}).get(self.monitor)
        if value is not None and value >= self.target:
            print(f"  {self.monitor} {value:.4f} reached {self.target} "
                  f"at epoch {epoch + 1}: stopping")
            self.stopped_at = epoch + 1
            self.model.stop_training = True


# %%
# Train with them
# ---------------
# A fifth of the training images, stratified by class, is held out for
# validation; callbacks go in ``fit(callbacks=[...])`` and run in that order.
(x_train, y_train), (x_test, y_test) = sn.datasets.digits.load_data()
x_train, x_val, y_train, y_val = sn.datasets.train_test_split(
    x_train, y_train, test_size=0.2, stratify=y_train, seed=args.seed)
sn.utils.set_random_seed(args.seed)
model = (sn.Sequential(name="digits_mlp")
         .add(sn.layers.Input((8, 8)))
         .add(sn.layers.Rescaling(1 / 16))
         .add(sn.layers.Flatten())
         .add(sn.layers.Dense(64, activation="relu"))
         .add(sn.layers.Dense(10, activation="softmax"))
         .compile(optimizer=sn.optimizers.Adam(1e-3),
                  loss="sparse_categorical_crossentropy",
                  metrics=["accuracy"]))

recorder, stopper = BatchLossAndTiming(), StopAtAccuracy(args.target)
history = model.fit(x_train, y_train, epochs=args.epochs, batch_size=32,
                    validation_data=(x_val, y_val), verbose=0, seed=args.seed,
                    callbacks=[recorder, stopper])

# %%
# What they recorded
# ------------------
# Training stopped at the first epoch whose validation accuracy reached the
# target; the recorder saw every batch of every epoch that ran.
epochs_run = len(history.history["loss"])
reached = "" if stopper.stopped_at else " (target not reached)"
print(f"epochs run: {epochs_run} of {args.epochs}{reached}")
losses = recorder.batch_losses
print(f"batches recorded: {len(losses)}; running loss of the first batch "
      f"{losses[0]:.3f}, of the last {losses[-1]:.3f}")
mean_ms = 1000 * sum(recorder.epoch_seconds) / len(recorder.epoch_seconds)
print(f"mean epoch time: {mean_ms:.1f} ms")
result = model.evaluate(x_test, y_test, verbose=0, return_dict=True)
print(f"test accuracy: {result['accuracy']:.4f}")
