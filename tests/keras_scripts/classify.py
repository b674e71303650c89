"""A script written for Keras's Sequential API; seqnn runs it with only the import changed.

It is executed by tests/test_keras_compat.py (and, where Keras is installed,
with ``import keras`` too, to prove it is real Keras code).
"""
import numpy as np

import seqnn as keras
from seqnn import layers

keras.utils.set_random_seed(42)

rng = np.random.default_rng(0)
x_train = rng.normal(size=(600, 20)).astype("float32")
true_w = rng.normal(size=(20, 4))
y_train = np.argmax(x_train @ true_w, axis=1)
x_test = rng.normal(size=(200, 20)).astype("float32")
y_test = np.argmax(x_test @ true_w, axis=1)


class EpochLogger(keras.callbacks.Callback):
    def on_train_begin(self, logs=None):
        self.seen = []

    def on_epoch_end(self, epoch, logs=None):
        self.seen.append((epoch, sorted(logs.keys())))


# 1. integer labels, logits output, class-style loss, Keras's Adam arguments
model = keras.Sequential(
    [
        keras.Input(shape=(20,)),
        layers.Dense(64, activation="relu", kernel_initializer="he_normal"),
        layers.Dropout(0.1),
        layers.Dense(32),
        layers.LeakyReLU(negative_slope=0.1),
        layers.Dense(4),
    ],
    name="keras_style",
)
model.compile(
    optimizer=keras.optimizers.Adam(learning_rate=3e-3, beta_1=0.9, beta_2=0.999, epsilon=1e-7),
    loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
    metrics=["accuracy"],
)
logger = EpochLogger()
history = model.fit(x_train, y_train, batch_size=32, epochs=8, validation_split=0.1, callbacks=[logger],
                    verbose=0)
assert logger.seen[-1] == (7, ["accuracy", "loss", "val_accuracy", "val_loss"]), logger.seen
assert len(history.history["loss"]) == 8
loss, acc = model.evaluate(x_test, y_test, verbose=0)
assert acc > 0.85, acc
logits = model.predict(x_test, batch_size=64, verbose=0)
assert logits.shape == (200, 4)
direct = np.asarray(model(x_test[:5], training=False))
np.testing.assert_allclose(direct, logits[:5], rtol=1e-4, atol=1e-5)
assert model.count_params() == 20 * 64 + 64 + 64 * 32 + 32 + 32 * 4 + 4
weights = model.get_weights()
assert [w.shape for w in weights] == [(20, 64), (64,), (64, 32), (32,), (32, 4), (4,)]
model.set_weights(weights)
model.summary(print_fn=lambda *a, **k: None)

# 2. one-hot labels, softmax output, SGD with Nesterov momentum, string metrics
y_train_cat = keras.utils.to_categorical(y_train, 4)
y_test_cat = keras.utils.to_categorical(y_test, num_classes=4)
model2 = keras.Sequential()
model2.add(keras.Input(shape=(20,)))
model2.add(layers.Dense(32, activation="tanh"))
model2.add(layers.Dense(4, activation="softmax"))
model2.compile(optimizer=keras.optimizers.SGD(learning_rate=0.05, momentum=0.9, nesterov=True),
               loss="categorical_crossentropy", metrics=["accuracy"])
model2.fit(x_train, y_train_cat, batch_size=64, epochs=10, verbose=0,
           validation_data=(x_test, y_test_cat), shuffle=True)
result = model2.evaluate(x_test, y_test_cat, verbose=0, return_dict=True)
assert set(result) == {"loss", "accuracy"} and result["accuracy"] > 0.8, result
probs = model2.predict(x_test, verbose=0)
np.testing.assert_allclose(probs.sum(axis=1), 1.0, rtol=1e-5)
model2.optimizer.learning_rate = 0.01
assert abs(float(model2.optimizer.learning_rate) - 0.01) < 1e-9

# 3. regression with a class-style loss and a learning-rate schedule
y_reg = (x_train[:, :3].sum(axis=1, keepdims=True)).astype("float32")
schedule = keras.optimizers.schedules.ExponentialDecay(initial_learning_rate=1e-2, decay_steps=100,
                                                       decay_rate=0.9)
model3 = keras.Sequential([keras.Input(shape=(20,)), layers.Dense(16, activation="relu"), layers.Dense(1)])
model3.compile(optimizer=keras.optimizers.RMSprop(learning_rate=schedule), loss=keras.losses.Huber(delta=1.0),
               metrics=["mae"])
before = model3.evaluate(x_train, y_reg, verbose=0)[0]
model3.fit(x_train, y_reg, epochs=5, batch_size=32, verbose=0)
after = model3.evaluate(x_train, y_reg, verbose=0)[0]
assert after < before, (before, after)
print("keras-style script OK", round(float(acc), 3), round(float(result["accuracy"]), 3))
