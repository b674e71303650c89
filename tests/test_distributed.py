"""Data-parallel training under mpiexec equals one-process training.

Each scenario of ``scripts/distributed_train.py`` trains in 2 (and 3) MPI processes and in one process
(``DataParallel()`` without a launcher), from the same seeds; every process writes its final weights and the
logs every callback saw. The processes seed their global random streams differently, so agreement also shows
that fit starts every process from rank 0's weights, shuffling and dropout streams. With exact sums (the
default) the weights are the one-process weights to the bit here; ``DataParallel(exact_sums=False)`` and a
model compiled without ``distribution=`` agree with them to float32 rounding.
"""
import math
import os
import subprocess
import sys

import numpy as np
import pytest

import seqnn as sn

from distributed_helpers import ENV, mpiexec, needs_mpi, record, relative_difference, run, weights

pytestmark = needs_mpi

SCENARIOS = ["mlp", "sum", "uneven", "loader", "batches", "bn", "files"]
# Weights with exact sums: every scenario ends bit-identical here (0); a gradient summed over shards in
# float32, as without exact sums, shows as 1e-8 to 1e-7 after these few hundred steps.
TOLERANCE = 1e-9
# float32 sums (exact_sums=False, or no distribution), and the logged losses (the loss of a batch is the
# sum of its shards' losses, added in another order than one process adds its rows).
ROUNDING = 1e-6


@pytest.fixture(scope="module")
def one_process(tmp_path_factory):
    """DataParallel() in one process, no launcher; for bn, the one-process emulation of 2 shards."""
    out = tmp_path_factory.mktemp("one")
    run(out, [s for s in SCENARIOS if s != "bn"], 1)
    run(out, ["bn"])
    return out


@pytest.fixture(scope="module")
def two(tmp_path_factory):
    out = tmp_path_factory.mktemp("two")
    run(out, SCENARIOS, 2)
    return out


@pytest.fixture(scope="module")
def three(tmp_path_factory):
    out = tmp_path_factory.mktemp("three")
    run(out, ["sum", "uneven", "loader", "batches"], 3)
    return out


def close(a: float, b: float) -> bool:
    return math.isclose(a, b, rel_tol=ROUNDING, abs_tol=ROUNDING)


@pytest.mark.parametrize("scenario", [s for s in SCENARIOS if s != "bn"])
def test_two_processes_train_the_one_process_model(one_process, two, scenario):
    reference, distributed = weights(one_process, scenario), weights(two, scenario)
    assert relative_difference(distributed, reference) < TOLERANCE
    # The same epochs' logs: losses within the tolerance, metrics exactly (the same rows, gathered in order).
    expected, got = record(one_process, scenario)["history"], record(two, scenario)["history"]
    assert expected.keys() == got.keys()
    for key in expected:
        assert all(close(a, b) for a, b in zip(got[key], expected[key])), key
        if "accuracy" in key:
            assert got[key] == expected[key]


def test_the_mlp_scenario_runs_a_few_hundred_steps(two):
    assert len([logs for logs in record(two, "mlp")["logs"] if "loss" in logs]) >= 300


@pytest.mark.parametrize("scenario", SCENARIOS)
def test_every_process_ends_with_the_same_weights_and_saw_the_same_logs(two, scenario):
    assert np.array_equal(weights(two, scenario, 0), weights(two, scenario, 1))
    assert record(two, scenario, 0) == record(two, scenario, 1)  # every batch's logs, History included


def test_a_second_distributed_run_is_bit_identical(two, tmp_path):
    run(tmp_path, ["mlp", "loader"], 2)
    for scenario in ("mlp", "loader"):
        assert np.array_equal(weights(tmp_path, scenario), weights(two, scenario))
        assert record(tmp_path, scenario) == record(two, scenario)


def test_batch_normalization_uses_per_shard_statistics(one_process, two):
    """bn's one-process reference emulates 2 shards: each normalized by its own statistics, gradients
    summed with shares n_r/n, moving statistics averaged with weights n_r/n (seqnn.distribute.batch_statistics).
    The emulation sums in float32, the processes with exact sums: they agree to rounding."""
    assert relative_difference(weights(two, "bn"), weights(one_process, "bn")) < ROUNDING


def test_float32_sums_and_no_distribution_agree_to_rounding(one_process, tmp_path):
    """DataParallel(exact_sums=False) on 2 processes, and one process without distribution=, against the
    reference: float32 sums over other splits of the batch round differently, so they agree to rounding only;
    without exact sums, 2 processes and the emulation of per-shard BatchNormalization are the same sums."""
    run(tmp_path / "two", ["mlp", "uneven", "bn"], 2, "--float32-sums")
    run(tmp_path / "plain", ["mlp", "uneven"])
    for scenario in ("mlp", "uneven"):
        reference = weights(one_process, scenario)
        for result in (weights(tmp_path / "two", scenario), weights(tmp_path / "plain", scenario)):
            assert TOLERANCE < relative_difference(result, reference) < ROUNDING
    assert np.array_equal(weights(tmp_path / "two", "bn"), weights(one_process, "bn"))


def test_batch_normalization_differs_from_global_batch_statistics(two, tmp_path):
    # What the emulation is not: plain one-process training normalizes the whole batch at once.
    run(tmp_path, ["bn"], None, "--shards", "1")
    assert relative_difference(weights(two, "bn"), weights(tmp_path, "bn")) > 1e-3


