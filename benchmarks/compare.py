#!/usr/bin/env python3
"""seqnn beside PyTorch, Keras on JAX and plain numpy: the performance targets, side by side.

Runs seqnn and its peers (through the shared ``peers.py`` harness, one process
per run, every run under ``flock /tmp/bench.lock``), alternating: in every
repetition each figure is measured for seqnn and for each peer back to back,
seqnn first in even repetitions and last in odd ones, so slow drifts of a
shared machine hit both sides alike. It then prints the target table: for each
figure the median over repetitions and its spread (min–max) per framework, the
ratio of the medians, and whether the target is met.

    python benchmarks/compare.py                     # the full table (≈ 15–20 min on 2 cores)
    python benchmarks/compare.py --quick             # fewer epochs and images (≈ 4 min)
    python benchmarks/compare.py --quick --contended # adds the CNN under a competing CPU-bound process
    python benchmarks/compare.py --figures mlp,infer --repeats 5 --out runs.jsonl
    python benchmarks/compare.py --from runs.jsonl --plot scaling.png  # the table and the scaling figure again

Figures: ``mlp`` (MLP epoch), ``cnn`` (CNN epoch; PyTorch NCHW and
channels-last), ``infer`` (batch-1024 throughput and single-sample latency),
``scaling`` (MLP widths 256/128, 1024/1024, 4096/4096, one epoch on a subset,
seqnn and PyTorch), ``import`` (fresh ``import seqnn``); peak RSS and test
accuracy come from the training runs. Only the standard library is imported
here; each run is a fresh process with its threads pinned (``--threads``).

Where things live: ``--peers`` (default ``$SEQNN_PEERS``, else
``../shared/bench/peers.py`` beside the clone), MNIST in ``--data`` (default
``$SEQNN_DATA_DIR``), Keras in ``--keras-python`` (an interpreter that has
keras and jax; default ``$SEQNN_KERAS_PYTHON``, else this one). A peer that
cannot run here is reported as ``n/a`` and its targets as not measured.
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
LOCK = "/tmp/bench.lock"
SCALING_WIDTHS = ((256, 128), (1024, 1024), (4096, 4096))


# ------------------------------------------------------------------ workers ---
def scaling_worker(args) -> int:
    """Epoch times of an MLP 784-w1-w2-10 (Adam, batch 128) on the first N MNIST images: one JSON line.

    The figure is the last epoch: the first one also pays for first-call set-up (PyTorch's especially).
    """
    sys.path.insert(0, HERE)
    import harness
    harness.configure_threads(args.threads)
    import numpy as np
    w1, w2 = (int(w) for w in args.widths.split(","))
    import seqnn as sn  # the MNIST reader only; torch runs read the same arrays
    (x, y), _ = sn.datasets.mnist.load_data(args.data)
    x = x[:args.limit_train].reshape(args.limit_train, -1).astype(np.float32) / np.float32(255)
    y = y[:args.limit_train].astype(np.int64)
    times = []
    if args.framework == "seqnn":
        sn.utils.set_random_seed(0)
        L = sn.layers
        model = sn.Sequential([L.Input((784,)), L.Dense(w1, activation="relu"), L.Dense(w2, activation="relu"),
                               L.Dense(10)]).compile(
            optimizer=sn.optimizers.Adam(1e-3, beta_1=0.9, beta_2=0.999, epsilon=1e-7),
            loss=sn.losses.SparseCategoricalCrossentropy(from_logits=True))

        class Timer(sn.callbacks.Callback):
            def on_epoch_begin(self, epoch, logs=None):
                self.t0 = time.perf_counter()

            def on_epoch_end(self, epoch, logs=None):
                times.append(time.perf_counter() - self.t0)

        model.fit(x, y, batch_size=128, epochs=args.epochs, shuffle=True, verbose=0, seed=0, callbacks=[Timer()])
    else:
        import torch
        torch.set_num_threads(args.threads)
        torch.manual_seed(0)
        nn, F = torch.nn, torch.nn.functional
        model = nn.Sequential(nn.Linear(784, w1), nn.ReLU(), nn.Linear(w1, w2), nn.ReLU(), nn.Linear(w2, 10))
        opt = torch.optim.Adam(model.parameters(), lr=1e-3, betas=(0.9, 0.999), eps=1e-7)
        X, Y = torch.from_numpy(x), torch.from_numpy(y)
        gen = torch.Generator().manual_seed(0)
        for _ in range(args.epochs):
            t0 = time.perf_counter()
            perm = torch.randperm(len(X), generator=gen)
            for s in range(0, len(X), 128):
                idx = perm[s:s + 128]
                opt.zero_grad(set_to_none=True)
                loss = F.cross_entropy(model(X.index_select(0, idx)), Y.index_select(0, idx))
                loss.backward()
                opt.step()
                loss.item()
            times.append(time.perf_counter() - t0)
    print(json.dumps({"ok": True, "framework": args.framework, "task": "scaling", "widths": [w1, w2],
                      "epoch_seconds": times, "median_epoch_s": times[-1],
                      "n_train": args.limit_train, "cpu": harness.cpu_info()}))
    return 0


def import_worker() -> int:
    t0 = time.perf_counter()
    import seqnn  # noqa: F401
    print(json.dumps({"ok": True, "framework": "seqnn", "task": "import", "import_s": time.perf_counter() - t0}))
    return 0


# The competing CPU-bound process of --contended: one busy Python loop (one core's worth of work).
BURNER = "x = 0\nwhile True:\n    x = (x * 1103515245 + 12345) & 0xFFFFFFFF\n"


# ------------------------------------------------------------------- driver ---
def last_json(text: str):
    for line in reversed(text.strip().splitlines()):
        try:
            return json.loads(line)
        except ValueError:
            continue
    return None


class Runner:
    def __init__(self, args):
        self.args = args
        self.records: list[dict] = []
        self.cpu = None

    def run(self, label: str, cmd: list[str], figure: str, framework: str, contended: bool = False) -> dict:
        full = ["flock", LOCK] + cmd
        env = dict(os.environ)
        env.setdefault("SEQNN_DATA_DIR", self.args.data or "")
        env["PYTHONPATH"] = ROOT + os.pathsep + env.get("PYTHONPATH", "")
        t0 = time.perf_counter()
        if contended:
            # Started inside the lock: the competitor must only ever compete with the timed run.
            full = ["flock", LOCK, sys.executable, __file__, "--contended-child"] + cmd
        p = subprocess.run(full, capture_output=True, text=True, env=env, check=False)
        rec = last_json(p.stdout) or {"ok": False, "error": (p.stderr or p.stdout)[-800:]}
        rec.update(figure=figure, label=framework, contended=contended, rc=p.returncode,
                   run_wall_s=round(time.perf_counter() - t0, 2))
        if rec.get("ok") and self.cpu is None and isinstance(rec.get("cpu"), dict):
            self.cpu = rec["cpu"].get("model")
        status = "ok" if rec.get("ok") else "FAILED: " + str(rec.get("error", ""))[-300:].replace("\n", " ")
        print(f"  {label:<34} {summary_of(rec)}  [{status}]", file=sys.stderr, flush=True)
        self.records.append(rec)
        if self.args.out:
            with open(self.args.out, "a") as f:
                f.write(json.dumps(rec) + "\n")
        return rec


def summary_of(rec: dict) -> str:
    if not rec.get("ok"):
        return ""
    if "throughput_samples_per_s" in rec:
        return f"{rec['throughput_samples_per_s']:.0f} samples/s, latency {rec.get('latency_median_ms')} ms"
    if "median_epoch_s" in rec:
        return f"{rec['median_epoch_s']:.3f} s/epoch, acc {rec.get('test_acc', '-')}, RSS {rec.get('peak_rss_mib', '-')}"
    if "import_s" in rec:
        return f"import {rec['import_s']:.3f} s"
    return ""


def plan(args):
    """[(figure, framework label, command, contended)] for one repetition, seqnn first."""
    py, kpy, peers = sys.executable, args.keras_python, args.peers
    common = ["--threads", str(args.threads), "--json"] + (["--data", args.data] if args.data else [])
    q = args.quick
    mlp_epochs = ["--epochs", "2" if q else "10"]
    cnn_epochs = ["--epochs", "1" if q else "2"] + (["--limit-train", "15360"] if q else [])
    peer = lambda fw, task, extra=(): ([kpy if fw == "keras" else py, peers, "--framework", fw, "--task", task]
                                       + common + list(extra))
    jobs = {}
    if "mlp" in args.figures:
        jobs["mlp"] = [("seqnn", peer("seqnn", "mlp", mlp_epochs))] + [
            (fw, peer(fw, "mlp", mlp_epochs)) for fw in ("torch", "keras", "numpy") if fw in args.peers_list]
    if "cnn" in args.figures:
        cnn = [("seqnn", peer("seqnn", "cnn", cnn_epochs))]
        if "torch" in args.peers_list:
            cnn += [("torch", peer("torch", "cnn", cnn_epochs)),
                    ("torch-cl", peer("torch", "cnn", cnn_epochs + ["--channels-last"]))]
        cnn += [(fw, peer(fw, "cnn", cnn_epochs)) for fw in ("keras", "numpy")
                if fw in args.peers_list and args.slow_cnn_peers]
        jobs["cnn"] = cnn
    if "infer" in args.figures:
        reps = ["--infer-reps", "3" if q else "7"]
        jobs["infer"] = [("seqnn", peer("seqnn", "infer", reps))] + [
            (fw, peer(fw, "infer", reps)) for fw in ("torch", "keras", "numpy") if fw in args.peers_list]
    if "scaling" in args.figures:
        n = "2560" if q else "10000"
        for w1, w2 in SCALING_WIDTHS:
            jobs[f"scaling-{w1}x{w2}"] = [
                (fw, [py, __file__, "--scaling-worker", "--framework", fw, "--widths", f"{w1},{w2}",
                      "--limit-train", n, "--threads", str(args.threads)] + (["--data", args.data] if args.data else []))
                for fw in ("seqnn", "torch") if fw == "seqnn" or "torch" in args.peers_list]
    if "import" in args.figures:
        jobs["import"] = [("seqnn", [py, __file__, "--import-worker"])]
    out = []
    for figure, runs in jobs.items():
        out.append((figure, runs, False))
        if args.contended and figure == "cnn":
            out.append(("cnn-contended", [r for r in runs if r[0] in ("seqnn", "torch", "torch-cl")], True))
    return out


# -------------------------------------------------------------------- table ---
def values(records, figure, label, key, contended=False):
    return [r[key] for r in records if r.get("ok") and r["figure"] == figure and r["label"] == label
            and r.get("contended", False) == contended and r.get(key) is not None]


def med(xs):
    return statistics.median(xs) if xs else None


def cell(xs, spec):
    if not xs:
        return "n/a"
    s = format(med(xs), spec)
    return s + (f" ({format(min(xs), spec)}–{format(max(xs), spec)})" if len(xs) > 1 else "")


def report(records, args, cpu):
    rows = []

    def row(figure, target, seqnn_xs, peer_cells, ratio, limit, better="lower", note=""):
        if ratio is None:
            verdict = "not measured"
        elif limit is None:
            verdict = "—"
        else:
            verdict = "met" if (ratio <= limit if better == "lower" else ratio >= limit) else "NOT met"
        rows.append((figure, target, seqnn_xs, peer_cells, "n/a" if ratio is None else f"{ratio:.2f}", verdict, note))

    def epoch(figure, fw, contended=False):
        return values(records, figure, fw, "median_epoch_s", contended)

    if "mlp" in args.figures:
        peers = {fw: epoch("mlp", fw) for fw in ("torch", "keras", "numpy")}
        s = epoch("mlp", "seqnn")
        k = med(peers["keras"])
        row("MLP epoch, s", "≤ 0.9× Keras/JAX", cell(s, ".3f"),
            ", ".join(f"{fw} {cell(v, '.3f')}" for fw, v in peers.items() if v),
            med(s) / k if s and k else None, 0.9,
            note="best peer: " + min(((med(v), fw) for fw, v in peers.items() if v), default=(0, "-"))[1])
        for fw, lim in (("torch", 0.6),):
            rs, rt = values(records, "mlp", "seqnn", "peak_rss_mib"), values(records, "mlp", fw, "peak_rss_mib")
            row("peak RSS MLP training, MiB", "≤ 0.6× PyTorch", cell(rs, ".0f"), f"torch {cell(rt, '.0f')}",
                med(rs) / med(rt) if rs and rt else None, lim)
        acc = values(records, "mlp", "seqnn", "test_acc")
        row("MLP test accuracy", "≥ 98.0 % (10 epochs)", cell([100 * a for a in acc], ".2f"),
            ", ".join(f"{fw} {cell([100 * a for a in values(records, 'mlp', fw, 'test_acc')], '.2f')}"
                      for fw in peers if values(records, "mlp", fw, "test_acc")),
            None if args.quick or not acc else med(acc) * 100, 98.0, better="higher",
            note="quick run: fewer epochs, not a verdict" if args.quick else "")
    if "cnn" in args.figures:
        s = epoch("cnn", "seqnn")
        t, tcl = epoch("cnn", "torch"), epoch("cnn", "torch-cl")
        best = min([v for v in (med(t), med(tcl)) if v is not None], default=None)
        others = {fw: epoch("cnn", fw) for fw in ("keras", "numpy")}
        row("CNN epoch, s", "≤ 1.0× PyTorch (best layout)", cell(s, ".2f"),
            f"torch {cell(t, '.2f')}, channels-last {cell(tcl, '.2f')}"
            + "".join(f", {fw} {cell(v, '.2f')}" for fw, v in others.items() if v),
            med(s) / best if s and best else None, 1.0)
        rs, rt = values(records, "cnn", "seqnn", "peak_rss_mib"), values(records, "cnn", "torch", "peak_rss_mib")
        row("peak RSS CNN training, MiB", "≤ 0.6× PyTorch", cell(rs, ".0f"), f"torch {cell(rt, '.0f')}",
            med(rs) / med(rt) if rs and rt else None, 0.6)
        acc = values(records, "cnn", "seqnn", "test_acc")
        row("CNN test accuracy", "≥ 98.5 % (3 epochs)", cell([100 * a for a in acc], ".2f"),
            f"torch {cell([100 * a for a in values(records, 'cnn', 'torch', 'test_acc')], '.2f')}",
            None if args.quick or not acc else med(acc) * 100, 98.5, better="higher",
            note="quick run: 1 epoch on a subset, not a verdict" if args.quick else
            "measured after the run's epochs (--epochs 2 in the full table)")
        if args.contended:
            sc, tc = epoch("cnn-contended", "seqnn", True), epoch("cnn-contended", "torch", True)
            tclc = epoch("cnn-contended", "torch-cl", True)
            deg_s = med(sc) / med(s) if sc and s else None
            deg_t = min([med(a) / med(b) for a, b in ((tc, t), (tclc, tcl)) if a and b], default=None)
            row("CNN epoch with a competing process, s", "slowdown ≤ 1.2× PyTorch's", cell(sc, ".2f"),
                f"torch {cell(tc, '.2f')}, channels-last {cell(tclc, '.2f')}",
                deg_s / deg_t if deg_s and deg_t else None, 1.2,
                note=(f"slowdown seqnn {deg_s:.2f}×, PyTorch {deg_t:.2f}×" if deg_s and deg_t else ""))
    if "infer" in args.figures:
        s = values(records, "infer", "seqnn", "throughput_samples_per_s")
        peers = {fw: values(records, "infer", fw, "throughput_samples_per_s") for fw in ("torch", "keras", "numpy")}
        row("predict throughput, batch 1024, samples/s", "≥ 1.2× PyTorch", cell([v / 1e3 for v in s], ".0f") + (" k" if s else ""),
            ", ".join(f"{fw} {cell([v / 1e3 for v in xs], '.0f')} k" for fw, xs in peers.items() if xs),
            med(s) / med(peers["torch"]) if s and peers["torch"] else None, 1.2, better="higher")
        lat = lambda fw, path: [r["latency_ms"][path]["median"] * 1e3 for r in records
                                if r.get("ok") and r["figure"] == "infer" and r["label"] == fw
                                and path in r.get("latency_ms", {})]
        s, t = lat("seqnn", "predict"), lat("torch", "module_call")
        row("single-sample predict latency, µs", "≤ 1.0× PyTorch module call", cell(s, ".0f"),
            f"torch {cell(t, '.0f')}; seqnn model(x) {cell(lat('seqnn', 'call'), '.0f')}, "
            f"predict_on_batch {cell(lat('seqnn', 'predict_on_batch'), '.0f')}",
            med(s) / med(t) if s and t else None, 1.0)
    for w1, w2 in SCALING_WIDTHS:
        fig = f"scaling-{w1}x{w2}"
        if "scaling" in args.figures:
            s, t = epoch(fig, "seqnn"), epoch(fig, "torch")
            row(f"MLP {w1}/{w2}, s/epoch on {'2,560' if args.quick else '10,000'} images",
                "≤ 1.0× PyTorch" if w1 >= 1024 else "(scaling figure)", cell(s, ".3f"), f"torch {cell(t, '.3f')}",
                med(s) / med(t) if s and t else None, 1.0 if w1 >= 1024 else None,
                note="second of 2 epochs (the first warms up)")
    if "import" in args.figures:
        s = values(records, "import", "seqnn", "import_s")
        row("fresh `import seqnn`, s", "≤ 0.25 s absolute", cell(s, ".3f"), "", med(s), 0.25)

    print(f"\nCPU: {cpu or '?'}; {args.threads} threads; {args.repeats} alternating repetitions"
          f"{' (quick)' if args.quick else ''}; median (min–max) over repetitions\n")
    print("| figure | target | seqnn | peers | ratio | verdict | note |")
    print("|---|---|---|---|---|---|---|")
    for r in rows:
        print("| " + " | ".join(r) + " |")
    return rows


def plot_scaling(records, path: str, cpu, threads: int) -> None:
    """The scaling figure: seconds per epoch against the model's parameter count, seqnn and PyTorch,
    on log-log axes (medians, with each repetition as a dot), saved to ``path``."""
    try:
        import matplotlib
    except ImportError:
        raise SystemExit("--plot needs matplotlib: pip install matplotlib (or the project's dev extra)") from None
    matplotlib.use("Agg")
    import harness
    import matplotlib.pyplot as plt
    sizes = {widths: harness.mlp_parameters(*widths) for widths in SCALING_WIDTHS}
    fig, ax = plt.subplots(figsize=(6.4, 4.2), layout="constrained")
    medians = {}  # (framework, widths) -> median seconds per epoch
    for label, colour in (("seqnn", "tab:blue"), ("torch", "tab:orange")):
        xs, ys = [], []
        for w1, w2 in SCALING_WIDTHS:
            epochs = values(records, f"scaling-{w1}x{w2}", label, "median_epoch_s")
            if epochs:
                ax.scatter([sizes[w1, w2]] * len(epochs), epochs, s=12, color=colour, alpha=0.4)
                medians[label, (w1, w2)] = med(epochs)
                xs.append(sizes[w1, w2])
                ys.append(med(epochs))
        if xs:
            ax.plot(xs, ys, "o-", color=colour, label={"torch": "PyTorch"}.get(label, label))
    for w1, w2 in SCALING_WIDTHS:
        s, t = medians.get(("seqnn", (w1, w2))), medians.get(("torch", (w1, w2)))
        if s:
            ax.annotate(f"{w1}/{w2}" + (f"\nseqnn/PyTorch {s / t:.2f}" if t else ""), (sizes[w1, w2], s),
                        textcoords="offset points", xytext=(8, -22), fontsize=8)
    images = next((r.get("n_train") for r in records if str(r.get("figure", "")).startswith("scaling-")), None)
    if images is None:
        raise SystemExit("--plot: the records hold no scaling figure (run with --figures scaling)")
    ax.set(xscale="log", yscale="log", xlabel="parameters (MLP 784-w₁-w₂-10)",
           ylabel=f"seconds per epoch ({images:,} images, batch 128)",
           title=f"Training cost against model size\n{cpu or '?'}, {threads} threads; median of the repetitions")
    ax.margins(x=0.25, y=0.25)
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(loc="upper left")
    fig.savefig(path, dpi=120)
    print(f"scaling figure written to {path}", file=sys.stderr)


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--figures", default="mlp,cnn,infer,scaling,import")
    p.add_argument("--peers-list", default="torch,keras,numpy", help="peers to run (comma list)")
    p.add_argument("--repeats", type=int, default=3, help="alternating repetitions (≥ 3 for a verdict)")
    p.add_argument("--quick", action="store_true", help="fewer epochs and images: minutes, not a verdict on accuracy")
    p.add_argument("--contended", action="store_true", help="also run the CNN beside a competing CPU-bound process")
    p.add_argument("--slow-cnn-peers", action="store_true", help="also run Keras and numpy on the CNN (slow)")
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--data", default=os.environ.get("SEQNN_DATA_DIR"))
    p.add_argument("--peers", default=os.environ.get("SEQNN_PEERS",
                                                     os.path.join(ROOT, "..", "shared", "bench", "peers.py")))
    p.add_argument("--keras-python", default=os.environ.get("SEQNN_KERAS_PYTHON", sys.executable))
    p.add_argument("--out", default=None, help="append every run's JSON record here")
    p.add_argument("--from", dest="from_file", default=None, help="print the table from a saved --out file")
    p.add_argument("--plot", default=None, metavar="PNG", help="also draw the scaling figure into this file")
    # internal modes (one process per run)
    p.add_argument("--scaling-worker", action="store_true", help=argparse.SUPPRESS)
    p.add_argument("--import-worker", action="store_true", help=argparse.SUPPRESS)
    p.add_argument("--contended-child", nargs=argparse.REMAINDER, help=argparse.SUPPRESS)
    p.add_argument("--framework", default="seqnn", help=argparse.SUPPRESS)
    p.add_argument("--widths", default="256,128", help=argparse.SUPPRESS)
    p.add_argument("--limit-train", type=int, default=10000, help=argparse.SUPPRESS)
    p.add_argument("--epochs", type=int, default=2, help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if args.scaling_worker:
        return scaling_worker(args)
    if args.import_worker:
        return import_worker()
    if args.contended_child is not None:  # run the command beside a burner process, under the caller's lock
        burner_proc = subprocess.Popen([sys.executable, "-c", BURNER])
        try:
            return subprocess.run(args.contended_child, check=False).returncode
        finally:
            burner_proc.kill()
            burner_proc.wait()
    args.figures = [f.strip() for f in args.figures.split(",") if f.strip()]
    args.peers_list = [f.strip() for f in args.peers_list.split(",") if f.strip()]
    if args.from_file:
        with open(args.from_file) as f:
            recs = [json.loads(line) for line in f if line.strip()]
        cpu = next((r["cpu"]["model"] for r in recs if isinstance(r.get("cpu"), dict)), None)
        report(recs, args, cpu)
        if args.plot:
            plot_scaling(recs, args.plot, cpu, args.threads)
        return 0
    if not os.path.exists(args.peers):
        p.error(f"peers.py not found at {args.peers} (set --peers or $SEQNN_PEERS)")
    runner = Runner(args)
    jobs = plan(args)
    for rep in range(args.repeats):
        print(f"repetition {rep + 1}/{args.repeats}", file=sys.stderr, flush=True)
        for figure, runs, contended in jobs:
            order = runs if rep % 2 == 0 else runs[::-1]
            for fw, cmd in order:
                runner.run(f"{figure} {fw}" + (" (contended)" if contended else ""), cmd, figure, fw, contended)
    report(runner.records, args, runner.cpu)
    if args.plot:
        plot_scaling(runner.records, args.plot, runner.cpu, args.threads)
    return 0


if __name__ == "__main__":
    sys.exit(main())
