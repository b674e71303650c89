"""seqnn.distribute without MPI: shards, the sharder, sharded random streams, exact sums, the chief-only
callbacks, the compile argument, and what happens where MPI is missing or no launcher started the script."""
import importlib.util
import os
import subprocess
import sys

import numpy as np
import pytest

import seqnn as sn
from seqnn.backends import counter_rng
from seqnn.distribute import runtime
from seqnn.distribute.base import Distribution
from seqnn.distribute.exact_sums import ExactSums
from seqnn.distribute.sharded_rng import ShardedStream
from seqnn.distribute.sharder import Sharder
from seqnn.distribute.shards import shard_counts, shard_of
from seqnn.datasets import BatchLoader


# ------------------------------------------------------------------ shards ---
@pytest.mark.parametrize("total, size", [(10, 3), (128, 2), (1, 3), (2, 3), (7, 7), (1000, 64)])
def test_shards_are_contiguous_in_rank_order_and_differ_by_at_most_one_row(total, size):
    counts = shard_counts(total, size)
    assert sum(counts) == total and max(counts) - min(counts) <= 1
    rows = []
    for rank in range(size):
        shard = shard_of(total, rank, size)
        rows += list(range(shard.start, shard.start + shard.count))
    assert rows == list(range(total))


def test_shares_make_the_global_mean_and_sum():
    shard = shard_of(10, 0, 3)  # 4, 3, 3 rows
    assert [shard.share("sum_over_batch_size", r) for r in range(3)] == [0.4, 0.3, 0.3]
    assert [shard.share("sum", r) for r in range(3)] == [1.0, 1.0, 1.0]
    empty = shard_of(1, 2, 3)
    assert empty.count == 0 and empty.share() == 0.0 and empty.weight() == 0.0
    assert empty.compute == slice(0, 1)  # computes the batch's last row, with share 0
    with pytest.raises(ValueError, match="reduction='none'"):
        shard.share("none")
    with pytest.raises(ValueError, match="at least one row"):
        shard_of(0, 0, 2)


def test_the_sharder_cuts_indices_and_batches_and_remembers_the_shard():
    sharder = Sharder(1, 3)
    assert sharder.take(slice(20, 30)) == slice(24, 27)
    assert sharder.current.total == 10 and sharder.current.start == 4
    assert list(sharder.take(np.array([5, 1, 9, 3, 7]))) == [9, 3]  # 2, 2, 1 rows
    x, y = np.arange(10).reshape(5, 2), np.arange(5)
    xs, ys, ws = sharder.split((x, y, None))
    assert np.array_equal(xs, x[2:4]) and np.array_equal(ys, y[2:4]) and ws is None


def test_the_sharder_tells_on_shard_each_shard_and_the_end_of_the_step():
    sharder, seen = Sharder(0, 2), []
    sharder.on_shard = seen.append
    sharder.take(slice(0, 7))
    sharder.current = None
    assert [None if shard is None else (shard.count, shard.total) for shard in seen] == [(4, 7), None]


def test_a_batch_loader_reads_only_its_shard(tmp_path):
    x = np.arange(40, dtype=np.float32).reshape(20, 2)
    np.save(tmp_path / "x.npy", x)
    expected = list(BatchLoader(tmp_path / "x.npy", np.arange(20), batch_size=6, shuffle=True, seed=3))
    pieces = []
    for rank in range(3):
        loader = BatchLoader(tmp_path / "x.npy", np.arange(20), batch_size=6, shuffle=True, seed=3)
        loader.sharder = Sharder(rank, 3)
        batches = list(loader)
        assert len(batches) == len(expected) == 4  # 6, 6, 6, 2 rows: the last one leaves rank 2 empty
        pieces.append([xb for xb, _ in batches])
    for step, (xb, yb) in enumerate(expected):
        counts = shard_counts(len(xb), 3)
        got = np.concatenate([pieces[rank][step][:counts[rank]] for rank in range(3)])
        assert np.array_equal(got, xb)  # the shards, in rank order, are the batch
    assert np.array_equal(pieces[2][3], expected[3][0][-1:])  # an empty shard reads the batch's last row only


# ---------------------------------------------------------- random streams ---
@pytest.mark.parametrize("total, size, per_row", [(10, 3, 4), (2, 3, 5), (7, 2, 1)])
def test_sharded_streams_draw_each_row_its_one_process_words(total, size, per_row):
    one = counter_rng.CounterStream(42)
    one.take(17)  # a stream part-way through
    seed, start = one.take(total * per_row)
    expected = counter_rng.words(seed, start, total * per_row).reshape(total, per_row)
    for rank in range(size):
        inner = counter_rng.CounterStream(42)
        inner.take(17)
        sharder = Sharder(rank, size)
        stream = ShardedStream(inner, sharder, "layer")
        sharder.take(slice(0, total))
        rows = sharder.current.compute
        seed_r, start_r = stream.take((rows.stop - rows.start) * per_row)
        got = counter_rng.words(seed_r, start_r, (rows.stop - rows.start) * per_row).reshape(-1, per_row)
        assert np.array_equal(got, expected[rows])
        assert stream.state == one.state  # every process's stream ends where the one-process stream does


