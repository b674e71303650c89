"""CNNs train on the emulated Metal device as on numpy, and a training interrupted on one resumes on the other.

The benchmark CNN (conv32-pool-conv64-pool-dense128, as benchmarks/mnist_cnn.py)
and a small CNN with batch normalization are trained from the same seed on
the same samples on both backends and must end within 1e-4 (float32 on
both). The default run uses small images so the emulator stays quick; the
benchmark's own 28×28 input runs under the slow marker.

The optimizer is SGD with momentum: the two backends' gradients agree to
float32 rounding (about 1e-6 of their largest entry), and SGD keeps the
weights as close. Adam would not, and neither would two numpy builds with
different BLAS: a weight whose gradient has been zero for steps (its unit
behind a ReLU that is off) and then gets a tiny one moves by a sizeable
fraction of the learning rate whatever that gradient's size (m̂/(√v̂ + ε)),
and whether it gets one at all can turn on a pre-activation within rounding
of zero. The Adam kernel agrees with numpy's update to 1 ulp per step
(test_metal_backend.py checks it step by step).
"""
import numpy as np
import pytest
from metal_device import emulated_backend, record_fallbacks

import seqnn as sn
from seqnn.callbacks.backup_and_restore import BackupAndRestore

THREADGROUP = 256  # the emulator's cheapest launch size; the kernels are checked at every size elsewhere
L = sn.layers


def benchmark_cnn(side):
    return sn.Sequential([L.Input((side, side, 1)), L.Conv2D(32, 3, activation="relu"), L.MaxPooling2D(2),
                          L.Conv2D(64, 3, activation="relu"), L.MaxPooling2D(2), L.Flatten(),
                          L.Dense(128, activation="relu"), L.Dense(10, activation="softmax")])


def batchnorm_cnn(side):
    return sn.Sequential([L.Input((side, side, 3)), L.Conv2D(8, 3, padding="same", use_bias=False),
                          L.BatchNormalization(), L.ReLU(), L.MaxPooling2D(2), L.Conv2D(16, 3, strides=2),
                          L.BatchNormalization(), L.Activation("relu"), L.GlobalAveragePooling2D(),
                          L.Dense(10, activation="softmax")])


def images(n, side, channels, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.uniform(0, 1, (n, side, side, channels)).astype(np.float32)
    # Labels that depend on the images, so the loss falls and the gradients are not noise.
    y = (x[:, : side // 2].mean(axis=(1, 2, 3)) * 10 + x[..., 0].std(axis=(1, 2)) * 20).astype(int) % 10
    return x, y


def fit(build, backend, x, y, epochs, callbacks=()):
    sn.utils.set_random_seed(8)
    model = build().compile(optimizer=sn.optimizers.SGD(0.05, momentum=0.9), loss="sparse_categorical_crossentropy",
                            metrics=["accuracy"], backend=backend)
    history = model.fit(x, y, epochs=epochs, batch_size=32, seed=2, verbose=0, callbacks=list(callbacks))
    return model, history.history


def assert_same_training(got, want):
    (got_model, got_history), (want_model, want_history) = got, want
    np.testing.assert_allclose(got_history["loss"], want_history["loss"], rtol=1e-4)
    for g, w in zip(got_model.get_weights(), want_model.get_weights()):  # BatchNorm's moving statistics too
        np.testing.assert_allclose(g, w, atol=1e-4)


@pytest.mark.parametrize("build, side, channels, samples", [
    (benchmark_cnn, 14, 1, 128), (batchnorm_cnn, 9, 3, 128),
    pytest.param(benchmark_cnn, 28, 1, 256, marks=pytest.mark.slow),
    pytest.param(batchnorm_cnn, 28, 3, 256, marks=pytest.mark.slow),
], ids=["benchmark-cnn-14px", "batchnorm-cnn-9px", "benchmark-cnn-28px", "batchnorm-cnn-28px"])
def test_a_cnn_trains_on_metal_as_on_numpy(build, side, channels, samples):
    x, y = images(samples, side, channels)
    want = fit(lambda: build(side), "numpy", x, y, epochs=2)
    got = fit(lambda: build(side), emulated_backend(THREADGROUP), x, y, epochs=2)
    assert got[1]["loss"][-1] < got[1]["loss"][0]
    assert_same_training(got, want)
    np.testing.assert_allclose(got[0].predict(x[:40], verbose=0), want[0].predict(x[:40], verbose=0), atol=1e-4)


class Interrupt(sn.callbacks.Callback):
    """Stops training, as Ctrl-C would, once the first epoch has been backed up."""

    def on_epoch_end(self, epoch, logs=None):
        raise KeyboardInterrupt


@pytest.mark.parametrize("first, second", [("metal", "numpy"), ("numpy", "metal")])
def test_training_interrupted_on_one_backend_resumes_on_the_other(tmp_path, first, second):
    backends = {"numpy": "numpy", "metal": emulated_backend(THREADGROUP)}
    x, y = images(96, 9, 3, seed=1)
    build = lambda: batchnorm_cnn(9)  # noqa: E731
    with pytest.raises(KeyboardInterrupt):
        fit(build, backends[first], x, y, epochs=2, callbacks=[BackupAndRestore(tmp_path), Interrupt()])
    resumed = fit(build, backends[second], x, y, epochs=2, callbacks=[BackupAndRestore(tmp_path)])
    assert len(resumed[1]["loss"]) == 2  # the first epoch's history comes from the backup
    assert_same_training(resumed, fit(build, "numpy", x, y, epochs=2))


@pytest.mark.parametrize("build, channels", [(benchmark_cnn, 1), (batchnorm_cnn, 3)], ids=["benchmark", "batchnorm"])
def test_a_cnn_runs_on_kernels_alone(build, channels, monkeypatch):
    """fit, evaluate and predict call no numpy fallback: every op of these CNNs ran a kernel."""
    backend = emulated_backend(THREADGROUP)
    fallbacks = record_fallbacks(backend, monkeypatch)
    x, y = images(40, 10, channels)
    model = build(10).compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"],
                              backend=backend)
    model.fit(x, y, epochs=1, batch_size=16, validation_split=0.2, verbose=0)
    model.evaluate(x, y, verbose=0)
    model.predict(x, verbose=0)
    assert fallbacks == []
