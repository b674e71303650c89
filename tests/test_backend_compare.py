"""benchmarks/backend_compare.py: its message where Metal cannot run, and its comparison on the emulated device."""
import importlib.util
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from metal_device import emulated_backend

SCRIPT = Path(__file__).resolve().parents[1] / "benchmarks" / "backend_compare.py"


def load_script():
    spec = importlib.util.spec_from_file_location("backend_compare", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_without_metal_it_says_so_and_exits_cleanly():
    import seqnn as sn

    if sn.backends.unavailable_reason("metal") is None:
        pytest.skip("Metal runs here: the script would train")
    proc = subprocess.run([sys.executable, str(SCRIPT)], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.startswith("No Metal on this machine") and "metalcompute" in proc.stdout


@pytest.mark.parametrize("model", ["mlp", "cnn"])
def test_it_compares_numpy_with_a_metal_backend(model):
    script = load_script()
    rng = np.random.default_rng(0)
    x = rng.uniform(0, 1, (6, 784)).astype(np.float32)
    y = rng.integers(0, 10, 6)
    record = script.compare(model, emulated_backend(256), x, y)
    assert record["model"] == model and record["samples"] == 6
    assert record["numpy_epoch_s"] > 0 and record["metal_epoch_s"] > 0
    assert record["max_weight_difference"] < 1e-4
    assert abs(record["numpy_loss"] - record["metal_loss"]) < 1e-4 * abs(record["numpy_loss"])
    assert json.loads(json.dumps(record)) == record
    assert script.report(record).startswith(f"{model}: 6 samples x 1 epoch(s)")
