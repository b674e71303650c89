"""Resuming with a BatchLoader is exact: fit tells the loader which epoch each of its epochs is.

Before, ``fit`` iterated the loader afresh every epoch, and the loader counted
its own epochs: a rerun after a crash made a new loader at epoch 0, so the
resumed epoch 1 was shuffled as epoch 0 and the weights differed.
"""
import numpy as np
import pytest

import seqnn as sn
from seqnn.callbacks.backup_and_restore import BackupAndRestore
from seqnn.datasets import BatchLoader


class Crash(Exception):
    pass


def data():
    rng = np.random.default_rng(1)
    x = rng.normal(size=(80, 5)).astype(np.float32)
    y = np.argmax(x @ rng.normal(size=(5, 3)), axis=1)
    return x, y


def train(backup_dir, shuffle=True, save_freq="epoch", crash_at=None, validate=False, epochs=3, arrays=False):
    """One run of a training script: same seeds, a new loader; ``crash_at`` = the batch count to die at."""
    sn.utils.set_random_seed(0)
    x, y = data()
    loader = BatchLoader(x, y, batch_size=16, shuffle=shuffle)  # seed drawn from the global seed
    val = BatchLoader(x[:40], y[:40], batch_size=8, shuffle=True) if validate else None
    model = sn.Sequential([sn.Input((5,)), sn.layers.Dense(8, activation="tanh"),
                           sn.layers.Dense(3, activation="softmax")])
    model.compile(optimizer=sn.optimizers.Adam(1e-2), loss="sparse_categorical_crossentropy",
                  metrics=["accuracy"])
    seen = []

    class Watch(sn.callbacks.Callback):
        def on_train_batch_end(self, batch, logs=None):
            seen.append(batch)
            if len(seen) == crash_at:
                raise Crash

    history = model.fit(*((x, y) if arrays else (loader,)), batch_size=16, epochs=epochs, verbose=0, seed=5,
                        validation_data=val, callbacks=[Watch(), BackupAndRestore(backup_dir, save_freq=save_freq)])
    return model, history


@pytest.mark.parametrize("shuffle, save_freq, crash_at", [
    (True, "epoch", 7),       # in epoch 2 (5 batches an epoch): resumes at epoch 1's start
    (True, 3, 8),             # mid-epoch: resumes at epoch 1, batch 1
    ("batch", "epoch", 12),   # in epoch 3: resumes at epoch 2's start
    ("batch", 2, 9),
])
def test_resumed_run_with_a_shuffling_loader_is_bit_identical(tmp_path, shuffle, save_freq, crash_at):
    reference, ref_history = train(tmp_path / "ref", shuffle, save_freq)
    with pytest.raises(Crash):
        train(tmp_path / "run", shuffle, save_freq, crash_at=crash_at)
    resumed, history = train(tmp_path / "run", shuffle, save_freq)
    for a, b in zip(reference.get_weights(), resumed.get_weights()):
        assert np.array_equal(a, b)
    assert history.history == ref_history.history


@pytest.mark.parametrize("arrays", [True, False])
def test_a_shuffled_validation_loader_resumes_in_step_too(tmp_path, arrays):
    reference, ref_history = train(tmp_path / "ref", validate=True, arrays=arrays)
    with pytest.raises(Crash):
        train(tmp_path / "run", validate=True, crash_at=7, arrays=arrays)
    resumed, history = train(tmp_path / "run", validate=True, arrays=arrays)
    assert history.history == ref_history.history  # val_loss summed in the same batch order


class EpochLog:
    """A user's own re-iterable loader that follows the protocol: ``epoch`` and ``set_epoch``."""

    def __init__(self):
        self.epoch = 0
        self.told = []
        x, y = data()
        self.batches = [(x[i:i + 40], y[i:i + 40]) for i in (0, 40)]

    def set_epoch(self, epoch):
        self.told.append(epoch)
        self.epoch = epoch

    def __iter__(self):
        self.epoch += 1
        return iter(self.batches)

    def __len__(self):
        return len(self.batches)


def fitted_model():
    model = sn.Sequential([sn.Input((5,)), sn.layers.Dense(3, activation="softmax")])
    return model.compile(optimizer="sgd", loss="sparse_categorical_crossentropy")


def test_fit_counts_on_from_the_loader_epoch_so_repeated_fits_keep_shuffling():
    loader, model = EpochLog(), fitted_model()
    model.fit(loader, epochs=2, verbose=0)
    model.fit(loader, epochs=1, verbose=0)  # a second fit continues the loader's count
    assert loader.told == [0, 1, 2]


def test_fit_from_initial_epoch_starts_the_loader_there():
    loader, model = EpochLog(), fitted_model()
    model.fit(loader, initial_epoch=3, epochs=5, verbose=0)  # Keras's manual resume, with a new loader
    assert loader.told == [3, 4]


def test_batch_loader_epochs_follow_fit():
    x, y = data()
    loader = BatchLoader(x, y, batch_size=16, seed=3)
    fitted_model().fit(loader, epochs=2, verbose=0)
    assert loader.epoch == 2
    orders = [loader.batch_order(e)[0] for e in range(2)]
    assert not np.array_equal(orders[0], orders[1])  # each epoch its own order, as without fit


def test_loaders_without_the_protocol_and_generators_still_train():
    x, y = data()
    model = fitted_model()
    model.fit([(x[:40], y[:40]), (x[40:], y[40:])], epochs=2, verbose=0)
    model.fit(((x[i:i + 20], y[i:i + 20]) for i in range(0, 80, 20)), epochs=1, verbose=0)
