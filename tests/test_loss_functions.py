"""Keras's function-style losses (``losses.categorical_crossentropy(y_true, y_pred)``) and compile(loss=<function>).

Each function must give exactly its class's ``reduction="none"`` values (the
function runs the class) and Keras 3's formula (keras/src/losses/losses.py
and the numpy backend's ops, written out below or in
test_losses_keras_extra.py); compiling with a function must train and save
exactly as compiling with the class's name does.
"""
import inspect

import numpy as np
import pytest

import seqnn as sn
from seqnn import layers, losses
from test_losses_keras_extra import (EPS, keras_categorical_hinge, keras_cosine_similarity, keras_hinge,
                                     keras_kl_divergence, keras_log_cosh, keras_mean_absolute_percentage_error,
                                     keras_mean_squared_logarithmic_error, keras_poisson, keras_squared_hinge)

N, C = 6, 4


def rng(seed=0):
    return np.random.default_rng(seed)


# ---------------------------------------------- Keras's formulas, in numpy ---
def keras_log_softmax(z, axis=-1):
    z = z - z.max(axis=axis, keepdims=True)
    return z - np.log(np.sum(np.exp(z), axis=axis, keepdims=True))


def keras_categorical_crossentropy(y_true, y_pred, from_logits=False, label_smoothing=0.0):
    if label_smoothing:
        y_true = y_true * (1.0 - label_smoothing) + label_smoothing / y_true.shape[-1]
    if from_logits:
        return -np.sum(y_true * keras_log_softmax(y_pred), axis=-1)
    output = y_pred / np.sum(y_pred, axis=-1, keepdims=True)
    output = np.clip(output, EPS, 1.0 - EPS)
    return -np.sum(y_true * np.log(output), axis=-1)


def keras_sparse_categorical_crossentropy(y_true, y_pred, from_logits=False):
    return keras_categorical_crossentropy(np.eye(y_pred.shape[-1])[y_true], y_pred, from_logits)


def keras_binary_crossentropy(y_true, y_pred, from_logits=False, label_smoothing=0.0):
    if label_smoothing:
        y_true = y_true * (1.0 - label_smoothing) + 0.5 * label_smoothing
    if from_logits:
        bce = np.maximum(y_pred, 0) - y_pred * y_true + np.log1p(np.exp(-np.abs(y_pred)))
    else:
        output = np.clip(y_pred, EPS, 1.0 - EPS)
        bce = -(y_true * np.log(output) + (1.0 - y_true) * np.log(1.0 - output))
    return np.mean(bce, axis=-1)


def keras_mean_squared_error(y_true, y_pred):
    return np.mean(np.square(y_true - y_pred), axis=-1)


def keras_mean_absolute_error(y_true, y_pred):
    return np.mean(np.abs(y_true - y_pred), axis=-1)


def keras_huber(y_true, y_pred, delta=1.0):
    error = y_pred - y_true
    abs_error = np.abs(error)
    return np.mean(np.where(abs_error <= delta, 0.5 * np.square(error), delta * abs_error - 0.5 * delta**2), axis=-1)


