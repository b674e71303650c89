"""The numba-compiled Adam update gives the same bits as numpy's passes (the reference)."""
import numpy as np
import pytest
from fixed_models import fixed_mlp

import seqnn as sn
from seqnn.backends.numpy_backend import compiled_updates

pytest.importorskip("numba")


def vectors(size, dtype, seed):
    rng = np.random.default_rng(seed)
    p = rng.normal(size=size).astype(dtype)
    g = (rng.normal(size=size) * 10.0 ** rng.integers(-8, 2, size)).astype(dtype)
    g[::7] = 0  # parameters that never get a gradient: their moments decay towards subnormals
    m = (rng.normal(size=size) * 1e-3).astype(dtype)
    v = (rng.random(size) * 1e-6).astype(dtype)
    v[::11] = np.finfo(dtype).tiny / 4  # subnormal second moments
    return p, g, m, v


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("size", [compiled_updates.MIN_ELEMENTS + 7, (1 << 20) + 3])  # whole / blocks on threads
def test_compiled_adam_equals_the_numpy_passes(monkeypatch, dtype, size):
    backend = sn.backends.get("numpy")
    results = {}
    for setting in ("1", "0"):
        monkeypatch.setenv("SEQNN_COMPILED_UPDATES", setting)
        p, g, m, v = vectors(size, dtype, 0)
        for step in range(1, 130):  # past a flush of subnormal moments (every 128 steps)
            backend.adam_update(p, g, m, v, None, 1e-3, 0.9, 0.999, 1e-7, step)
            g = np.roll(g, 1)
        results[setting] = (p, m, v)
    assert compiled_updates.adam_kernel(dtype) is not None
    for compiled, reference in zip(results["1"], results["0"]):
        assert np.array_equal(compiled, reference)


def test_small_vectors_and_amsgrad_take_the_numpy_passes(monkeypatch):
    calls = []
    monkeypatch.setattr(compiled_updates, "adam_kernel", lambda dtype: calls.append(1))
    backend = sn.backends.get("numpy")
    p, g, m, v = vectors(compiled_updates.MIN_ELEMENTS - 1, "float32", 1)
    backend.adam_update(p, g, m, v, None, 1e-3, 0.9, 0.999, 1e-7, 1)
    p, g, m, v = vectors(compiled_updates.MIN_ELEMENTS, "float32", 1)
    backend.adam_update(p, g, m, v, np.zeros_like(v), 1e-3, 0.9, 0.999, 1e-7, 1)
    assert calls == []


def test_a_model_trains_to_the_same_bits_with_and_without_the_kernel(monkeypatch):
    rng = np.random.default_rng(0)
    x, y = rng.normal(size=(256, 300)).astype("float32"), rng.integers(0, 10, 256)

    def trained(setting):
        monkeypatch.setenv("SEQNN_COMPILED_UPDATES", setting)
        model = fixed_mlp(300)
        model.fit(x, y, batch_size=32, epochs=2, verbose=0, seed=0)
        return model.get_weights()

    assert sum(w.size for w in trained("1")) >= compiled_updates.MIN_ELEMENTS
    assert all(np.array_equal(a, b) for a, b in zip(trained("1"), trained("0")))


def test_a_kernel_that_cannot_be_compiled_means_the_numpy_passes(monkeypatch):
    def refuse(numba, cache):
        raise RuntimeError("cannot cache function 'adam': no locator available")

    monkeypatch.setattr(compiled_updates, "_compile", refuse)
    monkeypatch.setattr(compiled_updates, "_kernels", {})
    assert compiled_updates.adam_kernel("float32") is None
    backend = sn.backends.get("numpy")
    p, g, m, v = vectors(compiled_updates.MIN_ELEMENTS, "float32", 2)
    backend.adam_update(p, g, m, v, None, 1e-3, 0.9, 0.999, 1e-7, 1)  # the numpy passes, no error
    monkeypatch.setenv("SEQNN_COMPILED_UPDATES", "0")
    reference = vectors(compiled_updates.MIN_ELEMENTS, "float32", 2)
    backend.adam_update(*reference, None, 1e-3, 0.9, 0.999, 1e-7, 1)
    assert all(np.array_equal(a, b) for a, b in zip((p, g, m, v), reference))
