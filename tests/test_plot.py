"""seqnn.plot: the drawn data (line values, cell texts, box texts) against what was plotted, not pixels.

Also: matplotlib is imported only when a figure is drawn and never through pyplot,
drawing works in threads, a missing matplotlib is a clear ImportError, and the
--plot options of seqnn-train and seqnn-predict.
"""
import os
import subprocess
import sys
import threading

import numpy as np
import pytest
from cli_helpers import assert_usage_error, in_process

import seqnn as sn

matplotlib = pytest.importorskip("matplotlib")
from matplotlib.figure import Figure

from seqnn import plot

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def classification_data(n=60, features=4, classes=3, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, features)).astype(np.float32)
    return x, np.argmax(x @ rng.normal(size=(features, classes)), axis=1)


def small_model(classes=3):
    model = sn.Sequential([sn.Input((4,)), sn.layers.Dense(8, activation="relu"), sn.layers.Dropout(0.1),
                           sn.layers.Dense(classes, activation="softmax")])
    return model.compile(optimizer=sn.optimizers.Adam(0.01), loss="sparse_categorical_crossentropy",
                         metrics=["accuracy"])


def lines_by_label(ax):
    return {line.get_label(): line for line in ax.get_lines()}


def panels(figure):
    return {ax.get_title(): ax for ax in figure.axes}


# ------------------------------------------------------------------ history ---
def test_history_draws_every_key_train_and_validation():
    x, y = classification_data()
    history = small_model().fit(x, y, epochs=4, batch_size=16, validation_split=0.25, verbose=0)
    figure = plot.history(history)
    assert isinstance(figure, Figure)
    assert [ax.get_title() for ax in figure.axes] == ["loss", "accuracy"]
    for key, ax in panels(figure).items():
        lines = lines_by_label(ax)
        assert set(lines) == {"train", "validation"}
        np.testing.assert_array_equal(lines["train"].get_xdata(), [1, 2, 3, 4])
        np.testing.assert_allclose(lines["train"].get_ydata(), history.history[key])
        np.testing.assert_array_equal(lines["validation"].get_xdata(), [1, 2, 3, 4])
        np.testing.assert_allclose(lines["validation"].get_ydata(), history.history["val_" + key])
        assert ax.get_xlabel() == "epoch"
        assert ax.get_legend() is not None


def test_history_accepts_the_history_dict_and_draws_the_same():
    x, y = classification_data()
    history = small_model().fit(x, y, epochs=3, batch_size=16, verbose=0)
    from_object, from_dict = plot.history(history), plot.history(history.history)
    assert [ax.get_title() for ax in from_dict.axes] == ["loss", "accuracy"]
    for a, b in zip(from_object.axes, from_dict.axes):
        (line_a,), (line_b,) = a.get_lines(), b.get_lines()
        np.testing.assert_array_equal(line_a.get_xydata(), line_b.get_xydata())
        assert a.get_legend() is None  # one line: nothing to tell apart


def test_learning_rate_comes_last_on_a_log_scale_when_it_spans_decades():
    x, y = classification_data()
    scheduler = sn.callbacks.LearningRateScheduler(lambda epoch, lr: 0.1 / 4 ** epoch)
    history = small_model().fit(x, y, epochs=4, batch_size=16, verbose=0, callbacks=[scheduler])
    figure = plot.history(history)
    assert [ax.get_title() for ax in figure.axes] == ["loss", "accuracy", "learning_rate"]
    ax = panels(figure)["learning_rate"]
    np.testing.assert_allclose(ax.get_lines()[0].get_ydata(), [0.1, 0.025, 0.00625, 0.0015625])
    assert ax.get_yscale() == "log"
    assert panels(figure)["loss"].get_yscale() == "linear"