# ------------------------------------------------------------------ data ---
def probabilities(seed):
    z = rng(seed).standard_normal((N, C))
    e = np.exp(z - z.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


LABELS = rng(1).integers(0, C, N)
ONE_HOT = np.eye(C)[LABELS]
LOGITS = 3.0 * rng(2).standard_normal((N, C))
BINARY = rng(3).integers(0, 2, (N, C)).astype(np.float64)
SIGNS = rng(4).choice([-1.0, 1.0], (N, C))
REAL_TRUE, REAL_PRED = 2.0 * rng(5).standard_normal((N, C)), 2.0 * rng(6).standard_normal((N, C))
POSITIVE = 0.1 + 2.0 * rng(7).random((N, C))

# name: (function, class, class kwargs, function kwargs, Keras's formula, (y_true, y_pred))
CASES = {
    "categorical_crossentropy": (losses.categorical_crossentropy, losses.CategoricalCrossentropy, {}, {},
                                 keras_categorical_crossentropy, (ONE_HOT, probabilities(8))),
    "categorical_crossentropy-logits-smoothing": (
        losses.categorical_crossentropy, losses.CategoricalCrossentropy, {"from_logits": True, "label_smoothing": 0.1},
        {"from_logits": True, "label_smoothing": 0.1}, keras_categorical_crossentropy, (ONE_HOT, LOGITS)),
    "sparse_categorical_crossentropy": (losses.sparse_categorical_crossentropy, losses.SparseCategoricalCrossentropy,
                                        {}, {}, keras_sparse_categorical_crossentropy, (LABELS, probabilities(9))),
    "sparse_categorical_crossentropy-logits": (
        losses.sparse_categorical_crossentropy, losses.SparseCategoricalCrossentropy, {"from_logits": True},
        {"from_logits": True}, keras_sparse_categorical_crossentropy, (LABELS, LOGITS)),
    "binary_crossentropy": (losses.binary_crossentropy, losses.BinaryCrossentropy, {}, {},
                            keras_binary_crossentropy, (BINARY, rng(10).random((N, C)))),
    "binary_crossentropy-logits-smoothing": (
        losses.binary_crossentropy, losses.BinaryCrossentropy, {"from_logits": True, "label_smoothing": 0.2},
        {"from_logits": True, "label_smoothing": 0.2}, keras_binary_crossentropy, (BINARY, LOGITS)),
    "mean_squared_error": (losses.mean_squared_error, losses.MeanSquaredError, {}, {}, keras_mean_squared_error,
                           (REAL_TRUE, REAL_PRED)),
    "mean_absolute_error": (losses.mean_absolute_error, losses.MeanAbsoluteError, {}, {},
                            keras_mean_absolute_error, (REAL_TRUE, REAL_PRED)),
    "mean_absolute_percentage_error": (losses.mean_absolute_percentage_error, losses.MeanAbsolutePercentageError,
                                       {}, {}, keras_mean_absolute_percentage_error, (REAL_TRUE, REAL_PRED)),
    "mean_squared_logarithmic_error": (losses.mean_squared_logarithmic_error, losses.MeanSquaredLogarithmicError,
                                       {}, {}, keras_mean_squared_logarithmic_error, (POSITIVE, REAL_PRED)),
    "huber": (losses.huber, losses.Huber, {}, {}, keras_huber, (REAL_TRUE, REAL_PRED)),
    "huber-delta": (losses.huber, losses.Huber, {"delta": 0.5}, {"delta": 0.5}, keras_huber, (REAL_TRUE, REAL_PRED)),
    "kl_divergence": (losses.kl_divergence, losses.KLDivergence, {}, {}, keras_kl_divergence,
                      (probabilities(11), probabilities(12))),
    "poisson": (losses.poisson, losses.Poisson, {}, {}, keras_poisson, (rng(13).poisson(1.5, (N, C)), POSITIVE)),
    "log_cosh": (losses.log_cosh, losses.LogCosh, {}, {}, keras_log_cosh, (REAL_TRUE, REAL_PRED)),
    "hinge": (losses.hinge, losses.Hinge, {}, {}, keras_hinge, (SIGNS, REAL_PRED)),
    "hinge-binary-labels": (losses.hinge, losses.Hinge, {}, {}, keras_hinge, (BINARY, REAL_PRED)),
    "squared_hinge": (losses.squared_hinge, losses.SquaredHinge, {}, {}, keras_squared_hinge, (SIGNS, REAL_PRED)),
    "categorical_hinge": (losses.categorical_hinge, losses.CategoricalHinge, {}, {}, keras_categorical_hinge,
                          (ONE_HOT, REAL_PRED)),
    "cosine_similarity": (losses.cosine_similarity, losses.CosineSimilarity, {}, {}, keras_cosine_similarity,
                          (REAL_TRUE, REAL_PRED)),
}


@pytest.mark.parametrize("case", list(CASES))
def test_function_gives_the_class_values_and_keras_formula(case):
    fn, cls, class_kwargs, fn_kwargs, keras_fn, (y_true, y_pred) = CASES[case]
    got = fn(y_true, y_pred, **fn_kwargs)
    assert isinstance(got, np.ndarray) and got.shape == (N,) and got.dtype == np.float64
    np.testing.assert_array_equal(got, cls(reduction="none", **class_kwargs)(y_true, y_pred))
    np.testing.assert_allclose(got, keras_fn(y_true, y_pred, **fn_kwargs), rtol=1e-12, atol=1e-15)


def test_every_function_is_tested_and_resolves_to_its_class():
    tested = {case[0] for case in CASES.values()}
    assert tested == set(losses.base.function_classes)
    for fn, cls in losses.base.function_classes.items():
        assert fn.__name__ in losses.__all__ and getattr(losses, fn.__name__) is fn
        resolved = losses.get(fn)
        assert type(resolved) is cls and resolved.get_config() == cls().get_config()


def test_keras_docstring_examples():
    # keras/src/losses/losses.py: the examples in the functions' docstrings.
    y_pred = [[0.05, 0.95, 0], [0.1, 0.8, 0.1]]
    np.testing.assert_allclose(losses.categorical_crossentropy([[0, 1, 0], [0, 0, 1]], y_pred), [0.0513, 2.303],
                               atol=5e-4)
    np.testing.assert_allclose(losses.sparse_categorical_crossentropy([1, 2], y_pred), [0.0513, 2.303], atol=5e-4)
    np.testing.assert_allclose(losses.binary_crossentropy([[0, 1], [0, 0]], [[0.6, 0.4], [0.4, 0.6]]),
                               [0.916, 0.714], atol=5e-4)
    assert np.mean(losses.huber([[0, 1], [0, 0]], [[0.6, 0.4], [0.4, 0.6]])) == pytest.approx(0.155)
    log_cosh = losses.log_cosh([[0.0, 1.0], [0.0, 0.0]], [[1.0, 1.0], [0.0, 0.0]])
    assert np.mean(log_cosh) == pytest.approx(0.108, abs=5e-4)
    np.testing.assert_allclose(losses.cosine_similarity([[0.0, 1.0], [1.0, 1.0], [1.0, 1.0]],
                                                        [[1.0, 0.0], [1.0, 1.0], [-1.0, -1.0]]), [0.0, -1.0, 1.0],
                               atol=1e-12)


def test_keras2_short_names_are_the_same_functions():
    assert losses.mse is losses.mean_squared_error and losses.mae is losses.mean_absolute_error
    assert losses.mape is losses.mean_absolute_percentage_error
    assert losses.msle is losses.mean_squared_logarithmic_error
    assert losses.kld is losses.kl_divergence and losses.logcosh is losses.log_cosh
    # The classes keep their own names (and Keras 2's upper-case class aliases).
    assert losses.MSE is losses.MeanSquaredError and isinstance(losses.Hinge(), losses.Loss)


def test_function_signatures_are_keras():
    def parameters(fn):
        return [(p.name, p.default) for p in inspect.signature(fn).parameters.values()]

    empty = inspect.Parameter.empty
    assert parameters(losses.categorical_crossentropy) == [("y_true", empty), ("y_pred", empty),
                                                           ("from_logits", False), ("label_smoothing", 0.0),
                                                           ("axis", -1)]
    assert parameters(losses.sparse_categorical_crossentropy) == [("y_true", empty), ("y_pred", empty),
                                                                  ("from_logits", False), ("ignore_class", None),
                                                                  ("axis", -1)]
    assert parameters(losses.binary_crossentropy) == parameters(losses.categorical_crossentropy)
    assert parameters(losses.huber)[2:] == [("delta", 1.0)]
    assert parameters(losses.cosine_similarity)[2:] == [("axis", -1)]


def test_options_may_be_passed_by_position_and_wrong_calls_are_type_errors():
    np.testing.assert_array_equal(losses.huber(REAL_TRUE, REAL_PRED, 0.5),
                                  losses.huber(REAL_TRUE, REAL_PRED, delta=0.5))
    np.testing.assert_array_equal(losses.cosine_similarity(REAL_TRUE, REAL_PRED, 1),
                                  losses.cosine_similarity(REAL_TRUE, REAL_PRED))
    with pytest.raises(TypeError, match="delta"):
        losses.mse(REAL_TRUE, REAL_PRED, delta=1.0)
    with pytest.raises(TypeError, match="y_pred"):
        losses.hinge(SIGNS)
    with pytest.raises(TypeError):
        losses.huber(REAL_TRUE, REAL_PRED, 0.5, 1.0)


def test_float32_inputs_give_float32_values():
    y_pred = probabilities(14).astype(np.float32)
    assert losses.categorical_crossentropy(ONE_HOT, y_pred).dtype == np.float32
    assert losses.mean_squared_error(REAL_TRUE, REAL_PRED.astype(np.float32)).dtype == np.float32


def test_rank3_outputs_average_the_extra_axis():
    # Keras returns shape (N, T); seqnn's per-sample loss is their mean, shape (N,).
    y_true, y_pred = rng(15).standard_normal((N, 3, C)), rng(16).standard_normal((N, 3, C))
    got = losses.mean_squared_error(y_true, y_pred)
    assert got.shape == (N,)
    np.testing.assert_allclose(got, keras_mean_squared_error(y_true, y_pred).mean(axis=1), rtol=1e-13)


def test_cosine_similarity_axis_is_passed_on():
    y_true, y_pred = rng(17).standard_normal((N, 3, C)), rng(18).standard_normal((N, 3, C))
    np.testing.assert_allclose(losses.cosine_similarity(y_true, y_pred, axis=1),
                               keras_cosine_similarity(y_true, y_pred, axis=1).mean(axis=1), rtol=1e-12)


@pytest.mark.parametrize("call, match", [
    (lambda: losses.categorical_crossentropy(ONE_HOT, LOGITS, axis=0), r"axis must be the last axis.*axis=0"),
    (lambda: losses.binary_crossentropy(BINARY, LOGITS, axis=True), r"axis=True"),
    (lambda: losses.sparse_categorical_crossentropy(LABELS, LOGITS, ignore_class=0), r"ignore_class=0"),
    (lambda: losses.categorical_crossentropy(LABELS, LOGITS), r"one-hot targets of shape \(n, 4\)"),
    (lambda: losses.huber(REAL_TRUE, REAL_PRED, delta=0.0), r"delta"),
])
def test_bad_arguments_are_refused_with_the_argument_named(call, match):
    with pytest.raises(ValueError, match=match):
        call()


def test_axis_one_is_the_last_axis_for_rank2():
    np.testing.assert_array_equal(losses.categorical_crossentropy(ONE_HOT, LOGITS, from_logits=True, axis=1),
                                  losses.categorical_crossentropy(ONE_HOT, LOGITS, from_logits=True))


# ------------------------------------------------------ compile(loss=fn) ---
# name: (function, string name, last activation, targets for 4 outputs from labels)
COMPILE_CASES = {
    "categorical_crossentropy": (losses.categorical_crossentropy, "categorical_crossentropy", "softmax",
                                 lambda labels: np.eye(C, dtype=np.float32)[labels]),
    "sparse_categorical_crossentropy": (losses.sparse_categorical_crossentropy, "sparse_categorical_crossentropy",
                                        "softmax", lambda labels: labels),
    "binary_crossentropy": (losses.binary_crossentropy, "binary_crossentropy", "sigmoid",
                            lambda labels: np.eye(C, dtype=np.float32)[labels]),
    "mse": (losses.mse, "mse", None, lambda labels: np.eye(C, dtype=np.float32)[labels]),
    "huber": (losses.huber, "huber", None, lambda labels: 3.0 * np.eye(C, dtype=np.float32)[labels]),
    "hinge": (losses.hinge, "hinge", "tanh", lambda labels: np.eye(C, dtype=np.float32)[labels]),
}


def _data():
    x = rng(20).standard_normal((48, 5)).astype(np.float32)
    return x, np.argmax(x[:, :C], axis=1)


def _fit(loss, last):
    sn.utils.set_random_seed(3)
    model = sn.Sequential([layers.Input((5,)), layers.Dense(8, activation="relu"), layers.Dense(C, activation=last)])
    model.compile(optimizer=sn.optimizers.Adam(0.01), loss=loss)
    return model


@pytest.mark.parametrize("case", list(COMPILE_CASES))
def test_compile_with_a_function_trains_as_with_the_name(case):
    fn, name, last, targets = COMPILE_CASES[case]
    x, labels = _data()
    y = targets(labels)
    by_function, by_name = _fit(fn, last), _fit(name, last)
    assert by_function.compile_config == by_name.compile_config
    history = [m.fit(x, y, epochs=2, batch_size=16, verbose=0, seed=0).history["loss"] for m in (by_function, by_name)]
    assert history[0] == history[1] and history[0][-1] < history[0][0]
    for a, b in zip(by_function.get_weights(), by_name.get_weights()):
        np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("case", list(COMPILE_CASES))
def test_compile_with_a_function_saves_and_reloads_the_loss(case, tmp_path):
    fn, _, last, targets = COMPILE_CASES[case]
    x, labels = _data()
    y = targets(labels)
    model = _fit(fn, last)
    model.fit(x, y, epochs=1, batch_size=16, verbose=0, seed=0)
    model.save(tmp_path / "m.safetensors")
    loaded = sn.load_model(tmp_path / "m.safetensors")
    cls = losses.base.function_classes[fn]
    assert type(loaded.loss) is cls and loaded.loss.get_config() == cls().get_config()
    assert loaded.compile_config == model.compile_config
    assert loaded.evaluate(x, y, verbose=0) == pytest.approx(model.evaluate(x, y, verbose=0), rel=1e-6)


def test_a_custom_function_is_refused_with_the_way_out():
    def my_loss(y_true, y_pred):
        return np.mean((y_true - y_pred) ** 2, axis=-1)

    model = sn.Sequential([layers.Input((5,)), layers.Dense(C)])
    with pytest.raises(TypeError, match=r"my_loss.*automatic differentiation.*subclass seqnn\.losses\.Loss.*"
                                        r"per_sample\(y_pred, y_true\).*per_sample_backward\(weights\)"):
        model.compile(optimizer="adam", loss=my_loss)
    with pytest.raises(TypeError, match="automatic differentiation"):
        losses.get(lambda y_true, y_pred: 0.0)
    # A function of the same name from elsewhere (seqnn.metrics, Keras) gets pointed at seqnn.losses'.
    with pytest.raises(TypeError, match=r"pass seqnn\.losses\.mean_squared_error \(or the name 'mean_squared_error'\)"):
        model.compile(optimizer="adam", loss=sn.metrics.mean_squared_error)
    # Loss classes and instances, which are callable too, still resolve.
    assert type(losses.get(losses.Huber)) is losses.Huber
    huber = losses.Huber(delta=2.0)
    assert losses.get(huber) is huber
