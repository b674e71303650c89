"""BackupAndRestore: survive a crash and continue exactly where training stopped."""
from __future__ import annotations

import os

from ..argument_checks import check_bool, describe
from ..distribute.base import distribution_of
from .callback import Callback

BACKUP_NAME = "backup.safetensors"


class BackupAndRestore(Callback):
    """Back up the whole training state; a rerun of the same script resumes from it.

    Every ``save_freq`` ("epoch", or every N batches) it writes one file in
    ``backup_dir``, atomically: weights, optimizer state, the loop's position
    (epoch and batch), its random state (shuffling, dropout), the running loss,
    the history so far and the other callbacks' state (best values, patience
    counters). Rerunning the same script — same model, data, seeds and
    callbacks — restores all of it at ``on_train_begin`` and continues at the
    next batch; the final weights are bit-identical to an uninterrupted run's.
    A run that finishes (all epochs, or stopped by a callback) deletes its
    backup unless ``delete_checkpoint=False``.

    A crash while the backup is being written leaves the previous backup
    intact (the write goes to a temporary file renamed into place); the next
    backup removes the temporary file the crash left. A backup that does not
    fit the run (another model, other callbacks, a damaged or forged file)
    stops ``fit`` with a ValueError naming the file, before anything changes.

    It works through the model's public ``backup_training`` and
    ``restore_training``, and runs after every other callback (see
    :class:`CallbackList`), so the state it saves includes theirs.

    Exact resume is guaranteed for array data and for
    :class:`~seqnn.datasets.BatchLoader`; a loader of your own needs
    ``set_epoch(n)`` and an ``epoch`` count (fit tells it which epoch each of
    its epochs is) or must yield the same batches whenever it is iterated
    (the protocol: :class:`seqnn.models.data.LoaderBatches`).

    In data-parallel training rank 0 writes and deletes the backup, and every
    process restores from it: ``backup_dir`` must be storage that every
    process sees (a shared file system across machines). The processes wait
    for each other before looking for it, and refuse to start if they
    disagree on whether it exists.
    """

    runs_last = True

    def __init__(self, backup_dir: str | os.PathLike, save_freq: str | int = "epoch",
                 delete_checkpoint: bool = True):
        super().__init__()
        if not isinstance(backup_dir, (str, os.PathLike)):
            raise TypeError(f"BackupAndRestore: backup_dir must be a directory path (str or os.PathLike), "
                            f"got {describe(backup_dir)}")
        if not os.fspath(backup_dir):
            raise ValueError("BackupAndRestore: backup_dir must be a directory path, got an empty value")
        if save_freq != "epoch" and (isinstance(save_freq, bool) or not isinstance(save_freq, int)
                                     or save_freq <= 0):
            raise ValueError(f"BackupAndRestore: save_freq must be 'epoch' or a positive number of batches, "
                             f"got {save_freq!r}")
        self.backup_dir = os.fspath(backup_dir)
        self.save_freq = save_freq
        self.delete_checkpoint = check_bool(delete_checkpoint, "BackupAndRestore", "delete_checkpoint")
        self._batches_seen = 0

    @property
    def backup_path(self) -> str:
        return os.path.join(self.backup_dir, BACKUP_NAME)

    def on_train_begin(self, logs=None):
        self._batches_seen = 0
        distribution = distribution_of(self.model)
        distribution.barrier("BackupAndRestore: waiting for rank 0's last backup")
        found = os.path.exists(self.backup_path)
        distribution.check_same(found, f"whether the backup {self.backup_path} exists (backup_dir must be storage "
                                       "every process sees)")
        if found:
            self.model.restore_training(self.backup_path)

    def on_train_batch_end(self, batch, logs=None):
        if self.save_freq != "epoch":
            self._batches_seen += 1
            if self._batches_seen % self.save_freq == 0:
                self.model.backup_training(self.backup_path)

    def on_epoch_end(self, epoch, logs=None):
        if self.save_freq == "epoch":
            self.model.backup_training(self.backup_path)

    def on_train_end(self, logs=None):
        if self.delete_checkpoint and distribution_of(self.model).is_chief and os.path.exists(self.backup_path):
            os.unlink(self.backup_path)
