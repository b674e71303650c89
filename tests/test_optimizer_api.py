"""The optimizer API: argument checks, config round trips, names, state slots and scalars.

The update rules themselves are checked in test_optimizers.py.
"""
import json
import math
import warnings

import numpy as np
import pytest

import seqnn as sn
from seqnn import optimizers
from seqnn.errors import UnknownNameError
from seqnn.optimizers import schedules
from seqnn.parameters import ParameterArena

from optimizer_steps import FakeLayer, gradient_sequence, make_arena, run_seqnn


# ------------------------------------------------------- bad arguments ---

@pytest.mark.parametrize("cls, kwargs, argument", [
    (optimizers.SGD, {"momentum": -0.1}, "momentum"),
    (optimizers.SGD, {"momentum": 1.5}, "momentum"),
    (optimizers.SGD, {"learning_rate": "fast"}, "learning_rate"),
    (optimizers.RMSprop, {"rho": 1.0}, "rho"),
    (optimizers.RMSprop, {"momentum": -1}, "momentum"),
    (optimizers.RMSprop, {"epsilon": -1e-7}, "epsilon"),
    (optimizers.Adagrad, {"initial_accumulator_value": -0.1}, "initial_accumulator_value"),
    (optimizers.Adagrad, {"epsilon": float("nan")}, "epsilon"),
    (optimizers.Adadelta, {"rho": 1.0}, "rho"),
    (optimizers.Adadelta, {"rho": -0.1}, "rho"),
    (optimizers.Adadelta, {"epsilon": -1e-7}, "epsilon"),
    (optimizers.Adadelta, {"learning_rate": None}, "learning_rate"),
    (optimizers.Adam, {"beta_1": 1.0}, "beta_1"),
    (optimizers.Adam, {"beta_2": 2.0}, "beta_2"),
    (optimizers.Adam, {"learning_rate": float("inf")}, "learning_rate"),
    (optimizers.AdamW, {"weight_decay": -0.01}, "weight_decay"),
    (optimizers.Nadam, {"momentum_decay": -1.0}, "momentum_decay"),
    (optimizers.Nadam, {"beta_1": -0.5}, "beta_1"),
    (optimizers.Adamax, {"beta_2": 1.0}, "beta_2"),
    (optimizers.Adamax, {"clipnorm": 0.0}, "clipnorm"),
    (optimizers.SGD, {"clipvalue": -1.0}, "clipvalue"),
    (optimizers.SGD, {"global_clipnorm": True}, "global_clipnorm"),
    (optimizers.Adam, {"use_ema": True}, "use_ema"),
])
def test_bad_arguments_name_the_argument(cls, kwargs, argument):
    with pytest.raises(ValueError, match=argument):
        cls(**kwargs)


def test_unknown_arguments_are_type_errors():
    with pytest.raises(TypeError, match="momentun"):
        optimizers.SGD(momentun=0.9)


def test_apply_before_build_is_refused():
    with pytest.raises(RuntimeError, match="build"):
        optimizers.Adam().apply()


# ----------------------------------------------------- config and names ---

CONFIGURED = [
    optimizers.SGD(0.1, momentum=0.9, nesterov=True, clipnorm=1.0, name="my_sgd"),
    optimizers.RMSprop(0.01, rho=0.8, momentum=0.5, epsilon=1e-6, centered=True, weight_decay=0.1),
    optimizers.Adagrad(0.05, initial_accumulator_value=0.2, epsilon=1e-5, global_clipnorm=3.0),
    optimizers.Adadelta(1.0, rho=0.9, epsilon=1e-6, clipnorm=2.0, weight_decay=0.01, name="my_adadelta"),
    optimizers.Adam(0.002, beta_1=0.8, beta_2=0.99, epsilon=1e-6, amsgrad=True, clipvalue=0.5),
    optimizers.AdamW(0.003, weight_decay=0.01),
    optimizers.Nadam(0.004, beta_1=0.85, momentum_decay=0.01),
    optimizers.Adamax(0.005, beta_2=0.9),
    optimizers.Adam(schedules.CosineDecay(0.1, 100, alpha=0.1, warmup_target=0.2, warmup_steps=10)),
]


@pytest.mark.parametrize("opt", CONFIGURED, ids=lambda o: type(o).__name__)
def test_config_round_trip(opt):
    config = opt.get_config()
    json.dumps(config)  # plain data, so a model config stays JSON
    again = type(opt).from_config(config)
    assert type(again) is type(opt) and again.get_config() == config
    via_registry = optimizers.get(json.loads(json.dumps(optimizers.serialize(opt))))
    assert type(via_registry) is type(opt) and via_registry.get_config() == config
    via_registry.iterations = opt.iterations = 20
    assert via_registry.learning_rate == opt.learning_rate


