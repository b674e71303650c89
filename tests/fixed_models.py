"""Models with fixed initial weights, for tests that train the same model twice under different settings."""
import numpy as np

import seqnn as sn


def fixed_weights(model):
    """Give ``model`` the same initial weights whatever the global seed; returns it."""
    model.set_weights([np.random.default_rng(i).normal(scale=0.05, size=w.shape).astype("float32")
                       for i, w in enumerate(model.get_weights())])
    return model


def fixed_mlp(features: int, hidden: int = 256):
    """features → hidden (ReLU) → 10 (softmax), Adam, fixed initial weights."""
    return fixed_weights(
        sn.Sequential([sn.layers.Input((features,)), sn.layers.Dense(hidden, activation="relu"),
                       sn.layers.Dense(10, activation="softmax")])
        .compile(optimizer="adam", loss="sparse_categorical_crossentropy"))
