"""A second Keras-style script: the patterns of Keras's guides that seqnn once failed.

A frozen base model under a new head, a PyDataset, a callback that reads
``logs.keys()`` in every hook, ``.keras`` / ``.weights.h5`` file names,
metric objects saved and reloaded, ``get_layer``, ``input_dim``, weighted
metrics, and Keras's loss functions. Run by tests/test_keras_compat.py with
seqnn and, where Keras is installed, with Keras.
"""
import math
import os
import tempfile
import warnings

import numpy as np

import seqnn as keras
from seqnn import layers

warnings.simplefilter("ignore")  # seqnn says its .keras files are safetensors; the script does not care
keras.utils.set_random_seed(7)
workdir = tempfile.mkdtemp()

rng = np.random.default_rng(1)
x = rng.normal(size=(512, 12)).astype("float32")
y = (x[:, :3].sum(axis=1) > 0).astype("int64") + (x[:, 3] > 0.8).astype("int64")


class KeyLogger(keras.callbacks.Callback):
    """Reads logs.keys() in every hook, as the callbacks guide does."""

    def __init__(self):
        super().__init__()
        self.calls = 0

    def _see(self, logs):
        self.calls += 1
        return list(logs.keys())

    def on_train_begin(self, logs=None):
        self._see(logs)

    def on_epoch_begin(self, epoch, logs=None):
        self._see(logs)

    def on_train_batch_begin(self, batch, logs=None):
        self._see(logs)

    def on_test_begin(self, logs=None):
        self._see(logs)

    def on_predict_begin(self, logs=None):
        self._see(logs)

    def on_predict_end(self, logs=None):
        self._see(logs)


class Batches(keras.utils.PyDataset):
    def __init__(self, x, y, batch_size, **kwargs):
        super().__init__(**kwargs)
        self.x, self.y, self.batch_size = x, y, batch_size

    def __len__(self):
        return math.ceil(len(self.x) / self.batch_size)

    def __getitem__(self, index):
        rows = slice(index * self.batch_size, (index + 1) * self.batch_size)
        return self.x[rows], self.y[rows]


# 1. A base model trained on its own, saved under a Keras name, reloaded.
base = keras.Sequential([layers.Dense(32, activation="relu", input_dim=12), layers.Dense(16, activation="relu")],
                        name="base")
pretrain = keras.Sequential([base, layers.Dense(3, activation="softmax")])
pretrain.compile(optimizer=keras.optimizers.Adam(1e-2), loss="sparse_categorical_crossentropy",
                 metrics=[keras.metrics.SparseCategoricalAccuracy(name="acc")])
logger = KeyLogger()
pretrain.fit(Batches(x, y, 64), epochs=5, verbose=0, callbacks=[logger])
pretrain.predict(x[:8], verbose=0, callbacks=[logger])
assert logger.calls > 0
path = os.path.join(workdir, "pretrained.keras")
pretrain.save(path)
reloaded = keras.models.load_model(path)
np.testing.assert_allclose(reloaded.predict(x[:16], verbose=0), pretrain.predict(x[:16], verbose=0), rtol=1e-5)
assert reloaded.evaluate(x, y, verbose=0, return_dict=True)["acc"] > 0.8

# 2. Freeze the base, put a new head on it, train only the head.
base.trainable = False
frozen = [w.copy() for w in base.get_weights()]
model = keras.Sequential([base, layers.Dense(8, activation="relu"), layers.Dense(3, activation="softmax")])
model.compile(optimizer=keras.optimizers.Adam(1e-2), loss=keras.losses.sparse_categorical_crossentropy,
              metrics=["accuracy"],
              weighted_metrics=["accuracy"])
model.fit(x, y, epochs=8, batch_size=32, verbose=0, class_weight={0: 1.0, 1: 1.0, 2: 3.0},
          callbacks=[keras.callbacks.ModelCheckpoint(os.path.join(workdir, "head_{epoch}.weights.h5"),
                                                     save_weights_only=True)])
assert all(np.array_equal(a, b) for a, b in zip(base.get_weights(), frozen))
assert model.get_layer(index=0) is base and model.get_layer(name="base") is base
assert os.path.exists(os.path.join(workdir, "head_8.weights.h5"))
result = model.evaluate(x, y, verbose=0, return_dict=True)
assert result["accuracy"] > 0.8, result

# 3. Fine-tune everything at a low rate.
base.trainable = True
model.compile(optimizer=keras.optimizers.Adam(1e-4), loss="sparse_categorical_crossentropy")
model.fit(x, y, epochs=1, verbose=0)
assert not np.array_equal(base.get_weights()[0], frozen[0])
model.summary(print_fn=lambda *a, **k: None)
print("keras-style transfer script OK")
