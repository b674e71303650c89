"""Bad input is refused before any work, with a message naming the argument, expectation and value."""
import numpy as np
import pytest

import seqnn as sn
from seqnn.errors import NotCompiledError, UnknownNameError

L = sn.layers


def model(compiled=True, loss="sparse_categorical_crossentropy"):
    m = sn.Sequential([L.Input((4,)), L.Dense(8, activation="relu"), L.Dense(3, activation="softmax")])
    return m.compile(optimizer="adam", loss=loss) if compiled else m


X = np.random.default_rng(0).normal(size=(10, 4)).astype(np.float32)
Y = np.arange(10) % 3


def assert_refused_without_change(m, exc, match, **fit_args):
    before = m.get_weights()
    with pytest.raises(exc, match=match):
        m.fit(**{"x": X, "y": Y, "verbose": 0, **fit_args})
    for a, b in zip(before, m.get_weights()):
        np.testing.assert_array_equal(a, b)


def test_fit_before_compile():
    with pytest.raises(NotCompiledError, match=r"call compile\(\) before fit\(\)"):
        model(compiled=False).fit(X, Y)
    with pytest.raises(NotCompiledError, match=r"before evaluate\(\)"):
        model(compiled=False).evaluate(X, Y)


def test_compile_without_loss_then_fit():
    m = sn.Sequential([L.Input((4,)), L.Dense(3)]).compile(optimizer="adam")
    with pytest.raises(ValueError, match=r"fit\(\) needs a loss"):
        m.fit(X, Y)


def test_wrong_rank():
    assert_refused_without_change(model(), ValueError,
                                  r"x: wrong rank for this model: expected shape \(n, 4\) from its input, "
                                  r"got \(10, 2, 2\)", x=X.reshape(10, 2, 2))


def test_wrong_feature_count():
    assert_refused_without_change(model(), ValueError,
                                  r"x: wrong feature shape .* expected shape \(n, 4\) .* got \(10, 5\)",
                                  x=np.zeros((10, 5)))


def test_predict_with_wrong_shape():
    with pytest.raises(ValueError, match=r"x: wrong feature shape.*\(n, 4\).*\(3, 7\)"):
        model().predict(np.zeros((3, 7)))


def test_length_mismatch():
    assert_refused_without_change(model(), ValueError, r"same number of samples: x has 10, y has 9", y=Y[:9])
    assert_refused_without_change(model(), ValueError, r"sample_weight has 3", sample_weight=np.ones(3))


def test_labels_out_of_range():
    y = Y.copy()
    y[4] = 3
    assert_refused_without_change(model(), ValueError,
                                  r"y: labels must be in \[0, 2\] for a model with 3 outputs, got labels in \[0, 3\]",
                                  y=y)
    assert_refused_without_change(model(), ValueError, r"labels in \[-1, 2\]", y=Y - (Y == 0))


def test_non_integer_and_one_hot_labels_for_sparse_loss():
    assert_refused_without_change(model(), ValueError, "whole numbers", y=Y + 0.5)
    assert_refused_without_change(model(), ValueError, r"expects integer labels of shape \(n,\), got shape "
                                  r"\(10, 3\) \(one-hot targets need loss='categorical_crossentropy'\)",
                                  y=sn.utils.to_categorical(Y, 3))


def test_integer_labels_for_categorical_loss():
    assert_refused_without_change(model(loss="categorical_crossentropy"), ValueError,
                                  r"one-hot targets of shape \(n, 3\), got shape \(10,\) \(integer labels need "
                                  r"loss='sparse_categorical_crossentropy'\)")


def test_regression_target_shape():
    m = sn.Sequential([L.Input((4,)), L.Dense(2)]).compile(optimizer="adam", loss="mse")
    assert_refused_without_change(m, ValueError, r"y: expected targets of shape \(n, 2\) .* got shape \(10,\)",
                                  y=np.zeros(10))


def test_binary_targets_out_of_range():
    m = sn.Sequential([L.Input((4,)), L.Dense(1, activation="sigmoid")]).compile(
        optimizer="adam", loss="binary_crossentropy")
    assert_refused_without_change(m, ValueError, r"targets must lie in \[0, 1\]", y=np.full(10, 2.0))


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_nan_or_inf_in_x(bad):
    x = X.copy()
    x[3, 2] = bad
    assert_refused_without_change(model(), ValueError, r"x: contains NaN or inf \(first at index \(3, 2\)\)", x=x)
    with pytest.raises(ValueError, match="x: contains NaN or inf"):
        model().predict(x)