@pytest.mark.parametrize("scenario", ["sum", "uneven", "loader", "batches"])
def test_three_processes_with_uneven_shards(one_process, three, scenario):
    """Batches that 3 does not divide (shards differ by a row) and, in uneven, a last batch of 1 row."""
    reference = weights(one_process, scenario)
    for rank in range(3):
        assert relative_difference(weights(three, scenario, rank), reference) < TOLERANCE
    assert np.array_equal(weights(three, scenario, 0), weights(three, scenario, 2))
    assert record(three, scenario, 0) == record(three, scenario, 1) == record(three, scenario, 2)


def test_only_rank_0_writes_files(two):
    """files: ModelCheckpoint (every 2 batches, and the best), CSVLogger and model.save, to relative paths,
    each process in its own directory."""
    written = {rank: sorted(os.path.relpath(os.path.join(root, name), two / f"rank{rank}")
                            for root, _, names in os.walk(two / f"rank{rank}") for name in names)
               for rank in (0, 1)}
    assert written[0] == ["ckpt/best.safetensors", "ckpt/last.safetensors", "final.safetensors", "log.csv"]
    assert written[1] == []
    saved = sn.load_model(two / "rank0" / "final.safetensors")
    assert np.array_equal(np.concatenate([w.ravel() for w in saved.get_weights()]), weights(two, "files"))
    with open(two / "rank0" / "log.csv") as f:
        assert len(f.read().splitlines()) == 4  # header and 3 epochs


def test_kill_and_resume_is_exact(tmp_path):
    """backup: BackupAndRestore every 5 batches; the crashed job (every process ends at step 13, after the
    backup of step 10) rerun resumes there and ends bit-identical to an uninterrupted job."""
    run(tmp_path / "whole", ["backup"], 2)
    crashed = run(tmp_path / "resumed", ["backup"], 2, "--crash-at", "13", check=False)
    assert crashed.returncode != 0
    assert os.path.exists(tmp_path / "resumed" / "backup" / "backup.safetensors")
    run(tmp_path / "resumed", ["backup"], 2)
    assert not os.path.exists(tmp_path / "resumed" / "backup" / "backup.safetensors")  # deleted by rank 0 at the end
    for rank in (0, 1):
        resumed, whole = weights(tmp_path / "resumed", "backup", rank), weights(tmp_path / "whole", "backup", rank)
        assert np.array_equal(resumed, whole)
        assert (record(tmp_path / "resumed", "backup", rank)["history"]
                == record(tmp_path / "whole", "backup", rank)["history"])


@pytest.mark.parametrize("how, expected", [
    # an exception: the failing rank says so before MPI_Abort ends the job, or the rank it told first does
    ("raise", ["rank 1 of 2 ends the job: uncaught RuntimeError: a test failure on rank 1",
               "rank 0 of 2 stops because rank 1 stopped: RuntimeError: a test failure on rank 1"]),
    # a quiet exit in the middle of fit: whichever speaks first, the failing rank or the one it left waiting
    ("exit", ["rank 0 of 2 stops because rank 1 stopped: SystemExit",
              "rank 1 of 2 ends the job: the process is exiting after its training failed (SystemExit"]),
    # a rank that is stuck: the others give up after DataParallel(timeout=4)
    ("sleep", ["rank 0 of 2: the gradient sum of step 4 waited 4 s for the other processes"]),
])
def test_a_failing_rank_ends_the_job_with_a_message_naming_it(tmp_path, how, expected):
    proc = run(tmp_path, ["mlp"], 2, "--fail-rank", "1", "--fail-at", "3", "--fail-how", how, "--timeout", "4",
               timeout=60, check=False)
    assert proc.returncode != 0
    assert any(message in proc.stderr for message in expected), proc.stderr[-3000:]


def test_a_killed_rank_ends_the_job_at_once(tmp_path):
    """SIGKILL leaves the process no chance to speak: mpiexec ends the job and names its PID."""
    proc = run(tmp_path, ["mlp"], 2, "--fail-rank", "1", "--fail-at", "3", "--fail-how", "kill", timeout=60,
               check=False)
    assert proc.returncode != 0
    pid = next(line.split()[-1] for line in proc.stdout.splitlines() if line.startswith("rank 1 is pid"))
    assert f"PID {pid}" in proc.stdout + proc.stderr


def test_seqnn_train_distributed(tmp_path):
    """mpiexec -n 2 seqnn-train --distributed: rank 0 reports and saves, once; the model is one process's
    (seqnn-train --distributed without a launcher)."""
    proc = subprocess.run([mpiexec(), "-n", "2", sys.executable, "-m", "seqnn.cli.train", "--distributed",
                           "--epochs", "2", "--out", "two.safetensors", "--quiet"],
                          cwd=tmp_path, capture_output=True, text=True, env=ENV, timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    lines = proc.stdout.splitlines()
    assert [line.split(":")[0] for line in lines] == ["data", "model", "training", "trained", "test accuracy",
                                                      "saved"], proc.stdout
    assert os.listdir(tmp_path) == ["two.safetensors"]
    proc = subprocess.run([sys.executable, "-m", "seqnn.cli.train", "--distributed", "--epochs", "2", "--out",
                           "one.safetensors", "--quiet"], cwd=tmp_path, capture_output=True, text=True, env=ENV,
                          timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    two, one = (np.concatenate([w.ravel() for w in sn.load_model(tmp_path / name).get_weights()])
                for name in ("two.safetensors", "one.safetensors"))
    assert relative_difference(two, one) < TOLERANCE
