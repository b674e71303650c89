"""seqnn's optimizers against torch.optim on the same parameters and gradients, in float64.

Where the two libraries' rules differ (documented in each optimizer's
docstring), the comparison uses a configuration in which they coincide, and
the comment on the case says why.
"""
import numpy as np
import pytest

torch = pytest.importorskip("torch")

import seqnn as sn  # noqa: E402
from seqnn import optimizers  # noqa: E402
from seqnn.optimizers import schedules  # noqa: E402
from seqnn.parameters import ParameterArena  # noqa: E402

STEPS = 10
SHAPES = {"kernel": (5, 3), "bias": (3,)}


class FakeLayer:
    """The part of a layer that ParameterArena reads."""

    def __init__(self, params):
        self.params = {name: value.copy() for name, value in params.items()}
        self.grads = {}
        self.trainable_names = list(params)


def problem(seed=0):
    """Initial parameters and a gradient sequence whose scale swings (so maxima and averages move)."""
    rng = np.random.default_rng(seed)
    params = {name: rng.standard_normal(shape) for name, shape in SHAPES.items()}
    scales = [2.0, 0.5, 0.1, 3.0, 1.0, 0.05, 0.7, 1.5, 0.2, 1.0]
    grads = [{name: s * rng.standard_normal(shape) for name, shape in SHAPES.items()} for s in scales]
    return params, grads


def run_seqnn(opt, params, grads):
    layer = FakeLayer(params)
    arena = ParameterArena(sn.backends.get("numpy"), "float64", [layer])
    opt.build(arena)
    history = []
    for step_grads in grads:
        for name, g in step_grads.items():
            layer.grads[name][...] = g
        opt.apply()
        history.append({name: np.array(layer.params[name]) for name in SHAPES})
    return history


def run_torch(make_optimizer, params, grads, lr_at=None, before_step=None):
    tensors = {name: torch.tensor(value, dtype=torch.float64, requires_grad=True)
               for name, value in params.items()}
    opt = make_optimizer(list(tensors.values()))
    history = []
    for step, step_grads in enumerate(grads):
        for name, g in step_grads.items():
            tensors[name].grad = torch.tensor(g, dtype=torch.float64)
        if before_step is not None:
            before_step(list(tensors.values()))
        if lr_at is not None:
            for group in opt.param_groups:
                group["lr"] = lr_at(step)
        opt.step()
        history.append({name: t.detach().numpy().copy() for name, t in tensors.items()})
    return history


T = torch.optim
CASES = {
    # SGD: Keras's velocity form equals PyTorch's buffer form for a constant
    # learning rate. (PyTorch's weight_decay is L2, not decoupled: not compared.)
    "sgd": (lambda: optimizers.SGD(0.1), lambda p: T.SGD(p, lr=0.1)),
    "sgd-momentum": (lambda: optimizers.SGD(0.05, momentum=0.9),
                     lambda p: T.SGD(p, lr=0.05, momentum=0.9)),
    "sgd-nesterov": (lambda: optimizers.SGD(0.05, momentum=0.8, nesterov=True),
                     lambda p: T.SGD(p, lr=0.05, momentum=0.8, nesterov=True)),
    # RMSprop: seqnn (Keras) adds ε inside the square root, PyTorch outside;
    # no ε maps one onto the other, so both run with ε = 0. PyTorch's alpha is ρ.
    "rmsprop": (lambda: optimizers.RMSprop(0.01, rho=0.9, epsilon=0.0),
                lambda p: T.RMSprop(p, lr=0.01, alpha=0.9, eps=0.0)),
    "rmsprop-centered": (lambda: optimizers.RMSprop(0.01, rho=0.8, epsilon=0.0, centered=True),
                         lambda p: T.RMSprop(p, lr=0.01, alpha=0.8, eps=0.0, centered=True)),
    "rmsprop-momentum": (lambda: optimizers.RMSprop(0.01, momentum=0.7, epsilon=0.0),
                         lambda p: T.RMSprop(p, lr=0.01, alpha=0.9, eps=0.0, momentum=0.7)),
    "rmsprop-centered-momentum": (
        lambda: optimizers.RMSprop(0.01, rho=0.95, momentum=0.5, epsilon=0.0, centered=True),
        lambda p: T.RMSprop(p, lr=0.01, alpha=0.95, eps=0.0, momentum=0.5, centered=True)),
    # Adagrad: ε placement differs as in RMSprop (ε = 0 on both sides);
    # PyTorch's accumulator starts at 0 unless told Keras's 0.1.
    "adagrad": (lambda: optimizers.Adagrad(0.1, initial_accumulator_value=0.1, epsilon=0.0),
                lambda p: T.Adagrad(p, lr=0.1, initial_accumulator_value=0.1, eps=0.0)),
    # Adadelta: the same rule (ε inside both square roots, lr times the step);
    # only the defaults differ, so PyTorch gets Keras's ρ and ε (its lr = 1.0
    # is the paper's). PyTorch's weight_decay is L2, not decoupled: not compared.
    "adadelta": (lambda: optimizers.Adadelta(1.0), lambda p: T.Adadelta(p, lr=1.0, rho=0.95, eps=1e-7)),
    "adadelta-torch-defaults": (lambda: optimizers.Adadelta(0.5, rho=0.9, epsilon=1e-6),
                                lambda p: T.Adadelta(p, lr=0.5)),
    # Adam: same rule (ε added to √v̂) once PyTorch gets Keras's ε.
    "adam": (lambda: optimizers.Adam(0.01), lambda p: T.Adam(p, lr=0.01, eps=1e-7)),
    "adam-amsgrad": (lambda: optimizers.Adam(0.01, beta_2=0.9, amsgrad=True),
                     lambda p: T.Adam(p, lr=0.01, betas=(0.9, 0.9), eps=1e-7, amsgrad=True)),
    "adamw": (lambda: optimizers.AdamW(0.01, weight_decay=0.1),
              lambda p: T.AdamW(p, lr=0.01, eps=1e-7, weight_decay=0.1)),
    "adamw-amsgrad": (lambda: optimizers.AdamW(0.01, weight_decay=0.05, amsgrad=True, beta_1=0.8),
                      lambda p: T.AdamW(p, lr=0.01, betas=(0.8, 0.999), eps=1e-7, weight_decay=0.05,
                                        amsgrad=True)),
    # Nadam: seqnn follows PyTorch's NAdam (Dozat's schedule, ψ = 0.004)
    # exactly; decoupled weight decay is PyTorch's decoupled_weight_decay=True.
    "nadam": (lambda: optimizers.Nadam(0.01), lambda p: T.NAdam(p, lr=0.01, eps=1e-7)),
    "nadam-momentum-decay": (lambda: optimizers.Nadam(0.01, beta_1=0.8, momentum_decay=1.0),
                             lambda p: T.NAdam(p, lr=0.01, betas=(0.8, 0.999), eps=1e-7, momentum_decay=1.0)),
    "nadam-weight-decay": (lambda: optimizers.Nadam(0.01, weight_decay=0.1),
                           lambda p: T.NAdam(p, lr=0.01, eps=1e-7, weight_decay=0.1,
                                             decoupled_weight_decay=True)),
    # Adamax: seqnn (Keras) divides by u + ε, PyTorch takes max(β₂u, |g| + ε);
    # the rules agree for ε = 0.
    "adamax": (lambda: optimizers.Adamax(0.01, epsilon=0.0), lambda p: T.Adamax(p, lr=0.01, eps=0.0)),
    "adamax-betas": (lambda: optimizers.Adamax(0.02, beta_1=0.5, beta_2=0.6, epsilon=0.0),
                     lambda p: T.Adamax(p, lr=0.02, betas=(0.5, 0.6), eps=0.0)),
}