def test_validation_every_other_epoch_needs_validation_freq_to_be_placed():
    x, y = classification_data()
    history = small_model().fit(x, y, epochs=5, batch_size=16, validation_split=0.25, validation_freq=2, verbose=0)
    assert len(history.history["val_loss"]) == 2
    with pytest.raises(ValueError, match=r"val_\w+'\] has 2 values for 5 epochs; pass validation_freq="):
        plot.history(history)
    lines = lines_by_label(panels(plot.history(history, validation_freq=2))["loss"])
    np.testing.assert_array_equal(lines["validation"].get_xdata(), [2, 4])
    np.testing.assert_allclose(lines["validation"].get_ydata(), history.history["val_loss"])
    listed = lines_by_label(panels(plot.history(history.history, validation_freq=[1, 5]))["loss"])
    np.testing.assert_array_equal(listed["validation"].get_xdata(), [1, 5])
    with pytest.raises(ValueError, match="validation_freq must be a positive integer or a list of epochs"):
        plot.history(history, validation_freq=0)


def test_epochs_keep_their_numbers_after_initial_epoch():
    x, y = classification_data()
    history = small_model().fit(x, y, epochs=4, initial_epoch=2, batch_size=16, verbose=0)
    assert history.epoch == [2, 3]
    (line,) = panels(plot.history(history))["loss"].get_lines()
    np.testing.assert_array_equal(line.get_xdata(), [3, 4])
    (line,) = panels(plot.history(history.history))["loss"].get_lines()  # a bare dict has no epoch numbers
    np.testing.assert_array_equal(line.get_xdata(), [1, 2])


def test_keys_select_panels_and_vector_metrics_get_a_line_per_component():
    logs = {"loss": [1.0, 0.5], "f1": [[0.1, 0.2], [0.3, 0.4]], "val_loss": [1.2, 0.7],
            "val_f1": [[0.0, 0.1], [0.2, 0.5]]}
    figure = plot.history(logs, keys=["val_f1"], title="run 7")
    assert [ax.get_title() for ax in figure.axes] == ["f1"]
    assert figure.get_suptitle() == "run 7"
    lines = lines_by_label(figure.axes[0])
    assert set(lines) == {"train 0", "train 1", "validation 0", "validation 1"}
    np.testing.assert_allclose(lines["train 1"].get_ydata(), [0.2, 0.4])
    np.testing.assert_allclose(lines["validation 0"].get_ydata(), [0.0, 0.2])
    with pytest.raises(ValueError, match="'precision' was not logged; the history has f1, loss, val_f1, val_loss"):
        plot.history(logs, keys=["precision"])


@pytest.mark.parametrize("bad, error, fragment", [
    ([1.0, 2.0], TypeError, "expected a History (what fit returns) or its .history dict, got list"),
    ({}, ValueError, "holds no values to plot"),
    ({"loss": []}, ValueError, "holds no values to plot"),
    ({"loss": ["low", "high"]}, ValueError, "history['loss'] must be a list of numbers"),
    ({"loss": [1.0, 2.0, 3.0], "accuracy": [0.5, 0.6]}, ValueError,
     "history['accuracy'] has 2 values but history['loss'] has 3"),
    ({"loss": [[[1.0]]]}, ValueError, "one number (or one vector) per epoch"),
])
def test_history_refuses_what_it_cannot_draw(bad, error, fragment):
    with pytest.raises(error) as caught:
        plot.history(bad)
    assert fragment in str(caught.value)
    assert str(caught.value).startswith("seqnn.plot.history: ")


def test_figsize_is_checked_and_used():
    assert tuple(plot.history({"loss": [1.0, 0.5]}, figsize=(3, 2)).get_size_inches()) == (3.0, 2.0)
    with pytest.raises(ValueError, match=r"figsize must be \(width, height\) in inches"):
        plot.history({"loss": [1.0]}, figsize=(3,))
    with pytest.raises(ValueError, match="figsize must be two positive numbers"):
        plot.history({"loss": [1.0]}, figsize=(0, 2))


# --------------------------------------------------------- confusion matrix ---
def brute_force_confusion(y_true, y_pred, classes):
    matrix = np.zeros((classes, classes), dtype=np.int64)
    for t, p in zip(y_true, y_pred):
        matrix[t, p] += 1
    return matrix


def cell_texts(ax):
    return {(round(t.get_position()[1]), round(t.get_position()[0])): t.get_text() for t in ax.texts}


