"""Losses: values against their formulas, gradients against finite differences, stability.

Values are checked against the definitions written out in numpy (Keras's
conventions: a per-sample mean over output features for the elementwise
losses, a sum over classes for categorical cross-entropy; reductions
"sum_over_batch_size" = Σwᵢℓᵢ/N and "sum" = Σwᵢℓᵢ). Gradients are checked
against central differences of ``forward`` in float64, with and without
sample weights, for both reductions.
"""
import numpy as np
import pytest
import scipy.special

import seqnn as sn
from gradcheck import check_loss, loss_value_and_grad
from seqnn import layers, losses

EPS_CLIP = 1e-7
REDUCTIONS = ["sum_over_batch_size", "sum"]
N, D, C = 5, 3, 4


def rng(seed=0):
    return np.random.default_rng(seed)


def weights():
    return np.array([0.5, 2.0, 0.0, 1.0, 1.5])


def reduce(per_sample, reduction, w=None):
    w = np.ones(len(per_sample)) if w is None else w
    total = np.sum(w * per_sample)
    return total / len(per_sample) if reduction == "sum_over_batch_size" else total


def away_from_zero(shape, seed=0, margin=0.05, scale=2.0):
    r = rng(seed)
    return (margin + scale * r.random(shape)) * r.choice([-1.0, 1.0], size=shape)


def probabilities(shape, seed=0):
    """Probabilities well inside the clip range (ε, 1 − ε)."""
    return 0.05 + 0.9 * rng(seed).random(shape)


def softmax_rows(shape, seed=0):
    return scipy.special.softmax(rng(seed).standard_normal(shape), axis=-1)


def onehot(labels, classes=C):
    return np.eye(classes)[labels]


LABELS = np.array([0, 3, 1, 2, 3])


# ------------------------------------------------------------ regression ---
def regression_case(seed=0):
    y_true = rng(seed + 1).standard_normal((N, D))
    d = away_from_zero((N, D), seed=seed)  # |d| >= 0.05: away from MAE's kink
    return y_true + d, y_true, d


def huber_ref(d, delta):
    a = np.abs(d)
    return np.where(a <= delta, 0.5 * d ** 2, delta * (a - 0.5 * delta))


REGRESSION = [
    (lambda r: losses.MeanSquaredError(reduction=r), lambda d: d ** 2),
    (lambda r: losses.MeanAbsoluteError(reduction=r), np.abs),
    (lambda r: losses.Huber(reduction=r), lambda d: huber_ref(d, 1.0)),
    (lambda r: losses.Huber(delta=0.4, reduction=r), lambda d: huber_ref(d, 0.4)),
]


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("case", range(len(REGRESSION)), ids=["mse", "mae", "huber", "huber0.4"])
def test_regression_loss_value_and_gradient(case, weighted, reduction):
    make, penalty = REGRESSION[case]
    y_pred, y_true, d = regression_case()
    w = weights() if weighted else None
    value, grad = check_loss(make(reduction), y_pred, y_true, w)
    assert value == pytest.approx(reduce(penalty(d).mean(axis=1), reduction, w), rel=1e-13)


def test_huber_sees_both_sides_of_delta():
    _, _, d = regression_case()
    for delta in (1.0, 0.4):
        inside = np.abs(d) < delta - 1e-3
        assert inside.any() and (~inside).any()
    # The gradient is d inside and ±δ outside (per element, / D / N).
    y_pred, y_true, d = regression_case()
    _, grad = loss_value_and_grad(losses.Huber(delta=0.4), y_pred, y_true)
    np.testing.assert_allclose(grad, np.clip(d, -0.4, 0.4) / (D * N), rtol=1e-13)


def test_regression_rank3_and_rank1_targets():
    y_true = rng(2).standard_normal((N, 2, D))
    y_pred = y_true + away_from_zero((N, 2, D), seed=3)
    value, _ = check_loss(losses.MeanSquaredError(), y_pred, y_true)
    assert value == pytest.approx(np.mean((y_pred - y_true) ** 2), rel=1e-13)
    # (n,) targets for an (n, 1) output, through the Keras-style call.
    y1 = rng(4).standard_normal(N)
    p1 = rng(5).standard_normal((N, 1))
    assert losses.MeanAbsoluteError()(y1, p1) == pytest.approx(np.mean(np.abs(p1[:, 0] - y1)), rel=1e-13)


