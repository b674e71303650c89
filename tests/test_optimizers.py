"""Optimizers against their published update rules, step by step, in float64.

Each reference below is the rule written out plainly in numpy (β·m + (1−β)·g,
explicit bias corrections, products recomputed from scratch) and shares no
code with seqnn, so a slip in a fused backend update or in an optimizer's
bookkeeping shows up as a mismatch at some step.
"""
import math
import tracemalloc

import numpy as np
import pytest
from core_only_backend import CoreOnly

import seqnn as sn
from seqnn import optimizers
from seqnn.optimizers import schedules
from seqnn.parameters import ParameterArena

from optimizer_steps import FakeLayer, gradient_sequence, make_arena, run_seqnn


# ------------------------------------------------------------ references ---
# Each takes the initial flat parameters, the gradients and lr_at(step) with
# step = updates already applied, and returns the parameters after each step.

def ref_sgd(p, grads, lr_at, momentum=0.0, nesterov=False, weight_decay=0.0):
    p, v, out = p.copy(), np.zeros_like(p), []
    for step, g in enumerate(grads):
        lr = lr_at(step)
        p = p - lr * weight_decay * p
        if momentum == 0:
            p = p - lr * g
        else:
            v = momentum * v - lr * g
            p = p + (momentum * v - lr * g if nesterov else v)
        out.append(p)
    return out


def ref_rmsprop(p, grads, lr_at, rho=0.9, momentum=0.0, epsilon=1e-7, centered=False, weight_decay=0.0):
    p, s, mg, b, out = p.copy(), np.zeros_like(p), np.zeros_like(p), np.zeros_like(p), []
    for step, g in enumerate(grads):
        lr = lr_at(step)
        p = p - lr * weight_decay * p
        s = rho * s + (1 - rho) * g**2
        if centered:
            mg = rho * mg + (1 - rho) * g
            increment = lr * g / np.sqrt(s - mg**2 + epsilon)
        else:
            increment = lr * g / np.sqrt(s + epsilon)
        if momentum > 0:
            b = momentum * b + increment
            p = p - b
        else:
            p = p - increment
        out.append(p)
    return out


def ref_adagrad(p, grads, lr_at, initial_accumulator_value=0.1, epsilon=1e-7, weight_decay=0.0):
    p, acc, out = p.copy(), np.full_like(p, initial_accumulator_value), []
    for step, g in enumerate(grads):
        lr = lr_at(step)
        p = p - lr * weight_decay * p
        acc = acc + g**2
        p = p - lr * g / np.sqrt(acc + epsilon)
        out.append(p)
    return out


def ref_adadelta(p, grads, lr_at, rho=0.95, epsilon=1e-7, weight_decay=0.0):
    """keras/src/optimizers/adadelta.py's update_step, with its rms(x) = √(x + ε)."""
    def rms(x):
        return np.sqrt(x + epsilon)

    p, accumulated_grad, accumulated_delta_var, out = p.copy(), np.zeros_like(p), np.zeros_like(p), []
    for step, g in enumerate(grads):
        lr = lr_at(step)
        p = p - lr * weight_decay * p
        accumulated_grad = rho * accumulated_grad + (1 - rho) * g**2
        delta_var = -(rms(accumulated_delta_var) * g) / rms(accumulated_grad)
        accumulated_delta_var = rho * accumulated_delta_var + (1 - rho) * delta_var**2
        p = p + lr * delta_var
        out.append(p)
    return out


def ref_adam(p, grads, lr_at, beta_1=0.9, beta_2=0.999, epsilon=1e-7, amsgrad=False, weight_decay=0.0):
    p, m, v, v_max, out = p.copy(), np.zeros_like(p), np.zeros_like(p), np.zeros_like(p), []
    for step, g in enumerate(grads):
        t, lr = step + 1, lr_at(step)
        p = p - lr * weight_decay * p
        m = beta_1 * m + (1 - beta_1) * g
        v = beta_2 * v + (1 - beta_2) * g**2
        v_max = np.maximum(v_max, v)
        m_hat = m / (1 - beta_1**t)
        v_hat = (v_max if amsgrad else v) / (1 - beta_2**t)
        p = p - lr * m_hat / (np.sqrt(v_hat) + epsilon)
        out.append(p)
    return out


