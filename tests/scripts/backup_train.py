"""Training script for the crash tests: trains with BackupAndRestore, then saves the final weights.

Usage: backup_train.py BACKUP_DIR OUT.npz [--pause-after-batch N | --pause-in-save N] [--save-freq F]

``--pause-after-batch N`` writes ``BACKUP_DIR/../paused`` after the N-th batch
and sleeps, so the test can SIGKILL it mid-epoch. ``--pause-in-save N`` does
the same in the middle of the N-th backup write (half of the bytes written).
"""
import argparse
import os
import time

import numpy as np

import seqnn as sn
from seqnn.callbacks.backup_and_restore import BackupAndRestore
from seqnn.saving import atomic

parser = argparse.ArgumentParser()
parser.add_argument("backup_dir")
parser.add_argument("out")
parser.add_argument("--pause-after-batch", type=int, default=0)
parser.add_argument("--pause-in-save", type=int, default=0)
parser.add_argument("--save-freq", default="4")
args = parser.parse_args()
marker = os.path.join(os.path.dirname(os.path.abspath(args.backup_dir)), "paused")


def pause():
    open(marker, "w").close()
    time.sleep(600)


if args.pause_in_save:
    real_write, calls = atomic.atomic_write, []

    def slow_write(path, write):
        calls.append(path)
        if len(calls) != args.pause_in_save:
            return real_write(path, write)

        def half_then_pause(f):
            import io

            buf = io.BytesIO()
            write(buf)
            data = buf.getvalue()
            f.write(data[: len(data) // 2])
            f.flush()
            pause()

        return real_write(path, half_then_pause)

    atomic.atomic_write = slow_write
    import seqnn.saving.safetensors_file as sf
    sf.atomic_write = slow_write


class PauseAt(sn.callbacks.Callback):
    seen = 0

    def on_train_batch_end(self, batch, logs=None):
        PauseAt.seen += 1
        if PauseAt.seen == args.pause_after_batch:
            pause()


sn.utils.set_random_seed(0)
rng = np.random.default_rng(0)
x = rng.normal(size=(400, 12)).astype(np.float32)
y = np.argmax(x @ rng.normal(size=(12, 4)), axis=1)
model = sn.Sequential([sn.Input((12,)), sn.layers.Dense(32, activation="relu"), sn.layers.Dropout(0.25),
                       sn.layers.Dense(4, activation="softmax")])
model.compile(optimizer=sn.optimizers.Adam(3e-3), loss="sparse_categorical_crossentropy", metrics=["accuracy"])
save_freq = "epoch" if args.save_freq == "epoch" else int(args.save_freq)
callbacks = [PauseAt(), sn.callbacks.History(), BackupAndRestore(args.backup_dir, save_freq=save_freq)]
history = model.fit(x, y, epochs=5, batch_size=32, validation_split=0.2, verbose=0, callbacks=callbacks, seed=3)
np.savez(args.out, *model.get_weights(), loss=np.array(history.history["loss"]))