def assert_histories_agree(ours, theirs, label):
    for step, (a, b) in enumerate(zip(ours, theirs)):
        for name in SHAPES:
            np.testing.assert_allclose(a[name], b[name], rtol=1e-6, atol=1e-9, err_msg=f"{label}, step {step}")


@pytest.mark.parametrize("case", list(CASES))
def test_matches_torch(case):
    make_ours, make_theirs = CASES[case]
    params, grads = problem()
    ours = run_seqnn(make_ours(), params, grads)
    theirs = run_torch(make_theirs, params, grads)
    assert len(ours) == STEPS
    assert_histories_agree(ours, theirs, case)
    assert not np.allclose(ours[-1]["kernel"], params["kernel"], rtol=1e-3), "the parameters must move"


@pytest.mark.parametrize("case", ["adam", "adamw", "nadam", "rmsprop-centered", "adagrad", "adadelta", "adamax"])
def test_matches_torch_under_a_schedule(case):
    """A schedule evaluated at `iterations` equals setting PyTorch's group lr before each step.

    (SGD and RMSprop with momentum are left out on purpose: there the two
    libraries' rules differ once the rate changes, see their docstrings.)
    """
    make_ours, make_theirs = CASES[case]
    schedule = schedules.CosineDecay(0.005, decay_steps=8, alpha=0.1, warmup_target=0.02, warmup_steps=3)
    ours_opt = make_ours()
    ours_opt._set_learning_rate(schedule)
    params, grads = problem(seed=3)
    ours = run_seqnn(ours_opt, params, grads)
    theirs = run_torch(make_theirs, params, grads, lr_at=schedule)
    assert_histories_agree(ours, theirs, case)


def test_clipvalue_matches_clip_grad_value():
    params, grads = problem(seed=4)
    ours = run_seqnn(optimizers.Adam(0.01, clipvalue=0.3), params, grads)
    theirs = run_torch(lambda p: T.Adam(p, lr=0.01, eps=1e-7), params, grads,
                       before_step=lambda p: torch.nn.utils.clip_grad_value_(p, 0.3))
    assert_histories_agree(ours, theirs, "clipvalue")


def test_global_clipnorm_matches_clip_grad_norm():
    # PyTorch scales by c/(norm + 1e-6), seqnn (like Keras) by c/norm: the
    # gradients are made large so that this differs by < 1e-7 relative.
    params, grads = problem(seed=5)
    grads = [{name: 20.0 * g for name, g in step.items()} for step in grads]
    ours = run_seqnn(optimizers.SGD(0.1, momentum=0.9, global_clipnorm=1.0), params, grads)
    theirs = run_torch(lambda p: T.SGD(p, lr=0.1, momentum=0.9), params, grads,
                       before_step=lambda p: torch.nn.utils.clip_grad_norm_(p, 1.0))
    assert_histories_agree(ours, theirs, "global_clipnorm")
