"""Backends are found by name in a registry that a new backend joins without editing any list."""
import numpy as np
import pytest

import seqnn as sn
from seqnn import backends
from seqnn.backends.numpy_backend import NumpyBackend
from seqnn.errors import BackendUnavailableError, UnknownNameError


class CopyOfNumpy(NumpyBackend):
    name = "copy_of_numpy"


@pytest.fixture
def registry(monkeypatch):
    """The real registry, restored after the test."""
    monkeypatch.setattr(backends, "_registry", dict(backends._registry))
    monkeypatch.setattr(backends, "_instances", {})
    monkeypatch.delenv("SEQNN_BACKEND", raising=False)
    return backends


def test_a_registered_backend_is_known_available_and_trains(registry):
    registry.register("copy_of_numpy", CopyOfNumpy)
    assert "copy_of_numpy" in registry.names() and "copy_of_numpy" in registry.available()
    model = sn.Sequential([sn.Input((3,)), sn.layers.Dense(2)]).compile(optimizer="sgd", loss="mse",
                                                                        backend="copy_of_numpy")
    assert type(model.layers[0].backend) is CopyOfNumpy
    model.fit(np.ones((4, 3)), np.zeros((4, 2)), verbose=0)


def test_auto_takes_the_best_ranked_available_backend(registry):
    registry.register("copy_of_numpy", CopyOfNumpy, rank=5)
    assert registry.available()[0] == "copy_of_numpy" and registry.get("auto").name == "copy_of_numpy"
    registry.register("copy_of_numpy", CopyOfNumpy, lambda: "no such device here", rank=5)
    assert registry.get("auto").name == "numpy"
    with pytest.raises(BackendUnavailableError, match="'copy_of_numpy' is not available: no such device here"):
        registry.get("copy_of_numpy")


def test_seqnn_backend_overrides_auto(registry, monkeypatch):
    registry.register("copy_of_numpy", CopyOfNumpy)
    monkeypatch.setenv("SEQNN_BACKEND", "Copy_Of_Numpy")
    assert registry.get("auto").name == "copy_of_numpy" and registry.get("numpy").name == "numpy"
    monkeypatch.setenv("SEQNN_BACKEND", "tpu")
    with pytest.raises(UnknownNameError, match="SEQNN_BACKEND='tpu': unknown backend 'tpu'"):
        registry.get("auto")


def test_metal_says_why_it_cannot_run_on_this_machine(registry):
    import sys

    if sys.platform == "darwin":
        pytest.skip("the message differs on macOS")
    with pytest.raises(BackendUnavailableError, match="Metal needs macOS on Apple silicon with metalcompute "
                                                      "installed; this is linux/"):
        sn.Sequential([sn.layers.Dense(2)]).compile(optimizer="sgd", loss="mse", backend="metal")
