"""Dense models train on the emulated Metal device as on numpy: every activation, loss and optimizer.

Small data and few steps: the point is that each piece runs on Metal and
gives numpy's numbers (float32, within 1e-4), not that the model learns.
"""
import numpy as np
import pytest

import seqnn as sn
from metal_device import emulated_backend, record_fallbacks

THREADGROUP = 256  # whole models run at 256 threads a group: the emulator's launches are cheapest there


def train_both(build, loss, optimizer, x, y):
    results = []
    for backend in ("numpy", emulated_backend(THREADGROUP)):
        sn.utils.set_random_seed(21)
        model = build()
        model.compile(optimizer=optimizer(), loss=loss, backend=backend)
        history = model.fit(x, y, epochs=2, batch_size=16, verbose=0, seed=4)
        results.append((history.history["loss"], model.get_weights()))
    (want_loss, want), (got_loss, got) = results
    np.testing.assert_allclose(got_loss, want_loss, rtol=1e-4)
    for g, w in zip(got, want):
        np.testing.assert_allclose(g, w, atol=1e-4)


def data(n=48, features=6, seed=0):
    rng = np.random.default_rng(seed)
    return rng.standard_normal((n, features)).astype(np.float32)


@pytest.mark.parametrize("activation", ["relu", "leaky_relu", "elu", "selu", "gelu", "sigmoid", "tanh", "softplus",
                                        "silu"])
def test_each_activation(activation):
    x = data()
    train_both(lambda: sn.Sequential([sn.Input((6,)), sn.layers.Dense(8, activation=activation),
                                      sn.layers.Dense(2)]), "mse", lambda: sn.optimizers.SGD(0.05), x, x[:, :2])


@pytest.mark.parametrize("loss, head, target", [
    ("sparse_categorical_crossentropy", "softmax", lambda x: (x[:, 0] > 0).astype(int) + (x[:, 1] > 0)),
    ("categorical_crossentropy", "softmax", lambda x: np.eye(3)[(x[:, 0] > 0).astype(int) + (x[:, 1] > 0)]),
    ("binary_crossentropy", "sigmoid", lambda x: (x[:, :3] > 0).astype(np.float32)),
    ("mse", None, lambda x: x[:, :3] ** 2),
    ("huber", None, lambda x: x[:, :3] * 2),
])
def test_each_loss(loss, head, target):
    x = data()
    train_both(lambda: sn.Sequential([sn.Input((6,)), sn.layers.Dense(8, activation="tanh"),
                                      sn.layers.Dense(3, activation=head)]),
               loss, lambda: sn.optimizers.Adam(1e-2), x, target(x))


@pytest.mark.parametrize("optimizer", [
    lambda: sn.optimizers.SGD(0.05, momentum=0.9, nesterov=True), lambda: sn.optimizers.RMSprop(centered=True),
    lambda: sn.optimizers.Adagrad(0.1), lambda: sn.optimizers.Adadelta(1.0), lambda: sn.optimizers.Adam(amsgrad=True),
    lambda: sn.optimizers.AdamW(1e-2), lambda: sn.optimizers.Adamax(1e-2), lambda: sn.optimizers.Nadam(1e-2),
    lambda: sn.optimizers.Adam(1e-2, clipnorm=0.1), lambda: sn.optimizers.SGD(0.1, global_clipnorm=0.5),
], ids=["sgd-nesterov", "rmsprop-centered", "adagrad", "adadelta", "amsgrad", "adamw", "adamax", "nadam",
        "clipnorm", "global-clipnorm"])
def test_each_optimizer(optimizer):
    x = data()
    train_both(lambda: sn.Sequential([sn.Input((6,)), sn.layers.Dense(8, activation="relu",
                                                                      kernel_regularizer="l2"),
                                      sn.layers.Dense(2)]), "mse", optimizer, x, x[:, 2:4])


@pytest.mark.parametrize("loss, head", [("sparse_categorical_crossentropy", "softmax"), ("binary_crossentropy", None),
                                        ("mse", "sigmoid")])
def test_a_dense_model_runs_on_kernels_alone(loss, head, monkeypatch):
    """fit, evaluate and predict of an MLP with every dense feature call no numpy fallback."""
    backend = emulated_backend(THREADGROUP)
    fallbacks = record_fallbacks(backend, monkeypatch)
    x = data()
    y = (x[:, 0] > 0).astype(int) if loss.startswith("sparse") else (x[:, :3] > 0).astype(np.float32)
    model = sn.Sequential([sn.Input((6,)),
                           sn.layers.Dense(8, activation="gelu", kernel_regularizer="l1l2"),
                           sn.layers.Dropout(0.25), sn.layers.GaussianNoise(0.1),
                           sn.layers.Dense(8, activation="leaky_relu", bias_regularizer="l2"),
                           sn.layers.Dense(2 if loss.startswith("sparse") else 3, activation=head)])
    model.compile(optimizer=sn.optimizers.Adam(1e-2, clipnorm=1.0), loss=loss, metrics=["accuracy"], backend=backend)
    model.fit(x, y, epochs=1, batch_size=16, validation_split=0.25, verbose=0)
    model.evaluate(x, y, verbose=0)
    model.predict(x, verbose=0)
    assert fallbacks == []
