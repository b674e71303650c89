#!/usr/bin/env python3
"""MNIST CNN training benchmark for seqnn, in the record format of the peers.py harness.

Trains the ``cnn`` task of peers.py through seqnn's public API: Conv2D(32, 3×3,
valid) + ReLU, MaxPooling2D(2), Conv2D(64, 3×3, valid) + ReLU, MaxPooling2D(2),
Flatten, Dense(128) + ReLU, Dense(10) (softmax output, sparse categorical
cross-entropy), Adam 1e-3 with Keras's betas and epsilon, batch 128,
reshuffled every epoch. Prints ONE JSON line with the same fields as a
``peers.py --task cnn --json`` record, so the two can be compared side by side.

    flock /tmp/bench.lock python benchmarks/mnist_cnn.py [--epochs 3] [--threads 2]

Data: the four MNIST IDX files from ``--data`` or ``$SEQNN_DATA_DIR``.
"""
import sys

import harness


def build_model(sn):
    """The peers.py ``cnn`` network, written as a Keras user would."""
    L = sn.layers
    return (sn.Sequential(name="mnist_cnn")
            .add(L.Input((28, 28, 1)))
            .add(L.Conv2D(32, 3, activation="relu"))
            .add(L.MaxPooling2D(2))
            .add(L.Conv2D(64, 3, activation="relu"))
            .add(L.MaxPooling2D(2))
            .add(L.Flatten())
            .add(L.Dense(128, activation="relu"))
            .add(L.Dense(10, activation="softmax")))


def unit_float_images(images):
    """(n, 28, 28, 1) float32 in [0, 1], made before timing starts (as peers.py does)."""
    import numpy as np
    x = images.reshape(len(images), 28, 28, 1).astype(np.float32)
    x *= np.float32(1 / 255)  # in place: no second float copy in the peak RSS
    return x


if __name__ == "__main__":
    sys.exit(harness.main("cnn", build_model, unit_float_images, 3, __doc__.split("\n\n")[0]))