def test_nan_in_validation_data():
    xv = X.copy()
    xv[0, 0] = np.nan
    assert_refused_without_change(model(), ValueError, "validation_data x: contains NaN", validation_data=(xv, Y))


@pytest.mark.parametrize("arg, value", [("batch_size", 0), ("batch_size", -4), ("batch_size", 2.5),
                                        ("epochs", 0), ("epochs", -1), ("steps_per_epoch", 0)])
def test_non_positive_batch_size_or_epochs(arg, value):
    assert_refused_without_change(model(), ValueError, rf"{arg} must be a positive integer, got {value!r}",
                                  **{arg: value})


def test_bad_batch_size_for_evaluate_and_predict():
    with pytest.raises(ValueError, match="batch_size must be a positive integer, got 0"):
        model().evaluate(X, Y, batch_size=0)
    with pytest.raises(ValueError, match="batch_size must be a positive integer, got -1"):
        model().predict(X, batch_size=-1)


def test_bad_validation_split_and_data():
    assert_refused_without_change(model(), ValueError, r"validation_split must be a number in \[0, 1\) .*got 1.5",
                                  validation_split=1.5)
    assert_refused_without_change(model(), ValueError, "validation_data must be a tuple",
                                  validation_data=[X, Y, None, None])


def test_class_weight_missing_a_class():
    assert_refused_without_change(model(), ValueError, r"class_weight: no weight for classes \[2\]",
                                  class_weight={0: 1.0, 1: 2.0})


def test_negative_sample_weight():
    assert_refused_without_change(model(), ValueError, "sample_weight: must be finite and non-negative",
                                  sample_weight=-np.ones(10))


def test_non_numeric_x():
    assert_refused_without_change(model(), TypeError, "x: expected numeric data, got dtype <U1",
                                  x=np.full((10, 4), "a"))
    with pytest.raises(TypeError, match="x: expected a numpy array"):
        model().fit(object(), Y)


def test_empty_data():
    with pytest.raises(ValueError, match="x: got 0 samples"):
        model().fit(X[:0], Y[:0], verbose=0)


def test_unknown_names():
    with pytest.raises(UnknownNameError, match=r"unknown loss 'crossentropy'; known loss names: .*"
                                               r"sparse_categorical_crossentropy"):
        model(compiled=False).compile(optimizer="adam", loss="crossentropy")
    with pytest.raises(UnknownNameError, match=r"unknown metric 'acuracy'"):
        model(compiled=False).compile(optimizer="adam", loss="mse", metrics=["acuracy"]).fit(
            X, np.zeros((10, 3)), verbose=0)
    with pytest.raises(UnknownNameError, match=r"unknown initializer 'glorot'.*glorot_uniform"):
        L.Dense(3, kernel_initializer="glorot")


def test_layer_arguments_are_checked():
    with pytest.raises(ValueError, match="Dense units must be a positive integer, got 0"):
        L.Dense(0)
    with pytest.raises(ValueError, match=r"Dropout rate must be a number in \[0, 1\), got 1.0"):
        L.Dropout(1.0)
    with pytest.raises(ValueError, match=r"cannot reshape input of shape \(4,\) \(4 values\) to \(3,\)"):
        sn.Sequential([L.Input((4,)), L.Reshape((3,))])
    with pytest.raises(TypeError, match="unexpected keyword argument 'unit'"):
        L.Dense(3, unit=3)


def test_compile_arguments_are_checked():
    with pytest.raises(ValueError, match="dtype must be 'float32' or 'float64', got 'float16'"):
        model(compiled=False).compile(optimizer="adam", loss="mse", dtype="float16")
    with pytest.raises(TypeError, match="compile\\(\\) got an unexpected argument 'los'"):
        model(compiled=False).compile(optimizer="adam", los="mse")
    with pytest.raises(TypeError, match="metrics must be a list"):
        model(compiled=False).compile(optimizer="adam", loss="mse", metrics="accuracy")


def test_optimizer_arguments_are_checked():
    with pytest.raises(ValueError, match=r"learning_rate must be a number in \(0.0, inf\)|learning_rate must be"):
        sn.optimizers.Adam(learning_rate=-1)
    with pytest.raises(ValueError, match="beta_1"):
        sn.optimizers.Adam(beta_1=1.5)


# ----------------------------------------------------------- a refused call leaves the model as it was ---
def unbuilt_model():
    return sn.Sequential([L.Dense(8, activation="relu"), L.Dense(3, activation="softmax")]).compile(
        optimizer="adam", loss="sparse_categorical_crossentropy")


