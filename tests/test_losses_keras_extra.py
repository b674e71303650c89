"""The Keras 3 losses beyond MSE/MAE/Huber and the cross-entropies, against Keras's own formulas.

``keras_*`` below are Keras 3's loss functions (keras/src/losses/losses.py),
written out in numpy line by line: the same clipping ε = 1e-7
(``backend.epsilon()``), the same {0, 1} → {−1, 1} label conversion for the
hinge losses, the same reduction axes (a mean over the last axis, except the
KL divergence, the cosine similarity and the categorical hinge, which sum or
take a maximum over it), and Keras's batch reduction (``reduce_values``:
Σ w·values / values.size for "sum_over_batch_size"). Gradients are checked
against central differences in float64, with and without sample weights,
with inputs kept away from the kinks (the hinge's margin, a maximum's ties,
the clip bounds).
"""
import math

import numpy as np
import pytest

import seqnn as sn
from gradcheck import check_loss, loss_value_and_grad
from seqnn import layers, losses

EPS = 1e-7
N, D, C = 5, 3, 4
LABELS = np.array([0, 3, 1, 2, 3])
WEIGHTS = np.array([0.5, 2.0, 0.0, 1.0, 1.5])
REDUCTIONS = ["sum_over_batch_size", "sum"]


def rng(seed=0):
    return np.random.default_rng(seed)


def away_from_zero(shape, seed=0, margin=0.05, scale=2.0):
    r = rng(seed)
    return (margin + scale * r.random(shape)) * r.choice([-1.0, 1.0], size=shape)


