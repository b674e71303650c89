"""The file names Keras scripts write (``.keras``, ``.weights.h5``, ``.h5``) work everywhere a path is saved to.

The file is seqnn's safetensors whatever its name; a KerasFileNameWarning
says so once per path; load_model and load_weights read it back.
"""
import re
import warnings

import numpy as np
import pytest

import seqnn as keras
from seqnn import layers
from seqnn.saving import KerasFileNameWarning


def make_model():
    model = keras.Sequential([keras.Input((4,)), layers.Dense(3, activation="softmax")])
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    return model


def data():
    rng = np.random.default_rng(0)
    return rng.random((16, 4)).astype(np.float32), rng.integers(0, 3, 16)


def is_safetensors(path) -> bool:
    from safetensors.numpy import load_file

    return "layers.0.kernel" in load_file(str(path))


@pytest.mark.parametrize("name", ["x.keras", "x.h5", "x.hdf5", "X.KERAS"])
def test_model_save_under_keras_names_writes_safetensors_and_loads_back(tmp_path, name):
    model = make_model()
    path = tmp_path / name
    with pytest.warns(KerasFileNameWarning, match=re.escape(f"{path} will hold seqnn's safetensors format, "
                                                            "not a Keras archive")):
        model.save(path)
    assert is_safetensors(path)
    x, _ = data()
    np.testing.assert_array_equal(keras.models.load_model(path).predict(x, verbose=0), model.predict(x, verbose=0))


def test_save_weights_under_weights_h5_and_load_weights(tmp_path):
    model, other = make_model(), make_model()
    path = tmp_path / "x.weights.h5"
    with pytest.warns(KerasFileNameWarning):
        model.save_weights(path)
    other.load_weights(path)
    for a, b in zip(model.get_weights(), other.get_weights()):
        np.testing.assert_array_equal(a, b)


def test_the_warning_comes_once_per_path(tmp_path):
    model = make_model()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("once", KerasFileNameWarning)
        for _ in range(3):
            model.save(tmp_path / "a.keras")
        model.save(tmp_path / "b.keras")
        model.save(tmp_path / "c.safetensors")
    assert [str(w.message).split(" will hold")[0] for w in caught] == [
        f"save: {tmp_path / 'a.keras'}", f"save: {tmp_path / 'b.keras'}"]
    assert {w.filename for w in caught} == {__file__}  # the user's line, not seqnn's


def test_other_names_are_refused_before_anything_is_written(tmp_path):
    model = make_model()
    for call in (model.save, model.save_weights):
        with pytest.raises(ValueError, match=r"must end in \.safetensors .* or a Keras name"):
            call(tmp_path / "x.pt")
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("template, weights_only, loader", [
    ("model_{epoch}.keras", False, "load_model"),
    ("ckpt_{epoch:02d}.weights.h5", True, "load_weights"),
    ("best.h5", False, "load_model"),
])
def test_model_checkpoint_with_keras_names(tmp_path, template, weights_only, loader):
    x, y = data()
    model = make_model()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", KerasFileNameWarning)
        checkpoint = keras.callbacks.ModelCheckpoint(str(tmp_path / template), save_weights_only=weights_only)
        model.fit(x, y, epochs=2, verbose=0, callbacks=[checkpoint])
    # One warning, for the template, not one per file written.
    assert len([w for w in caught if issubclass(w.category, KerasFileNameWarning)]) == 1
    files = sorted(p.name for p in tmp_path.iterdir())
    assert files == sorted({template.format(epoch=e) for e in (1, 2)})
    last = tmp_path / files[-1]
    if loader == "load_model":
        restored = keras.saving.load_model(last)
    else:
        restored = make_model()
        restored.load_weights(last)
    np.testing.assert_array_equal(restored.predict(x, verbose=0), model.predict(x, verbose=0))


def test_a_real_keras_archive_is_named_as_such(tmp_path):
    import zipfile

    path = tmp_path / "from_keras.keras"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("config.json", "{}")
    with pytest.raises(ValueError, match=re.escape(f"{path}: a Keras archive (zip)")):
        keras.models.load_model(path)
    (tmp_path / "keras2.h5").write_bytes(b"\x89HDF\r\n\x1a\n" + bytes(100))
    with pytest.raises(ValueError, match="an HDF5 file"):
        make_model().load_weights(tmp_path / "keras2.h5")
