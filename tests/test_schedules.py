"""Learning-rate schedules against their formulas, and an optimizer driven by one."""
import json
import math

import numpy as np
import pytest

import seqnn as sn
from seqnn import optimizers
from seqnn.optimizers import schedules
from seqnn.parameters import ParameterArena


@pytest.mark.parametrize("step", [0, 1, 7, 10, 25, 1000])
def test_exponential_decay(step):
    smooth = schedules.ExponentialDecay(0.1, decay_steps=10, decay_rate=0.5)
    stairs = schedules.ExponentialDecay(0.1, decay_steps=10, decay_rate=0.5, staircase=True)
    assert smooth(step) == pytest.approx(0.1 * 0.5 ** (step / 10), rel=1e-14)
    assert stairs(step) == pytest.approx(0.1 * 0.5 ** (step // 10), rel=1e-14)


def test_staircase_holds_between_boundaries():
    stairs = schedules.ExponentialDecay(1.0, decay_steps=4, decay_rate=0.1, staircase=True)
    assert [stairs(s) for s in range(9)] == pytest.approx([1.0] * 4 + [0.1] * 4 + [0.01])


def test_piecewise_constant_decay():
    schedule = schedules.PiecewiseConstantDecay(boundaries=[3, 7], values=[1.0, 0.5, 0.1])
    # Keras: values[0] for step <= 3, values[1] for 3 < step <= 7, values[2] after.
    expected = {0: 1.0, 3: 1.0, 4: 0.5, 7: 0.5, 8: 0.1, 100: 0.1}
    assert {s: schedule(s) for s in expected} == expected


@pytest.mark.parametrize("step", [0, 5, 50, 99, 100, 150])
def test_cosine_decay(step):
    schedule = schedules.CosineDecay(0.2, decay_steps=100, alpha=0.1)
    done = min(step, 100) / 100
    expected = 0.2 * ((1 - 0.1) * 0.5 * (1 + math.cos(math.pi * done)) + 0.1)
    assert schedule(step) == pytest.approx(expected, rel=1e-14)


@pytest.mark.parametrize("step", [0, 4, 9, 10, 11, 60, 110, 500])
def test_cosine_decay_with_warmup(step):
    schedule = schedules.CosineDecay(0.0, decay_steps=100, warmup_target=0.3, warmup_steps=10)
    if step < 10:
        expected = 0.3 * step / 10  # linear from 0 to the target
    else:
        expected = 0.3 * 0.5 * (1 + math.cos(math.pi * min(step - 10, 100) / 100))
    assert schedule(step) == pytest.approx(expected, rel=1e-14, abs=1e-17)


def test_cosine_warmup_reaches_its_target_then_decays_to_alpha():
    schedule = schedules.CosineDecay(0.01, decay_steps=20, alpha=0.05, warmup_target=1.0, warmup_steps=5)
    assert schedule(0) == pytest.approx(0.01)
    assert schedule(5) == pytest.approx(1.0)
    assert schedule(25) == pytest.approx(0.05) and schedule(1000) == pytest.approx(0.05)


@pytest.mark.parametrize("schedule", [
    schedules.ExponentialDecay(0.1, 10, 0.5, staircase=True, name="decay"),
    schedules.PiecewiseConstantDecay([10, 20], [0.1, 0.01, 0.001]),
    schedules.CosineDecay(0.1, 50, alpha=0.01, warmup_target=0.5, warmup_steps=5),
], ids=lambda s: type(s).__name__)
def test_config_round_trip(schedule):
    config = json.loads(json.dumps(schedules.serialize(schedule)))
    again = schedules.get(config)
    assert type(again) is type(schedule)
    assert again.get_config() == schedule.get_config()
    assert [again(s) for s in range(0, 80, 7)] == [schedule(s) for s in range(0, 80, 7)]
    assert type(schedule).from_config(schedule.get_config()).get_config() == schedule.get_config()


@pytest.mark.parametrize("make, argument", [
    (lambda: schedules.ExponentialDecay(0.1, decay_steps=0, decay_rate=0.5), "decay_steps"),
    (lambda: schedules.ExponentialDecay(0.1, decay_steps=10, decay_rate=-0.5), "decay_rate"),
    (lambda: schedules.ExponentialDecay(-0.1, decay_steps=10, decay_rate=0.5), "initial_learning_rate"),
    (lambda: schedules.ExponentialDecay("0.1", decay_steps=10, decay_rate=0.5), "initial_learning_rate"),
    (lambda: schedules.PiecewiseConstantDecay([10, 20], [0.1, 0.01]), "values"),
    (lambda: schedules.PiecewiseConstantDecay([20, 10], [0.1, 0.01, 0.001]), "boundaries"),
    (lambda: schedules.PiecewiseConstantDecay([10], [0.1, float("nan")]), r"values\[1\]"),
    (lambda: schedules.CosineDecay(0.1, decay_steps=-5), "decay_steps"),
    (lambda: schedules.CosineDecay(0.1, decay_steps=5, alpha=1.5), "alpha"),
    (lambda: schedules.CosineDecay(0.1, decay_steps=5, warmup_steps=-1, warmup_target=0.2), "warmup_steps"),
    (lambda: schedules.CosineDecay(0.1, decay_steps=5, warmup_steps=2.5, warmup_target=0.2), "warmup_steps"),
    (lambda: schedules.CosineDecay(0.1, decay_steps=5, warmup_steps=2, warmup_target=-1.0), "warmup_target"),
])
def test_bad_arguments_name_the_argument(make, argument):
    with pytest.raises(ValueError, match=argument):
        make()


class FakeLayer:
    def __init__(self, shape):
        self.params = {"kernel": np.zeros(shape)}
        self.grads = {}
        self.trainable_names = ["kernel"]


@pytest.mark.parametrize("schedule", [
    schedules.PiecewiseConstantDecay([2, 4], [0.3, 0.2, 0.1]),
    schedules.CosineDecay(0.0, decay_steps=4, warmup_target=0.4, warmup_steps=2),
], ids=lambda s: type(s).__name__)
def test_optimizer_uses_schedule_at_iterations(schedule):
    """Plain SGD steps by exactly lr·g, so each step reveals the rate it used: schedule(iterations)."""
    arena = ParameterArena(sn.backends.get("numpy"), "float64", [FakeLayer((3,))])
    opt = optimizers.SGD(learning_rate=schedule)
    opt.build(arena)
    used = []
    for step in range(8):
        assert opt.iterations == step
        assert opt.learning_rate == schedule(step)
        before = np.array(arena.values)
        arena.grads[...] = 1.0
        opt.apply()
        used.append(float(np.mean(before - arena.values)))
    assert used == pytest.approx([schedule(s) for s in range(8)], rel=1e-12, abs=1e-15)
    assert len(set(np.round(used, 12))) > 2, "the schedule must change the rate in this window"


def test_optimizer_accepts_a_schedule_config_dict():
    config = schedules.serialize(schedules.ExponentialDecay(0.1, 10, 0.5))
    opt = optimizers.Adam(learning_rate=config)
    opt.iterations = 10
    assert opt.learning_rate == pytest.approx(0.05)


def test_a_schedule_cannot_be_set_by_hand():
    opt = optimizers.Adam(schedules.ExponentialDecay(0.1, 10, 0.5))
    assert opt.learning_rate == pytest.approx(0.1)
    opt.iterations = 10
    assert opt.learning_rate == pytest.approx(0.05)
    with pytest.raises(TypeError, match="LearningRateSchedule"):
        opt.learning_rate = 0.01