def test_confusion_matrix_cells_hold_the_counts():
    rng = np.random.default_rng(3)
    y_true, y_pred = rng.integers(0, 4, 200), rng.integers(0, 4, 200)
    y_pred[:100] = y_true[:100]  # a visible diagonal
    expected = brute_force_confusion(y_true, y_pred, 4)
    figure = plot.confusion_matrix(y_true, y_pred)
    ax = figure.axes[0]
    np.testing.assert_array_equal(ax.images[0].get_array(), expected)
    assert cell_texts(ax) == {(i, j): str(expected[i, j]) for i in range(4) for j in range(4)}
    assert [t.get_text() for t in ax.get_xticklabels()] == ["0", "1", "2", "3"]
    assert [t.get_text() for t in ax.get_yticklabels()] == ["0", "1", "2", "3"]
    assert ax.get_xlabel() == "Predicted label" and ax.get_ylabel() == "True label"
    assert len(figure.axes) == 2  # the matrix and its colorbar


def test_scores_and_class_ids_give_the_same_matrix():
    rng = np.random.default_rng(4)
    probs = rng.dirichlet(np.ones(3), size=50)
    y_true = rng.integers(0, 3, 50)
    from_scores = plot.confusion_matrix(y_true, probs).axes[0]
    from_ids = plot.confusion_matrix(y_true, probs.argmax(axis=1), num_classes=3).axes[0]
    assert cell_texts(from_scores) == cell_texts(from_ids)
    np.testing.assert_array_equal(from_scores.images[0].get_array(),
                                  brute_force_confusion(y_true, probs.argmax(axis=1), 3))


@pytest.mark.parametrize("normalize", ["true", "pred", "all"])
def test_normalized_cells_and_an_empty_class(normalize):
    y_true = np.array([0, 0, 0, 1, 1, 2, 2, 2, 2])
    y_pred = np.array([0, 1, 1, 1, 1, 2, 0, 2, 2])
    counts = brute_force_confusion(y_true, y_pred, 4).astype(float)  # class 3: neither true nor predicted
    with np.errstate(invalid="ignore", divide="ignore"):
        expected = {"true": counts / counts.sum(axis=1, keepdims=True),
                    "pred": counts / counts.sum(axis=0, keepdims=True), "all": counts / counts.sum()}[normalize]
    expected = np.nan_to_num(expected)
    ax = plot.confusion_matrix(y_true, y_pred, num_classes=4, normalize=normalize).axes[0]
    np.testing.assert_allclose(ax.images[0].get_array(), expected)
    assert cell_texts(ax) == {(i, j): format(expected[i, j], ".2g") for i in range(4) for j in range(4)}


def test_labels_format_weights_and_options():
    y_true, y_pred = np.array([0, 1, 1, 0]), np.array([0, 1, 0, 0])
    ax = plot.confusion_matrix(y_true, y_pred, display_labels=["cat", "dog"], sample_weight=[0.5, 1.0, 2.0, 1.25],
                               values_format=".2f", colorbar=False, title="pets").axes[0]
    assert cell_texts(ax) == {(0, 0): "1.75", (0, 1): "0.00", (1, 0): "2.00", (1, 1): "1.00"}
    assert [t.get_text() for t in ax.get_xticklabels()] == ["cat", "dog"]
    assert ax.get_title() == "pets" and len(ax.figure.axes) == 1
    bare = plot.confusion_matrix(y_true, y_pred, include_values=False, xticks_rotation=45).axes[0]
    assert len(bare.texts) == 0 and bare.get_xticklabels()[0].get_rotation() == 45


def test_text_is_light_on_dark_cells_and_dark_on_light_ones():
    ax = plot.confusion_matrix([0] * 9 + [1], [0] * 9 + [0], cmap="Blues").axes[0]
    texts = {(int(t.get_position()[1]), int(t.get_position()[0])): t for t in ax.texts}
    cmap = ax.images[0].cmap
    assert texts[0, 0].get_color() == cmap(0.0)   # 9: the darkest cell
    assert texts[1, 1].get_color() == cmap(1.0)   # 0: the lightest


