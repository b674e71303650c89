"""Losses against PyTorch, value and gradient, in float64.

Reductions line up as follows: seqnn's per-sample loss is a mean over output
features (a sum over classes for the softmax cross-entropies), then
"sum_over_batch_size" divides Σwᵢℓᵢ by the batch size. For torch's
elementwise losses with reduction="mean" that is the same number; for the
"sum" reduction and for sample weights the comparison takes torch's
reduction="none" and reduces it by the same rule. Where the definitions
differ (torch's BCE has no label smoothing; Keras renormalises probability
rows before the categorical cross-entropy), the torch side is given the same
definition explicitly, and the comment says so.
"""
import numpy as np
import pytest

torch = pytest.importorskip("torch")
F = torch.nn.functional

from gradcheck import loss_value_and_grad  # noqa: E402
from seqnn import losses  # noqa: E402

RTOL, ATOL = 1e-12, 1e-15
N, D, C = 6, 3, 5
LABELS = np.array([0, 4, 2, 2, 1, 3])
WEIGHTS = np.array([1.0, 0.5, 2.0, 0.0, 1.5, 1.0])


def t(a, grad=False):
    return torch.tensor(np.asarray(a, np.float64), dtype=torch.float64, requires_grad=grad)


def reduce_torch(per_sample, reduction, w):
    if w is not None:
        per_sample = per_sample * t(w)
    total = per_sample.sum()
    return total / per_sample.shape[0] if reduction == "sum_over_batch_size" else total


def compare(loss, y_pred, y_true, torch_per_sample, reduction, w, torch_input=None):
    """seqnn's value and d/dy_pred against torch's, with torch's per-sample losses reduced as seqnn does."""
    value, grad = loss_value_and_grad(loss, y_pred, y_true, w)
    pt = t(y_pred if torch_input is None else torch_input, grad=True)
    expected = reduce_torch(torch_per_sample(pt), reduction, w)
    expected.backward()
    assert value == pytest.approx(expected.item(), rel=RTOL, abs=ATOL)
    np.testing.assert_allclose(grad, pt.grad.numpy(), rtol=RTOL, atol=ATOL)


CASES = ["plain", "weighted", "sum", "weighted-sum"]


def case(name):
    return ("sum" if "sum" in name else "sum_over_batch_size"), (WEIGHTS if "weighted" in name else None)


# -------------------------------------------------------------- regression ---
def regression_data(seed=0):
    rng = np.random.default_rng(seed)
    y_true = rng.standard_normal((N, D))
    d = (0.05 + 2 * rng.random((N, D))) * rng.choice([-1.0, 1.0], (N, D))  # away from |d| = 0
    return y_true + d, y_true


REGRESSION = {
    "mse": (lambda r: losses.MeanSquaredError(reduction=r),
            lambda p, y: F.mse_loss(p, y, reduction="none"), torch.nn.MSELoss()),
    "mae": (lambda r: losses.MeanAbsoluteError(reduction=r),
            lambda p, y: F.l1_loss(p, y, reduction="none"), torch.nn.L1Loss()),
    "huber": (lambda r: losses.Huber(reduction=r),
              lambda p, y: F.huber_loss(p, y, reduction="none", delta=1.0), torch.nn.HuberLoss()),
    "huber(0.3)": (lambda r: losses.Huber(delta=0.3, reduction=r),
                   lambda p, y: F.huber_loss(p, y, reduction="none", delta=0.3), torch.nn.HuberLoss(delta=0.3)),
    "huber(2.5)": (lambda r: losses.Huber(delta=2.5, reduction=r),
                   lambda p, y: F.huber_loss(p, y, reduction="none", delta=2.5), torch.nn.HuberLoss(delta=2.5)),
}


@pytest.mark.parametrize("which", CASES)
@pytest.mark.parametrize("name", list(REGRESSION))
def test_regression_losses(name, which):
    make, elementwise, _ = REGRESSION[name]
    reduction, w = case(which)
    y_pred, y_true = regression_data()
    compare(make(reduction), y_pred, y_true, lambda p: elementwise(p, t(y_true)).mean(dim=1), reduction, w)


@pytest.mark.parametrize("name", list(REGRESSION))
def test_regression_default_reduction_is_torch_mean(name):
    make, _, module = REGRESSION[name]
    y_pred, y_true = regression_data(1)
    value, grad = loss_value_and_grad(make("sum_over_batch_size"), y_pred, y_true)
    pt = t(y_pred, grad=True)
    out = module(pt, t(y_true))
    out.backward()
    assert value == pytest.approx(out.item(), rel=RTOL)
    np.testing.assert_allclose(grad, pt.grad.numpy(), rtol=RTOL, atol=ATOL)


# ---------------------------------------------------- binary cross-entropy ---
def bce_data(seed=2):
    rng = np.random.default_rng(seed)
    logits = 2 * rng.standard_normal((N, D))
    targets = rng.random((N, D))
    targets[:3] = np.round(targets[:3])
    return logits, targets