def test_a_draw_that_is_not_per_row_is_refused():
    sharder = Sharder(0, 2)
    sharder.take(slice(0, 8))  # 4 rows here
    with pytest.raises(sn.distribute.DistributedError, match="not a whole number per row"):
        ShardedStream(counter_rng.CounterStream(1), sharder, "layer 'x'").take(6)


# ------------------------------------------------------------- exact sums ---
class _RankOrderSum:
    """The sum over N processes, for N shards computed one after another in one process: each call adds
    its vector to the previous ones' in rank order and leaves the running total in it."""

    def __init__(self):
        self.total = None

    def allreduce_sum_(self, flat, what):
        self.total = flat.copy() if self.total is None else self.total + flat
        flat[...] = self.total


def _gradient(model, x, y, w, shards: int, exact: bool) -> np.ndarray:
    """The gradient of one global batch, computed as ``shards`` processes would, with or without exact sums."""
    from seqnn.distribute.exact_sums import exact_share
    from seqnn.distribute.shards import shard_of

    b, loss = model.backend, model._train_loss
    sums = ExactSums(model) if exact else None
    total, collectives = np.zeros_like(model.arena.grads), _RankOrderSum()
    for rank in range(shards):
        shard = shard_of(len(x), rank, shards)
        rows = shard.compute
        loss.batch_rows = len(x) if exact else None  # the global batch's 1/n for every row
        if sums is not None:
            sums.attach()
        out = model._forward(b.asarray(x[rows], model.dtype), training=True)
        loss.forward(out, b.asarray(y[rows], "int64"), b.asarray(w[rows], model.dtype))
        dy = loss.backward()
        for i in range(len(model._layers) - 1, -1, -1):
            dy = model._layers[i].backward(dy, need_input_grad=i > 0)
        if sums is not None:
            sums.finish(model, collectives if shards > 1 else None, exact_share(shard, loss.reduction))
            sums.detach()
        else:
            total += model.arena.grads * np.float32(shard.share())
    loss.batch_rows = None
    return model.arena.grads.copy() if exact else total


def test_exact_sums_give_one_gradient_whatever_the_split():
    """Dense layers (with a bias, a ReLU, sample weights): the float64 sums over shards of 17, 17 and 16 rows,
    added in rank order and rounded once, are the one-process float32 gradient bit for bit; float32 sums per
    shard, scaled by their shares and added, are not."""
    rng = np.random.default_rng(4)
    x, y, w = rng.normal(size=(50, 30)).astype(np.float32), rng.integers(0, 4, 50), rng.uniform(0.5, 2, 50)
    model = (sn.Sequential([sn.Input((30,)), sn.layers.Dense(40, activation="relu"), sn.layers.Dense(4)])
             .compile(optimizer="sgd", loss=sn.losses.SparseCategoricalCrossentropy(from_logits=True)))
    model._prepare()
    one = _gradient(model, x, y, w, 1, exact=True)
    assert np.array_equal(_gradient(model, x, y, w, 3, exact=True), one)
    assert np.array_equal(_gradient(model, x, y, w, 2, exact=True), one)
    float32_sums = _gradient(model, x, y, w, 3, exact=False)
    assert not np.array_equal(float32_sums, one)
    assert np.allclose(float32_sums, one, rtol=1e-5, atol=1e-7)
    assert all(layer.exact_sums is None for layer in model.layers)


def test_exact_sums_carry_the_other_layers_gradients_as_computed():
    """A layer without float64 sums (here BatchNormalization's gamma and beta) keeps its own gradient."""
    rng = np.random.default_rng(5)
    x, y, w = rng.normal(size=(12, 6)).astype(np.float32), rng.integers(0, 3, 12), np.ones(12)
    model = (sn.Sequential([sn.Input((6,)), sn.layers.BatchNormalization(), sn.layers.Dense(3)])
             .compile(optimizer="sgd", loss=sn.losses.SparseCategoricalCrossentropy(from_logits=True)))
    model._prepare()
    exact, plain = _gradient(model, x, y, w, 1, exact=True), _gradient(model, x, y, w, 1, exact=False)
    arena = model.arena
    for path in arena.paths:
        got, expected = arena.view(exact, path), arena.view(plain, path)
        if "layers.0." in path:  # BatchNormalization: the same float32 numbers
            assert np.array_equal(got, expected), path
        else:
            assert np.allclose(got, expected, rtol=1e-5, atol=1e-7), path


# ----------------------------------------------------------------- compile ---
def _model(**compile_args):
    return (sn.Sequential([sn.Input((4,)), sn.layers.Dense(3, activation="softmax")])
            .compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"],
                     **compile_args))


def test_compile_refuses_a_distribution_that_is_not_one():
    model = _model()
    with pytest.raises(TypeError, match="distribution must be None or a seqnn.distribute.Distribution"):
        model.compile(optimizer="adam", loss="mse", distribution="mpi")
    assert model.loss is not None and model.loss.name != "mse"  # refused: the model is as it was


