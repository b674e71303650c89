"""Running fuzz cases against a reader and judging each outcome by the loader contract.

Allowed: the reader returns, or raises ValueError whose message names the
file. A failure is any other exception, a ValueError that does not name the
file, a case that runs longer than ``CASE_TIMEOUT_S`` (a hang), or one whose
resident memory grows far beyond what the file holds: more than
``BASE_BYTES`` plus ``BYTES_PER_FILE_BYTE`` times the file's size, plus the
size of the array returned when the load succeeds, plus twice what a compressed file
really decompresses to (a reader may hold that while it finds out the file is
bad). Memory is the process's peak RSS
over the case (Linux's VmHWM, reset before each case), so allocations outside
Python's and numpy's allocators (zlib, Pillow) count too; where /proc cannot
reset it the memory check is skipped and said so.

Each failing case is saved (its bytes and a note of what happened) so that it
reproduces without the fuzzer.
"""
import os
import random
import signal
import time
import traceback
from dataclasses import dataclass, field
from typing import Callable

import numpy as np

CASE_TIMEOUT_S = 20
BASE_BYTES = 24 << 20
BYTES_PER_FILE_BYTE = 64


class Hang(Exception):
    """Raised into a case that ran past CASE_TIMEOUT_S."""


@dataclass
class Reader:
    """One reader under test: valid seed files, how to mutate them, and how to read one."""

    name: str
    suffix: str
    seeds: list            # bytes of valid files
    mutate: Callable       # (bytes, rng, seeds) -> bytes
    read: Callable         # (path) -> result; may raise ValueError
    file_name: str = "case"
    # (bytes) -> how many bytes the file really holds once decompressed, where that exceeds its size
    content_size: Callable = len


@dataclass
class Tally:
    cases: int = 0
    loaded: int = 0
    value_errors: int = 0
    failures: list = field(default_factory=list)
    max_growth: int = 0
    seconds: float = 0.0
    memory_checked: bool = True

    def summary(self) -> dict:
        return {"cases": self.cases, "loaded": self.loaded, "value_errors": self.value_errors,
                "failures": len(self.failures), "max_rss_growth_mib": round(self.max_growth / 2**20, 1),
                "seconds": round(self.seconds, 1), "memory_checked": self.memory_checked}


def run(reader: Reader, cases: int, seed: int, workdir: str, save_dir: str | None = None,
        max_failures: int = 20) -> Tally:
    """``cases`` cases of ``reader``, case i mutated by ``random.Random(f"{reader.name}:{seed}:{i}")``."""
    os.makedirs(workdir, exist_ok=True)
    path = os.path.join(workdir, reader.file_name + reader.suffix)
    tally = Tally(memory_checked=peak_rss_available())
    started = time.perf_counter()
    previous = signal.signal(signal.SIGALRM, _raise_hang)
    try:
        for i in range(cases):
            rng = random.Random(f"{reader.name}:{seed}:{i}")
            data = reader.mutate(rng.choice(reader.seeds), rng, reader.seeds)
            problem = run_case(reader, data, path, tally)
            tally.cases += 1
            if problem:
                tally.failures.append((i, problem))
                if save_dir:
                    _save(save_dir, reader, seed, i, data, problem)
                if len(tally.failures) >= max_failures:
                    break
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
    tally.seconds = time.perf_counter() - started
    return tally


def run_case(reader: Reader, data: bytes, path: str, tally: Tally) -> str | None:
    """Write ``data`` to ``path``, read it, and say what is wrong with the outcome (None: allowed)."""
    with open(path, "wb") as f:
        f.write(data)
    before = current_rss() if tally.memory_checked else 0
    if tally.memory_checked:
        reset_peak_rss()
    result, problem = None, None
    signal.setitimer(signal.ITIMER_REAL, CASE_TIMEOUT_S)
    try:
        result = reader.read(path)
        tally.loaded += 1
    except Hang:
        problem = f"hang: still running after {CASE_TIMEOUT_S} s"
    except ValueError as e:
        tally.value_errors += 1
        if path not in str(e):
            problem = f"ValueError that does not name the file: {str(e)[:300]!r}"
    except BaseException as e:  # noqa: BLE001 - anything else breaks the contract
        if isinstance(e, KeyboardInterrupt):
            raise
        problem = f"{type(e).__name__}: {str(e)[:300]!r}\n{''.join(traceback.format_tb(e.__traceback__)[-4:])}"
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
    if tally.memory_checked:
        growth = peak_rss() - before
        tally.max_growth = max(tally.max_growth, growth)
        allowed = BASE_BYTES + BYTES_PER_FILE_BYTE * len(data) + 2 * reader.content_size(data) + _nbytes(result)
        if growth > allowed and problem is None:
            problem = f"memory: resident size grew by {growth >> 20} MiB for a {len(data)}-byte file " \
                      f"(allowed {allowed >> 20} MiB)"
    return problem


def _nbytes(result) -> int:
    if isinstance(result, np.ndarray):
        return int(result.nbytes)
    if isinstance(result, (tuple, list)):
        return sum(_nbytes(r) for r in result)
    return 0


def _raise_hang(signum, frame):
    raise Hang


def _save(save_dir, reader, seed, index, data, problem):
    os.makedirs(save_dir, exist_ok=True)
    stem = os.path.join(save_dir, f"{reader.name}-{seed}-{index}")
    with open(stem + reader.suffix, "wb") as f:
        f.write(data)
    with open(stem + ".txt", "w") as f:
        f.write(problem + "\n")


# ------------------------------------------------------------------ peak RSS (Linux) ---
def peak_rss_available() -> bool:
    try:
        reset_peak_rss()
        return peak_rss() > 0
    except OSError:
        return False


def reset_peak_rss() -> None:
    with open("/proc/self/clear_refs", "w") as f:
        f.write("5")  # resets VmHWM to the current RSS (Linux >= 4.0)


def _status(key: str) -> int:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(key):
                return int(line.split()[1]) * 1024
    return 0


def peak_rss() -> int:
    return _status("VmHWM:")


def current_rss() -> int:
    return _status("VmRSS:")
