"""Running the console commands in tests: the installed scripts, an isolated environment, the usage-error check."""
import csv
import os
import shutil
import subprocess
import sys

SCRIPTS = {"seqnn-train": "seqnn.cli.train", "seqnn-predict": "seqnn.cli.predict"}


def installed_script(name):
    """The console script installed beside this Python (pip puts it there), or None."""
    return shutil.which(name, path=os.path.dirname(sys.executable))


def command(name):
    """The installed console script; ``python -m`` where it is missing (test_console_scripts_are_installed
    fails then, so a missing script never goes unnoticed)."""
    script = installed_script(name)
    return [script] if script else [sys.executable, "-m", SCRIPTS[name]]


def cli_env(home, **extra):
    """A private home (empty dataset cache), no data directory, and a mirror that refuses at once: no network.

    BLAS runs single-threaded: these tests check behaviour, and multi-threaded OpenBLAS on tiny
    matrices slows down a hundredfold when another process keeps the cores busy.
    """
    env = {k: v for k, v in os.environ.items() if k not in ("SEQNN_DATA_DIR", "SEQNN_DATASETS_MIRROR", "SEQNN_DEBUG")}
    env.update(HOME=str(home), SEQNN_DATASETS_MIRROR="http://127.0.0.1:1/", OPENBLAS_NUM_THREADS="1",
               OMP_NUM_THREADS="1", MKL_NUM_THREADS="1", **extra)
    return env


def run(name, *args, cwd, env=None, timeout=120):
    """Run a command in ``cwd`` (which is also its home, unless ``env`` says otherwise)."""
    return subprocess.run(command(name) + [str(a) for a in args], cwd=cwd, env=env or cli_env(cwd),
                          capture_output=True, text=True, timeout=timeout)


def assert_usage_error(proc, *fragments):
    """Exit status 2, exactly one line on stderr, no traceback, and the line says what is wrong."""
    assert proc.returncode == 2, (proc.returncode, proc.stdout[-2000:], proc.stderr[-2000:])
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in proc.stderr, proc.stderr
    for fragment in fragments:
        assert fragment in lines[0], lines[0]
    return lines[0]


def in_process(main, args, capsys):
    """Call a command's ``main(args)`` in this process: a CompletedProcess, as if it had run as a script."""
    status = main(args)
    captured = capsys.readouterr()
    return subprocess.CompletedProcess(args, status, captured.out, captured.err)


def read_csv_rows(path):
    with open(path, newline="") as f:
        return list(csv.DictReader(f))