def test_refused_fit_leaves_an_unbuilt_model_unbuilt_and_the_seed_stream_where_it_was():
    sn.utils.set_random_seed(7)
    m = unbuilt_model()
    with pytest.raises(ValueError, match=r"y: labels must be in \[0, 2\]"):
        m.fit(np.zeros((10, 5), np.float32), Y + 3, verbose=0)  # built for (None, 5) before the labels failed
    assert not m.built and m.input_layer is None and all(not layer.built for layer in m.layers)
    m.fit(X, Y, epochs=2, verbose=0)  # the right data is accepted: the model builds for (None, 4)
    sn.utils.set_random_seed(7)
    fresh = unbuilt_model()
    fresh.fit(X, Y, epochs=2, verbose=0)
    for a, b in zip(m.get_weights(), fresh.get_weights()):  # the refused call drew no initial weights
        np.testing.assert_array_equal(a, b)


def test_a_loader_whose_first_batch_is_refused_leaves_the_model_unbuilt():
    m = unbuilt_model()
    y = Y.astype(np.float64)
    y[2] = np.nan
    with pytest.raises(ValueError, match=r"y: contains NaN or inf \(first at index \(2,\)\)"):
        m.fit([(X, y)], verbose=0)
    assert not m.built and m.input_layer is None


def test_refused_add_leaves_the_layer_out():
    m = sn.Sequential([L.Input((4,)), L.Dense(3)])
    reshape = L.Reshape((5,), name="reshape_to_5")
    with pytest.raises(ValueError, match=r"cannot reshape input of shape \(3,\)"):
        m.add(reshape)
    assert [layer.name for layer in m.layers] == [m.layers[0].name] and m.built
    assert reshape.name == "reshape_to_5" and not reshape.built
    m.add(L.Dense(2))  # the model is still usable
    assert m.output_shape == (None, 2)


def test_failed_fit_leaves_no_csv_logger_file_open(tmp_path):
    """CSVLogger holds its file open only while writing a row: a fit that fails between epochs leaks nothing."""
    import gc
    import io

    class FailInEpoch2(sn.callbacks.Callback):
        def on_epoch_begin(self, epoch, logs=None):
            if epoch == 1:
                raise RuntimeError("the data went away")

    path = tmp_path / "log.csv"
    logger = sn.callbacks.CSVLogger(path)
    with pytest.raises(RuntimeError, match="the data went away"):
        model().fit(X, Y, epochs=3, verbose=0, callbacks=[logger, FailInEpoch2()])
    gc.collect()
    open_files = [f for f in gc.get_objects() if issubclass(type(f), io.IOBase) and not f.closed
                  and getattr(f, "name", None) == str(path)]
    assert open_files == []
    assert path.read_text().splitlines()[0] == "epoch,loss"  # the epoch that ran is logged


# -------------------------------------------------------------- adding n layers costs O(n), not O(n²) ---
def _lines_run_in_seqnn(fn) -> int:
    """How many lines of seqnn's own code ``fn()`` executes: a measure of work that does not depend on timing."""
    import os
    import sys

    root = os.path.dirname(sn.__file__)
    count = 0

    def tracer(frame, event, arg):
        nonlocal count
        if not frame.f_code.co_filename.startswith(root):
            return None
        if event == "line":
            count += 1
        return tracer

    sys.settrace(tracer)
    try:
        fn()
    finally:
        sys.settrace(None)
    return count


@pytest.mark.parametrize("same_name", [False, True], ids=["distinct names", "one name"])
def test_building_and_loading_a_deep_model_costs_linear_work(same_name):
    def layers(n):
        return [L.Activation("relu", name="act" if same_name else None) for _ in range(n)]

    def build(n):
        ls = layers(n)
        return lambda: sn.Sequential([L.Input((2,)), *ls])

    small, large = _lines_run_in_seqnn(build(100)), _lines_run_in_seqnn(build(400))
    assert large / small < 5, (small, large)  # 4× the layers: about 4× the work (it was 13× and more)
    configs = {n: sn.Sequential([L.Input((2,)), *layers(n)]).get_config() for n in (100, 400)}
    small = _lines_run_in_seqnn(lambda: sn.Sequential.from_config(configs[100]))
    large = _lines_run_in_seqnn(lambda: sn.Sequential.from_config(configs[400]))
    assert large / small < 5, (small, large)