def test_large_counts_are_written_in_full():
    y = np.zeros(1234, dtype=int)
    ax = plot.confusion_matrix(y, y, num_classes=2).axes[0]
    assert cell_texts(ax)[0, 0] == "1234"  # not 1.2e+03


@pytest.mark.parametrize("kwargs, error, fragment", [
    ({"normalize": "rows"}, ValueError, "normalize must be one of None, 'true', 'pred', 'all'; got 'rows'"),
    ({"display_labels": ["a", "b", "c"]}, ValueError, "display_labels has 3 names but the matrix has 2 classes"),
    ({"display_labels": "ab"}, TypeError, "display_labels must be a sequence of names"),
    ({"values_format": "d", "sample_weight": [0.5, 1]}, ValueError, "values_format 'd' cannot format"),
    ({"values_format": 2}, TypeError, "values_format must be a format spec string"),
])
def test_confusion_matrix_argument_errors(kwargs, error, fragment):
    with pytest.raises(error) as caught:
        plot.confusion_matrix([0, 1], [0, 1], **kwargs)
    assert fragment in str(caught.value)


def test_mismatched_labels_and_predictions_are_refused():
    with pytest.raises(ValueError, match="y_true has 3 samples but y_pred has 2"):
        plot.confusion_matrix([0, 1, 1], [0, 1])


# ------------------------------------------------------------ model diagram ---
def diagram_lines(figure):
    """The diagram's texts, top to bottom (y grows downwards in its axes)."""
    return [t.get_text() for t in sorted(figure.axes[0].texts, key=lambda t: t.get_position()[1])]


def expected_box(layer):
    frozen = sum(int(np.prod(v.shape)) for k, v in layer.params.items() if k not in layer.trainable_names)
    params = f"{layer.count_params():,}" + (f" ({frozen:,} non-trainable)" if frozen else "")
    return [f"{layer.name} ({type(layer).__name__})",
            "output: " + str(tuple(layer.output_shape)).replace(",)", ")"), f"params: {params}"]


def test_model_diagram_boxes_name_every_layer_top_to_bottom():
    model = sn.Sequential([sn.Input((28, 28, 1)), sn.layers.Conv2D(4, 3, activation="relu"),
                           sn.layers.BatchNormalization(), sn.layers.Flatten(),
                           sn.layers.Dense(300, activation="relu"), sn.layers.Dense(10, activation="softmax")],
                          name="digits_cnn")
    figure = plot.model(model)
    assert isinstance(figure, Figure)
    expected = [f"digits_cnn: {model.count_params():,} parameters", "input: (None, 28, 28, 1)"]
    for layer in model.layers:
        expected += expected_box(layer)
    assert diagram_lines(figure) == expected
    assert "params: 16 (8 non-trainable)" in expected  # BatchNormalization's moving statistics
    assert "params: 811,500" in expected                # 26 * 26 * 4 * 300 + 300, thousands separated
    boxes = [p for p in figure.axes[0].patches if type(p).__name__ == "FancyBboxPatch"]
    arrows = [p for p in figure.axes[0].patches if type(p).__name__ == "FancyArrowPatch"]
    assert len(boxes) == len(model.layers) + 1 and len(arrows) == len(model.layers)


def test_unbuilt_model_and_hidden_details():
    model = sn.Sequential([sn.layers.Dense(3), sn.layers.Dense(2)], name="later")
    dense, dense_1 = model.layers
    assert diagram_lines(plot.model(model)) == [
        "later: not built", f"{dense.name} (Dense)", "output: ?", "params: ?",
        f"{dense_1.name} (Dense)", "output: ?", "params: ?"]
    built = sn.Sequential([sn.Input((4,)), sn.layers.Dense(3, name="hidden")], name="tiny")
    assert diagram_lines(plot.model(built, show_shapes=False, show_params=False)) == ["tiny", "input", "hidden (Dense)"]
    assert diagram_lines(plot.model(built, title="my model"))[0] == "my model"


def test_a_nested_model_is_one_box():
    base = sn.Sequential([sn.Input((4,)), sn.layers.Dense(3)], name="base")
    model = sn.Sequential([base, sn.layers.Dense(2, name="head")], name="outer")
    lines = diagram_lines(plot.model(model))
    assert lines[2:5] == ["base (Sequential)", "output: (None, 3)", "params: 15"]
    assert lines[5:] == ["head (Dense)", "output: (None, 2)", "params: 8"]


