#!/usr/bin/env python3
"""numpy against Metal on this Mac: the MLP and CNN benchmarks trained on both, side by side.

For each model (the MLP 784-256-128-10 and the CNN conv32-pool-conv64-pool-
dense128 of mnist_mlp.py and mnist_cnn.py), trains the same network from the
same seed on the same MNIST samples, first on the numpy backend and then on
the Metal backend, and prints each backend's epoch times, their ratio, the
final losses and the largest difference between the two sets of trained
weights. Float32 on both; the weights should agree to about 1e-4 after an
epoch (different summation orders, and the fast math Metal compiles with).

    python benchmarks/backend_compare.py                 # both models, 1 epoch on 10,000 images
    python benchmarks/backend_compare.py --models cnn --epochs 2 --samples 60000 --json

MNIST is read from ``--data``, ``$SEQNN_DATA_DIR`` or seqnn's dataset cache
(downloaded there on first use). On a machine where the Metal backend cannot
run, the script says why and exits with status 0.
"""
from __future__ import annotations

import argparse
import json
import platform
import sys
import time

import numpy as np

import seqnn as sn

BATCH = 128
MODELS = ("mlp", "cnn")


def build(name: str):
    """The benchmark network ``name`` ("mlp" or "cnn"), as mnist_mlp.py and mnist_cnn.py build it."""
    L = sn.layers
    if name == "mlp":
        return sn.Sequential([L.Input((784,)), L.Dense(256, activation="relu"), L.Dense(128, activation="relu"),
                              L.Dense(10, activation="softmax")], name="mnist_mlp")
    return sn.Sequential([L.Input((28, 28, 1)), L.Conv2D(32, 3, activation="relu"), L.MaxPooling2D(2),
                          L.Conv2D(64, 3, activation="relu"), L.MaxPooling2D(2), L.Flatten(),
                          L.Dense(128, activation="relu"), L.Dense(10, activation="softmax")], name="mnist_cnn")


class EpochTimer(sn.callbacks.Callback):
    def on_train_begin(self, logs=None):
        self.seconds = []

    def on_epoch_begin(self, epoch, logs=None):
        self._start = time.perf_counter()

    def on_epoch_end(self, epoch, logs=None):
        self.seconds.append(time.perf_counter() - self._start)


def train(name: str, backend, x, y, epochs: int, seed: int) -> dict:
    """Epoch times, losses and trained weights of model ``name`` on ``backend``."""
    sn.utils.set_random_seed(seed)
    model = build(name).compile(optimizer=sn.optimizers.Adam(1e-3), loss="sparse_categorical_crossentropy",
                                backend=backend)
    timer = EpochTimer()
    history = model.fit(x, y, epochs=epochs, batch_size=BATCH, seed=seed, verbose=0, callbacks=[timer])
    return {"seconds": timer.seconds, "loss": history.history["loss"], "weights": model.get_weights()}


def compare(name: str, metal, x, y, epochs: int = 1, seed: int = 0) -> dict:
    """Train model ``name`` on numpy and on ``metal`` (a backend name or instance); the comparison record."""
    x = x.reshape(len(x), 784) if name == "mlp" else x.reshape(len(x), 28, 28, 1)
    numpy_run, metal_run = (train(name, backend, x, y, epochs, seed) for backend in ("numpy", metal))
    numpy_epoch, metal_epoch = (float(np.median(run["seconds"])) for run in (numpy_run, metal_run))
    return {"model": name, "samples": len(x), "epochs": epochs,
            "numpy_epoch_s": round(numpy_epoch, 4), "metal_epoch_s": round(metal_epoch, 4),
            "numpy_over_metal": round(numpy_epoch / metal_epoch, 3),
            "numpy_loss": numpy_run["loss"][-1], "metal_loss": metal_run["loss"][-1],
            "max_weight_difference": max(float(np.max(np.abs(a - b)))
                                         for a, b in zip(numpy_run["weights"], metal_run["weights"]))}


def report(record: dict) -> str:
    return (f"{record['model']}: {record['samples']} samples x {record['epochs']} epoch(s); epoch "
            f"numpy {record['numpy_epoch_s']:.3f} s, metal {record['metal_epoch_s']:.3f} s "
            f"(numpy/metal {record['numpy_over_metal']:.2f}); final loss numpy {record['numpy_loss']:.5f}, "
            f"metal {record['metal_loss']:.5f}; largest weight difference {record['max_weight_difference']:.2e}")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--models", nargs="+", choices=MODELS, default=list(MODELS))
    parser.add_argument("--epochs", type=int, default=1)
    parser.add_argument("--samples", type=int, default=10_000, help="first N training images (default 10000)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--data", help="directory holding the MNIST IDX files")
    parser.add_argument("--json", action="store_true", help="one JSON line per model instead of text")
    args = parser.parse_args(argv)

    reason = sn.backends.unavailable_reason("metal")
    if reason is not None:
        print(f"No Metal on this machine ({platform.system()} {platform.machine()}): {reason}. "
              "Run this script on a Mac with Apple silicon after pip install '.[metal]'.")
        return 0
    (x, y), _ = sn.datasets.mnist.load_data(args.data)
    x = (x[:args.samples].astype(np.float32) / np.float32(255)).reshape(-1, 784)
    y = y[:args.samples].astype(np.int64)
    print(f"# {platform.platform()}; {platform.processor() or platform.machine()}; seqnn {sn.__version__}",
          file=sys.stderr)
    for name in args.models:
        record = compare(name, "metal", x, y, args.epochs, args.seed)
        print(json.dumps(record) if args.json else report(record), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
