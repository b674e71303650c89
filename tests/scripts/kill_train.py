"""Training script for the SIGKILL test: saves constantly, so that kills land in the middle of saves.

Usage: kill_train.py WORKDIR [--loader]

Trains a small classifier for 3 epochs with, after every batch, a
``ModelCheckpoint`` of the whole model (``last.safetensors``), one of the
weights only per epoch (``weights-{epoch}.safetensors``), the best model by
loss (``best.safetensors``) and a ``BackupAndRestore`` backup; the model is
big enough that saving takes most of the time. ``--loader`` feeds the data
through a shuffling ``BatchLoader`` instead of arrays. When training ends it
writes the final weights to ``WORKDIR/final.npz`` and the history to
``WORKDIR/history.json``. Rerun after a kill, it resumes from the backup.
"""
import argparse
import json
import os

import numpy as np

import seqnn as sn
from seqnn.datasets import BatchLoader

parser = argparse.ArgumentParser()
parser.add_argument("workdir")
parser.add_argument("--loader", action="store_true")
args = parser.parse_args()
out = args.workdir

sn.utils.set_random_seed(0)
rng = np.random.default_rng(0)
x = rng.normal(size=(192, 32)).astype(np.float32)
y = np.argmax(x[:, :4] @ rng.normal(size=(4, 4)), axis=1)
model = sn.Sequential([sn.Input((32,)), sn.layers.Dense(256, activation="relu"), sn.layers.Dropout(0.2),
                       sn.layers.Dense(128, activation="relu"), sn.layers.Dense(4, activation="softmax")])
model.compile(optimizer=sn.optimizers.Adam(1e-3), loss="sparse_categorical_crossentropy", metrics=["accuracy"])
callbacks = [
    sn.callbacks.ModelCheckpoint(os.path.join(out, "ckpt", "last.safetensors"), save_freq=1),
    sn.callbacks.ModelCheckpoint(os.path.join(out, "ckpt", "weights-{epoch}.safetensors"), save_weights_only=True),
    sn.callbacks.ModelCheckpoint(os.path.join(out, "ckpt", "best.safetensors"), monitor="loss", save_best_only=True),
    sn.callbacks.BackupAndRestore(os.path.join(out, "backup"), save_freq=1),
]
data = (BatchLoader(x, y, batch_size=16, shuffle=True),) if args.loader else (x, y)
history = model.fit(*data, epochs=3, batch_size=16, verbose=0, callbacks=callbacks, seed=4)
np.savez(os.path.join(out, "final.npz"), *model.get_weights())
with open(os.path.join(out, "history.json"), "w") as f:
    json.dump(history.history, f)
