"""Whether BLAS runs on its own threads or is held to one: chosen by timing the steps themselves.

Neither choice is right everywhere. On an idle 2-core machine OpenBLAS's own
threads make the MNIST MLP's step 1.4× faster than one thread (0.64 against
0.92 s an epoch); with another busy process on the machine they make it
several times slower, because every product waits for its descheduled worker
(see :mod:`.blas`). And the load can change while a model trains. So each
kind of step (training, evaluation or inference, per model and sample shape)
has a :class:`StepTuner` that times whole steps, per batch row (an epoch's
last, shorter batch is one more sample of the same kind), which also catches
how the BLAS threads get in the way of seqnn's own thread pool:

* it measures three steps held to one thread, then three on BLAS's threads,
  and keeps the faster (median);
* then, every ``interval`` steps, it tries the other mode again for three
  steps and switches when that is faster by 5 %; a trial that loses doubles
  the interval (up to 1024 steps), so a machine whose state does not change
  costs almost nothing; a first trial step 1.5× slower than usual ends the
  trial at once.

The first step in a mode is never counted: it is slowed by what the step
before left behind (OpenBLAS's threads spin for a while after a product, and
compete with the next step's own threads), which would favour staying put.

The results are the same bits in both modes: BLAS splits the rows and
columns of most products over its threads, as seqnn splits rows, and a
product whose bits do depend on the thread count always runs on BLAS's own
threads (see :func:`.blas.matmul`; tests/test_blas_threads.py checks both).
``SEQNN_BLAS_THREADS=native`` or ``=one`` fixes the mode.
"""
from __future__ import annotations

import os
import statistics
import time
from collections import deque

from . import blas

ONE, NATIVE = "one", "native"
_MODES = (ONE, NATIVE)
TRIAL_STEPS = 3
FIRST_INTERVAL, MAX_INTERVAL = 32, 1024
SWITCH_MARGIN = 0.95  # the other mode must be this much faster (ratio of medians) to take over
ABORT_RATIO = 1.5  # a trial's first step this much slower than usual ends the trial
_MAX_TUNERS = 64  # per model: a model predicting many batch shapes keeps the newest ones


def fixed_mode() -> str | None:
    """The mode ``SEQNN_BLAS_THREADS`` fixes, or None to tune (unset, empty or ``auto``)."""
    value = os.environ.get("SEQNN_BLAS_THREADS", "").strip().lower()
    if value in ("", "auto"):
        return None
    if value not in _MODES:
        raise ValueError(f"SEQNN_BLAS_THREADS must be 'auto', 'native' or 'one', got {value!r}")
    return value


class StepTuner:
    """Picks the BLAS mode for each step of one kind and learns from the step's duration."""

    def __init__(self):
        self.rows = 1  # of the coming step: its time is recorded per row
        self.fixed = fixed_mode()  # read once: the environment is not looked up at every step
        self.mode = ONE
        self.recent = {mode: deque(maxlen=TRIAL_STEPS) for mode in _MODES}
        # The planned steps still to come: (mode, counted). First each mode in turn, then trials.
        self.plan: deque = deque([*self._block(ONE), *self._block(NATIVE)])
        self.interval = FIRST_INTERVAL
        self.countdown = 0

    @staticmethod
    def _block(mode: str) -> list:
        return [(mode, False)] + [(mode, True)] * TRIAL_STEPS  # the first step in a mode is not counted

    # As a context manager: one step, in the mode chosen for it (a plain class: a step may take only
    # tens of microseconds, and a generator-based context manager would cost several of them).
    def __enter__(self):
        self._step = None if self.fixed else self.next_mode()  # (mode, planned), or None: not tuned
        blas.set_native_threads((self.fixed or self._step[0]) == NATIVE)
        self._start = time.perf_counter()
        return self

    def __exit__(self, kind, value, traceback):
        if kind is None and self._step is not None:
            mode, planned = self._step
            self.record(mode, (time.perf_counter() - self._start) / self.rows, planned)
        return False

    def next_mode(self) -> tuple[str, bool]:
        """(mode of the next step, whether it is a planned step: a measurement or a trial)."""
        if self.plan:
            return self.plan[0][0], True
        return self.mode, False

    def record(self, mode: str, seconds: float, planned: bool) -> None:
        if not planned:
            self.recent[mode].append(seconds)
            self.countdown -= 1
            if self.countdown <= 0:
                self.plan.extend(self._block(self._other()))
            return
        _, counted = self.plan.popleft()
        if not counted:
            return
        usual = self.recent[self.mode]
        if mode != self.mode and not self.recent[mode] and usual \
                and seconds > ABORT_RATIO * statistics.median(usual):
            self.plan.clear()  # clearly slower: no need to pay for two more such steps
        self.recent[mode].append(seconds)
        if not self.plan:
            self._decide()

    def _other(self) -> str:
        return NATIVE if self.mode == ONE else ONE

    def _decide(self) -> None:
        other = self._other()
        if self.recent[other] and self.recent[self.mode] and (
                statistics.median(self.recent[other]) < SWITCH_MARGIN * statistics.median(self.recent[self.mode])):
            self.mode, self.interval = other, FIRST_INTERVAL
        else:
            self.interval = min(2 * self.interval, MAX_INTERVAL)
        self.recent[self._other()].clear()  # the next trial measures afresh
        self.countdown = self.interval


class ThreadTuningOps:
    """The backend's ``step_scope``: each step runs in its tuner's BLAS mode and is timed."""

    def step_scope(self, tuners: dict, key, rows: int) -> StepTuner:
        tuner = tuners.get(key)
        if tuner is None:
            if len(tuners) >= _MAX_TUNERS:
                tuners.pop(next(iter(tuners)))
            tuner = tuners[key] = StepTuner()
        tuner.rows = max(1, rows)
        return tuner
