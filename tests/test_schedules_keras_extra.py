"""PolynomialDecay and InverseTimeDecay against Keras's formulas, and optimizers driven by them.

``keras_*`` are the ``__call__`` bodies of Keras 3's schedules
(keras/src/optimizers/schedules/learning_rate_schedule.py) in plain Python.
"""
import json
import math

import numpy as np
import pytest

import seqnn as sn
from optimizer_steps import gradient_sequence, make_arena
from seqnn import layers, optimizers
from seqnn.optimizers import schedules


def keras_polynomial_decay(step, initial_learning_rate, decay_steps, end_learning_rate=0.0001, power=1.0,
                           cycle=False):
    global_step_recomp = float(step)
    decay_steps_recomp = float(decay_steps)
    if cycle:
        # Find the first multiple of decay_steps that is bigger than global_step (1 at step 0).
        multiplier = 1.0 if global_step_recomp == 0 else math.ceil(global_step_recomp / decay_steps)
        decay_steps_recomp = decay_steps_recomp * multiplier
    else:
        global_step_recomp = min(global_step_recomp, decay_steps_recomp)
    p = global_step_recomp / decay_steps_recomp
    return (initial_learning_rate - end_learning_rate) * (1 - p) ** power + end_learning_rate


def keras_inverse_time_decay(step, initial_learning_rate, decay_steps, decay_rate, staircase=False):
    p = float(step) / decay_steps
    if staircase:
        p = math.floor(p)
    return initial_learning_rate / (1 + decay_rate * p)


STEPS = [0, 1, 3, 9, 10, 11, 19, 20, 21, 35, 100, 1000]

POLYNOMIAL = [
    {"initial_learning_rate": 0.1, "decay_steps": 10},
    {"initial_learning_rate": 0.1, "decay_steps": 10, "end_learning_rate": 0.01, "power": 0.5},
    {"initial_learning_rate": 0.2, "decay_steps": 7, "end_learning_rate": 0.0, "power": 2.0, "cycle": True},
    {"initial_learning_rate": 0.05, "decay_steps": 10, "end_learning_rate": 0.001, "power": 1.0, "cycle": True},
    {"initial_learning_rate": 0.001, "decay_steps": 5, "end_learning_rate": 0.1},  # rising: a linear warm-up
    {"initial_learning_rate": 0.3, "decay_steps": 2.5, "power": 3.0, "cycle": True},
]

INVERSE_TIME = [
    {"initial_learning_rate": 0.1, "decay_steps": 1, "decay_rate": 0.5},
    {"initial_learning_rate": 0.1, "decay_steps": 10, "decay_rate": 2.0, "staircase": True},
    {"initial_learning_rate": 0.02, "decay_steps": 4, "decay_rate": 0.0},
]


@pytest.mark.parametrize("kwargs", POLYNOMIAL, ids=str)
def test_polynomial_decay_follows_keras(kwargs):
    schedule = schedules.PolynomialDecay(**kwargs)
    for step in STEPS:
        assert schedule(step) == pytest.approx(keras_polynomial_decay(step, **kwargs), rel=1e-14, abs=1e-18)


@pytest.mark.parametrize("kwargs", INVERSE_TIME, ids=str)
def test_inverse_time_decay_follows_keras(kwargs):
    schedule = schedules.InverseTimeDecay(**kwargs)
    for step in STEPS:
        assert schedule(step) == pytest.approx(keras_inverse_time_decay(step, **kwargs), rel=1e-14)


def test_polynomial_decay_shape():
    line = schedules.PolynomialDecay(1.0, decay_steps=4, end_learning_rate=0.0)
    assert [line(s) for s in range(7)] == pytest.approx([1.0, 0.75, 0.5, 0.25, 0.0, 0.0, 0.0])
    assert schedules.PolynomialDecay(0.1, 10)(10**6) == pytest.approx(0.0001)  # Keras's default end rate
    cycling = schedules.PolynomialDecay(1.0, decay_steps=4, end_learning_rate=0.0, cycle=True)
    # Back up just after each multiple of decay_steps, decaying over a longer span each time.
    assert [cycling(s) for s in (0, 4, 5, 8, 9, 12)] == pytest.approx([1.0, 0.0, 3 / 8, 0.0, 3 / 12, 0.0])


def test_inverse_time_decay_shape():
    smooth = schedules.InverseTimeDecay(1.0, decay_steps=2, decay_rate=1.0)
    stairs = schedules.InverseTimeDecay(1.0, decay_steps=2, decay_rate=1.0, staircase=True)
    assert [smooth(s) for s in range(5)] == pytest.approx([1.0, 2 / 3, 1 / 2, 2 / 5, 1 / 3])
    assert [stairs(s) for s in range(5)] == pytest.approx([1.0, 1.0, 1 / 2, 1 / 2, 1 / 3])


SCHEDULES = [
    schedules.PolynomialDecay(0.1, 10, end_learning_rate=0.01, power=0.5, cycle=True, name="poly"),
    schedules.PolynomialDecay(0.1, 10),
    schedules.InverseTimeDecay(0.1, 5, 0.5, staircase=True, name="inv"),
    schedules.InverseTimeDecay(0.1, 5, 0.5),
]