def softmax_rows(shape, seed=0):
    z = rng(seed).standard_normal(shape)
    e = np.exp(z - z.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


# ------------------------------------------------- Keras's formulas, in numpy ---
def keras_kl_divergence(y_true, y_pred):
    y_true = np.clip(y_true, EPS, 1)
    y_pred = np.clip(y_pred, EPS, 1)
    return np.sum(y_true * np.log(y_true / y_pred), axis=-1)


def keras_poisson(y_true, y_pred):
    return np.mean(y_pred - y_true * np.log(y_pred + EPS), axis=-1)


def keras_normalize(x, axis):
    # keras.ops.nn.normalize, order 2: x * rsqrt(max(Σx², ε²)).
    square_sum = np.sum(np.square(x), axis=axis, keepdims=True)
    return x * (1.0 / np.sqrt(np.maximum(square_sum, EPS * EPS)))


def keras_cosine_similarity(y_true, y_pred, axis=-1):
    return -np.sum(keras_normalize(y_true, axis) * keras_normalize(y_pred, axis), axis=axis)


def keras_log_cosh(y_true, y_pred):
    x = y_pred - y_true
    return np.mean(x + np.logaddexp(0.0, x * -2.0) - np.log(2.0), axis=-1)  # logaddexp(0, z) = softplus(z)


def keras_convert_binary_labels_to_hinge(y_true):
    is_binary = np.all(np.logical_or(y_true == 0, y_true == 1))
    return 2.0 * y_true - 1.0 if is_binary else y_true


def keras_hinge(y_true, y_pred):
    y_true = keras_convert_binary_labels_to_hinge(y_true)
    return np.mean(np.maximum(1.0 - y_true * y_pred, 0.0), axis=-1)


def keras_squared_hinge(y_true, y_pred):
    y_true = keras_convert_binary_labels_to_hinge(y_true)
    return np.mean(np.square(np.maximum(1.0 - y_true * y_pred, 0.0)), axis=-1)


def keras_categorical_hinge(y_true, y_pred):
    pos = np.sum(y_true * y_pred, axis=-1)
    neg = np.max((1.0 - y_true) * y_pred, axis=-1)
    return np.maximum(neg - pos + 1.0, 0.0)


def keras_mean_absolute_percentage_error(y_true, y_pred):
    diff = np.abs((y_true - y_pred) / np.maximum(np.abs(y_true), EPS))
    return 100.0 * np.mean(diff, axis=-1)


def keras_mean_squared_logarithmic_error(y_true, y_pred):
    first_log = np.log(np.maximum(y_pred, EPS) + 1.0)
    second_log = np.log(np.maximum(y_true, EPS) + 1.0)
    return np.mean(np.square(first_log - second_log), axis=-1)


def keras_reduce(values, reduction, sample_weight=None):
    """keras/src/losses/loss.py: weights broadcast over the trailing axes, then sum (÷ values.size)."""
    if sample_weight is not None:
        values = values * sample_weight.reshape(-1, *([1] * (values.ndim - 1)))
    total = np.sum(values)
    return total / values.size if reduction == "sum_over_batch_size" else total


# ------------------------------------------------------------------ data ---
def hinge_case(seed=0):
    """Labels in {−1, 1} and scores whose margin violation 1 − t·p stays ≥ 0.05 from the kink, both signs."""
    t = rng(seed).choice([-1.0, 1.0], size=(N, D))
    violation = away_from_zero((N, D), seed=seed + 1, scale=1.5)
    assert (violation > 0).any() and (violation < 0).any()
    return t * (1.0 - violation), t


def categorical_hinge_case():
    t = np.eye(C)[LABELS]
    p = 1.5 * rng(3).standard_normal((N, C))
    p[1] = [-0.3, -0.8, -0.1, 2.5]  # a sample with zero loss (margin < 0)
    margin = np.max((1 - t) * p, axis=-1) - np.sum(t * p, axis=-1) + 1
    wrong = np.sort((1 - t) * p, axis=-1)
    assert np.all(np.abs(margin) > 0.05) and (margin > 0).any() and (margin < 0).any()
    assert np.all(wrong[:, -1] - wrong[:, -2] > 0.05)  # no tie for the strongest wrong class
    return p, t


def kld_case():
    t = softmax_rows((N, C), seed=4)
    t[0] = [0.0, 0.5, 0.5, 0.0]  # zero targets: clipped to ε
    return softmax_rows((N, C), seed=5), t


def counts_case():
    y_pred = 0.1 + 3.0 * rng(6).random((N, D))  # Poisson rates
    return y_pred, rng(7).poisson(1.5, size=(N, D)).astype(np.float64)


def msle_case():
    y_true = 2.0 * rng(8).random((N, D))
    y_true[0, 0] = -0.5  # counts as ε
    y_pred = y_true + away_from_zero((N, D), seed=9, scale=0.5)
    y_pred[1, 1] = -0.3  # below ε: flat
    assert np.all(np.abs(y_pred - EPS) > 1e-3)  # away from the kink of max(y_pred, ε)
    return y_pred, y_true


def mape_case():
    y_true = rng(10).standard_normal((N, D))
    y_true[2, 0] = 0.0  # divided by ε
    return y_true + away_from_zero((N, D), seed=11), y_true


def regression_case():
    y_true = rng(12).standard_normal((N, D))
    d = away_from_zero((N, D), seed=13)
    d[0, 0] = 30.0  # cosh(30) is 5e12: the softplus form stays exact
    return y_true + d, y_true


def cosine_case(shape=(N, D)):
    return rng(14).standard_normal(shape), rng(15).standard_normal(shape)


# name: (make(reduction), Keras's function, case() -> (y_pred, y_true))
CASES = {
    "kl_divergence": (lambda r: losses.KLDivergence(reduction=r), keras_kl_divergence, kld_case),
    "poisson": (lambda r: losses.Poisson(reduction=r), keras_poisson, counts_case),
    "cosine_similarity": (lambda r: losses.CosineSimilarity(reduction=r), keras_cosine_similarity, cosine_case),
    "log_cosh": (lambda r: losses.LogCosh(reduction=r), keras_log_cosh, regression_case),
    "hinge": (lambda r: losses.Hinge(reduction=r), keras_hinge, hinge_case),
    "squared_hinge": (lambda r: losses.SquaredHinge(reduction=r), keras_squared_hinge, hinge_case),
    "categorical_hinge": (lambda r: losses.CategoricalHinge(reduction=r), keras_categorical_hinge,
                          categorical_hinge_case),
    "mape": (lambda r: losses.MeanAbsolutePercentageError(reduction=r), keras_mean_absolute_percentage_error,
             mape_case),
    "msle": (lambda r: losses.MeanSquaredLogarithmicError(reduction=r), keras_mean_squared_logarithmic_error,
             msle_case),
}


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("weighted", [False, True], ids=["unweighted", "weighted"])
@pytest.mark.parametrize("name", list(CASES))
def test_value_matches_keras_and_gradient_matches_finite_differences(name, weighted, reduction):
    make, keras_fn, case = CASES[name]
    y_pred, y_true = case()
    w = WEIGHTS if weighted else None
    value, _ = check_loss(make(reduction), y_pred, y_true, w)
    assert value == pytest.approx(keras_reduce(keras_fn(y_true, y_pred), reduction, w), rel=1e-12)


@pytest.mark.parametrize("name", list(CASES))
def test_reduction_none_gives_keras_per_sample_values(name):
    make, keras_fn, case = CASES[name]
    y_pred, y_true = case()
    np.testing.assert_allclose(make("none")(y_true, y_pred), keras_fn(y_true, y_pred), rtol=1e-12, atol=1e-15)


@pytest.mark.parametrize("name", list(CASES))
def test_rank3_outputs_give_keras_number(name):
    """For (n, T, D) outputs Keras reduces over the last axis, then divides the total by n·T."""
    make, keras_fn, _ = CASES[name]
    if name == "categorical_hinge":
        y_true = np.eye(C)[rng(16).integers(0, C, (N, 2))]
        y_pred = y_true + 0.3 * rng(17).standard_normal((N, 2, C))
    elif name in ("kl_divergence", "poisson", "msle"):
        y_true, y_pred = softmax_rows((N, 2, C), 16), softmax_rows((N, 2, C), 17)
    elif "hinge" in name:
        y_true, y_pred = rng(16).choice([-1.0, 1.0], (N, 2, C)), rng(17).standard_normal((N, 2, C))
    else:
        y_true, y_pred = rng(16).standard_normal((N, 2, C)), rng(17).standard_normal((N, 2, C))
    value = make("sum_over_batch_size")(y_true, y_pred, sample_weight=WEIGHTS)
    assert value == pytest.approx(keras_reduce(keras_fn(y_true, y_pred), "sum_over_batch_size", WEIGHTS), rel=1e-12)


@pytest.mark.parametrize("name", list(CASES))
def test_float32_stays_float32(name):
    make, _, case = CASES[name]
    y_pred, y_true = (a.astype(np.float32) for a in case())
    loss = make("sum_over_batch_size").bind(sn.backends.get("numpy"))
    assert loss.per_sample(y_pred, y_true).dtype == np.float32
    assert loss.per_sample_backward(np.ones(N, np.float32)).dtype == np.float32


# ------------------------------------------------------------ particulars ---
def test_keras_docstring_examples():
    # keras.losses.log_cosh: 0.108; keras.losses.cosine_similarity: [-0., -0.99999994, 0.99999994].
    log_cosh = losses.LogCosh(reduction="none")(np.array([[0.0, 1.0], [0.0, 0.0]]), np.array([[1.0, 1.0], [0.0, 0.0]]))
    assert np.mean(log_cosh) == pytest.approx(0.108, abs=5e-4)
    cosine = losses.CosineSimilarity(reduction="none")(np.array([[0.0, 1.0], [1.0, 1.0], [1.0, 1.0]]),
                                                       np.array([[1.0, 0.0], [1.0, 1.0], [-1.0, -1.0]]))
    np.testing.assert_allclose(cosine, [0.0, -1.0, 1.0], atol=1e-12)


def test_log_cosh_is_log_of_cosh_and_stable_for_large_errors():
    d = np.array([[-3.0, -0.1, 0.0, 0.7, 5.0]])
    np.testing.assert_allclose(losses.LogCosh(reduction="none")(np.zeros_like(d), d),
                               np.mean(np.log(np.cosh(d))), rtol=1e-13)
    big = np.array([[1000.0, -1000.0]])  # cosh overflows; log cosh = |d| − log 2
    assert losses.LogCosh()(np.zeros_like(big), big) == pytest.approx(1000.0 - math.log(2.0), rel=1e-15)


@pytest.mark.parametrize("cls", [losses.Hinge, losses.SquaredHinge])
def test_hinge_maps_binary_labels_as_keras(cls):
    keras_fn = keras_hinge if cls is losses.Hinge else keras_squared_hinge
    y_pred, t = hinge_case()
    binary = (t + 1) / 2
    assert cls()(binary, y_pred) == pytest.approx(cls()(t, y_pred), rel=1e-15)  # {0, 1} → {−1, 1}
    np.testing.assert_allclose(cls(reduction="none")(binary, y_pred), keras_fn(binary, y_pred), rtol=1e-15)
    # Labels that are not all 0 or 1 are used as given, even the zeros among them (Keras's rule, per call).
    for labels in (np.where(binary == 0, -1.0, 1.0) * (np.arange(D) != 0), binary * 1.5):
        converted = cls(reduction="none")(labels, y_pred)
        np.testing.assert_allclose(converted, keras_fn(labels, y_pred), rtol=1e-15)
        power = 1 if cls is losses.Hinge else 2
        np.testing.assert_allclose(converted, np.mean(np.maximum(1 - labels * y_pred, 0) ** power, axis=-1))


def test_hinge_binary_labels_gradient():
    y_pred, t = hinge_case(seed=3)
    for loss in (losses.Hinge(), losses.SquaredHinge()):
        check_loss(loss, y_pred, (t + 1) / 2, WEIGHTS)


def test_categorical_hinge_shares_a_tied_maximum():
    # Two wrong classes tie for the maximum: each gets half of its gradient, as TF/JAX/PyTorch's max does.
    p = np.array([[0.2, 0.9, 0.9, -1.0]])
    t = np.array([[1.0, 0.0, 0.0, 0.0]])
    _, grad = loss_value_and_grad(losses.CategoricalHinge(), p, t)
    np.testing.assert_allclose(grad, [[-1.0, 0.5, 0.5, 0.0]], rtol=1e-15)


def test_kl_divergence_gradient_is_zero_where_predictions_are_clipped():
    p = np.array([[1e-12, 0.4, 0.6], [0.2, 0.3, 1.2]])
    t = np.array([[0.3, 0.3, 0.4], [0.5, 0.0, 0.5]])
    # Steps of 1e-9 stay on one side of the clip bounds at 1e-12 and 1.2.
    value, grad = check_loss(losses.KLDivergence(), p, t, eps=1e-9, rtol=1e-5)
    assert grad[0, 0] == 0.0 and grad[1, 2] == 0.0
    assert value == pytest.approx(keras_kl_divergence(t, p).mean(), rel=1e-13)


def test_kl_divergence_is_zero_for_equal_distributions():
    p = softmax_rows((N, C))
    assert losses.KLDivergence()(p, p) == pytest.approx(0.0, abs=1e-15)


def test_cosine_similarity_of_tiny_and_zero_vectors():
    # Below ‖p‖ = ε Keras divides by ε instead of ‖p‖: linear, with slope −û_t/ε; a zero vector gives 0.
    t = np.array([[1.0, 2.0, -2.0], [0.5, 0.5, 0.0]])
    p = np.array([[1e-9, -2e-9, 3e-9], [0.0, 0.0, 0.0]])
    value, grad = check_loss(losses.CosineSimilarity(reduction="sum"), p, t, eps=1e-10, rtol=1e-5)
    assert value == pytest.approx(np.sum(keras_cosine_similarity(t, p)), rel=1e-12)
    np.testing.assert_allclose(grad, -t / np.linalg.norm(t, axis=1, keepdims=True) / EPS, rtol=1e-12)


@pytest.mark.parametrize("axis", [1, -2, 2, -1])
def test_cosine_similarity_along_another_axis(axis):
    y_pred, y_true = cosine_case((N, 3, 4))
    loss = losses.CosineSimilarity(axis=axis, reduction="sum")
    value, _ = check_loss(loss, y_pred, y_true, WEIGHTS)
    values = keras_cosine_similarity(y_true, y_pred, axis=axis)
    # Keras's "sum" adds every row; seqnn's per-sample loss is the mean over the other feature axis.
    assert value == pytest.approx(np.sum(WEIGHTS * values.mean(axis=1)), rel=1e-12)


def test_mape_and_msle_particulars():
    # MAPE divides by max(|t|, ε): a zero target gives a huge, finite loss.
    assert losses.MAPE()(np.array([[0.0]]), np.array([[1e-3]])) == pytest.approx(100 * 1e-3 / EPS, rel=1e-12)
    assert losses.MAPE()(np.array([[-2.0, 4.0]]), np.array([[-1.0, 5.0]])) == pytest.approx(100 * (0.5 + 0.25) / 2)
    # MSLE counts anything below ε as ε.
    assert losses.MSLE()(np.array([[-5.0]]), np.array([[-1.0]])) == 0.0
    assert losses.MSLE()(np.array([[np.e - 1]]), np.array([[0.0]])) == pytest.approx((math.log1p(EPS) - 1) ** 2)


# ------------------------------------------------------- backend max op ---
@pytest.mark.parametrize("axis, keepdims", [(None, False), (-1, True), (0, False), (1, True)])
def test_backend_max_matches_numpy(axis, keepdims):
    b = sn.backends.get("numpy")
    a = rng(18).standard_normal((4, 5))
    got = b.max(b.asarray(a), axis=axis, keepdims=keepdims)
    if axis is None:
        assert got.shape == () and b.item(got) == a.max()
    else:
        np.testing.assert_array_equal(b.to_numpy(got), a.max(axis=axis, keepdims=keepdims))


# ------------------------------------------------------ names and config ---
@pytest.mark.parametrize("name, cls", [
    ("kl_divergence", losses.KLDivergence), ("kld", losses.KLDivergence), ("KLD", losses.KLDivergence),
    ("kullback_leibler_divergence", losses.KLDivergence), ("KLDivergence", losses.KLDivergence),
    ("cosine_similarity", losses.CosineSimilarity), ("poisson", losses.Poisson), ("log_cosh", losses.LogCosh),
    ("logcosh", losses.LogCosh), ("hinge", losses.Hinge), ("squared_hinge", losses.SquaredHinge),
    ("categorical_hinge", losses.CategoricalHinge), ("mape", losses.MeanAbsolutePercentageError),
    ("mean_absolute_percentage_error", losses.MAPE), ("msle", losses.MeanSquaredLogarithmicError),
    ("MSLE", losses.MSLE), ("mean_squared_logarithmic_error", losses.MeanSquaredLogarithmicError),
])
def test_get_by_name(name, cls):
    assert type(losses.get(name)) is cls


def test_keras_default_names():
    names = {cls().name for cls in (losses.KLDivergence, losses.CosineSimilarity, losses.Poisson, losses.LogCosh,
                                    losses.Hinge, losses.SquaredHinge, losses.CategoricalHinge, losses.MAPE,
                                    losses.MSLE)}
    assert names == {"kl_divergence", "cosine_similarity", "poisson", "log_cosh", "hinge", "squared_hinge",
                     "categorical_hinge", "mean_absolute_percentage_error", "mean_squared_logarithmic_error"}


CONFIGURED = [
    losses.KLDivergence(reduction="sum"), losses.CosineSimilarity(axis=1, name="cos"), losses.Poisson(),
    losses.LogCosh(reduction="sum"), losses.Hinge(name="h"), losses.SquaredHinge(), losses.CategoricalHinge(),
    losses.MeanAbsolutePercentageError(reduction="sum"), losses.MeanSquaredLogarithmicError(),
]


@pytest.mark.parametrize("loss", CONFIGURED, ids=lambda loss: type(loss).__name__)
def test_compile_save_load_round_trip(loss, tmp_path):
    """The loss travels with the model: compile → save → load_model gives the same config and numbers."""
    sn.utils.set_random_seed(0)
    last = "softplus" if isinstance(loss, losses.Poisson) else "softmax" if isinstance(
        loss, losses.KLDivergence) else None
    model = sn.Sequential([layers.Input((3,)), layers.Dense(C, activation=last)])
    model.compile(optimizer="sgd", loss=loss)
    path = tmp_path / "m.safetensors"
    model.save(path)
    loaded = sn.load_model(path)
    assert type(loaded.loss) is type(loss) and loaded.loss.get_config() == loss.get_config()
    again = losses.get(losses.serialize(loss))
    assert type(again) is type(loss) and again.get_config() == loss.get_config()
    x = rng(19).standard_normal((8, 3)).astype(np.float32)
    y = np.eye(C, dtype=np.float32)[rng(20).integers(0, C, 8)]
    assert loaded.evaluate(x, y, verbose=0) == pytest.approx(model.evaluate(x, y, verbose=0))


@pytest.mark.parametrize("loss, last", [("poisson", "softplus"), ("kld", "softmax"), ("categorical_hinge", None),
                                        ("squared_hinge", "tanh"), ("log_cosh", None), ("cosine_similarity", None)])
def test_training_lowers_the_loss(loss, last):
    sn.utils.set_random_seed(1)
    x = rng(21).standard_normal((64, 4)).astype(np.float32)
    labels = np.argmax(x[:, :C], axis=1)
    y = np.eye(C, dtype=np.float32)[labels]
    if loss == "poisson":
        y = y * 3.0
    model = sn.Sequential([layers.Input((4,)), layers.Dense(C, activation=last)])
    model.compile(optimizer=sn.optimizers.Adam(0.05), loss=loss)
    before = model.evaluate(x, y, verbose=0)
    model.fit(x, y, epochs=5, batch_size=16, verbose=0, seed=0)
    assert model.evaluate(x, y, verbose=0) < before


@pytest.mark.parametrize("make, error, match", [
    (lambda: losses.CosineSimilarity(axis=0), ValueError, "axis"),
    (lambda: losses.CosineSimilarity(axis="last"), TypeError, "axis"),
    (lambda: losses.CosineSimilarity(axis=1.0), TypeError, "axis"),
    (lambda: losses.Poisson(reduction="mean_of_everything"), ValueError, "reduction"),
    (lambda: losses.CosineSimilarity(axis=3)(np.ones((2, 3)), np.ones((2, 3))), ValueError, "axis=3"),
    (lambda: losses.CosineSimilarity(axis=-2)(np.ones((2, 3)), np.ones((2, 3))), ValueError, "axis=-2"),
    (lambda: losses.Hinge()(np.ones((2, 3)), np.ones((2, 4))), ValueError, "shape"),
])
def test_bad_arguments_are_refused_with_the_argument_named(make, error, match):
    with pytest.raises(error, match=match):
        make()
