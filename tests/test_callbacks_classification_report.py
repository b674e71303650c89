"""ClassificationReport: the numbers, the printed tables, the file, and when it runs."""
import re

import numpy as np
import pytest

import seqnn as sn
from seqnn.callbacks import ClassificationReport


def identity_classifier(classes=3):
    """Predicts argmax(x): a Dense layer with an identity kernel, so the predictions are known."""
    model = sn.Sequential([sn.Input((classes,)), sn.layers.Dense(classes, activation="softmax")])
    model.compile(optimizer="sgd", loss="sparse_categorical_crossentropy")
    model.set_weights([np.eye(classes, dtype=np.float32), np.zeros(classes, np.float32)])
    return model


# True labels and the classes the identity model will predict for them.
Y_TRUE = np.array([0, 0, 0, 1, 1, 2, 2, 2, 2, 0])
Y_PRED = np.array([0, 0, 1, 1, 2, 2, 2, 2, 0, 0])
X = np.eye(3, dtype=np.float32)[Y_PRED] * 5
EXPECTED = np.array([[3, 1, 0],
                     [0, 1, 1],
                     [1, 0, 3]])


def run(cb, model, epochs=1):
    cb.set_model(model)
    cb.on_train_begin()
    for epoch in range(epochs):
        cb.on_epoch_begin(epoch)
        cb.on_epoch_end(epoch, {"loss": 1.0})
    cb.on_train_end()


def test_confusion_matrix_and_per_class_numbers():
    cb = ClassificationReport(validation_data=(X, Y_TRUE), verbose=0)   # results kept on the callback
    run(cb, identity_classifier())
    np.testing.assert_array_equal(cb.confusion, EXPECTED)
    assert cb.report["0"] == pytest.approx({"precision": 0.75, "recall": 0.75, "f1-score": 0.75, "support": 4})
    assert cb.report["1"] == pytest.approx({"precision": 0.5, "recall": 0.5, "f1-score": 0.5, "support": 2})
    assert cb.report["2"]["recall"] == 0.75 and cb.report["accuracy"] == 0.7


def test_printed_report_is_a_readable_table(capsys):
    run(ClassificationReport((X, Y_TRUE), target_names=["cat", "dog", "eel"]), identity_classifier())
    out = capsys.readouterr().out
    lines = out.splitlines()
    assert lines[0] == "Epoch 1: classification report on validation_data (10 samples)"
    assert re.fullmatch(r" +precision +recall +f1-score +support", lines[1])
    assert re.fullmatch(r" +cat +0\.750 +0\.750 +0\.750 +4", lines[2])
    assert re.fullmatch(r" +dog +0\.500 +0\.500 +0\.500 +2", lines[3])
    assert re.fullmatch(r" +accuracy +0\.700 +10", lines[5])
    i = lines.index("confusion matrix (rows: true class, columns: predicted class)")
    assert lines[i + 1:i + 5] == ["true\\pred cat dog eel",
                                  "      cat   3   1   0",
                                  "      dog   0   1   1",
                                  "      eel   1   0   3"]


def test_every_n_epochs_and_appended_to_a_file(tmp_path, capsys):
    path = tmp_path / "report.txt"
    run(ClassificationReport((X, Y_TRUE), every=2, file=path, verbose=0), identity_classifier(), epochs=5)
    assert capsys.readouterr().out == ""
    text = path.read_text()
    assert re.findall(r"^Epoch (\d+): classification report", text, flags=re.M) == ["2", "4"]
    assert text.count("confusion matrix") == 2 and text.endswith("\n\n")
    run(ClassificationReport((X, Y_TRUE), file=path, verbose=0), identity_classifier())
    assert re.findall(r"^Epoch (\d+):", path.read_text(), flags=re.M) == ["2", "4", "1"]


def test_one_hot_labels_sample_weights_and_missing_classes():
    model = identity_classifier(4)          # class 3 never occurs: it still gets a row and a column
    x = np.eye(4, dtype=np.float32)[Y_PRED]
    weights = np.where(Y_TRUE == 0, 2.0, 1.0)
    cb = ClassificationReport((x, np.eye(4)[Y_TRUE], weights), verbose=0)
    run(cb, model)
    expected = np.zeros((4, 4))
    expected[:3, :3] = EXPECTED * np.array([[2], [1], [1]])
    np.testing.assert_array_equal(cb.confusion, expected)
    assert cb.report["3"]["support"] == 0.0


def test_binary_sigmoid_output_is_two_classes():
    model = sn.Sequential([sn.Input((1,)), sn.layers.Dense(1, activation="sigmoid")])
    model.compile(optimizer="sgd", loss="binary_crossentropy")
    model.set_weights([np.ones((1, 1), np.float32), np.zeros(1, np.float32)])
    x = np.array([[-3.0], [-1.0], [2.0], [4.0]], np.float32)     # p < 0.5, < 0.5, > 0.5, > 0.5
    cb = ClassificationReport((x, np.array([0, 1, 1, 1])), verbose=0)
    run(cb, model)
    np.testing.assert_array_equal(cb.confusion, [[1, 0], [1, 2]])


def test_inside_a_real_fit_does_not_change_training(capsys):
    rng = np.random.default_rng(0)
    x = rng.normal(size=(48, 3)).astype(np.float32)
    y = np.argmax(x, axis=1)

    def train(callbacks):
        sn.utils.set_random_seed(0)
        model = sn.Sequential([sn.Input((3,)), sn.layers.Dense(8, activation="relu"), sn.layers.Dropout(0.3),
                               sn.layers.Dense(3, activation="softmax")])
        model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
        model.fit(x, y, epochs=3, batch_size=16, verbose=0, seed=1, callbacks=callbacks)
        return model.get_weights()

    plain = train([])
    reported = train([ClassificationReport((x[:12], y[:12]))])
    assert all(np.array_equal(a, b) for a, b in zip(plain, reported))
    assert capsys.readouterr().out.count("classification report") == 3


@pytest.mark.parametrize("kwargs, message", [
    (dict(), "ClassificationReport: validation_data=(x_val, y_val) is required"),
    (dict(validation_data=[X]), "ClassificationReport: validation_data must be a tuple (x_val, y_val) or "
                                "(x_val, y_val, sample_weight), got list of length 1"),
    (dict(validation_data=(X, Y_TRUE[:5])), "validation_data x has 10 samples but y has 5"),
    (dict(validation_data=(X, Y_TRUE), every=0), "ClassificationReport: every must be an integer >= 1, got 0"),
    (dict(validation_data=(X, Y_TRUE), digits=-1), "ClassificationReport: digits must be an integer >= 0, got -1"),
])
def test_bad_arguments(kwargs, message):
    with pytest.raises(ValueError, match=re.escape(message)):
        ClassificationReport(**kwargs)


def test_target_names_must_match_the_class_count():
    cb = ClassificationReport((X, Y_TRUE), target_names=["a", "b"])
    with pytest.raises(ValueError, match="target_names has 2 names but the model predicts 3 classes"):
        run(cb, identity_classifier())
