"""BatchLoader: batches from arrays, np.memmap and .npy files; seeded shuffling; fit/evaluate/predict on it."""
import numpy as np
import pytest

import seqnn as sn
from seqnn.datasets import BatchLoader, open_npy


@pytest.fixture
def npy_files(tmp_path):
    """x.npy (uint8 images, written through a memmap in chunks) and y.npy, 1,000 samples."""
    rng = np.random.default_rng(0)
    n = 1000
    x = np.lib.format.open_memmap(tmp_path / "x.npy", mode="w+", dtype=np.uint8, shape=(n, 8, 8))
    for start in range(0, n, 256):
        x[start:start + 256] = rng.integers(0, 17, (min(256, n - start), 8, 8))
    x.flush()
    y = (np.asarray(x)[:, 0, 0] > 8).astype(np.int64)  # a rule the model can learn in a few epochs
    np.save(tmp_path / "y.npy", y)
    del x
    return tmp_path / "x.npy", tmp_path / "y.npy"


def all_rows(loader):
    return np.concatenate([batch[1] if isinstance(batch, tuple) else batch for batch in loader])


def test_paths_open_as_read_only_memory_maps(npy_files):
    loader = BatchLoader(*npy_files, batch_size=100)
    assert isinstance(loader.x, np.memmap) and not loader.x.flags.writeable
    assert len(loader) == 10 and loader.num_samples == 1000


def test_every_sample_once_per_epoch_and_batches_stay_paired(npy_files):
    x_all, y_all = np.load(npy_files[0]), np.load(npy_files[1])
    loader = BatchLoader(*npy_files, batch_size=64, seed=1)
    for xb, yb in loader:
        assert len(xb) == len(yb) <= 64 and xb.dtype == np.uint8
        # a batch's rows are the rows whose labels it carries
        match = [np.flatnonzero((x_all == row).all(axis=(1, 2)))[0] for row in xb[:3]]
        np.testing.assert_array_equal(y_all[match], yb[:3])
    assert len(all_rows(BatchLoader(*npy_files, batch_size=64, seed=1))) == 1000


def test_seeded_shuffling_is_reproducible_and_changes_per_epoch():
    x = np.arange(50)[:, None].astype(np.float32)
    first = [b[0][:, 0].tolist() for b in BatchLoader(x, np.arange(50), batch_size=10, seed=7)]
    same = [b[0][:, 0].tolist() for b in BatchLoader(x, np.arange(50), batch_size=10, seed=7)]
    assert first == same
    loader = BatchLoader(x, np.arange(50), batch_size=10, seed=7)
    epoch0, epoch1 = all_rows(loader), all_rows(loader)
    assert sorted(epoch0) == sorted(epoch1) == list(range(50)) and epoch0.tolist() != epoch1.tolist()
    loader.set_epoch(0)
    np.testing.assert_array_equal(all_rows(loader), epoch0)
    assert loader.epoch == 1


def test_unshuffled_and_batch_shuffled_orders():
    y = np.arange(25)
    ordered = BatchLoader(y[:, None], y, batch_size=10, shuffle=False)
    assert [len(b[1]) for b in ordered] == [10, 10, 5]
    np.testing.assert_array_equal(all_rows(ordered), y)
    blocks = BatchLoader(y[:, None], y, batch_size=10, shuffle="batch", seed=3)
    batches = [b[1] for b in blocks]
    assert all(np.all(np.diff(b) == 1) for b in batches)  # each batch contiguous
    assert sorted(np.concatenate(batches).tolist()) == y.tolist()


def test_drop_remainder_sample_weight_and_x_only():
    x, y, w = np.zeros((25, 2)), np.zeros(25), np.ones(25)
    assert len(BatchLoader(x, y, batch_size=10, drop_remainder=True)) == 2
    batch = next(iter(BatchLoader(x, y, w, batch_size=10)))
    assert len(batch) == 3
    only_x = next(iter(BatchLoader(x, batch_size=10, shuffle=False)))
    assert isinstance(only_x, np.ndarray) and only_x.shape == (10, 2)


@pytest.mark.parametrize("kwargs, error, message", [
    ({"x": np.zeros((3, 2)), "y": np.zeros(4)}, ValueError, r"same number of samples"),
    ({"x": np.zeros((3, 2)), "batch_size": 0}, ValueError, r"batch_size must be a positive integer"),
    ({"x": np.zeros((3, 2)), "shuffle": "rows"}, ValueError, r"shuffle must be True, False or 'batch'"),
    ({"x": np.zeros((3, 2)), "batch_size": 5, "drop_remainder": True}, ValueError, r"leaves no batch"),
    ({"x": np.zeros((0, 2))}, ValueError, r"0 samples"),
    ({"x": 3.0}, TypeError, r"expected an array"),
    ({"x": np.array([{}, {}], dtype=object)}, TypeError, r"numeric"),
])
def test_bad_arguments(kwargs, error, message):
    with pytest.raises(error, match=message):
        BatchLoader(**kwargs)


def test_bad_npy_files(tmp_path):
    (tmp_path / "text.npy").write_text("not numpy")
    with pytest.raises(ValueError, match=r"x: .*text\.npy is not a readable \.npy file"):
        BatchLoader(tmp_path / "text.npy")
    np.save(tmp_path / "obj.npy", np.array([None, 1], dtype=object), allow_pickle=True)
    with pytest.raises(ValueError, match="not a readable .npy file"):
        open_npy(tmp_path / "obj.npy")
    np.savez(tmp_path / "a.npz", x=np.zeros(2))
    with pytest.raises(ValueError, match="is an .npz archive"):
        open_npy(tmp_path / "a.npz")
    with pytest.raises(FileNotFoundError):
        BatchLoader(tmp_path / "absent.npy")


def model_for(shape):
    return (sn.Sequential([sn.layers.Input(shape), sn.layers.Rescaling(1 / 16), sn.layers.Flatten(),
                           sn.layers.Dense(16, activation="relu"), sn.layers.Dense(2, activation="softmax")])
            .compile(optimizer=sn.optimizers.Adam(1e-2), loss="sparse_categorical_crossentropy",
                     metrics=["accuracy"]))


def test_fit_evaluate_and_predict_take_the_loader(npy_files):
    model = model_for((8, 8))
    train = BatchLoader(*npy_files, batch_size=50, seed=0)
    history = model.fit(train, epochs=4, verbose=0, validation_data=BatchLoader(*npy_files, shuffle=False))
    assert history.params["steps"] == 20 and len(history.history["val_loss"]) == 4
    assert train.epoch == 4  # one pass per epoch
    result = model.evaluate(BatchLoader(*npy_files, batch_size=200, shuffle=False), verbose=0, return_dict=True)
    assert result["accuracy"] > 0.8
    in_memory = model.evaluate(np.load(npy_files[0]), np.load(npy_files[1]), verbose=0, return_dict=True)
    assert result["accuracy"] == pytest.approx(in_memory["accuracy"])
    probs = model.predict(BatchLoader(npy_files[0], batch_size=300, shuffle=False), verbose=0)
    assert probs.shape == (1000, 2)
    np.testing.assert_allclose(probs, model.predict(np.load(npy_files[0]), verbose=0), rtol=1e-5, atol=1e-6)


def test_same_seed_same_training(npy_files):
    weights = []
    for _ in range(2):
        sn.utils.set_random_seed(0)
        model = model_for((8, 8))
        model.fit(BatchLoader(*npy_files, batch_size=64, seed=3), epochs=2, verbose=0, seed=0)
        weights.append(model.get_weights())
    for a, b in zip(*weights):
        np.testing.assert_array_equal(a, b)
