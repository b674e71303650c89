"""
Resume interrupted training: BackupAndRestore
=============================================

``BackupAndRestore(backup_dir)`` saves the whole training state at every
epoch's end (weights, optimizer, epoch, shuffling and dropout random state,
history, other callbacks' state). If the process dies, running the same
script again restores that state and continues with the next epoch; the
finished model is bit-identical to one trained without interruption.

This script plays it out in one process: a first run is "killed" after a few
epochs (a callback raises, as a crash or Ctrl-C would), a second run with the
same code picks up from the backup, and a third, uninterrupted run shows that
the results are identical. In your own script you only need the callback and
a rerun after a crash.

.. code-block:: bash

   python examples/resume_training.py [--epochs 12] [--interrupt-after 5]
"""
import argparse
import os
import shutil
import tempfile

import numpy as np

import seqnn as sn

parser = argparse.ArgumentParser(
    description="Interrupted training continues where it stopped: BackupAndRestore.")
parser.add_argument("--epochs", type=int, default=12)
parser.add_argument("--interrupt-after", type=int, default=5,
                    help="the first run dies in the epoch after this one")
parser.add_argument("--seed", type=int, default=0)
args = parser.parse_args()
if not 0 < args.interrupt_after < args.epochs:
    parser.error("--interrupt-after must be between 1 and --epochs - 1")


# %%
# A crash on purpose, and the training script
# -------------------------------------------
# ``CrashAfter`` raises in the middle of an epoch, as a crash would.
# ``train`` is "the script": the same seed, model, data and callbacks every
# time it runs, which is what resuming needs.
class SimulatedCrash(Exception):
    pass


class CrashAfter(sn.callbacks.Callback):
    """Raise in the middle of the epoch after epoch ``epochs`` (None: never).

    The backup of epoch ``epochs`` is on disk by then.
    """

    def __init__(self, epochs: int | None):
        super().__init__()
        self.epochs = epochs
        self._epoch = 0

    def on_epoch_begin(self, epoch, logs=None):
        self._epoch = epoch

    def on_train_batch_end(self, batch, logs=None):
        if self.epochs is not None and self._epoch == self.epochs and batch == 10:
            raise SimulatedCrash(f"simulated crash in epoch {self._epoch + 1}, "
                                 f"batch {batch + 1}")


class EpochsRun(sn.callbacks.Callback):
    """Which epochs this run actually trained (1-based)."""

    def on_train_begin(self, logs=None):
        self.epochs = []

    def on_epoch_begin(self, epoch, logs=None):
        self.epochs.append(epoch + 1)


def train(x, y, epochs: int, seed: int, backup_dir: str | None,
          crash_after: int | None = None) -> tuple:
    """The same script each time: same seed, model, data and callbacks.

    (A resumed run must match the interrupted one.)
    """
    sn.utils.set_random_seed(seed)
    model = (sn.Sequential(name="digits_mlp")
             .add(sn.layers.Input((8, 8)))
             .add(sn.layers.Rescaling(1 / 16))
             .add(sn.layers.Flatten())
             .add(sn.layers.Dense(64, activation="relu"))
             .add(sn.layers.Dropout(0.1))
             .add(sn.layers.Dense(10, activation="softmax"))
             .compile(optimizer=sn.optimizers.Adam(1e-3),
                      loss="sparse_categorical_crossentropy",
                      metrics=["accuracy"]))
    seen = EpochsRun()
    callbacks = [seen, CrashAfter(crash_after)]
    if backup_dir:
        callbacks.insert(0, sn.callbacks.BackupAndRestore(backup_dir))
    history = model.fit(x, y, epochs=epochs, batch_size=32, verbose=0, seed=seed,
                        callbacks=callbacks)
    return model, history, seen.epochs


# %%
# Run 1: interrupted
# ------------------
# The backup holds the state after the last finished epoch.
(x, y), (x_test, y_test) = sn.datasets.digits.load_data()
tmp = tempfile.mkdtemp()
backup_dir = os.path.join(tmp, "backup")
try:
    train(x, y, args.epochs, args.seed, backup_dir, crash_after=args.interrupt_after)
except SimulatedCrash as e:
    print(f"run 1: {e}; the backup in {os.path.basename(backup_dir)}/ holds epochs "
          f"1..{args.interrupt_after}: {sorted(os.listdir(backup_dir))}")

# %%
# Run 2: the same script again
# ----------------------------
# ``BackupAndRestore`` finds the backup, restores everything and trains only
# the epochs that are left; the backup is deleted once training completes.
model, history, epochs_run = train(x, y, args.epochs, args.seed, backup_dir)
removed = not os.path.exists(os.path.join(backup_dir, "backup.safetensors"))
print(f"run 2: resumed from the backup and trained epochs "
      f"{epochs_run[0]}..{epochs_run[-1]}; "
      f"history holds all {len(history.history['loss'])} epochs; "
      f"backup removed at the end: {removed}")
shutil.rmtree(tmp)

# %%
# Run 3: never interrupted
# ------------------------
# Trained from scratch with no backup: its weights equal the resumed run's,
# bit for bit.
reference, _, reference_epochs = train(x, y, args.epochs, args.seed, None)
same = all(np.array_equal(a, b)
           for a, b in zip(model.get_weights(), reference.get_weights()))
print(f"run 3: uninterrupted, epochs 1..{reference_epochs[-1]}; "
      f"weights identical to the resumed run: {same}")
result = model.evaluate(x_test, y_test, verbose=0, return_dict=True)
print(f"test accuracy: {result['accuracy']:.4f}")
if not same:
    raise SystemExit("resumed training diverged from the uninterrupted run")