def ref_nadam(p, grads, lr_at, beta_1=0.9, beta_2=0.999, epsilon=1e-7, momentum_decay=0.004,
              weight_decay=0.0):
    """Dozat (2016) with PyTorch's bias corrections; Π recomputed as a fresh product each step."""
    def mu(t):
        return beta_1 * (1 - 0.5 * 0.96 ** (t * momentum_decay))

    p, m, v, out = p.copy(), np.zeros_like(p), np.zeros_like(p), []
    for step, g in enumerate(grads):
        t, lr = step + 1, lr_at(step)
        p = p - lr * weight_decay * p
        product = math.prod(mu(i) for i in range(1, t + 1))
        m = beta_1 * m + (1 - beta_1) * g
        v = beta_2 * v + (1 - beta_2) * g**2
        m_bar = (1 - mu(t)) / (1 - product) * g + mu(t + 1) / (1 - product * mu(t + 1)) * m
        p = p - lr * m_bar / (np.sqrt(v / (1 - beta_2**t)) + epsilon)
        out.append(p)
    return out


def ref_adamax(p, grads, lr_at, beta_1=0.9, beta_2=0.999, epsilon=1e-7, weight_decay=0.0):
    p, m, u, out = p.copy(), np.zeros_like(p), np.zeros_like(p), []
    for step, g in enumerate(grads):
        t, lr = step + 1, lr_at(step)
        p = p - lr * weight_decay * p
        m = beta_1 * m + (1 - beta_1) * g
        u = np.maximum(beta_2 * u, np.abs(g))
        p = p - lr / (1 - beta_1**t) * m / (u + epsilon)
        out.append(p)
    return out


def constant(lr):
    return lambda step: lr


def exponential(step):
    return 0.1 * 0.5 ** (step / 3)


CASES = {
    "sgd": (optimizers.SGD, ref_sgd, 0.01, {}),
    "sgd-momentum": (optimizers.SGD, ref_sgd, 0.05, {"momentum": 0.9}),
    "sgd-nesterov": (optimizers.SGD, ref_sgd, 0.05, {"momentum": 0.8, "nesterov": True}),
    "sgd-momentum-decay": (optimizers.SGD, ref_sgd, 0.05, {"momentum": 0.9, "weight_decay": 0.5}),
    "rmsprop": (optimizers.RMSprop, ref_rmsprop, 0.001, {}),
    "rmsprop-centered": (optimizers.RMSprop, ref_rmsprop, 0.01, {"centered": True, "rho": 0.8}),
    "rmsprop-momentum": (optimizers.RMSprop, ref_rmsprop, 0.01, {"momentum": 0.7, "epsilon": 1e-3}),
    "rmsprop-centered-momentum": (optimizers.RMSprop, ref_rmsprop, 0.01,
                                  {"centered": True, "momentum": 0.5, "weight_decay": 0.1}),
    "adagrad": (optimizers.Adagrad, ref_adagrad, 0.001, {}),
    "adagrad-options": (optimizers.Adagrad, ref_adagrad, 0.1,
                        {"initial_accumulator_value": 0.5, "epsilon": 1e-3, "weight_decay": 0.2}),
    "adadelta": (optimizers.Adadelta, ref_adadelta, 0.001, {}),
    "adadelta-options": (optimizers.Adadelta, ref_adadelta, 1.0,
                         {"rho": 0.8, "epsilon": 1e-4, "weight_decay": 0.1}),
    "adam": (optimizers.Adam, ref_adam, 0.001, {}),
    "adam-amsgrad": (optimizers.Adam, ref_adam, 0.01, {"amsgrad": True, "beta_2": 0.9}),
    "adam-decay": (optimizers.Adam, ref_adam, 0.01, {"weight_decay": 0.3, "epsilon": 1e-3}),
    "adamw": (optimizers.AdamW, ref_adam, 0.01, {"weight_decay": 0.004}),
    "nadam": (optimizers.Nadam, ref_nadam, 0.001, {}),
    "nadam-keras-schedule": (optimizers.Nadam, ref_nadam, 0.01, {"momentum_decay": 1.0, "beta_1": 0.8}),
    "nadam-decay": (optimizers.Nadam, ref_nadam, 0.01, {"weight_decay": 0.2, "epsilon": 1e-3}),
    "adamax": (optimizers.Adamax, ref_adamax, 0.002, {}),
    "adamax-decay": (optimizers.Adamax, ref_adamax, 0.01, {"weight_decay": 0.1, "beta_2": 0.5}),
}