@pytest.mark.parametrize("name, cls", [
    ("sgd", optimizers.SGD), ("SGD", optimizers.SGD), ("rmsprop", optimizers.RMSprop),
    ("RMSprop", optimizers.RMSprop), ("adagrad", optimizers.Adagrad), ("Adam", optimizers.Adam),
    ("adadelta", optimizers.Adadelta), ("AdaDelta", optimizers.Adadelta),
    ("adam", optimizers.Adam), ("AdamW", optimizers.AdamW), ("nadam", optimizers.Nadam),
    ("Adamax", optimizers.Adamax), ("ADAMAX", optimizers.Adamax),
])
def test_get_by_name_is_case_insensitive(name, cls):
    opt = optimizers.get(name)
    assert type(opt) is cls
    assert opt.get_config() == cls().get_config()  # Keras's defaults


def test_keras_defaults():
    assert optimizers.SGD().get_config() == {"name": "sgd", "learning_rate": 0.01, "momentum": 0.0,
                                             "nesterov": False}
    rms = optimizers.RMSprop()
    assert (rms.learning_rate, rms.rho, rms.momentum, rms.epsilon, rms.centered) == (0.001, 0.9, 0.0, 1e-7, False)
    ada = optimizers.Adagrad()
    assert (ada.learning_rate, ada.initial_accumulator_value, ada.epsilon) == (0.001, 0.1, 1e-7)
    assert optimizers.Adadelta().get_config() == {"name": "adadelta", "learning_rate": 0.001, "rho": 0.95,
                                                  "epsilon": 1e-7}
    for cls in (optimizers.Adam, optimizers.Nadam, optimizers.Adamax):
        opt = cls()
        assert (opt.learning_rate, opt.beta_1, opt.beta_2, opt.epsilon) == (0.001, 0.9, 0.999, 1e-7)
    assert optimizers.AdamW().weight_decay == 0.004


def test_unknown_name_lists_the_known_ones():
    with pytest.raises(UnknownNameError) as info:
        optimizers.get("adamm")
    for name in ("sgd", "rmsprop", "adagrad", "adadelta", "adam", "adamw", "nadam", "adamax"):
        assert name in str(info.value)


# --------------------------------------------------------------- state ---

@pytest.mark.parametrize("opt, slots", [
    (optimizers.SGD(), []),
    (optimizers.SGD(momentum=0.9), ["velocity"]),
    (optimizers.RMSprop(), ["mean_square"]),
    (optimizers.RMSprop(centered=True, momentum=0.9), ["mean_square", "mean_grad", "momentum"]),
    (optimizers.Adagrad(), ["accumulator"]),
    (optimizers.Adadelta(), ["mean_square_grad", "mean_square_delta"]),
    (optimizers.Adam(), ["m", "v"]),
    (optimizers.Adam(amsgrad=True), ["m", "v", "v_max"]),
    (optimizers.Nadam(), ["m", "v"]),
    (optimizers.Adamax(), ["m", "u"]),
], ids=repr)
def test_slots_are_named_per_parameter(opt, slots):
    arena = make_arena()
    opt.build(arena)
    names = opt.variables()
    assert sorted(names) == sorted(f"{slot}.{path}" for slot in slots for path in arena.paths)
    for name, value in names.items():
        assert value.shape == arena.shapes[name.split(".", 1)[1]]


def test_adagrad_accumulator_starts_at_its_initial_value():
    opt = optimizers.Adagrad(initial_accumulator_value=0.25)
    opt.build(make_arena())
    assert np.all(opt.slots["accumulator"] == 0.25)


@pytest.mark.parametrize("name", ["sgd", "rmsprop", "adagrad", "adadelta", "adam", "nadam", "adamax"])
def test_state_scalars_and_slots_resume_exactly(name):
    """Saving slots and scalars midway and loading them into a fresh optimizer continues the same run."""
    grads = gradient_sequence(make_arena().size)
    config = {"class_name": name, "config": {"learning_rate": 0.01}}
    if name == "sgd":
        config["config"]["momentum"] = 0.9
    whole = run_seqnn(optimizers.get(config), grads)

    first, first_arena = optimizers.get(config), make_arena()
    first.build(first_arena)
    for g in grads[:3]:
        first_arena.grads[...] = g
        first.apply()
    scalars = first.state_scalars()
    assert scalars["step"] == 3
    saved = {k: np.array(v) for k, v in first.variables().items()}

    second, second_arena = optimizers.get(config), make_arena()
    second_arena.values[...] = first_arena.values
    second.build(second_arena)
    for key, view in second.variables().items():
        view[...] = saved[key]
    second.set_state_scalars({k: float(v) for k, v in scalars.items()})  # as read back from a file
    for g, expected in zip(grads[3:], whole[3:]):
        second_arena.grads[...] = g
        second.apply()
        np.testing.assert_array_equal(second_arena.values, expected)


