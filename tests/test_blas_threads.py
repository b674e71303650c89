"""BLAS on its own threads or held to one: the step tuner's choices, and the same bits either way."""
import itertools

import numpy as np
import pytest
from fixed_models import fixed_mlp, fixed_weights

import seqnn as sn
from seqnn.backends.numpy_backend import blas, thread_tuning
from seqnn.backends.numpy_backend.thread_tuning import (
    MAX_INTERVAL,
    NATIVE,
    ONE,
    SLOW_SECONDS,
    SPIN_SECONDS,
    TRIAL_SPACING,
    TRIAL_STEPS,
    StepTuner,
)


class Clock:
    """A step timer that moves only as the simulated steps take their time."""

    def __init__(self):
        self.now = 0.0

    def __call__(self):
        return self.now


def tuner_with_clock(both_first=False):
    clock = Clock()
    return StepTuner(clock, both_first=both_first), clock


@pytest.fixture(autouse=True)
def no_product_on_blas_threads_yet(monkeypatch):
    monkeypatch.setattr(blas, "last_on_blas_threads", float("-inf"))


def run(tuner, seconds_of, steps, clock, products_on_blas_threads=True):
    """Drive ``tuner`` for ``steps`` steps whose durations ``seconds_of(mode)`` gives; the modes it chose.
    A step on BLAS's threads ends with a product on them, as a real one does (unless its products are all
    too small for BLAS to use its threads)."""
    modes = []
    for _ in range(steps):
        mode, measured = tuner.next_mode()
        started, took = clock.now, seconds_of(mode)
        clock.now += took
        if mode == NATIVE and products_on_blas_threads:
            blas.last_on_blas_threads = clock.now
        tuner.record(mode, took, measured, started)
        modes.append(mode)
    return modes


def durations(one, native):
    return lambda mode: one if mode == ONE else native


BLOCK = 1 + TRIAL_STEPS  # a mode's first step is not counted (steps here last longer than SPIN_SECONDS)


def test_it_starts_on_blas_threads_and_tries_held_steps_later():
    tuner, clock = tuner_with_clock()
    modes = run(tuner, durations(0.06, 0.1), 300, clock)
    first_trial = modes.index(ONE)
    assert modes[:first_trial] == [NATIVE] * first_trial
    trial_cost = BLOCK * 0.1 + SPIN_SECONDS  # its steps, and the wait for BLAS's workers to stop spinning
    assert first_trial == pytest.approx(BLOCK + TRIAL_SPACING * trial_cost / 0.1, abs=1)
    assert tuner.mode == ONE and modes[-1] == ONE


def test_training_steps_measure_both_modes_at_once():
    """Training repeats its steps long enough to pay for a held block at once; on a busy machine BLAS's
    threads may be several times slower, and a first trial 20× its cost later would come too late."""
    tuner, clock = tuner_with_clock(both_first=True)
    modes = run(tuner, durations(0.1, 0.4), 3 * BLOCK, clock)
    assert modes[:BLOCK] == [NATIVE] * BLOCK and modes[BLOCK:2 * BLOCK] == [ONE] * BLOCK
    assert tuner.mode == ONE and modes[-1] == ONE


def test_a_mode_s_first_step_is_not_counted():
    times = {NATIVE: iter([0.1, 1.0, 1.0, 1.0]), ONE: iter([9.0, 0.8, 0.8, 0.8])}  # 0.1 and 9.0: first steps
    tuner, clock = tuner_with_clock()
    run(tuner, lambda mode: next(times[mode], 0.9 if mode == ONE else 1.0), 200, clock)
    assert tuner.mode == ONE  # 0.8 < 0.95 · 1.0: the 0.1 is ignored, and the 9.0 would have changed that


def test_a_small_difference_does_not_switch():
    tuner, clock = tuner_with_clock()
    run(tuner, durations(0.97, 1.0), 200, clock)
    assert tuner.mode == NATIVE  # 3 % faster is within the 5 % margin


