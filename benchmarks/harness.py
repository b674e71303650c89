"""The shared part of the MNIST benchmarks: thread pinning, timing, and the peers.py record format.

A benchmark script supplies the task name, its model and its input conversion;
``main`` loads MNIST, trains with an epoch timer, predicts the test set and
prints ONE JSON line with the fields of a ``peers.py --json`` record. Only the
standard library is imported at module level: the thread settings must reach
the environment before numpy (and its BLAS) is loaded.
"""
from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import resource
import statistics
import sys
import time
from typing import Callable

BATCH = 128
LR = 1e-3
ADAM_B1, ADAM_B2, ADAM_EPS = 0.9, 0.999, 1e-7  # Keras's defaults, the same in peers.py
PREDICT_BATCH = 1024
THREAD_VARS = ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS", "BLIS_NUM_THREADS",
               "VECLIB_MAXIMUM_THREADS", "NUMEXPR_NUM_THREADS")


def mlp_parameters(w1: int, w2: int) -> int:
    """The parameter count of the MLP 784-w1-w2-10."""
    return 784 * w1 + w1 + w1 * w2 + w2 + w2 * 10 + 10


def configure_threads(n: int) -> list[int]:
    """Pin BLAS/OpenMP pools to ``n`` threads and the process to ``n`` CPUs (as peers.py does)."""
    for var in THREAD_VARS:
        os.environ[var] = str(n)
    cpus = sorted(os.sched_getaffinity(0))
    if n < len(cpus):
        os.sched_setaffinity(0, cpus[:n])
    elif n > len(cpus):
        print(f"warning: --threads {n} > {len(cpus)} usable CPUs", file=sys.stderr)
    return sorted(os.sched_getaffinity(0))


def cpu_info() -> dict:
    model, flags = "?", set()
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name") and model == "?":
                    model = line.split(":", 1)[1].strip()
                elif line.startswith("flags") and not flags:
                    flags = set(line.split(":", 1)[1].split())
    except OSError:
        pass
    keep = ("avx2", "fma", "avx512f", "avx512_bf16", "avx512_fp16", "amx_tile", "amx_bf16", "amx_int8")
    return {"model": model, "ncpu": os.cpu_count(), "isa": [k for k in keep if k in flags],
            "machine": platform.machine(), "kernel": platform.release()}


def peak_rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0  # KiB on Linux


def current_rss_mib() -> float:
    with open("/proc/self/statm") as f:
        pages = int(f.read().split()[1])
    return pages * os.sysconf("SC_PAGE_SIZE") / 2**20


def blas_name(np) -> str | None:
    """The BLAS numpy was built with (name and version), which sets the speed of every Dense layer."""
    try:
        blas = np.show_config(mode="dicts")["Build Dependencies"]["blas"]
        return f"{blas.get('name')} {blas.get('version')}"
    except Exception:  # older numpy has no mode="dicts"; the figure is informative only
        return None


def train(args, rec: dict, build_model: Callable, to_float: Callable) -> None:
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
    x, xt = to_float(x), to_float(xt)
    rec["data_load_s"] = round(time.perf_counter() - t0, 3)
    rec["rss_before_task_mib"] = round(current_rss_mib(), 1)

    sn.utils.set_random_seed(args.seed)
    model = build_model(sn).compile(
        optimizer=sn.optimizers.Adam(LR, beta_1=ADAM_B1, beta_2=ADAM_B2, epsilon=ADAM_EPS),
        loss="sparse_categorical_crossentropy", backend=args.backend)
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
        "impl": f"seqnn Sequential.fit(shuffle=True), softmax output, backend={model.backend.name}",
    })


def main(task: str, build_model: Callable, to_float: Callable, default_epochs: int, description: str,
         argv=None) -> int:
    """Parse the common options, run ``task`` and print its record; exit status 0 when it ran."""
    p = argparse.ArgumentParser(description=description)
    p.add_argument("--epochs", type=int, default=default_epochs)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--limit-train", type=int, default=0, help="use only the first N training images (quick runs)")
    p.add_argument("--data", default=None, help="folder with the MNIST IDX files (default: $SEQNN_DATA_DIR)")
    p.add_argument("--backend", default="numpy", help='seqnn backend: "numpy" (default), "auto", "metal"')
    args = p.parse_args(argv)
    if args.epochs < 1:
        p.error("--epochs must be at least 1")

    t_start = time.perf_counter()
    affinity = configure_threads(args.threads)  # before numpy is imported, or BLAS ignores it
    rec = {
        "schema": 1, "framework": "seqnn", "task": task, "variant": None, "ok": False,
        "timestamp": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "host": platform.node(), "cpu": cpu_info(), "python": platform.python_version(),
        "threads": args.threads, "affinity": affinity,
        "env": {k: os.environ.get(k) for k in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS")},
        "loadavg_start": os.getloadavg(),
    }
    try:
        train(args, rec, build_model, to_float)
        rec["ok"] = True
    except (ValueError, OSError) as e:  # missing or damaged data, bad arguments: report, exit 1
        rec["error"] = f"{type(e).__name__}: {e}"
    rec["peak_rss_mib"] = round(peak_rss_mib(), 1)
    rec["loadavg_end"] = os.getloadavg()
    rec["wall_s"] = round(time.perf_counter() - t_start, 2)
    print(json.dumps(rec))
    return 0 if rec["ok"] else 1