def test_nadam_keeps_the_running_momentum_product():
    opt = optimizers.Nadam()
    assert opt.state_scalars() == {"step": 0, "mu_product": 1.0}
    run_seqnn(opt, gradient_sequence(make_arena().size)[:4])
    expected = math.prod(0.9 * (1 - 0.5 * 0.96 ** (0.004 * t)) for t in range(1, 5))
    assert opt.state_scalars()["step"] == 4
    assert opt.state_scalars()["mu_product"] == pytest.approx(expected, rel=1e-14)
    assert optimizers.Adam().state_scalars() == {"step": 0}


def test_set_state_scalars_checks_names_and_values():
    opt = optimizers.Nadam()
    with pytest.raises(ValueError, match="mu_product"):
        opt.set_state_scalars({"step": 3})
    with pytest.raises(ValueError, match="beta"):
        opt.set_state_scalars({"step": 3, "mu_product": 0.5, "beta": 1.0})
    with pytest.raises(ValueError, match="step"):
        opt.set_state_scalars({"step": 2.5, "mu_product": 0.5})
    with pytest.raises(ValueError, match="mu_product"):
        opt.set_state_scalars({"step": 2, "mu_product": 0.0})
    opt.set_state_scalars({"step": 7.0, "mu_product": 0.5})
    assert opt.iterations == 7 and isinstance(opt.iterations, int) and opt.mu_product == 0.5


def test_rebuilding_keeps_the_state_of_parameters_that_stay():
    """Freezing a layer re-packs the arena; the optimizer must not forget the others' moments."""
    rng = np.random.default_rng(0)
    first, second = FakeLayer(rng, kernel=(3, 2)), FakeLayer(rng, kernel=(2, 2), bias=(2,))
    backend = sn.backends.get("numpy")
    opt = optimizers.Adam()
    both = ParameterArena(backend, "float64", [first, second])
    opt.build(both)
    both.grads[...] = 1.0
    opt.apply()
    kept = {k: np.array(v) for k, v in opt.variables().items() if k.startswith(("m.layers.1", "v.layers.1"))}
    assert all(np.all(v != 0) for v in kept.values())

    first.trainable_names = []  # frozen
    opt.build(ParameterArena(backend, "float64", [first, second]))
    assert sorted(opt.variables()) == sorted(kept)
    for key, value in kept.items():
        np.testing.assert_array_equal(opt.variables()[key], value)
    assert opt.iterations == 1

    first.trainable_names = ["kernel"]  # unfrozen: fresh state for it only
    opt.build(ParameterArena(backend, "float64", [first, second]))
    np.testing.assert_array_equal(opt.variables()["m.layers.0.kernel"], 0.0)
    np.testing.assert_array_equal(opt.variables()["m.layers.1.bias"], kept["m.layers.1.bias"])


# ------------------------------------- Keras 2's decay and lr, handled as Keras 3 does ---
# keras/src/optimizers/base_optimizer.py: ``decay`` (any value but None) is ignored with
# a warning; ``lr`` falls through to "Argument(s) not recognized" (a ValueError).

EVERY_OPTIMIZER = [optimizers.SGD, optimizers.RMSprop, optimizers.Adagrad, optimizers.Adadelta, optimizers.Adam,
                   optimizers.AdamW, optimizers.Nadam, optimizers.Adamax]


@pytest.mark.parametrize("decay", [1e-4, 0.0])
@pytest.mark.parametrize("cls", EVERY_OPTIMIZER, ids=lambda c: c.__name__)
def test_decay_is_ignored_with_a_warning(cls, decay):
    with pytest.warns(UserWarning, match=r"argument `decay` is no longer supported and will be ignored") as record:
        opt = cls(learning_rate=0.1, decay=decay)
    assert len(record) == 1 and cls.__name__ in str(record[0].message)
    assert record[0].filename == __file__  # the warning points at the user's line
    plain = cls(learning_rate=0.1)
    assert opt.get_config() == plain.get_config()
    grads = gradient_sequence(make_arena().size)
    np.testing.assert_array_equal(run_seqnn(opt, grads)[-1], run_seqnn(plain, grads)[-1])


def test_decay_from_a_keras2_config_is_ignored_with_a_warning():
    with pytest.warns(UserWarning, match="decay") as record:
        opt = optimizers.get({"class_name": "Adam", "config": {"learning_rate": 0.01, "decay": 1e-6}})
    assert record[0].filename == __file__
    assert opt.get_config() == optimizers.Adam(0.01).get_config()


@pytest.mark.parametrize("cls", EVERY_OPTIMIZER, ids=lambda c: c.__name__)
def test_decay_none_is_silent(cls):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        cls(decay=None)


@pytest.mark.parametrize("cls", EVERY_OPTIMIZER, ids=lambda c: c.__name__)
def test_lr_is_refused_naming_learning_rate(cls):
    with pytest.raises(ValueError, match=r"`lr` is not recognized.*learning_rate=0\.05"):
        cls(lr=0.05)
    with pytest.raises(ValueError, match="`lr`"):
        optimizers.get({"class_name": cls.__name__, "config": {"lr": 0.05}})