def test_held_steps_count_only_once_blas_s_workers_have_stopped_spinning():
    """After steps on BLAS's threads, held steps are slow for a while (its idle workers spin on the
    cores): a trial must not judge the mode by them."""
    tuner, clock = tuner_with_clock()
    run(tuner, durations(0.08, 0.05), 200, clock)  # held is slower here: BLAS's threads are chosen
    assert tuner.mode == NATIVE
    switched_at = {}

    def now_held_is_faster(mode):
        if mode == NATIVE:
            switched_at.pop(ONE, None)
            return 0.05
        first = switched_at.setdefault(ONE, clock.now)
        return 0.07 if clock.now < first + 0.75 * SPIN_SECONDS else 0.03  # spinning workers, then free cores

    run(tuner, now_held_is_faster, int(MAX_INTERVAL / 0.03), clock)
    assert tuner.mode == ONE


def held_trial_length(tuner, seconds_of, clock, **run_options):
    """Steps from the start of the first held trial until the tuner decides (the trial's whole block)."""
    while tuner.next_mode()[0] != ONE:
        run(tuner, seconds_of, 1, clock, **run_options)
    steps = 0
    while tuner.measuring:
        run(tuner, seconds_of, 1, clock, **run_options)
        steps += 1
    return steps


def test_held_steps_count_at_once_when_blas_s_threads_have_been_idle():
    """Steps whose products are all too small for BLAS's threads leave none spinning: no wait."""
    tuner, clock = tuner_with_clock()
    steps = held_trial_length(tuner, durations(0.01, 0.02), clock, products_on_blas_threads=False)
    assert steps == BLOCK and tuner.mode == ONE  # the uncounted first step and three counted


def test_held_steps_that_run_products_on_blas_threads_count_after_the_wait():
    """A mode whose own steps use BLAS's threads (a product whose bits depend on the thread count always
    does) is measured as it is, once twice SPIN_SECONDS have passed since its block began."""
    tuner, clock = tuner_with_clock()

    def a_product_on_blas_threads_in_every_step(mode):
        blas.last_on_blas_threads = clock.now
        return 0.01 if mode == ONE else 0.02

    steps = held_trial_length(tuner, a_product_on_blas_threads_in_every_step, clock)
    waited = round(2 * SPIN_SECONDS / 0.01)  # steps of 0.01 s before one counts (± one for the sums' rounding)
    assert waited + TRIAL_STEPS <= steps <= waited + TRIAL_STEPS + 1 and tuner.mode == ONE


def test_the_first_held_step_s_products_on_blas_threads_are_waited_out():
    """The first held step of a shape checks its products both ways, on BLAS's threads too (0.1 s here):
    its spinning workers then slow the held steps for a while, which must not count."""
    tuner, clock = tuner_with_clock()
    run(tuner, durations(0.01, 0.02), 4, clock)  # the first measurement, on BLAS's threads
    tuner.next_trial, checked = clock.now, []

    def check_then_spin(mode):
        if mode == NATIVE:
            return 0.02
        if not checked:
            checked.append(clock.now + 0.1)
            blas.last_on_blas_threads = checked[0]
            return 0.1
        return 0.03 if clock.now < checked[0] + 0.1 else 0.01  # slowed by the spinning workers, then not

    run(tuner, check_then_spin, 40, clock)
    assert tuner.mode == ONE


def trial_starts(tuner, clock, seconds_of, duration, mode):
    """The clock times at which measurements of ``mode`` began, driving the tuner for ``duration`` s."""
    starts, previous = [], None
    while clock.now < duration:
        started = clock.now
        (current,) = run(tuner, seconds_of, 1, clock)
        if current == mode and previous != mode:
            starts.append(started)
        previous = current
    return starts


def test_losing_trials_come_ever_more_rarely():
    tuner, clock = tuner_with_clock()
    starts = trial_starts(tuner, clock, durations(0.01, 0.012), 4 * MAX_INTERVAL, NATIVE)
    gaps = np.diff(starts[1:])  # starts[0]: the first measurement
    assert all(b > 1.9 * a for a, b in itertools.pairwise(gaps) if b < MAX_INTERVAL)  # doubling...
    assert gaps[-1] == pytest.approx(MAX_INTERVAL, abs=0.1)  # ...up to the longest interval
    assert len(starts) * (1 + TRIAL_STEPS) * 0.012 < 0.01 * clock.now  # trials took under 1 % of the time