@pytest.mark.parametrize("which", CASES)
def test_bce_on_probabilities_matches_bceloss(which):
    reduction, w = case(which)
    logits, y = bce_data()
    p = 1 / (1 + np.exp(-logits))  # inside (ε, 1 − ε): seqnn's clip is inactive, torch's log clamp too
    compare(losses.BinaryCrossentropy(reduction=reduction), p, y,
            lambda pt: F.binary_cross_entropy(pt, t(y), reduction="none").mean(dim=1), reduction, w)


@pytest.mark.parametrize("which", CASES)
@pytest.mark.parametrize("smoothing", [0.0, 0.15])
def test_bce_from_logits_matches_bcewithlogits(which, smoothing):
    reduction, w = case(which)
    logits, y = bce_data()
    # torch has no label smoothing for BCE: give it Keras's smoothed targets t(1 − s) + s/2.
    ys = y * (1 - smoothing) + 0.5 * smoothing
    compare(losses.BinaryCrossentropy(from_logits=True, label_smoothing=smoothing, reduction=reduction), logits, y,
            lambda zt: F.binary_cross_entropy_with_logits(zt, t(ys), reduction="none").mean(dim=1), reduction, w)


def test_bce_modules_default_reduction():
    logits, y = bce_data(3)
    p = 1 / (1 + np.exp(-logits))
    for loss, module, inp in ((losses.BinaryCrossentropy(), torch.nn.BCELoss(), p),
                              (losses.BinaryCrossentropy(from_logits=True), torch.nn.BCEWithLogitsLoss(), logits)):
        value, grad = loss_value_and_grad(loss, inp, y)
        it = t(inp, grad=True)
        out = module(it, t(y))
        out.backward()
        assert value == pytest.approx(out.item(), rel=RTOL)
        np.testing.assert_allclose(grad, it.grad.numpy(), rtol=RTOL, atol=ATOL)


# ------------------------------------------------ categorical cross-entropy ---
def logits_data(seed=4):
    return 2 * np.random.default_rng(seed).standard_normal((N, C))


