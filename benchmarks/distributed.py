#!/usr/bin/env python3
"""Data-parallel training over MPI: MNIST epoch time for N processes, per step split into compute and communication.

    export SEQNN_DATA_DIR=/path/to/mnist
    flock /tmp/bench.lock python benchmarks/distributed.py                 # MLP, N = 1 and 2, 2 epochs
    flock /tmp/bench.lock python benchmarks/distributed.py --model cnn --limit 12800 --batch-size 64 --processes 1
    flock /tmp/bench.lock python benchmarks/distributed.py --float32-sums      # DataParallel(exact_sums=False)

For each N it starts ``mpiexec -n N`` (N = 1: a plain process, no launcher)
with every BLAS / OpenMP pool and seqnn's own threads pinned to one thread
per process, trains the model compiled with ``DataParallel()`` on the global
batch (with exact sums, its default, unless ``--float32-sums``), and reports
from rank 0 the time of the last epoch (the first warms up), and per step:
the communication (the ordered gradient sum, and the one gather of the loss
and the metrics' rows, waiting for the other processes included) and the
compute (the rest). It also times the ordered sum of the model's gradient
vector (in the dtype the training loop sums) against MPI's own
``MPI_Allreduce`` on the same bytes, and prints the cost model's predictions
for 8, 64 and 512 processes at 10 and 100 Gbit/s (see
docs/guide/distributed.rst) from the measured compute per step.
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
THREAD_VARS = ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS", "BLIS_NUM_THREADS",
               "VECLIB_MAXIMUM_THREADS", "NUMEXPR_NUM_THREADS", "SEQNN_NUM_THREADS")
# The cost model's network: per-message latency α and bandwidth β of the links (assumptions, printed).
LINKS = {"10 Gbit/s": (20e-6, 10e9 / 8), "100 Gbit/s": (3e-6, 100e9 / 8)}


def build_model(sn, name: str):
    L = sn.layers
    model = sn.Sequential(name=f"mnist_{name}").add(L.Input((28, 28)))
    if name == "mlp":
        model.add(L.Rescaling(1 / 255)).add(L.Flatten()).add(L.Dense(256, activation="relu"))
        model.add(L.Dropout(0.2)).add(L.Dense(128, activation="relu"))
    else:
        model.add(L.Rescaling(1 / 255)).add(L.Reshape((28, 28, 1)))
        model.add(L.Conv2D(32, 3, activation="relu")).add(L.MaxPooling2D(2))
        model.add(L.Conv2D(64, 3, activation="relu")).add(L.MaxPooling2D(2))
        model.add(L.Flatten()).add(L.Dense(128, activation="relu"))
    return model.add(L.Dense(10, activation="softmax"))


# ---------------------------------------------------------------- worker ---
def worker(args) -> None:
    """One process of the job: train, time, and (rank 0) print one JSON line."""
    import seqnn as sn

    distribution = sn.distribute.DataParallel(exact_sums=not args.float32_sums)
    rank, size = distribution.rank, distribution.size
    (x, y), _ = sn.datasets.mnist.load_data(args.data_dir)
    if args.limit:
        x, y = x[:args.limit], y[:args.limit]
    sn.utils.set_random_seed(0)
    model = build_model(sn, args.model).compile(optimizer=sn.optimizers.Adam(1e-3), metrics=["accuracy"],
                                                loss="sparse_categorical_crossentropy", distribution=distribution)
    spent = {"gradient sum": 0.0, "loss and metrics": 0.0}
    if size > 1:  # time the collectives of the training loop where they are made
        collectives = distribution._collectives
        for method, key in (("allreduce_sum_", "gradient sum"), ("allgather_rows", "loss and metrics")):
            original = getattr(collectives, method)

            def timed(*a, _original=original, _key=key, **k):
                t0 = time.perf_counter()
                try:
                    return _original(*a, **k)
                finally:
                    spent[_key] += time.perf_counter() - t0

            setattr(collectives, method, timed)
    epochs: list[dict] = []

    class Timer(sn.callbacks.Callback):
        def on_epoch_begin(self, epoch, logs=None):
            for key in spent:
                spent[key] = 0.0
            self.t0 = time.perf_counter()

        def on_epoch_end(self, epoch, logs=None):
            epochs.append({"seconds": time.perf_counter() - self.t0, **spent, "loss": logs["loss"]})

    model.fit(x, y, batch_size=args.batch_size, epochs=args.epochs, verbose=0, seed=0, callbacks=[Timer()])
    steps = -(-len(x) // args.batch_size)
    last = epochs[-1]
    comm = sum(last[key] for key in spent)
    record = {"processes": size, "model": args.model, "samples": len(x), "batch_size": args.batch_size,
              "steps": steps, "parameters": int(model.arena.size),
              "sum_bytes": int(model.arena.size) * (4 if args.float32_sums else 8),
              "epoch_s": round(last["seconds"], 3),
              "epoch_s_all": [round(e["seconds"], 3) for e in epochs], "loss": last["loss"],
              "step_ms": 1e3 * last["seconds"] / steps, "compute_ms": 1e3 * (last["seconds"] - comm) / steps,
              **{f"{key}_ms": 1e3 * last[key] / steps for key in spent}}
    if size > 1:
        dtype = "float32" if args.float32_sums else "float64"  # what the training loop sums
        record.update(sum_timings(distribution, model.arena.size, dtype))
    if rank == 0:
        print(json.dumps(record), flush=True)


def sum_timings(distribution, n: int, dtype: str, repeats: int = 50) -> dict:
    """Median time of the ordered sum and of MPI_Allreduce over an n-element vector (the training loop's dtype)."""
    import statistics

    import numpy as np
    from mpi4py import MPI

    flat = np.ones(n, dtype)
    comm = distribution._collectives.comm
    out = {}
    for name, run in (("ordered_sum_ms", lambda: distribution._collectives.allreduce_sum_(flat)),
                      ("mpi_allreduce_ms", lambda: comm.Allreduce(MPI.IN_PLACE, flat))):
        times = []
        for _ in range(repeats):
            distribution.barrier()
            t0 = time.perf_counter()
            run()
            times.append(time.perf_counter() - t0)
        out[name] = 1e3 * statistics.median(times)
    return out


# ---------------------------------------------------------------- driver ---
def cpu_model() -> str:
    try:
        with open("/proc/cpuinfo") as f:
            return next(line.split(":", 1)[1].strip() for line in f if line.startswith("model name"))
    except (OSError, StopIteration):
        return "?"


def run(args, processes: int) -> dict:
    env = {**os.environ, **{var: "1" for var in THREAD_VARS}}
    command = [sys.executable, os.path.abspath(__file__), "--worker", "--model", args.model, "--epochs",
               str(args.epochs), "--batch-size", str(args.batch_size), "--limit", str(args.limit or 0)]
    if args.float32_sums:
        command.append("--float32-sums")
    if args.data_dir:
        command += ["--data-dir", args.data_dir]
    if processes > 1:
        mpiexec = os.path.join(os.path.dirname(sys.executable), "mpiexec")
        command = [mpiexec if os.path.exists(mpiexec) else shutil.which("mpiexec") or "mpiexec",
                   "-n", str(processes)] + command
    proc = subprocess.run(command, capture_output=True, text=True, env=env)
    if proc.returncode != 0:
        raise SystemExit(f"N={processes} failed:\n{proc.stderr[-3000:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def predictions(record: dict) -> list[str]:
    """The cost model: step = compute(shard) + ring allreduce of the parameters + the small gather."""
    import math

    shard = record["batch_size"] // record["processes"]
    compute = record["compute_ms"] / 1e3
    size = record["sum_bytes"]
    lines = [f"predicted (shard of {shard} rows per process, compute {1e3 * compute:.2f} ms/step measured, "
             f"{size / 1e6:.2f} MB summed):",
             f"  {'N':>4} {'link':>11} {'allreduce ms':>13} {'step ms':>8} {'efficiency':>10} "
             f"{'epoch s (60k)':>14} {'speed-up':>9}"]
    one_epoch = 60000 / shard * compute
    for n in (8, 64, 512):
        for link, (alpha, beta) in LINKS.items():
            allreduce = 2 * (n - 1) * alpha + 2 * (n - 1) / n * size / beta
            gathers = math.ceil(math.log2(n)) * alpha  # the one gather of the loss and the metrics' rows
            step = compute + allreduce + gathers
            epoch = 60000 / (shard * n) * step
            lines.append(f"  {n:>4} {link:>11} {1e3 * allreduce:>13.2f} {1e3 * step:>8.2f} "
                         f"{compute / step:>10.0%} {epoch:>14.3f} {one_epoch / epoch:>9.1f}")
    return lines


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--model", choices=("mlp", "cnn"), default="mlp")
    p.add_argument("--processes", default="1,2", help="comma-separated process counts (default: 1,2)")
    p.add_argument("--epochs", type=int, default=2, help="epochs per run; the last is reported (default: 2)")
    p.add_argument("--batch-size", type=int, default=128, help="the global batch (default: 128)")
    p.add_argument("--limit", type=int, default=0, help="train on the first N images only")
    p.add_argument("--data-dir", default=None, help="MNIST IDX files (default: $SEQNN_DATA_DIR)")
    p.add_argument("--float32-sums", action="store_true",
                   help="DataParallel(exact_sums=False): float32 gradient sums per shard (default: exact sums)")
    p.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    args = p.parse_args()
    if args.worker:
        worker(args)
        return
    print(f"CPU: {cpu_model()}, {os.cpu_count()} cores; load average {os.getloadavg()[0]:.1f} at start")
    records = [run(args, int(n)) for n in args.processes.split(",")]
    first = records[0]
    print(f"{args.model.upper()} on {first['samples']} images, global batch {args.batch_size}, "
          f"{first['parameters']:,} parameters; BLAS and seqnn threads: 1 per process; "
          f"{'float32' if args.float32_sums else 'exact (float64)'} gradient sums")
    print(f"{'N':>3} {'epoch s':>8} {'speed-up':>8} {'ms/step':>8} {'compute':>8} {'grad sum':>9} "
          f"{'loss+metrics':>12}   (ms per step, last of {args.epochs} epochs)")
    for r in records:
        print(f"{r['processes']:>3} {r['epoch_s']:>8.2f} {first['epoch_s'] / r['epoch_s']:>8.2f} "
              f"{r['step_ms']:>8.2f} {r['compute_ms']:>8.2f} {r['gradient sum_ms']:>9.2f} "
              f"{r['loss and metrics_ms']:>12.2f}")
    for r in records:
        if "ordered_sum_ms" in r:
            print(f"N={r['processes']}: summing {r['sum_bytes'] / 1e6:.2f} MB: ordered sum "
                  f"{r['ordered_sum_ms']:.2f} ms, MPI_Allreduce {r['mpi_allreduce_ms']:.2f} ms (median of 50)")
    print("\n".join(predictions(records[-1])))
    print(json.dumps(records))


if __name__ == "__main__":
    main()
