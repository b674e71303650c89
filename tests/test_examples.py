"""The example scripts run end to end (in a reduced mode, so a broken example fails the suite)."""
import os
import subprocess
import sys

EXAMPLES = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "examples")


def run_example(name, *args):
    proc = subprocess.run([sys.executable, os.path.join(EXAMPLES, name), *args], capture_output=True, text=True,
                          timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return proc.stdout


def test_quickstart_reaches_95_percent_on_digits():
    out = run_example("quickstart.py")
    accuracy = float(out.strip().splitlines()[-1].split()[2])
    assert accuracy >= 0.95, out[-500:]
