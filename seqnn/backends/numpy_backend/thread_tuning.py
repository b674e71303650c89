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

* it starts on BLAS's threads and measures three steps, then (for training
  steps) three held to one thread, and keeps the faster (median);
* then, from time to time, it tries the other mode for three steps and
  switches when that is faster by 5 % (medians). The time to the next trial
  is 20 times what that trial will cost: a few steps on BLAS's threads; held
  to one thread, also the wait for BLAS's idle workers to stop spinning
  (below). It doubles after every trial that loses, up to 32 s, so trials
  take under 5 % of the time, and a short predict call or evaluation never
  pays for a held trial. A first trial step 1.5× slower
  than usual ends the trial at once; steps that stay 1.5× slower than when
  the mode was chosen for a quarter of a second (the machine got busy, not a
  hiccup) bring the next trial forward.

A mode's first step is never counted: it is slowed by what the steps before
left behind. Held to one thread, no step is counted until ``SPIN_SECONDS``
after the last product on BLAS's threads (or twice that after the switch,
if the mode's own steps keep running such products): OpenBLAS's idle
workers keep spinning, each on a core, for 2²⁸ clock cycles (0.1 s measured
here) after their last product, and take those cores from seqnn's own
threads. Counting the steps in that window made a CNN look faster on BLAS's
threads (28.5 ms a step) than held (25.6 ms), and it trained 15 % slower
than it could.

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
SPIN_SECONDS = 0.15  # how long BLAS's workers may spin after a product (2**28 cycles at ≥ 1.8 GHz)
TRIAL_SPACING = 20  # the time to the next trial, in multiples of what it will cost: ≤ 5 % spent on trials
MAX_INTERVAL = 32.0  # seconds: the longest time between trials
SWITCH_MARGIN = 0.95  # the other mode must be this much faster (ratio of medians) to take over
SLOWER_RATIO = 1.5  # a trial step this much slower than usual ends the trial; usual steps this much slower
SLOW_SECONDS = 0.25  # than when their mode was chosen, for this long, bring the next trial forward
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
    """Picks the BLAS mode for each step of one kind and learns from the step's duration.

    ``clock`` (seconds) is the step timer; tests pass their own.
    """

    def __init__(self, clock=time.perf_counter, both_first: bool = True):
        self.clock = clock
        self.rows = 1  # of the coming step: its time is recorded per row
        self.fixed = fixed_mode()  # read once: the environment is not looked up at every step
        # BLAS's own threads first, then (``both_first``) held at once: training repeats its steps for long
        # enough to pay for SPIN_SECONDS of held steps, and on a busy machine BLAS's threads may be several
        # times slower. An evaluation or a predict call may be short: it waits for the first trial.
        self.mode = NATIVE
        self.recent = {mode: deque(maxlen=TRIAL_STEPS) for mode in _MODES}
        self.measuring: deque = deque([NATIVE, ONE] if both_first else [NATIVE])  # first measurements, trials
        self.block_start = None  # when the block measuring measuring[0] began (None: not begun)
        self.losses = 0  # trials lost in a row: each doubles the time to the next
        self.next_trial = None  # clock time of the next trial (None until the first choice)
        self.chosen_at = None  # the mode's median step when it was chosen
        self.slow_since = None  # since when the usual steps have been SLOWER_RATIO slower than chosen_at
        self.settled_from = 0.0  # steps from then on are past the switch's after-effects

    # As a context manager: one step, in the mode chosen for it (a plain class: a step may take only
    # tens of microseconds, and a generator-based context manager would cost several of them).
    def __enter__(self):
        self._step = None if self.fixed else self.next_mode()  # (mode, measured), or None: not tuned
        blas.set_native_threads((self.fixed or self._step[0]) == NATIVE)
        self._start = self.clock()
        return self

    def __exit__(self, kind, value, traceback):
        if kind is None and self._step is not None:
            mode, measured = self._step
            self.record(mode, (self.clock() - self._start) / self.rows, measured, self._start)
        return False

    def next_mode(self) -> tuple[str, bool]:
        """(mode of the next step, whether the step is measured: part of a first measurement or a trial)."""
        if not self.measuring and self.next_trial is not None and self.clock() >= self.next_trial:
            self.measuring.append(self._other())
        if self.measuring:
            return self.measuring[0], True
        return self.mode, False

    def record(self, mode: str, seconds: float, measured: bool, started: float) -> None:
        """Learn from one step in ``mode`` that began at ``started`` and took ``seconds`` per row."""
        if not measured:
            if started < self.settled_from:
                return  # still slowed by the switch (or by the trial just ended): not the mode's usual
            self.recent[mode].append(seconds)
            if not (self.chosen_at and statistics.median(self.recent[mode]) > SLOWER_RATIO * self.chosen_at):
                self.slow_since = None
            elif self.slow_since is None:
                self.slow_since = started
            elif started - self.slow_since >= SLOW_SECONDS:
                self.next_trial = started  # the machine changed (not a hiccup): measure the other mode now
            return
        if self.block_start is None:  # a mode's first step: slowed by the steps before it
            self.block_start = started
            return
        if mode == ONE and started < min(blas.last_on_blas_threads + SPIN_SECONDS, self.block_start + 2 * SPIN_SECONDS):
            # BLAS's workers may still be spinning from a product on them (unless the mode's own steps keep
            # them busy, as a product whose bits depend on the thread count does: then it is timed as it is).
            return
        usual = self.recent[self.mode]
        if mode != self.mode and not self.recent[mode] and usual \
                and seconds > SLOWER_RATIO * statistics.median(usual):
            self.measuring.clear()  # clearly slower: no need to pay for two more such steps
        self.recent[mode].append(seconds)
        if len(self.recent[mode]) == TRIAL_STEPS and self.measuring:
            self.measuring.popleft()
            self.block_start = None
        if not self.measuring:
            self.block_start = None
            self._decide()

    def _other(self) -> str:
        return NATIVE if self.mode == ONE else ONE

    def _decide(self) -> None:
        other = self._other()
        if self.recent[other] and self.recent[self.mode] and (
                statistics.median(self.recent[other]) < SWITCH_MARGIN * statistics.median(self.recent[self.mode])):
            self.mode, self.losses = other, 0
        elif self.recent[other]:  # (the first measurement, of one mode, is no trial lost)
            self.losses += 1
        self.chosen_at = statistics.median(self.recent[self.mode]) if self.recent[self.mode] else None
        self.recent[self._other()].clear()  # the next trial measures afresh
        self.slow_since = None
        now = self.clock()
        self.settled_from, self.next_trial = now + SPIN_SECONDS, now + self._time_to_next_trial()

    def _time_to_next_trial(self) -> float:
        """TRIAL_SPACING times what the coming trial will cost, doubled for every trial lost in a row.

        A trial of BLAS's threads costs a few steps; one held to one thread also waits out their spinning.
        """
        step = statistics.median(self.recent[self.mode]) * self.rows if self.recent[self.mode] else 0.0
        cost = (1 + TRIAL_STEPS) * step + (SPIN_SECONDS if self._other() == ONE else 0.0)
        return min(MAX_INTERVAL, TRIAL_SPACING * cost * 2 ** min(self.losses, 20))


class ThreadTuningOps:
    """The backend's ``step_scope``: each step runs in its tuner's BLAS mode and is timed."""

    def step_scope(self, tuners: dict, key, rows: int) -> StepTuner:
        tuner = tuners.get(key)
        if tuner is None:
            if len(tuners) >= _MAX_TUNERS:
                tuners.pop(next(iter(tuners)))
            tuner = tuners[key] = StepTuner(both_first=key[0] == "train")
        tuner.rows = max(1, rows)
        return tuner
