#!/usr/bin/env python3
"""MNIST MLP training benchmark for seqnn, in the record format of the peers.py harness.

Trains 784-256-128-10 (ReLU, softmax output, sparse categorical cross-entropy,
Adam 1e-3 with Keras's betas and epsilon, batch 128, reshuffled every epoch)
through seqnn's public API and prints ONE JSON line with the same fields as a
``peers.py --task mlp --json`` record, so the two can be compared side by side.

    flock /tmp/bench.lock python benchmarks/mnist_mlp.py [--epochs 10] [--threads 2]

Data: the four MNIST IDX files from ``--data`` or ``$SEQNN_DATA_DIR``.
"""
import sys

import harness


def build_model(sn):
    return (sn.Sequential(name="mnist_mlp")
            .add(sn.layers.Input((784,)))
            .add(sn.layers.Dense(256, activation="relu"))
            .add(sn.layers.Dense(128, activation="relu"))
            .add(sn.layers.Dense(10, activation="softmax")))


def unit_float(images):
    """(n, 784) float32 in [0, 1]: the input peers.py gives every framework, made before timing starts."""
    import numpy as np
    x = images.reshape(len(images), -1).astype(np.float32)
    x *= np.float32(1 / 255)  # in place: a second 180 MiB temporary would inflate peak RSS
    return x


if __name__ == "__main__":
    sys.exit(harness.main("mlp", build_model, unit_float, 10, __doc__.split("\n\n")[0]))
