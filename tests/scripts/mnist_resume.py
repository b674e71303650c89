"""MNIST training with EarlyStopping, best-only ModelCheckpoint, CSVLogger and BackupAndRestore.

Usage: mnist_resume.py DATA_DIR WORK_DIR [--limit N] [--epochs E] [--pause-after-batch B]

Writes WORK_DIR/final.npz (final weights), WORK_DIR/log.csv and
WORK_DIR/best.safetensors. With --pause-after-batch it writes WORK_DIR/paused
after batch B and sleeps, so a test can SIGKILL it there.
"""
import argparse
import os
import time

import numpy as np

import seqnn as sn

parser = argparse.ArgumentParser()
parser.add_argument("data_dir")
parser.add_argument("work_dir")
parser.add_argument("--limit", type=int, default=0)
parser.add_argument("--epochs", type=int, default=4)
parser.add_argument("--pause-after-batch", type=int, default=0)
args = parser.parse_args()
work = args.work_dir


class PauseAt(sn.callbacks.Callback):
    seen = 0

    def on_train_batch_end(self, batch, logs=None):
        PauseAt.seen += 1
        if PauseAt.seen == args.pause_after_batch:
            open(os.path.join(work, "paused"), "w").close()
            time.sleep(600)


(x, y), _ = sn.datasets.mnist.load_data(args.data_dir)
if args.limit:
    x, y = x[:args.limit], y[:args.limit]
sn.utils.set_random_seed(0)
model = sn.Sequential([sn.Input((28, 28)), sn.layers.Rescaling(1 / 255), sn.layers.Flatten(),
                       sn.layers.Dense(128, activation="relu"), sn.layers.Dropout(0.2),
                       sn.layers.Dense(10, activation="softmax")])
model.compile(optimizer=sn.optimizers.Adam(1e-3), loss="sparse_categorical_crossentropy", metrics=["accuracy"])
callbacks = [
    PauseAt(),
    sn.callbacks.EarlyStopping(monitor="val_accuracy", patience=2, restore_best_weights=True),
    sn.callbacks.ModelCheckpoint(os.path.join(work, "best.safetensors"), monitor="val_accuracy",
                                 save_best_only=True),
    sn.callbacks.CSVLogger(os.path.join(work, "log.csv")),
    sn.callbacks.BackupAndRestore(os.path.join(work, "backup"), save_freq=25),
]
model.fit(x, y, epochs=args.epochs, batch_size=128, validation_split=0.1, verbose=0, callbacks=callbacks, seed=1)
np.savez(os.path.join(work, "final.npz"), *model.get_weights())
