#!/usr/bin/env python3
"""Digits CNN convergence: test accuracy of the same Keras-style script in seqnn, Keras and PyTorch.

The task (from a user report that seqnn trained this network to lower accuracy
than Keras): scikit-learn's 8×8 digits scaled to [0, 1], shaped (n, 8, 8, 1),
a 25 % stratified test split (``train_test_split(..., stratify=y,
random_state=seed)``), the model

    Conv2D(16, 3, same, relu) → MaxPooling2D(2) → Conv2D(32, 3, same, relu)
    → GlobalAveragePooling2D → Dense(10, softmax)

Adam with Keras's defaults, sparse categorical cross-entropy, batch 32
(reshuffled every epoch, the last partial batch kept), 40 epochs, seeded with
``utils.set_random_seed(seed)``. seqnn and Keras run the very same code
(``build_keras_style(lib)`` with ``lib`` = ``seqnn`` or ``keras``); PyTorch runs
the same network with Keras's initialisation (Glorot-uniform kernels, zero
biases) and Keras's Adam ε = 1e-7.

Each framework runs where it is installed (seqnn always; Keras with
``KERAS_BACKEND``, default ``jax``; PyTorch), seed by seed, and the script
prints ONE JSON line per run (framework, seed, test accuracy, last epoch's
training loss, seconds) and then one summary line per framework (the per-seed
accuracies, their mean and standard deviation)::

    python benchmarks/digits_cnn_convergence.py --seeds 0-9
    python benchmarks/digits_cnn_convergence.py --seeds 0,3 --frameworks seqnn --epochs 5   # quick

Data: scikit-learn's ``load_digits`` (its data ships inside the wheel, so no
network is needed) and its ``train_test_split``; the script needs
scikit-learn and says so when it is missing. The images and labels are the
same as seqnn's embedded ``seqnn.datasets.digits`` (1,797 samples, same order),
but that module has its own fixed split, so it is not used here.

Test accuracy varies by a few points from seed to seed (the seed picks the
split, the initial weights and the batch order), so compare means over ten
seeds or more, never single runs.
"""
from __future__ import annotations

import argparse
import importlib.util
import json
import os
import statistics
import sys
import time

import harness

EPOCHS = 40
BATCH = 32
TEST_SIZE = 0.25
FRAMEWORKS = ("seqnn", "keras", "torch")


def build_keras_style(lib):
    """The network, written once for any library with Keras's Sequential API."""
    L = lib.layers
    model = lib.Sequential([
        lib.Input((8, 8, 1)),
        L.Conv2D(16, 3, padding="same", activation="relu"),
        L.MaxPooling2D(2),
        L.Conv2D(32, 3, padding="same", activation="relu"),
        L.GlobalAveragePooling2D(),
        L.Dense(10, activation="softmax"),
    ])
    model.compile(optimizer=lib.optimizers.Adam(), loss="sparse_categorical_crossentropy",
                  metrics=["accuracy"])
    return model


def load_split(seed: int):
    """(x_train, x_test, y_train, y_test): float32 images in [0, 1], shaped (n, 8, 8, 1)."""
    import numpy as np
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split

    digits = load_digits()
    x = (digits.images / 16.0).astype(np.float32).reshape(-1, 8, 8, 1)
    return train_test_split(x, digits.target, test_size=TEST_SIZE, stratify=digits.target, random_state=seed)


def run_keras_style(lib, seed: int, epochs: int) -> dict:
    """Train with seqnn or Keras exactly as a Keras user would; returns the run's figures."""
    x, xt, y, yt = load_split(seed)
    lib.utils.set_random_seed(seed)
    model = build_keras_style(lib)
    t0 = time.perf_counter()
    history = model.fit(x, y, batch_size=BATCH, epochs=epochs, verbose=0)
    seconds = time.perf_counter() - t0
    _, acc = model.evaluate(xt, yt, verbose=0)
    return {"test_acc": float(acc), "train_loss_last_epoch": float(history.history["loss"][-1]),
            "train_s": seconds}


