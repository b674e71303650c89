"""BLAS on its own threads or held to one: the step tuner's choices, and the same bits either way."""
import numpy as np
import pytest
from fixed_models import fixed_mlp, fixed_weights

import seqnn as sn
from seqnn.backends.numpy_backend import blas, thread_tuning
from seqnn.backends.numpy_backend.thread_tuning import (
    FIRST_INTERVAL,
    MAX_INTERVAL,
    NATIVE,
    ONE,
    TRIAL_STEPS,
    StepTuner,
)


def run(tuner, seconds_of, steps):
    """Drive ``tuner`` for ``steps`` steps whose durations ``seconds_of(mode)`` gives; the modes it chose."""
    modes = []
    for _ in range(steps):
        mode, trial = tuner.next_mode()
        tuner.record(mode, seconds_of(mode), trial)
        modes.append(mode)
    return modes


def durations(one, native):
    return lambda mode: one if mode == ONE else native


BLOCK = 1 + TRIAL_STEPS  # a mode's first step is not counted
START = 2 * BLOCK  # each mode measured in turn


def test_each_mode_is_measured_in_turn_and_the_faster_wins():
    tuner = StepTuner()
    modes = run(tuner, durations(1.0, 0.6), START + 5)
    assert modes[:START] == [ONE] * BLOCK + [NATIVE] * BLOCK
    assert modes[START:] == [NATIVE] * 5 and tuner.mode == NATIVE


def test_a_mode_s_first_step_is_not_counted():
    tuner, times = StepTuner(), iter([9.0, 1.0, 1.0, 1.0, 0.1, 0.8, 0.8, 0.8])  # 9.0 and 0.1: first steps
    run(tuner, lambda mode: next(times), START)
    assert tuner.mode == NATIVE  # 0.8 < 0.95 · 1.0; the 9.0 would not have changed that, the 0.1 is ignored


def test_a_small_difference_does_not_switch():
    tuner = StepTuner()
    run(tuner, durations(1.0, 0.97), START)
    assert tuner.mode == ONE  # 3 % faster is within the 5 % margin


def test_losing_trials_come_ever_more_rarely():
    tuner = StepTuner()
    modes = run(tuner, durations(1.0, 1.2), START + 4000)
    trial_starts = [i for i in range(START, len(modes)) if modes[i] == NATIVE and modes[i - 1] == ONE]
    gaps = np.diff(trial_starts)
    assert trial_starts[0] == START + 2 * FIRST_INTERVAL  # the first choice already doubled the interval
    assert gaps[0] == BLOCK + 4 * FIRST_INTERVAL
    assert list(gaps[:4]) == sorted(gaps[:4]) and gaps.max() == BLOCK + MAX_INTERVAL
    assert sum(m == NATIVE for m in modes[100:]) < 0.05 * len(modes[100:])


def test_a_clearly_slower_trial_ends_after_its_first_counted_step():
    tuner = StepTuner()
    modes = run(tuner, durations(1.0, 3.0), START + 2 * FIRST_INTERVAL + 10)
    runs_of_native = [len(r) for r in "".join("n" if m == NATIVE else "." for m in modes).split(".") if r]
    assert runs_of_native == [2, 2]  # the uncounted step and the one that ended it, at the start and later


def test_the_tuner_follows_a_machine_that_becomes_busy():
    tuner = StepTuner()
    run(tuner, durations(1.0, 0.6), 50)
    assert tuner.mode == NATIVE
    run(tuner, durations(1.0, 4.0), 3 * FIRST_INTERVAL)  # another process now takes a core
    assert tuner.mode == ONE


def test_step_scope_runs_the_step_in_the_tuners_mode(monkeypatch):
    monkeypatch.delenv("SEQNN_BLAS_THREADS", raising=False)
    backend, tuners, seen = sn.backends.get("numpy"), {}, []
    for _ in range(START):
        with backend.step_scope(tuners, ("train", (4,)), 8):
            seen.append(blas._native.on)
    assert seen == [False] * BLOCK + [True] * BLOCK and list(tuners) == [("train", (4,))]


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
