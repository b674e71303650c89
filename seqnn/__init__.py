"""seqnn: Keras-style neural networks on numpy, with a Metal backend for Apple GPUs.

Quick start::

    import seqnn as sn

    (x_train, y_train), (x_test, y_test) = sn.datasets.digits.load_data()
    model = (sn.Sequential()
             .add(sn.layers.Input((8, 8)))
             .add(sn.layers.Flatten())
             .add(sn.layers.Dense(64, activation="relu"))
             .add(sn.layers.Dense(10, activation="softmax"))
             .compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"]))
    model.fit(x_train / 16.0, y_train, epochs=20)
"""
from . import (activations, backend, backends, callbacks, datasets, distribute, initializers, layers, losses,
               metrics, models, ops, optimizers, regularizers, saving, utils)
from ._version import __version__
from .layers import Input
from .models import Sequential
from .models import load_model

__all__ = [
    "Input", "Sequential", "__version__", "load_model", "activations", "backend", "backends", "callbacks",
    "datasets", "distribute", "initializers", "layers", "losses", "metrics", "models", "ops", "optimizers",
    "regularizers", "saving", "utils",
]


def __getattr__(name: str):
    # seqnn.plot (the plots extra) loads on first use; matplotlib itself only when a figure is drawn.
    if name == "plot":
        import importlib

        return importlib.import_module(".plot", __name__)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