def run_torch(seed: int, epochs: int) -> dict:
    """The same network and training in PyTorch, with Keras's initialisation and Adam ε."""
    import torch
    from torch import nn

    x, xt, y, yt = load_split(seed)
    torch.manual_seed(seed)
    model = nn.Sequential(
        nn.Conv2d(1, 16, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(16, 32, 3, padding=1), nn.ReLU(), nn.AdaptiveAvgPool2d(1), nn.Flatten(),
        nn.Linear(32, 10))  # softmax is inside cross_entropy
    for module in model:
        if isinstance(module, (nn.Conv2d, nn.Linear)):
            nn.init.xavier_uniform_(module.weight)  # = Keras's glorot_uniform, same fans
            nn.init.zeros_(module.bias)
    opt = torch.optim.Adam(model.parameters(), lr=1e-3, betas=(0.9, 0.999), eps=1e-7)
    xb_all = torch.from_numpy(x).permute(0, 3, 1, 2).contiguous()  # NHWC → NCHW
    yb_all = torch.from_numpy(y).long()
    order_rng = torch.Generator().manual_seed(seed)
    t0 = time.perf_counter()
    for _ in range(epochs):
        order = torch.randperm(len(x), generator=order_rng)
        total, count = 0.0, 0
        for i in range(0, len(x), BATCH):
            idx = order[i:i + BATCH]
            loss = nn.functional.cross_entropy(model(xb_all[idx]), yb_all[idx])
            opt.zero_grad()
            loss.backward()
            opt.step()
            total, count = total + loss.item() * len(idx), count + len(idx)
    seconds = time.perf_counter() - t0
    with torch.no_grad():
        pred = model(torch.from_numpy(xt).permute(0, 3, 1, 2)).argmax(1).numpy()
    return {"test_acc": float((pred == yt).mean()), "train_loss_last_epoch": total / count, "train_s": seconds}


def parse_seeds(text: str) -> list[int]:
    """'0-9' or '0,3,5' or a mix ('0-4,10')."""
    seeds: list[int] = []
    for part in text.split(","):
        lo, _, hi = part.partition("-")
        seeds.extend(range(int(lo), int(hi) + 1) if hi else [int(lo)])
    return seeds


def installed(framework: str) -> bool:
    module = {"seqnn": "seqnn", "keras": "keras", "torch": "torch"}[framework]
    return importlib.util.find_spec(module) is not None


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--seeds", default="0-9", help="e.g. 0-9, or 0,3,5 (default 0-9)")
    p.add_argument("--epochs", type=int, default=EPOCHS)
    p.add_argument("--frameworks", default=",".join(FRAMEWORKS),
                   help="comma-separated subset of seqnn,keras,torch; those not installed are skipped")
    p.add_argument("--threads", type=int, default=2)
    args = p.parse_args(argv)
    seeds = parse_seeds(args.seeds)
    wanted = [f.strip() for f in args.frameworks.split(",") if f.strip()]
    unknown = sorted(set(wanted) - set(FRAMEWORKS))
    if unknown:
        p.error(f"--frameworks: unknown {unknown}; known: {', '.join(FRAMEWORKS)}")
    if importlib.util.find_spec("sklearn") is None:
        print("digits_cnn_convergence.py needs scikit-learn (load_digits and train_test_split): "
              "pip install scikit-learn", file=sys.stderr)
        return 2

    harness.configure_threads(args.threads)  # before numpy is imported
    os.environ.setdefault("KERAS_BACKEND", "jax")
    cpu = harness.cpu_info()["model"]
    skipped = [f for f in wanted if not installed(f)]
    for framework in skipped:
        print(f"{framework} is not installed: skipped", file=sys.stderr)

    for framework in (f for f in wanted if f not in skipped):
        if framework == "torch":
            import torch
            torch.set_num_threads(args.threads)
            version, run = torch.__version__, lambda seed: run_torch(seed, args.epochs)
        else:
            lib = __import__(framework)
            version, run = lib.__version__, (lambda seed, lib=lib: run_keras_style(lib, seed, args.epochs))
        extra = {"keras_backend": os.environ["KERAS_BACKEND"]} if framework == "keras" else {}
        accs = []
        for seed in seeds:
            rec = run(seed)
            accs.append(rec["test_acc"])
            print(json.dumps({"framework": framework, "version": version, **extra, "seed": seed,
                              "epochs": args.epochs, "test_acc": round(rec["test_acc"], 4),
                              "train_loss_last_epoch": round(rec["train_loss_last_epoch"], 4),
                              "train_s": round(rec["train_s"], 2)}), flush=True)
        print(json.dumps({"framework": framework, "version": version, **extra, "summary": True,
                          "seeds": seeds, "epochs": args.epochs, "test_acc": [round(a, 4) for a in accs],
                          "mean_test_acc": round(statistics.fmean(accs), 4),
                          "std_test_acc": round(statistics.stdev(accs), 4) if len(accs) > 1 else None,
                          "cpu": cpu, "threads": args.threads}), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