def reference_for(cls, reference, kwargs, lr_at):
    if cls is optimizers.AdamW:  # AdamW's weight_decay is its own argument with a default
        kwargs = {"weight_decay": 0.004, **kwargs}
    arena = make_arena()
    return reference(np.array(arena.values), gradient_sequence(arena.size), lr_at, **kwargs)


@pytest.mark.parametrize("backend", ["numpy", "core-only"])
@pytest.mark.parametrize("case", list(CASES))
def test_matches_published_rule_step_by_step(case, backend):
    """On the numpy backend's fused updates, and on their defaults in the core ops."""
    cls, reference, lr, kwargs = CASES[case]
    grads = gradient_sequence(make_arena().size)
    got = run_seqnn(cls(learning_rate=lr, **kwargs), grads, backend=CoreOnly() if backend == "core-only" else None)
    expected = reference_for(cls, reference, kwargs, constant(lr))
    start = np.array(make_arena().values)
    for step, (g, e) in enumerate(zip(got, expected)):
        np.testing.assert_allclose(g, e, rtol=1e-11, atol=1e-13, err_msg=f"{case}, step {step}")
    assert not np.allclose(got[-1], start), "the parameters must move"


@pytest.mark.parametrize("case", ["adadelta", "adadelta-options"])
def test_adadelta_displacements_match_keras(case):
    """Adadelta's first steps are ~√ε·lr, far below p: compare p − p₀, so the rule itself is checked tightly."""
    cls, reference, lr, kwargs = CASES[case]
    start = np.array(make_arena().values)
    got = run_seqnn(cls(learning_rate=lr, **kwargs), gradient_sequence(start.size))
    expected = reference_for(cls, reference, kwargs, constant(lr))
    for step, (g, e) in enumerate(zip(got, expected)):
        np.testing.assert_allclose(g - start, e - start, rtol=1e-9, atol=0, err_msg=f"{case}, step {step}")
    assert np.all(got[-1] != start)


@pytest.mark.parametrize("case", ["sgd-momentum", "sgd-nesterov", "rmsprop-centered-momentum", "adagrad",
                                  "adadelta", "adam-amsgrad", "nadam", "adamax"])
def test_matches_published_rule_under_a_schedule(case):
    cls, reference, _, kwargs = CASES[case]
    schedule = schedules.ExponentialDecay(0.1, decay_steps=3, decay_rate=0.5)
    got = run_seqnn(cls(learning_rate=schedule, **kwargs), gradient_sequence(make_arena().size))
    expected = reference_for(cls, reference, kwargs, exponential)
    for step, (g, e) in enumerate(zip(got, expected)):
        np.testing.assert_allclose(g, e, rtol=1e-11, atol=1e-13, err_msg=f"{case}, step {step}")


def test_the_configurations_really_differ():
    """Guards the cases above: each option must change the trajectory on this gradient sequence."""
    grads = gradient_sequence(make_arena().size)
    pairs = [(optimizers.Adam(0.01, beta_2=0.9), optimizers.Adam(0.01, beta_2=0.9, amsgrad=True)),
             (optimizers.SGD(0.05, momentum=0.8), optimizers.SGD(0.05, momentum=0.8, nesterov=True)),
             (optimizers.RMSprop(0.01), optimizers.RMSprop(0.01, centered=True)),
             (optimizers.Nadam(0.01), optimizers.Nadam(0.01, momentum_decay=1.0))]
    for a, b in pairs:
        assert not np.allclose(run_seqnn(a, grads)[-1], run_seqnn(b, grads)[-1], rtol=1e-6), (a, b)


@pytest.mark.parametrize("name", ["sgd", "rmsprop", "adagrad", "adadelta", "adam", "adamw", "nadam", "adamax"])
def test_float32_tracks_float64(name):
    grads = gradient_sequence(make_arena().size)
    single = run_seqnn(optimizers.get(name), grads, dtype="float32")
    double = run_seqnn(optimizers.get(name), grads)
    np.testing.assert_allclose(single[-1], double[-1], rtol=1e-5, atol=1e-6)


# ------------------------------------------------------------ clipping ---

def clip_with_sgd(grads_by_tensor, **clip):
    """One SGD(lr=1) step: (the step taken, the gradients as left after clipping), per tensor."""
    arena = make_arena()
    opt = optimizers.SGD(learning_rate=1.0, **clip)
    opt.build(arena)
    before = np.array(arena.values)
    for path, g in grads_by_tensor.items():
        arena.view(arena.grads, path)[...] = g
    opt.apply()
    step = before - arena.values
    return ({path: arena.view(step, path) for path in arena.paths},
            {path: np.array(arena.view(arena.grads, path)) for path in arena.paths})


