#!/usr/bin/env python3
"""MNIST CNN training benchmark for seqnn, in the record format of the peers.py harness.

Trains the ``cnn`` task of peers.py through seqnn's public API: Conv2D(32, 3×3,
valid) + ReLU, MaxPooling2D(2), Conv2D(64, 3×3, valid) + ReLU, MaxPooling2D(2),
Flatten, Dense(128) + ReLU, Dense(10) (softmax output, sparse categorical
cross-entropy), Adam 1e-3 with Keras's betas and epsilon, batch 128,
reshuffled every epoch. Prints ONE JSON line with the same fields as a
``peers.py --task cnn --json`` record, so the two can be compared side by side.

    flock /tmp/bench.lock python benchmarks/mnist_cnn.py [--epochs 3] [--threads 2]

Data: the four MNIST IDX files from ``--data`` or ``$SEQNN_DATA_DIR``. Only the
standard library is imported at module level: the thread settings must reach
the environment before numpy (and its BLAS) is loaded.
"""
from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import statistics
import sys
import time

# Shared with the MLP benchmark (standard library only, so importing it loads no numpy).
from mnist_mlp import (ADAM_B1, ADAM_B2, ADAM_EPS, BATCH, LR, PREDICT_BATCH, blas_name, configure_threads,
                       cpu_info, current_rss_mib, peak_rss_mib)


def unit_float_images(images):
    """(n, 28, 28, 1) float32 in [0, 1], made before timing starts (as peers.py does)."""
    import numpy as np
    x = images.reshape(len(images), 28, 28, 1).astype(np.float32)
    x *= np.float32(1 / 255)  # in place: no second float copy in the peak RSS
    return x


def build_model(sn, backend: str):
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
            .add(L.Dense(10, activation="softmax"))
            .compile(optimizer=sn.optimizers.Adam(LR, beta_1=ADAM_B1, beta_2=ADAM_B2, epsilon=ADAM_EPS),
                     loss="sparse_categorical_crossentropy", backend=backend))


def train(args, rec: dict) -> None:
    """Load MNIST, train, predict; add the timing and accuracy fields to ``rec``."""
    t0 = time.perf_counter()
    import numpy as np
    import seqnn as sn
    rec["import_s"] = round(time.perf_counter() - t0, 3)
    rec["framework_info"] = {"seqnn": sn.__version__, "numpy": np.__version__, "blas": blas_name(np)}

    t0 = time.perf_counter()
    (x, y), (xt, yt) = sn.datasets.mnist.load_data(args.data)
    if args.limit_train:
        x, y = x[:args.limit_train], y[:args.limit_train]
    x, xt = unit_float_images(x), unit_float_images(xt)
    rec["data_load_s"] = round(time.perf_counter() - t0, 3)
    rec["rss_before_task_mib"] = round(current_rss_mib(), 1)

    sn.utils.set_random_seed(args.seed)
    model = build_model(sn, args.backend)
    rec["framework_info"]["backend"] = model.backend.name

    times: list[float] = []

    class EpochTimer(sn.callbacks.Callback):
        def on_epoch_begin(self, epoch, logs=None):
            self.t0 = time.perf_counter()

        def on_epoch_end(self, epoch, logs=None):
            times.append(time.perf_counter() - self.t0)

    history = model.fit(x, y, batch_size=BATCH, epochs=args.epochs, shuffle=True, verbose=0,
                        seed=args.seed, callbacks=[EpochTimer()])
    t0 = time.perf_counter()
    probs = model.predict(xt, batch_size=PREDICT_BATCH, verbose=0)
    predict_s = time.perf_counter() - t0
    med = statistics.median(times)
    rec.update({
        "config": {"epochs": args.epochs, "batch": BATCH, "lr": LR, "seed": args.seed,
                   "adam": {"b1": ADAM_B1, "b2": ADAM_B2, "eps": ADAM_EPS}},
        "n_train": len(x), "n_test": len(xt),
        "steps_per_epoch": -(-len(x) // BATCH),
        "epoch_seconds": [round(t, 4) for t in times],
        "median_epoch_s": round(med, 4),
        "median_epoch_s_excl_first": round(statistics.median(times[1:]), 4) if len(times) > 1 else None,
        "first_epoch_s": round(times[0], 4),
        "total_train_s": round(sum(times), 3),
        "samples_per_s": round(len(x) / med, 1),
        "test_acc": round(float((probs.argmax(axis=1) == yt).mean()), 4),
        "train_loss_last_epoch": round(float(history.history["loss"][-1]), 5),
        "predict_s": round(predict_s, 3),
        "impl": f"seqnn Sequential.fit(shuffle=True), im2col conv, softmax output, backend={model.backend.name}",
    })


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--epochs", type=int, default=3)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--limit-train", type=int, default=0, help="use only the first N training images (quick runs)")
    p.add_argument("--data", default=None, help="folder with the MNIST IDX files (default: $SEQNN_DATA_DIR)")
    p.add_argument("--backend", default="numpy", help='seqnn backend: "numpy" (default), "auto", "metal", "cuda"')
    args = p.parse_args(argv)
    if args.epochs < 1:
        p.error("--epochs must be at least 1")

    t_start = time.perf_counter()
    affinity = configure_threads(args.threads)  # before numpy is imported, or BLAS ignores it
    rec = {
        "schema": 1, "framework": "seqnn", "task": "cnn", "variant": None, "ok": False,
        "timestamp": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "host": platform.node(), "cpu": cpu_info(), "python": platform.python_version(),
        "threads": args.threads, "affinity": affinity,
        "env": {k: os.environ.get(k) for k in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS")},
        "loadavg_start": os.getloadavg(),
    }
    try:
        train(args, rec)
        rec["ok"] = True
    except (ValueError, OSError) as e:  # missing or damaged data, bad arguments: report, exit 1
        rec["error"] = f"{type(e).__name__}: {e}"
    rec["peak_rss_mib"] = round(peak_rss_mib(), 1)
    rec["loadavg_end"] = os.getloadavg()
    rec["wall_s"] = round(time.perf_counter() - t_start, 2)
    print(json.dumps(rec))
    return 0 if rec["ok"] else 1


if __name__ == "__main__":
    sys.exit(main())