@pytest.mark.skipif(importlib.util.find_spec("mpi4py") is None, reason="mpi4py not installed")
def test_data_parallel_without_a_launcher_is_one_process(monkeypatch):
    """Without exact sums it changes nothing; with them (the default) only the gradient sums' rounding."""
    for name in ("PMI_RANK", "PMIX_RANK", "OMPI_COMM_WORLD_RANK"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setattr(runtime, "_world", None)
    rng = np.random.default_rng(0)
    x, y = rng.normal(size=(50, 4)).astype(np.float32), rng.integers(0, 3, 50)
    results, models = [], []
    for distribution in (None, sn.distribute.DataParallel(exact_sums=False), sn.distribute.DataParallel()):
        sn.utils.set_random_seed(3)
        model = (sn.Sequential([sn.Input((4,)), sn.layers.Dense(8, activation="relu"), sn.layers.Dropout(0.5),
                                sn.layers.Dense(3, activation="softmax")])
                 .compile(optimizer="adam", loss="sparse_categorical_crossentropy", distribution=distribution))
        model.fit(x, y, batch_size=8, epochs=2, verbose=0, seed=1)
        results.append(np.concatenate([w.ravel() for w in model.get_weights()]))
        models.append(model)
    plain, float32_sums, exact = results
    assert np.array_equal(float32_sums, plain)
    assert 0 < np.linalg.norm(exact - plain) / np.linalg.norm(plain) < 1e-6
    assert all(layer.exact_sums is None for layer in models[2].layers)  # fit put everything back
    assert models[2]._train_loss.batch_rows is None
    assert sn.distribute.rank() == 0 and sn.distribute.size() == 1 and sn.distribute.is_chief()
    sn.distribute.barrier()  # one process: returns at once


@pytest.mark.skipif(importlib.util.find_spec("mpi4py") is None, reason="mpi4py not installed")
def test_data_parallel_with_exact_sums_needs_a_built_model_for_a_loader(monkeypatch):
    for name in ("PMI_RANK", "PMIX_RANK", "OMPI_COMM_WORLD_RANK"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setattr(runtime, "_world", None)
    model = (sn.Sequential([sn.layers.Dense(3, activation="softmax")])
             .compile(optimizer="adam", loss="sparse_categorical_crossentropy",
                      distribution=sn.distribute.DataParallel()))
    batches = [(np.ones((4, 2), np.float32), np.zeros(4, np.int64))]
    with pytest.raises(ValueError, match="build the model before fit"):
        model.fit(batches, verbose=0)
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy",
                  distribution=sn.distribute.DataParallel(exact_sums=False))
    model.fit(batches, verbose=0)  # float32 sums on one process change nothing: built by its first batch


def test_without_mpi4py_data_parallel_says_what_to_install(monkeypatch):
    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == "mpi4py" else real(name, *a))
    with pytest.raises(sn.distribute.MPIUnavailableError, match=r'pip install mpi4py mpich .*seqnn-ml\[mpi\]'):
        sn.distribute.DataParallel()
    assert issubclass(sn.distribute.MPIUnavailableError, sn.errors.BackendUnavailableError)


def test_data_parallel_checks_its_arguments():
    with pytest.raises(ValueError, match="timeout must be a positive number of seconds or None, got 0"):
        sn.distribute.DataParallel(timeout=0)
    with pytest.raises(TypeError, match="DataParallel: exact_sums must be True or False, got"):
        sn.distribute.DataParallel(exact_sums="yes")


def test_importing_seqnn_does_not_import_mpi4py():
    code = "import sys, seqnn; seqnn.distribute.Distribution; print('mpi4py' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "False"


# ------------------------------------------------------- only rank 0 writes ---
class _Rank1(Distribution):
    """What a data-parallel process other than the chief looks like to the callbacks."""
    rank, size = 1, 2


def test_on_a_process_other_than_rank_0_nothing_is_written_or_shown(tmp_path, capsys):
    rng = np.random.default_rng(0)
    x, y = rng.normal(size=(32, 4)).astype(np.float32), rng.integers(0, 3, 32)
    model = _model()
    model._distribution = _Rank1()
    cbs = [sn.callbacks.ModelCheckpoint(str(tmp_path / "ck" / "m.safetensors"), verbose=1),
           sn.callbacks.CSVLogger(tmp_path / "log.csv"),
           sn.callbacks.BackupAndRestore(tmp_path / "backup", save_freq=1, delete_checkpoint=False)]
    model.fit(x, y, batch_size=8, epochs=2, verbose=1, callbacks=cbs)
    model.save(tmp_path / "model.safetensors")
    model.save_weights(tmp_path / "weights.safetensors")
    assert os.listdir(tmp_path) == []
    assert capsys.readouterr().out == ""
    model._distribution = sn.distribute.LOCAL  # the chief (and one process) writes them all
    model.fit(x, y, batch_size=8, epochs=1, verbose=1, callbacks=cbs)
    assert sorted(os.listdir(tmp_path)) == ["backup", "ck", "log.csv"]
    assert "Epoch 1: saving model to" in capsys.readouterr().out