@pytest.mark.parametrize("schedule", SCHEDULES, ids=repr)
def test_config_round_trip(schedule):
    config = json.loads(json.dumps(schedules.serialize(schedule)))
    again = schedules.get(config)
    assert type(again) is type(schedule) and again.get_config() == schedule.get_config()
    assert [again(s) for s in range(0, 60, 7)] == [schedule(s) for s in range(0, 60, 7)]
    assert type(schedule).from_config(schedule.get_config()).get_config() == schedule.get_config()


@pytest.mark.parametrize("schedule", SCHEDULES[::2], ids=repr)
def test_schedule_survives_compile_save_load(schedule, tmp_path):
    sn.utils.set_random_seed(0)
    model = sn.Sequential([layers.Input((3,)), layers.Dense(2)])
    model.compile(optimizer=optimizers.Adam(learning_rate=schedule), loss="mse")
    x = np.random.default_rng(0).standard_normal((12, 3)).astype(np.float32)
    y = np.zeros((12, 2), np.float32)
    model.fit(x, y, epochs=2, batch_size=4, verbose=0, seed=0)
    model.save(tmp_path / "m.safetensors")
    loaded = sn.load_model(tmp_path / "m.safetensors")
    assert loaded.optimizer.uses_schedule
    assert loaded.optimizer.get_config() == model.optimizer.get_config()
    assert loaded.optimizer.iterations == model.optimizer.iterations == 6
    assert loaded.optimizer.learning_rate == model.optimizer.learning_rate == schedule(6)


def test_optimizer_with_schedule_steps_by_the_schedule():
    """Plain SGD moves by exactly lr·g, so each step shows the rate it used: schedule(iterations)."""
    for schedule in SCHEDULES:
        arena = make_arena()
        opt = optimizers.SGD(learning_rate=schedule)
        opt.build(arena)
        used = []
        for step in range(25):
            assert opt.learning_rate == schedule(step)
            before = np.array(arena.values)
            arena.grads[...] = 1.0
            opt.apply()
            used.append(float(np.mean(before - arena.values)))
        assert used == pytest.approx([schedule(s) for s in range(25)], rel=1e-12)


@pytest.mark.parametrize("name", ["sgd", "rmsprop", "adagrad", "adadelta", "adam", "adamw", "nadam", "adamax"])
@pytest.mark.parametrize("schedule", SCHEDULES[:3], ids=lambda s: type(s).__name__)
def test_every_optimizer_uses_the_scheduled_rate_at_each_step(name, schedule):
    """A schedule gives the same run as setting the float rate to schedule(step) by hand before each step."""
    config = {"momentum": 0.9} if name == "sgd" else {}
    scheduled = optimizers.get({"class_name": name, "config": {**config, "learning_rate": schedule}})
    by_hand = optimizers.get({"class_name": name, "config": {**config, "learning_rate": 1.0}})
    arenas = [make_arena(), make_arena()]
    scheduled.build(arenas[0])
    by_hand.build(arenas[1])
    for step, g in enumerate(gradient_sequence(arenas[0].size) * 2):
        by_hand.learning_rate = schedule(step)
        for opt, arena in zip((scheduled, by_hand), arenas):
            arena.grads[...] = g
            opt.apply()
        np.testing.assert_array_equal(arenas[0].values, arenas[1].values)


@pytest.mark.parametrize("make, argument", [
    (lambda: schedules.PolynomialDecay(0.1, decay_steps=0), "decay_steps"),
    (lambda: schedules.PolynomialDecay(0.1, decay_steps=-3), "decay_steps"),
    (lambda: schedules.PolynomialDecay(-0.1, decay_steps=3), "initial_learning_rate"),
    (lambda: schedules.PolynomialDecay(0.1, decay_steps=3, end_learning_rate=-1e-3), "end_learning_rate"),
    (lambda: schedules.PolynomialDecay(0.1, decay_steps=3, power=-1.0), "power"),
    (lambda: schedules.PolynomialDecay(0.1, decay_steps=3, power=float("nan")), "power"),
    (lambda: schedules.PolynomialDecay("0.1", decay_steps=3), "initial_learning_rate"),
    (lambda: schedules.InverseTimeDecay(0.1, decay_steps=0, decay_rate=0.5), "decay_steps"),
    (lambda: schedules.InverseTimeDecay(0.1, decay_steps=5, decay_rate=-0.5), "decay_rate"),
    (lambda: schedules.InverseTimeDecay(float("inf"), decay_steps=5, decay_rate=0.5), "initial_learning_rate"),
    (lambda: schedules.InverseTimeDecay(0.1, decay_steps=None, decay_rate=0.5), "decay_steps"),
])
def test_bad_arguments_name_the_argument(make, argument):
    with pytest.raises(ValueError, match=argument) as info:
        make()
    assert "got" in str(info.value)  # and what was received


def test_registered_by_name():
    config = {"initial_learning_rate": 0.1, "decay_steps": 5}
    assert type(schedules.get({"class_name": "PolynomialDecay", "config": config})) is schedules.PolynomialDecay
    inverse = schedules.get({"class_name": "inverse_time_decay", "config": {**config, "decay_rate": 1.0}})
    assert type(inverse) is schedules.InverseTimeDecay