def test_trials_are_spaced_by_what_they_cost():
    """A trial of BLAS's threads costs a few steps; one held to one thread also waits out their spinning
    (SPIN_SECONDS), so such trials come far less often."""
    gaps = {}
    for faster, slower in ((ONE, NATIVE), (NATIVE, ONE)):
        tuner, clock = tuner_with_clock()
        starts = trial_starts(tuner, clock, durations(*((0.002, 0.003) if faster == ONE else (0.003, 0.002))), 60, slower)
        gaps[slower] = starts[2] - starts[1]
    assert gaps[ONE] >= 2 * TRIAL_SPACING * SPIN_SECONDS and gaps[ONE] > 5 * gaps[NATIVE]


def test_a_clearly_slower_trial_ends_after_its_first_counted_step():
    tuner, clock = tuner_with_clock()
    modes = run(tuner, durations(1.0, 3.0), 200, clock)
    runs_of_native = [len(r) for r in "".join("n" if m == NATIVE else "." for m in modes).split(".") if r]
    assert len(runs_of_native) >= 3 and set(runs_of_native[1:]) == {2}  # the uncounted step, the one that ended it


def just_decided(tuner, seconds_of, clock):
    """Drive ``tuner`` until it has just chosen a mode with the longest wait before the next trial."""
    while tuner.next_trial is None or tuner.next_trial - clock.now < 0.9 * MAX_INTERVAL:
        run(tuner, seconds_of, 1, clock)


def test_the_tuner_follows_a_machine_that_becomes_busy():
    tuner, clock = tuner_with_clock()
    just_decided(tuner, durations(0.1, 0.06), clock)
    due = tuner.next_trial
    assert tuner.mode == NATIVE
    run(tuner, durations(0.1, 0.4), 15, clock)  # another process now takes a core: the next trial comes at once
    assert tuner.mode == ONE and clock.now < due


def test_a_hiccup_does_not_bring_a_trial_forward():
    tuner, clock = tuner_with_clock()
    just_decided(tuner, durations(0.02, 0.01), clock)
    assert tuner.mode == NATIVE
    due = tuner.next_trial
    run(tuner, durations(0.02, 0.05), int(0.8 * SLOW_SECONDS / 0.05), clock)  # slow, but briefly
    run(tuner, durations(0.02, 0.01), 10, clock)
    assert tuner.next_trial == due
    run(tuner, durations(0.02, 0.05), int(2 * SLOW_SECONDS / 0.05), clock)  # slow for longer
    assert tuner.next_trial < due


def test_step_scope_runs_the_step_in_the_tuners_mode(monkeypatch):
    monkeypatch.delenv("SEQNN_BLAS_THREADS", raising=False)
    monkeypatch.setattr(thread_tuning, "SPIN_SECONDS", 0.0)
    backend, tuners = sn.backends.get("numpy"), {}
    for kind in ("predict", "train"):
        seen = []
        for _ in range(BLOCK + 1):
            with backend.step_scope(tuners, (kind, (4,)), 8):
                seen.append(blas._native.on)
        assert seen == [True] * BLOCK + [kind == "predict"]  # training measures held steps at once
    assert list(tuners) == [("predict", (4,)), ("train", (4,))]
    tuners[("predict", (4,))].next_trial = 0.0  # a trial of held steps, now
    with backend.step_scope(tuners, ("predict", (4,)), 8):
        assert not blas._native.on


@pytest.mark.parametrize("value, expected", [("", None), ("auto", None), ("native", NATIVE), (" ONE ", ONE)])
def test_the_environment_can_fix_the_mode(monkeypatch, value, expected):
    monkeypatch.setenv("SEQNN_BLAS_THREADS", value)
    assert thread_tuning.fixed_mode() == expected


def test_a_bad_environment_value_is_named(monkeypatch):
    monkeypatch.setenv("SEQNN_BLAS_THREADS", "2")
    with pytest.raises(ValueError, match="SEQNN_BLAS_THREADS must be 'auto', 'native' or 'one', got '2'"):
        thread_tuning.fixed_mode()