def test_model_diagram_refuses_non_models():
    with pytest.raises(TypeError, match="expected a seqnn model"):
        plot.model([sn.layers.Dense(2)])
    with pytest.raises(ValueError, match="has no layers to draw"):
        plot.model(sn.Sequential(name="empty"))


def test_figures_save_as_png_and_svg(tmp_path):
    model = sn.Sequential([sn.Input((4,)), sn.layers.Dense(3)])
    plot.model(model).savefig(tmp_path / "model.png")
    plot.model(model).savefig(tmp_path / "model.svg")
    plot.confusion_matrix([0, 1], [1, 1]).savefig(tmp_path / "cm.svg")
    assert (tmp_path / "model.png").read_bytes().startswith(PNG_MAGIC)
    for name in ("model.svg", "cm.svg"):
        assert "<svg" in (tmp_path / name).read_text()


# ------------------------------------------------- threads, imports, extras ---
def test_figures_drawn_in_threads_at_once(tmp_path):
    results, errors = {}, []
    start = threading.Barrier(4)

    def draw(i):
        try:
            start.wait()
            values = list(np.linspace(1.0, 0.1, 5) * (i + 1))
            figure = plot.history({"loss": values})
            figure.savefig(tmp_path / f"{i}.png")
            results[i] = (values, figure.axes[0].get_lines()[0].get_ydata())
        except Exception as error:  # noqa: BLE001 (reported below with its thread)
            errors.append((i, error))

    threads = [threading.Thread(target=draw, args=(i,)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    for i, (values, drawn) in results.items():
        np.testing.assert_allclose(drawn, values)
        assert (tmp_path / f"{i}.png").read_bytes().startswith(PNG_MAGIC)


def test_import_seqnn_imports_no_matplotlib_and_drawing_never_uses_pyplot(tmp_path):
    code = (
        "import sys, seqnn\n"
        "assert 'matplotlib' not in sys.modules and 'seqnn.plot' not in sys.modules\n"
        "import seqnn.plot\n"
        "assert 'matplotlib' not in sys.modules\n"
        "seqnn.plot.history({'loss': [1.0, 0.5]}).savefig(sys.argv[1])\n"
        "assert 'matplotlib' in sys.modules and 'matplotlib.pyplot' not in sys.modules\n"
        "print('ok')\n")
    env = {k: v for k, v in os.environ.items() if k not in ("MPLBACKEND", "DISPLAY")}  # headless
    out = subprocess.run([sys.executable, "-c", code, str(tmp_path / "curves.png")],
                         capture_output=True, text=True, timeout=120, env=env, check=False)
    assert out.returncode == 0 and out.stdout.strip() == "ok", out.stderr
    assert (tmp_path / "curves.png").read_bytes().startswith(PNG_MAGIC)


def test_seqnn_plot_is_a_lazy_attribute():
    code = "import sys, seqnn; assert 'seqnn.plot' not in sys.modules; print(seqnn.plot.history.__module__)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=False)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "seqnn.plot.training_curves"
    with pytest.raises(AttributeError, match="has no attribute 'plots'"):
        sn.plots  # noqa: B018


@pytest.mark.parametrize("draw, name", [
    (lambda: plot.history({"loss": [1.0]}), "seqnn.plot.history"),
    (lambda: plot.confusion_matrix([0, 1], [0, 1]), "seqnn.plot.confusion_matrix"),
    (lambda: plot.model(sn.Sequential([sn.Input((2,)), sn.layers.Dense(1)])), "seqnn.plot.model"),
])
def test_without_matplotlib_a_call_says_how_to_install_it(monkeypatch, draw, name):
    monkeypatch.setitem(sys.modules, "matplotlib", None)  # what an absent package looks like to import
    with pytest.raises(ImportError) as caught:
        draw()
    message = str(caught.value)
    assert isinstance(caught.value, ModuleNotFoundError) and caught.value.name == "matplotlib"
    assert message.startswith(f"{name} needs matplotlib, which is not installed: pip install matplotlib")
    assert "'plots' extra" in message and 'seqnn-ml[plots]' in message


# ----------------------------------------------------------------- the CLI ---
def test_seqnn_train_plot_writes_the_training_curves(tmp_path, capsys, monkeypatch):
    from seqnn.cli import train

    monkeypatch.chdir(tmp_path)
    proc = in_process(train.main, ["--epochs", "2", "--validation-split", "0.2", "--plot", "curves.png"], capsys)
    assert proc.returncode == 0, proc.stderr
    assert "plotted:  curves.png" in proc.stdout
    assert (tmp_path / "curves.png").read_bytes().startswith(PNG_MAGIC)


def test_seqnn_train_plot_mistakes_are_found_before_training(tmp_path, capsys, monkeypatch):
    from seqnn.cli import train

    monkeypatch.chdir(tmp_path)
    assert_usage_error(in_process(train.main, ["--plot", "curves.txt"], capsys),
                       "--plot: cannot save a figure as 'curves.txt'", ".png, .svg or .pdf")
    assert_usage_error(in_process(train.main, ["--plot", "missing/curves.png"], capsys),
                       "--plot: directory", "does not exist")
    monkeypatch.setitem(sys.modules, "matplotlib", None)
    line = assert_usage_error(in_process(train.main, ["--plot", "curves.png"], capsys),
                              "--plot needs matplotlib", "pip install matplotlib", "plots")
    assert "data:" not in capsys.readouterr().out and line.startswith("seqnn-train: error: ")
    assert not (tmp_path / "model.safetensors").exists()


@pytest.fixture(scope="module")
def digits_model(tmp_path_factory):
    """A small classifier trained on digits and saved (module scope: trained once)."""
    (x, y), _ = sn.datasets.digits.load_data()
    model = sn.Sequential([sn.Input((8, 8)), sn.layers.Rescaling(1 / 16), sn.layers.Flatten(),
                           sn.layers.Dense(10, activation="softmax")])
    model.compile(optimizer=sn.optimizers.Adam(0.05), loss="sparse_categorical_crossentropy")
    model.fit(x, y, epochs=3, verbose=0, seed=0)
    path = tmp_path_factory.mktemp("model") / "digits.safetensors"
    model.save(path)
    return path


def test_seqnn_predict_plot_writes_the_confusion_matrix(tmp_path, capsys, digits_model):
    from seqnn.cli import predict

    out = tmp_path / "confusion.svg"
    proc = in_process(predict.main, [str(digits_model), "--data", "digits", "--quiet", "--plot", str(out)], capsys)
    assert proc.returncode == 0, proc.stderr
    assert f"wrote the confusion matrix to {out}" in proc.stdout
    assert "<svg" in out.read_text()


def test_seqnn_predict_plot_needs_labels_and_a_classifier(tmp_path, capsys, digits_model):
    from seqnn.cli import predict

    _, (xt, _) = sn.datasets.digits.load_data()
    np.save(tmp_path / "x.npy", xt[:5])
    line = assert_usage_error(
        in_process(predict.main, [str(digits_model), str(tmp_path / "x.npy"), "--plot", str(tmp_path / "c.png")],
                   capsys), "--plot: the confusion matrix needs the true labels", "--labels FILE")
    assert line.startswith("seqnn-predict: error: ")
    assert not (tmp_path / "c.png").exists()
    regressor = sn.Sequential([sn.Input((3,)), sn.layers.Dense(1)]).compile(optimizer="sgd", loss="mse")
    regressor.fit(np.ones((4, 3)), np.ones(4), verbose=0)
    regressor.save(tmp_path / "reg.safetensors")
    np.savez(tmp_path / "xy.npz", x=np.ones((4, 3)), y=np.ones(4))
    assert_usage_error(in_process(predict.main, [str(tmp_path / "reg.safetensors"), str(tmp_path / "xy.npz"),
                                                 "--plot", str(tmp_path / "c.png")], capsys),
                       "--plot: a confusion matrix needs a classifier", "is a regressor")