def test_reduction_none_returns_per_sample_and_refuses_backward():
    y_pred, y_true, d = regression_case()
    loss = losses.MeanSquaredError(reduction="none")
    per_sample = loss(y_true, y_pred)
    np.testing.assert_allclose(per_sample, (d ** 2).mean(axis=1), rtol=1e-13)
    with pytest.raises(ValueError, match="reduction"):
        loss.backward()
    with pytest.raises(ValueError, match="reduction"):
        losses.MeanSquaredError(reduction="mean")


def test_zero_weight_removes_a_sample_without_rescaling():
    y_pred, y_true, d = regression_case()
    w = np.ones(N)
    w[2] = 0.0
    value = losses.MeanSquaredError()(y_true, y_pred, sample_weight=w)
    per = (d ** 2).mean(axis=1)
    assert value == pytest.approx((per.sum() - per[2]) / N, rel=1e-13)  # / N, not / Σw


# ---------------------------------------------------- binary cross-entropy ---
def bce_ref(p, t, smoothing=0.0):
    t = t * (1 - smoothing) + 0.5 * smoothing
    p = np.clip(p, EPS_CLIP, 1 - EPS_CLIP)
    return -(t * np.log(p) + (1 - t) * np.log(1 - p)).mean(axis=-1)


def bce_case(seed=0):
    t = rng(seed).random((N, D))
    t[:2] = np.round(t[:2])  # hard and soft targets
    return t


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("smoothing", [0.0, 0.2])
@pytest.mark.parametrize("from_logits", [False, True])
def test_binary_crossentropy(from_logits, smoothing, weighted, reduction):
    t = bce_case()
    logits = 2.0 * rng(1).standard_normal((N, D))
    y_pred = logits if from_logits else scipy.special.expit(logits)
    w = weights() if weighted else None
    loss = losses.BinaryCrossentropy(from_logits=from_logits, label_smoothing=smoothing, reduction=reduction)
    value, grad = check_loss(loss, y_pred, t, w)
    expected = reduce(bce_ref(scipy.special.expit(logits), t, smoothing), reduction, w)
    assert value == pytest.approx(expected, rel=1e-10)


def test_binary_crossentropy_rank1_output():
    p = probabilities((N, 1), seed=3)
    t = np.array([0.0, 1.0, 1.0, 0.0, 1.0])
    value, _ = check_loss(losses.BinaryCrossentropy(), p, t.reshape(-1, 1))
    assert value == pytest.approx(bce_ref(p, t.reshape(-1, 1)).mean(), rel=1e-13)
    assert losses.BinaryCrossentropy()(t, p) == pytest.approx(value, rel=1e-13)


def test_binary_crossentropy_gradient_is_zero_where_probabilities_are_clipped():
    # The probability form clips to [ε, 1 − ε]; the clip is flat outside, so is the loss.
    p = np.array([[1e-12, 0.3], [1.0, 0.9]])
    t = np.array([[1.0, 0.0], [0.0, 1.0]])
    # Steps of 1e-9 stay on one side of the clip bounds (ε = 1e-7) at 1e-12 and 1.0.
    value, grad = check_loss(losses.BinaryCrossentropy(), p, t, eps=1e-9, rtol=1e-5)
    assert np.isfinite(value) and np.all(np.isfinite(grad))
    assert grad[0, 0] == 0.0 and grad[1, 0] == 0.0
    assert value == pytest.approx(bce_ref(p, t).mean(), rel=1e-13)


# ------------------------------------------------ categorical cross-entropy ---
def cce_ref(p, t, smoothing=0.0):
    classes = p.shape[-1]
    t = t * (1 - smoothing) + smoothing / classes
    p = np.clip(p / p.sum(axis=-1, keepdims=True), EPS_CLIP, 1 - EPS_CLIP)
    return -(t * np.log(p)).sum(axis=-1)


def cce_logits_ref(z, t, smoothing=0.0):
    classes = z.shape[-1]
    t = t * (1 - smoothing) + smoothing / classes
    return -(t * scipy.special.log_softmax(z, axis=-1)).sum(axis=-1)


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("smoothing", [0.0, 0.1])
@pytest.mark.parametrize("from_logits", [False, True])
def test_categorical_crossentropy(from_logits, smoothing, weighted, reduction):
    t = onehot(LABELS)
    t[4] = [0.1, 0.2, 0.3, 0.4]  # a soft target row
    z = 1.5 * rng(2).standard_normal((N, C))
    w = weights() if weighted else None
    loss = losses.CategoricalCrossentropy(from_logits=from_logits, label_smoothing=smoothing, reduction=reduction)
    y_pred = z if from_logits else scipy.special.softmax(z, axis=-1)
    value, grad = check_loss(loss, y_pred, t, w)
    expected = cce_logits_ref(z, t, smoothing)
    assert value == pytest.approx(reduce(expected, reduction, w), rel=1e-10)