def train(mode, monkeypatch):
    monkeypatch.setenv("SEQNN_BLAS_THREADS", mode)
    rng = np.random.default_rng(0)
    x, y = rng.normal(size=(512, 12, 12, 3)).astype("float32"), rng.integers(0, 10, 512)
    model = (sn.Sequential([sn.layers.Input((12, 12, 3)), sn.layers.Conv2D(32, 3, activation="relu"),
                            sn.layers.MaxPooling2D(), sn.layers.Flatten(), sn.layers.Dense(512, activation="relu"),
                            sn.layers.Dense(10, activation="softmax")])
             .compile(optimizer="adam", loss="sparse_categorical_crossentropy"))
    fixed_weights(model).fit(x, y, batch_size=256, epochs=2, verbose=0, seed=1)
    return model.get_weights(), model.predict(x, batch_size=512, verbose=0)


def test_both_modes_compute_the_same_bits(monkeypatch):
    """BLAS splits output rows and columns over its threads, not the inner sum (products of 2**21 to
    2**23 multiply-adds here, enough for OpenBLAS to use its threads)."""
    (weights_one, out_one), (weights_native, out_native) = train("one", monkeypatch), train("native", monkeypatch)
    assert all(np.array_equal(a, b) for a, b in zip(weights_one, weights_native))
    assert np.array_equal(out_one, out_native)


def test_the_mnist_mlp_trains_to_the_same_bits_in_both_modes(monkeypatch):
    """OpenBLAS 0.3.31 rounds 128×784·784×256 differently on 1 and 2 threads: such a product must run the
    same way in both modes (on BLAS's threads), or a step's timing would change the trained weights."""
    rng = np.random.default_rng(0)
    x, y = rng.random((512, 784), dtype=np.float32), rng.integers(0, 10, 512)

    def trained(mode):
        monkeypatch.setenv("SEQNN_BLAS_THREADS", mode)
        model = fixed_mlp(784)
        model.fit(x, y, batch_size=128, epochs=1, verbose=0, seed=0)
        return model.get_weights() + [model.predict(x, batch_size=512, verbose=0)]

    assert all(np.array_equal(a, b) for a, b in zip(trained("one"), trained("native")))


def test_a_product_whose_bits_depend_on_the_threads_always_runs_on_blas_threads(monkeypatch):
    if not blas._blas_libraries():
        pytest.skip("threadpoolctl finds no BLAS to hold")
    a, b = np.random.default_rng(0).random((64, 700), np.float32), np.random.default_rng(1).random((700, 64),
                                                                                                    np.float32)
    held = blas._held

    def held_one_ulp_off(a, b, out, libraries):
        held(a, b, out, libraries)
        out[0, 0] = np.nextafter(out[0, 0], np.inf)  # as if one thread summed in another order
        return out

    monkeypatch.setattr(blas, "_held", held_one_ulp_off)
    monkeypatch.setattr(blas, "_same_bits", {})
    blas.set_native_threads(False)  # held: unless the first call finds different bits
    for _ in range(2):  # the first call checks, the second uses the answer
        out = blas.matmul(a, b, np.empty((64, 64), np.float32))
        assert np.array_equal(out, np.matmul(a, b))  # the BLAS-threads result, not the held one
    assert list(blas._same_bits.values()) == [False]


def test_mostly_zero_outputs_leave_the_question_open(monkeypatch):
    if not blas._blas_libraries():
        pytest.skip("threadpoolctl finds no BLAS to hold")
    monkeypatch.setattr(blas, "_same_bits", {})
    blas.set_native_threads(False)
    a, out = np.random.default_rng(0).random((64, 700), np.float32), np.empty((64, 64), np.float32)
    blas.matmul(a, np.zeros((700, 64), np.float32), out)  # zero weights: any order sums to 0
    assert blas._same_bits == {}
    b = np.random.default_rng(1).random((700, 64), np.float32)
    assert np.array_equal(blas.matmul(a, b, out), np.matmul(a, b))
    assert len(blas._same_bits) == 1
