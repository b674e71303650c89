"""predict runs a large batch through the layers in row chunks, so that their buffers stay small."""
import numpy as np

import seqnn as sn
from seqnn.models import trainer


def cnn():
    return (sn.Sequential([sn.layers.Input((12, 12, 1)), sn.layers.Conv2D(8, 3, activation="relu"),
                           sn.layers.MaxPooling2D(), sn.layers.Flatten(), sn.layers.Dense(10, activation="softmax")])
            .compile(optimizer="adam", loss="sparse_categorical_crossentropy"))


def buffer_bytes(model):
    return sum(buf.nbytes for layer in model.layers for buf in layer._workspace.values())


def test_a_large_batch_runs_in_chunks_within_the_budget(monkeypatch):
    x = np.random.default_rng(0).random((1000, 12, 12, 1), dtype=np.float32)
    model = cnn()
    model.fit(x[:64], np.zeros(64, int), batch_size=32, epochs=1, verbose=0)
    budget = 100 * buffer_bytes(model) // 32  # room for about 100 rows
    monkeypatch.setattr(trainer, "INFERENCE_BUFFER_BYTES", budget)
    out = model.predict(x, batch_size=1000, verbose=0)
    assert 32 < model._buffer_rows < 1000 and buffer_bytes(model) <= budget
    np.testing.assert_allclose(out, model.predict_on_batch(x), rtol=1e-5, atol=1e-6)


def test_buffers_training_already_holds_are_used_whole(monkeypatch):
    x = np.random.default_rng(1).random((300, 12, 12, 1), dtype=np.float32)
    model = cnn()
    model.fit(x, np.zeros(300, int), batch_size=150, epochs=1, verbose=0)
    monkeypatch.setattr(trainer, "INFERENCE_BUFFER_BYTES", 1)  # smaller than one row
    model.predict(x, batch_size=300, verbose=0)
    assert model._buffer_rows == 150  # chunks of the training batch: those buffers exist anyway


def test_a_model_never_run_measures_on_a_first_chunk_then_runs_the_rest_whole():
    x = np.random.default_rng(2).random((1000, 12, 12, 1), dtype=np.float32)
    model = cnn()
    out = model.predict(x, batch_size=1000, verbose=0)  # small per row: the budget holds the rest at once
    assert out.shape == (1000, 10) and model._buffer_rows == 1000 - trainer._FIRST_INFERENCE_ROWS
    np.testing.assert_allclose(out, model.predict_on_batch(x), rtol=1e-5, atol=1e-6)