def test_categorical_crossentropy_unnormalised_probabilities():
    # Keras renormalises probability rows; the gradient accounts for that.
    q = probabilities((N, C), seed=4) * 0.3
    t = onehot(LABELS)
    value, grad = check_loss(losses.CategoricalCrossentropy(), q, t)
    assert value == pytest.approx(cce_ref(q, t).mean(), rel=1e-13)
    # Scaling a row does not change the loss, so the gradient is orthogonal to the row.
    np.testing.assert_allclose(np.sum(grad * q, axis=1), 0.0, atol=1e-14)


def test_categorical_crossentropy_gradient_is_zero_where_probabilities_are_clipped():
    p = np.array([[1e-12, 0.5, 0.5 - 1e-12], [0.25, 0.25, 0.5]])
    for t in (np.array([[1.0, 0.0, 0.0], [0.0, 0.0, 1.0]]), np.array([[0.2, 0.3, 0.5], [0.0, 1.0, 0.0]])):
        value, grad = check_loss(losses.CategoricalCrossentropy(), p, t, eps=1e-9, rtol=1e-5)
        assert value == pytest.approx(cce_ref(p, t).mean(), rel=1e-13)
        assert np.all(np.isfinite(grad))


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("from_logits", [False, True])
def test_sparse_categorical_crossentropy(from_logits, weighted, reduction):
    z = 1.5 * rng(3).standard_normal((N, C))
    w = weights() if weighted else None
    loss = losses.SparseCategoricalCrossentropy(from_logits=from_logits, reduction=reduction)
    y_pred = z if from_logits else scipy.special.softmax(z, axis=-1)
    value, grad = check_loss(loss, y_pred, LABELS, w)
    expected = -scipy.special.log_softmax(z, axis=-1)[np.arange(N), LABELS]
    assert value == pytest.approx(reduce(expected, reduction, w), rel=1e-10)
    # Same numbers as the one-hot form.
    dense = losses.CategoricalCrossentropy(from_logits=from_logits, reduction=reduction)
    value_dense, grad_dense = loss_value_and_grad(dense, y_pred, onehot(LABELS), w)
    assert value == pytest.approx(value_dense, rel=1e-13)
    np.testing.assert_allclose(grad, grad_dense, rtol=1e-12, atol=1e-15)


@pytest.mark.parametrize("from_logits", [False, True])
def test_sparse_categorical_crossentropy_label_smoothing(from_logits):
    # Not a Keras argument for the sparse loss, but accepted: it must mean what it means for one-hot targets.
    z = rng(4).standard_normal((N, C))
    y_pred = z if from_logits else scipy.special.softmax(z, axis=-1)
    loss = losses.SparseCategoricalCrossentropy(from_logits=from_logits, label_smoothing=0.1)
    value, grad = check_loss(loss, y_pred, LABELS)
    assert value == pytest.approx(cce_logits_ref(z, onehot(LABELS), 0.1).mean(), rel=1e-10)


def test_sparse_labels_as_column_and_float():
    z = rng(5).standard_normal((N, C))
    loss = losses.SparseCategoricalCrossentropy(from_logits=True)
    a = loss(LABELS, z)
    assert loss(LABELS.reshape(-1, 1), z) == a
    assert loss(LABELS.astype(np.float32), z) == a


