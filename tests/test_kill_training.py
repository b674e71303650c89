"""SIGKILL at random moments, saves included: every file on disk still loads, no temporary survives, and the
run, resumed as often as it was killed, ends bit-identical to an uninterrupted one.

The script (``scripts/kill_train.py``) saves after every batch (ModelCheckpoint of the whole model, per-epoch
weights, the best model, and a BackupAndRestore backup), so most random kills land in a save. After each kill
every ``.safetensors`` file is loaded (``load_model``, or ``load_weights`` for weights files); what a killed
save left (``.<name>.<random>.tmp``) is allowed until the next run saves that file again. The default run does
a few kills; ``pytest -m long tests/test_kill_training.py`` does ``SEQNN_KILLS`` (default 120) over array data
and a shuffling BatchLoader, and writes its counts to ``kill-summary.json`` in ``SEQNN_KILL_OUT`` (default:
the test's temporary directory).
"""
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import time

import numpy as np
import pytest

import seqnn as sn

SCRIPT = os.path.join(os.path.dirname(__file__), "scripts", "kill_train.py")
ENV = {**os.environ, "OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}


def start(workdir, loader):
    return subprocess.Popen([sys.executable, SCRIPT, str(workdir)] + (["--loader"] if loader else []),
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=ENV)


def finish(workdir, loader):
    """Run to the end; returns (final weights, history)."""
    proc = start(workdir, loader)
    _, err = proc.communicate(timeout=600)
    assert proc.returncode == 0, err.decode()[-3000:]
    weights = np.load(os.path.join(workdir, "final.npz"))
    with open(os.path.join(workdir, "history.json")) as f:
        return [weights[k] for k in sorted(weights.files, key=lambda k: int(k.split("_")[1]))], json.load(f)


def temporaries(workdir):
    return [os.path.join(root, name) for root, _, names in os.walk(workdir) for name in names
            if name.endswith(".tmp")]


def check_every_file_loads(workdir):
    """Every saved file loads; returns how many there were."""
    count = 0
    for root, _, names in os.walk(workdir):
        for name in names:
            if not name.endswith(".safetensors"):
                continue
            path = os.path.join(root, name)
            if name.startswith("weights-"):
                model = sn.Sequential([sn.Input((32,)), sn.layers.Dense(256), sn.layers.Dropout(0.2),
                                       sn.layers.Dense(128), sn.layers.Dense(4)])
                model.load_weights(path)
            else:
                assert sn.load_model(path).built, path
            count += 1
    return count


def wait_for_a_save(workdir, since: float, proc, timeout: float = 120) -> None:
    """Until a file under ``workdir`` is written after ``since`` (or the process ends)."""
    deadline = time.time() + timeout
    while time.time() < deadline and proc.poll() is None:
        for root, _, names in os.walk(workdir):
            for name in names:
                try:
                    if os.stat(os.path.join(root, name)).st_mtime > since:
                        return
                except FileNotFoundError:
                    continue
        time.sleep(0.005)


def campaign(tmp_path, kills: int, loader: bool, seed: int) -> dict:
    """Kill a training run ``kills`` times at random moments, then let it finish; compare with a clean run."""
    began = time.perf_counter()
    reference_weights, reference_history = finish(tmp_path / "reference", loader)
    duration = time.perf_counter() - began
    rng = random.Random(seed)
    work = tmp_path / "work"
    stats = {"kills": 0, "kills_during_a_save": 0, "kills_before_training": 0, "files_loaded": 0,
             "completed_before_the_kill": 0}
    while stats["kills"] < kills:
        started = time.time()
        proc = start(work, loader)
        try:
            if rng.random() < 0.2:  # anywhere, the interpreter's start and the imports included
                proc.wait(timeout=rng.uniform(0.05, duration))
            else:  # once it saves, a few batches in: most of that time is spent saving
                wait_for_a_save(work, started, proc)
                proc.wait(timeout=rng.uniform(0.0, 0.25))
        except subprocess.TimeoutExpired:
            proc.send_signal(signal.SIGKILL)
            proc.wait()
            stats["kills"] += 1
            stats["kills_during_a_save"] += bool(temporaries(work))
            stats["kills_before_training"] += not os.path.exists(work / "ckpt")
            stats["files_loaded"] += check_every_file_loads(work)
            continue
        assert proc.returncode == 0, proc.stderr.read().decode()[-3000:]
        stats["completed_before_the_kill"] += 1  # finished first: start over, or nothing is left to kill
        shutil.rmtree(work)
    weights, history = finish(work, loader)
    assert temporaries(work) == [], "a temporary survived the saves that followed its kill"
    assert not os.path.exists(work / "backup" / "backup.safetensors")
    assert history == reference_history
    assert len(weights) == len(reference_weights)
    for a, b in zip(weights, reference_weights):
        assert np.array_equal(a, b), "the resumed run's weights differ from the uninterrupted run's"
    stats["files_loaded"] += check_every_file_loads(work)
    return stats


@pytest.mark.parametrize("loader", [False, True], ids=["arrays", "batch_loader"])
def test_a_few_kills(tmp_path, loader):
    stats = campaign(tmp_path, kills=3, loader=loader, seed=1)
    assert stats["kills"] == 3


@pytest.mark.long
def test_many_kills(tmp_path):
    out = os.environ.get("SEQNN_KILL_OUT") or str(tmp_path)
    kills = int(os.environ.get("SEQNN_KILLS", "120"))
    summary = {}
    for loader in (False, True):
        name = "batch_loader" if loader else "arrays"
        directory = os.path.join(out, name)
        shutil.rmtree(directory, ignore_errors=True)
        os.makedirs(directory)
        from pathlib import Path

        summary[name] = campaign(Path(directory), kills=(kills + 1) // 2, loader=loader, seed=2)
        print(name, summary[name], flush=True)
        with open(os.path.join(out, "kill-summary.json"), "w") as f:
            json.dump(summary, f, indent=1)
    assert sum(s["kills"] for s in summary.values()) >= kills