def softmax(z):
    e = np.exp(z - z.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


@pytest.mark.parametrize("which", CASES)
@pytest.mark.parametrize("smoothing", [0.0, 0.1])
def test_sparse_from_logits_matches_cross_entropy_with_indices(which, smoothing):
    reduction, w = case(which)
    z = logits_data()
    # torch smooths class-index targets as t(1 − s) + s/C, Keras's rule for one-hot targets.
    compare(losses.SparseCategoricalCrossentropy(from_logits=True, label_smoothing=smoothing, reduction=reduction),
            z, LABELS, lambda zt: F.cross_entropy(zt, torch.tensor(LABELS), reduction="none",
                                                  label_smoothing=smoothing), reduction, w)


@pytest.mark.parametrize("which", CASES)
@pytest.mark.parametrize("smoothing", [0.0, 0.2])
@pytest.mark.parametrize("soft", [False, True], ids=["onehot", "soft"])
def test_categorical_from_logits_matches_cross_entropy_with_probabilities(which, smoothing, soft):
    reduction, w = case(which)
    z = logits_data(5)
    y = np.eye(C)[LABELS]
    if soft:
        y = softmax(np.random.default_rng(6).standard_normal((N, C)))
    compare(losses.CategoricalCrossentropy(from_logits=True, label_smoothing=smoothing, reduction=reduction),
            z, y, lambda zt: F.cross_entropy(zt, t(y), reduction="none", label_smoothing=smoothing), reduction, w)


def test_cross_entropy_module_default_reduction():
    z = logits_data(7)
    for loss, target, torch_target in (
            (losses.SparseCategoricalCrossentropy(from_logits=True, label_smoothing=0.05), LABELS,
             torch.tensor(LABELS)),
            (losses.CategoricalCrossentropy(from_logits=True, label_smoothing=0.05), np.eye(C)[LABELS],
             t(np.eye(C)[LABELS]))):
        value, grad = loss_value_and_grad(loss, z, target)
        zt = t(z, grad=True)
        out = torch.nn.CrossEntropyLoss(label_smoothing=0.05)(zt, torch_target)
        out.backward()
        assert value == pytest.approx(out.item(), rel=RTOL)
        np.testing.assert_allclose(grad, zt.grad.numpy(), rtol=RTOL, atol=ATOL)


@pytest.mark.parametrize("which", CASES)
@pytest.mark.parametrize("sparse", [False, True], ids=["categorical", "sparse"])
def test_cross_entropy_on_probabilities(which, sparse):
    # Keras's probability form renormalises each row (p/Σp) before the log; torch is given that
    # definition explicitly: nll_loss(log(p/Σp)). Rows here do not sum to one, so it matters.
    reduction, w = case(which)
    q = softmax(logits_data(8)) * np.linspace(0.5, 1.5, N)[:, None]
    loss_cls = losses.SparseCategoricalCrossentropy if sparse else losses.CategoricalCrossentropy
    target = LABELS if sparse else np.eye(C)[LABELS]

    def per_sample(qt):
        return F.nll_loss(torch.log(qt / qt.sum(dim=1, keepdim=True)), torch.tensor(LABELS), reduction="none")

    compare(loss_cls(reduction=reduction), q, target, per_sample, reduction, w)


@pytest.mark.parametrize("which", CASES)
def test_categorical_probabilities_with_label_smoothing(which):
    reduction, w = case(which)
    p = softmax(logits_data(9))
    y = np.eye(C)[LABELS]
    ys = y * 0.9 + 0.1 / C

    def per_sample(pt):
        return -(t(ys) * torch.log(pt / pt.sum(dim=1, keepdim=True))).sum(dim=1)

    compare(losses.CategoricalCrossentropy(label_smoothing=0.1, reduction=reduction), p, y, per_sample, reduction, w)
    # The same number as torch's cross-entropy on the logits behind p.
    value, _ = loss_value_and_grad(losses.CategoricalCrossentropy(label_smoothing=0.1, reduction=reduction), p, y, w)
    ce = F.cross_entropy(t(logits_data(9)), torch.tensor(LABELS), reduction="none", label_smoothing=0.1)
    assert value == pytest.approx(reduce_torch(ce, reduction, w).item(), rel=1e-12)


# ------------------------------------- KL divergence, Poisson, cosine similarity ---
# The other Keras losses have no torch twin: torch's hinge losses (HingeEmbeddingLoss,
# MultiMarginLoss) are different functions, and torch has no log-cosh, MAPE or MSLE.
def distributions(seed):
    return softmax(np.random.default_rng(seed).standard_normal((N, C)))


@pytest.mark.parametrize("which", CASES)
def test_kl_divergence_matches_kl_div_on_log_probabilities(which):
    # Keras clips both sides to [1e-7, 1]; torch is given the clipped targets (p lies inside already).
    reduction, w = case(which)
    p, y = distributions(10), distributions(11)
    y[0] = [0.0, 0.25, 0.25, 0.5, 0.0]
    y_clipped = np.clip(y, 1e-7, 1.0)
    compare(losses.KLDivergence(reduction=reduction), p, y,
            lambda pt: F.kl_div(torch.log(pt), t(y_clipped), reduction="none").sum(dim=1), reduction, w)


def test_kl_divergence_batchmean_is_torch_kldivloss():
    p, y = distributions(12), distributions(13)
    value, grad = loss_value_and_grad(losses.KLDivergence(), p, y)
    pt = t(p, grad=True)
    out = torch.nn.KLDivLoss(reduction="batchmean")(torch.log(pt), t(y))
    out.backward()
    assert value == pytest.approx(out.item(), rel=RTOL)
    np.testing.assert_allclose(grad, pt.grad.numpy(), rtol=RTOL, atol=ATOL)


@pytest.mark.parametrize("which", CASES)
def test_poisson_matches_poisson_nll_loss(which):
    reduction, w = case(which)
    rng = np.random.default_rng(14)
    rates, counts = 0.05 + 3 * rng.random((N, D)), rng.poisson(2.0, (N, D)).astype(np.float64)
    compare(losses.Poisson(reduction=reduction), rates, counts,
            lambda pt: F.poisson_nll_loss(pt, t(counts), log_input=False, full=False, eps=1e-7,
                                          reduction="none").mean(dim=1), reduction, w)
    if which == "plain":
        value, _ = loss_value_and_grad(losses.Poisson(), rates, counts)
        module = torch.nn.PoissonNLLLoss(log_input=False, full=False, eps=1e-7)
        assert value == pytest.approx(module(t(rates), t(counts)).item(), rel=RTOL)


@pytest.mark.parametrize("which", CASES)
@pytest.mark.parametrize("axis", [-1, 1])
def test_cosine_similarity_is_minus_torch_cosine_similarity(which, axis):
    reduction, w = case(which)
    rng = np.random.default_rng(15)
    y_pred, y_true = rng.standard_normal((N, 4, D)), rng.standard_normal((N, 4, D))
    compare(losses.CosineSimilarity(axis=axis, reduction=reduction), y_pred, y_true,
            lambda pt: -F.cosine_similarity(pt, t(y_true), dim=axis).mean(dim=1), reduction, w)


def test_cosine_similarity_matches_cosine_embedding_loss_for_similar_pairs():
    # CosineEmbeddingLoss with target 1 is 1 − cos: one more than Keras's −cos.
    rng = np.random.default_rng(16)
    y_pred, y_true = rng.standard_normal((N, D)), rng.standard_normal((N, D))
    value, grad = loss_value_and_grad(losses.CosineSimilarity(), y_pred, y_true)
    pt = t(y_pred, grad=True)
    out = torch.nn.CosineEmbeddingLoss()(pt, t(y_true), torch.ones(N, dtype=torch.float64))
    out.backward()
    assert value + 1.0 == pytest.approx(out.item(), rel=RTOL)
    np.testing.assert_allclose(grad, pt.grad.numpy(), rtol=1e-10, atol=ATOL)