# ------------------------------------------------------------- stability ---
HUGE = 1e4


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_fused_softmax_cross_entropy_finite_for_huge_logits(dtype):
    b = sn.backends.get("numpy")
    z = np.array([[HUGE, -HUGE, 0.0], [-HUGE, -HUGE, HUGE], [HUGE, HUGE, -HUGE]], dtype)
    labels = np.array([1, 2, 0])
    loss, probs = b.softmax_cross_entropy(z, labels, True)
    assert loss.dtype == np.dtype(dtype) and np.all(np.isfinite(loss)) and np.all(np.isfinite(probs))
    expected = scipy.special.logsumexp(z.astype(np.float64), axis=1) - z[np.arange(3), labels]
    np.testing.assert_allclose(loss, expected, rtol=1e-6)
    grad = b.softmax_cross_entropy_backward(probs, labels, True, np.ones(3, dtype))
    assert np.all(np.isfinite(grad))
    np.testing.assert_allclose(grad, scipy.special.softmax(z.astype(np.float64), axis=1) - onehot(labels, 3),
                               atol=1e-6)
    for loss_obj, y in ((losses.SparseCategoricalCrossentropy(from_logits=True), labels),
                        (losses.CategoricalCrossentropy(from_logits=True, label_smoothing=0.1), onehot(labels, 3))):
        value = loss_obj(y, z)
        g = np.asarray(loss_obj.backward())
        assert np.isfinite(value) and np.all(np.isfinite(g)) and g.dtype == np.dtype(dtype)
        assert value > 1e3


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_fused_sigmoid_cross_entropy_finite_for_huge_logits(dtype):
    z = np.array([[HUGE, -HUGE], [-HUGE, HUGE], [0.0, HUGE]], dtype)
    t = np.array([[0.0, 1.0], [0.0, 1.0], [1.0, 0.0]], dtype)
    loss = losses.BinaryCrossentropy(from_logits=True)
    value = loss(t, z)
    grad = np.asarray(loss.backward())
    assert np.isfinite(value) and np.all(np.isfinite(grad))
    expected = np.mean([HUGE, 0.0, (np.log(2.0) + HUGE) / 2])
    assert value == pytest.approx(expected, rel=1e-6)
    np.testing.assert_allclose(grad, (scipy.special.expit(z.astype(np.float64)) - t) / (2 * 3), atol=1e-7)


def _model(last, loss, dtype, features=4):
    return (sn.Sequential()
            .add(layers.Input((features,)))
            .add(last)
            .compile(optimizer=sn.optimizers.SGD(1e-3), loss=loss, dtype=dtype))


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_softmax_model_trains_without_nan_at_huge_logits(dtype):
    model = _model(layers.Dense(10, activation="softmax"), "sparse_categorical_crossentropy", dtype)
    x = np.eye(4)[[0, 1, 2, 3, 0, 1]]
    kernel = np.zeros((4, 10))
    kernel[np.arange(4), np.arange(4)] = HUGE   # sample of feature i: logit i = +1e4
    kernel[np.arange(4), np.arange(4) + 5] = -HUGE
    model.set_weights([kernel, np.zeros(10)])
    y = np.array([9, 1, 5, 3, 0, 2])  # some labels at the huge logit, some far below it
    logits = x @ kernel
    expected = np.mean(scipy.special.logsumexp(logits, axis=1) - logits[np.arange(6), y])
    value = model.train_on_batch(x, y)
    assert np.isfinite(value) and value == pytest.approx(expected, rel=1e-6)
    for w in model.get_weights():
        assert np.all(np.isfinite(w))
    probs = model.predict(x, verbose=0)
    assert np.all(np.isfinite(probs))
    np.testing.assert_allclose(probs.sum(axis=1), 1.0, rtol=1e-6)
    assert np.isfinite(model.train_on_batch(x, y))


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_sigmoid_model_trains_without_nan_at_huge_logits(dtype):
    model = _model(layers.Dense(2, activation="sigmoid"), "binary_crossentropy", dtype, features=2)
    x = np.array([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]])
    kernel = np.array([[HUGE, -HUGE], [-HUGE, 2 * HUGE]])
    model.set_weights([kernel, np.zeros(2)])
    y = np.array([[0.0, 1.0], [1.0, 1.0], [0.0, 0.0]])
    z = x @ kernel
    expected = np.mean(np.maximum(z, 0) - z * y + np.log1p(np.exp(-np.abs(z))))
    value = model.train_on_batch(x, y)
    assert np.isfinite(value) and value == pytest.approx(expected, rel=1e-6)
    for w in model.get_weights():
        assert np.all(np.isfinite(w))
    assert np.all(np.isfinite(model.predict(x, verbose=0)))