def gradients_by_tensor(scale_first=10.0):
    arena, rng = make_arena(), np.random.default_rng(5)
    grads = {path: rng.standard_normal(arena.shapes[path]) for path in arena.paths}
    grads[arena.paths[0]] *= scale_first  # one tensor well above the clip norm
    return grads


def test_clipvalue_clips_elementwise_before_the_step():
    grads = gradients_by_tensor()
    steps, clipped = clip_with_sgd(grads, clipvalue=0.5)
    for path, g in grads.items():
        np.testing.assert_array_equal(clipped[path], np.clip(g, -0.5, 0.5))
        np.testing.assert_allclose(steps[path], clipped[path], rtol=1e-14)
    assert any(np.abs(g).max() > 0.5 for g in grads.values())


def test_clipnorm_rescales_each_tensor_on_its_own():
    grads, clip = gradients_by_tensor(), 2.0
    steps, _ = clip_with_sgd(grads, clipnorm=clip)
    norms = {path: np.linalg.norm(g) for path, g in grads.items()}
    assert min(norms.values()) < clip < max(norms.values()), "tensors on both sides of the clip"
    for path, g in grads.items():
        expected = g * clip / norms[path] if norms[path] > clip else g
        np.testing.assert_allclose(steps[path], expected, rtol=1e-13)


def test_global_clipnorm_rescales_all_tensors_together():
    grads, clip = gradients_by_tensor(), 2.0
    steps, _ = clip_with_sgd(grads, global_clipnorm=clip)
    total = math.sqrt(sum(np.sum(g**2) for g in grads.values()))
    assert total > clip
    for path, g in grads.items():
        np.testing.assert_allclose(steps[path], g * clip / total, rtol=1e-13)


def test_gradients_below_the_clip_are_untouched():
    grads = gradients_by_tensor(scale_first=1.0)
    for clip in ({"clipnorm": 1e3}, {"global_clipnorm": 1e3}, {"clipvalue": 1e3}):
        _, clipped = clip_with_sgd(grads, **clip)
        for path, g in grads.items():
            np.testing.assert_array_equal(clipped[path], g)


def test_only_one_kind_of_clipping():
    with pytest.raises(ValueError, match="clipnorm.*clipvalue.*global_clipnorm"):
        optimizers.Adam(clipnorm=1.0, clipvalue=0.5)
    with pytest.raises(ValueError, match="at most one"):
        optimizers.SGD(clipnorm=1.0, global_clipnorm=1.0)


# ------------------------------------------------------- learning rate ---

def test_learning_rate_is_readable_and_settable():
    opt = optimizers.SGD()
    assert opt.learning_rate == 0.01 and opt.lr == 0.01
    opt.learning_rate = 0.1
    assert opt.learning_rate == 0.1
    arena = make_arena()
    opt.build(arena)
    before = np.array(arena.values)
    arena.grads[...] = 1.0
    opt.apply()
    np.testing.assert_allclose(before - arena.values, 0.1, rtol=1e-14)
    opt.lr = 0.2
    assert opt.learning_rate == 0.2
    with pytest.raises(ValueError, match="learning_rate"):
        opt.learning_rate = -1.0


@pytest.mark.parametrize("config", [
    {"class_name": "sgd", "config": {"momentum": 0.9, "nesterov": True}},
    {"class_name": "rmsprop", "config": {"centered": True, "momentum": 0.5}},
    {"class_name": "adagrad"}, {"class_name": "adadelta"}, {"class_name": "adam", "config": {"amsgrad": True}},
    {"class_name": "adamw"}, {"class_name": "nadam"}, {"class_name": "adamax"},
], ids=lambda c: c["class_name"])
def test_a_step_allocates_no_arrays(config):
    """The fused updates work in place and in cached scratch space (numpy reports its buffers to tracemalloc)."""
    arena = ParameterArena(sn.backends.get("numpy"), "float32", [FakeLayer(np.random.default_rng(0),
                                                                           kernel=(200, 100))])
    opt = optimizers.get(config)
    opt.build(arena)
    arena.grads[...] = 0.5
    opt.apply()  # the first step creates the scratch buffers
    tracemalloc.start()
    try:
        opt.apply()
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < arena.values.nbytes // 4, f"{peak} bytes allocated in one step"