@pytest.mark.parametrize("last, loss, targets", [
    (lambda: layers.Dense(C, activation="softmax"), "sparse_categorical_crossentropy", lambda: LABELS),
    (lambda: layers.Dense(C, activation="softmax"), "categorical_crossentropy", lambda: onehot(LABELS)),
    (lambda: layers.Dense(C, activation="sigmoid"), "binary_crossentropy", lambda: bce_case()[:, :1].repeat(C, 1)),
], ids=["scce", "cce", "bce"])
def test_fusion_does_not_change_results_at_moderate_logits(last, loss, targets):
    model = _model(last(), loss, "float64", features=3)
    x = rng(6).standard_normal((N, 3))
    y = targets()
    probs = model.predict(x, verbose=0)
    logits = x @ model.get_weights()[0] + model.get_weights()[1]
    act = scipy.special.softmax(logits, axis=1) if "cat" in loss else scipy.special.expit(logits)
    np.testing.assert_allclose(probs, act, rtol=1e-12)
    unfused = losses.get(loss)(y, probs)  # the probability form, as the user asked for it
    assert model.test_on_batch(x, y) == pytest.approx(unfused, abs=1e-6, rel=1e-6)
    # And the first training step's gradient equals the unfused one (through the activation layer).
    reference = (sn.Sequential().add(layers.Input((3,))).add(layers.Dense(C)).add(layers.Flatten())
                 .add(layers.Activation("softmax" if "cat" in loss else "sigmoid"))
                 .add(layers.Reshape((C,)))  # the loss sees probabilities: nothing to fuse with
                 .compile(optimizer=sn.optimizers.SGD(1.0), loss=loss, dtype="float64"))
    reference.set_weights(model.get_weights())
    before = model.get_weights()
    model.compile(optimizer=sn.optimizers.SGD(1.0), loss=loss, dtype="float64")
    model.set_weights(before)
    assert reference.train_on_batch(x, y) == pytest.approx(unfused, rel=1e-12)
    model.train_on_batch(x, y)
    for a, b in zip(model.get_weights(), reference.get_weights()):
        np.testing.assert_allclose(a, b, rtol=1e-9, atol=1e-12)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_fused_sparse_loss_with_label_smoothing_trains(dtype):
    # compile() swaps in loss.with_logits(), a fresh object that never saw validate_targets().
    loss = losses.SparseCategoricalCrossentropy(label_smoothing=0.1)
    model = _model(layers.Dense(C, activation="softmax"), loss, dtype, features=3)
    x = rng(7).standard_normal((N, 3))
    probs = model.predict(x, verbose=0)
    expected = losses.CategoricalCrossentropy(label_smoothing=0.1)(onehot(LABELS), probs.astype(np.float64))
    value = model.train_on_batch(x, LABELS)
    assert value == pytest.approx(expected, rel=1e-5 if dtype == "float32" else 1e-10)
    assert all(w.dtype == np.dtype(dtype) and np.all(np.isfinite(w)) for w in model.get_weights())
    # Called directly, the smoothed one-hot rows take the predictions' dtype.
    direct = losses.SparseCategoricalCrossentropy(from_logits=True, label_smoothing=0.1)
    direct(LABELS, x.astype(dtype) @ np.ones((3, C), dtype))
    assert np.asarray(direct.backward()).dtype == np.dtype(dtype)


def test_huge_logit_model_without_fusion_would_saturate():
    # Guard for the test above: the fused result differs from what the clipped probability form gives.
    z = np.array([[HUGE, 0.0, -HUGE]])
    fused = losses.SparseCategoricalCrossentropy(from_logits=True)(np.array([2]), z)
    clipped = losses.SparseCategoricalCrossentropy()(np.array([2]), scipy.special.softmax(z, axis=1))
    assert fused == pytest.approx(2 * HUGE, rel=1e-9)
    assert clipped == pytest.approx(-np.log(EPS_CLIP), rel=1e-6)


# ---------------------------------------------------------------- config ---
@pytest.mark.parametrize("loss", [
    losses.MeanSquaredError(), losses.MeanAbsoluteError(reduction="sum"), losses.Huber(delta=2.5),
    losses.BinaryCrossentropy(from_logits=True, label_smoothing=0.1),
    losses.CategoricalCrossentropy(label_smoothing=0.2), losses.SparseCategoricalCrossentropy(from_logits=True),
], ids=repr)
def test_loss_config_round_trip(loss):
    again = losses.get(losses.serialize(loss))
    assert type(again) is type(loss) and again.get_config() == loss.get_config()


@pytest.mark.parametrize("name, cls", [("mse", losses.MeanSquaredError), ("MAE", losses.MeanAbsoluteError),
                                       ("mean_squared_error", losses.MeanSquaredError), ("huber", losses.Huber),
                                       ("Huber_Loss", losses.Huber), ("bce", losses.BinaryCrossentropy),
                                       ("CategoricalCrossentropy", losses.CategoricalCrossentropy),
                                       ("sparse_categorical_crossentropy", losses.SparseCategoricalCrossentropy)])
def test_loss_get_by_name(name, cls):
    assert type(losses.get(name)) is cls


@pytest.mark.parametrize("make, arg", [(lambda: losses.Huber(delta=0.0), "delta"),
                                       (lambda: losses.BinaryCrossentropy(label_smoothing=1.0), "label_smoothing"),
                                       (lambda: losses.CategoricalCrossentropy(label_smoothing=-0.1),
                                        "label_smoothing")])
def test_loss_bad_arguments(make, arg):
    with pytest.raises(ValueError, match=arg):
        make()
