#!/usr/bin/env python3
"""What bounds the figures ``compare.py`` reports as not met: the experiments, side by side.

    python benchmarks/limits.py                      # all three parts (≈ 2 min on 2 cores)
    python benchmarks/limits.py --parts adam,memory  # some of them

``inference``: the benchmark MLP (784-256-128-10, fixed random weights) on
MNIST's 10,000 test images at batch 1,024: seqnn's ``predict``, a PyTorch
module call, and the three matrix products alone, on numpy's BLAS and on
PyTorch's. The products alone bound the throughput of anything that computes
them at that speed.

``adam``: one Adam update of the MLP's 235,146 parameters and of the
1024/1024 MLP's 1,863,690, in each form numpy and its neighbours offer:
seqnn's twelve whole-vector passes, the same passes on two threads (half the
vector each), BLAS's ``saxpy`` for the three scaled adds (nine passes),
numexpr's three one-pass expressions, numba's compiled loop (seqnn's
``fast`` extra), and PyTorch's ``torch.optim.Adam`` over the same tensors. Each form is timed alone and right after a matrix product,
as in training, where OpenBLAS's worker threads are still spinning; each
says whether it gives the same bits as seqnn's passes. Forms whose library
is missing are skipped.

``memory``: the peak RSS that a JIT compiler adds to a fresh process which
has imported numpy and seqnn: LLVM through llvmlite alone, numba, and numba
with seqnn's Adam kernel compiled.

Each part runs in fresh processes (PyTorch and numpy in separate ones, so
that neither's spinning worker threads take the other's cores), each under
``flock /tmp/bench.lock``, ``--repeats`` times, alternating; inside a
process the forms compared are timed in turn, round after round. The table
gives the medians. Run it on an idle machine and record the CPU model printed
first.
"""
from __future__ import annotations

import argparse
import importlib.util
import itertools
import json
import os
import statistics
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))  # this checkout's seqnn
sys.path.insert(0, HERE)
import harness  # (its thread settings must reach the environment before numpy loads)

BATCH, WIDTHS = 1024, (256, 128)
LOCK = "/tmp/bench.lock"


def has(module: str) -> bool:
    return importlib.util.find_spec(module) is not None


def alternate(candidates: dict, rounds: int) -> dict:
    """Median seconds of each callable, timed in turn, round after round."""
    for f in candidates.values():
        f()  # warm-up: first-call costs, compilation
    times = {name: [] for name in candidates}
    for _ in range(rounds):
        for name, f in candidates.items():
            t0 = time.perf_counter()
            f()
            times[name].append(time.perf_counter() - t0)
    return {name: statistics.median(ts) for name, ts in times.items()}


# ---------------------------------------------------------------- inference ---
def inference(args) -> list[dict]:
    """One framework's forms (``--framework numpy`` or ``torch``): each framework in its own process,
    so that neither's idle worker threads (OpenBLAS's and OpenMP's spin) take the cores from the other."""
    import numpy as np

    import seqnn
    (_, _), (x, _) = seqnn.datasets.mnist.load_data(args.data)
    x = np.ascontiguousarray(x.reshape(len(x), -1), np.float32) / np.float32(255)
    rng = np.random.default_rng(0)
    sizes = (784, *WIDTHS, 10)
    weights = []
    for n_in, n_out in itertools.pairwise(sizes):
        limit = np.sqrt(6.0 / (n_in + n_out))
        weights += [rng.uniform(-limit, limit, (n_in, n_out)).astype(np.float32),
                    rng.uniform(-0.1, 0.1, n_out).astype(np.float32)]
    L = seqnn.layers
    model = seqnn.Sequential([seqnn.Input((784,)), L.Dense(WIDTHS[0], activation="relu"),
                              L.Dense(WIDTHS[1], activation="relu"), L.Dense(10)])
    model.set_weights(weights)
    kernels = weights[0::2]
    chunks = [x[i:i + BATCH] for i in range(0, len(x), BATCH)]

    def numpy_products():
        for c in chunks:
            h = c
            for w in kernels:
                h = h @ w

    if args.framework == "numpy":
        candidates = {"seqnn predict": lambda: model.predict(x, batch_size=BATCH, verbose=0),
                      "numpy's BLAS, the 3 products alone": numpy_products}
    else:
        import torch
        torch.set_num_threads(args.threads)
        net = torch.nn.Sequential(torch.nn.Linear(784, WIDTHS[0]), torch.nn.ReLU(),
                                  torch.nn.Linear(WIDTHS[0], WIDTHS[1]), torch.nn.ReLU(),
                                  torch.nn.Linear(WIDTHS[1], 10)).eval()
        with torch.no_grad():
            for layer, k, b in zip(net[0::2], weights[0::2], weights[1::2]):
                layer.weight.copy_(torch.from_numpy(k.T.copy()))
                layer.bias.copy_(torch.from_numpy(b))
        tx, tk = torch.from_numpy(x), [torch.from_numpy(k) for k in kernels]

        def torch_module():
            with torch.inference_mode():
                for i in range(0, len(x), BATCH):
                    net(tx[i:i + BATCH])

        def torch_products():
            with torch.inference_mode():
                for i in range(0, len(x), BATCH):
                    h = tx[i:i + BATCH]
                    for w in tk:
                        h = h @ w

        candidates = {"PyTorch module call": torch_module, "PyTorch's BLAS, the 3 products alone": torch_products}
    flops = 2 * len(x) * sum(a * b for a, b in itertools.pairwise(sizes))
    return [{"part": "inference", "form": name, "ms": round(1e3 * s, 2), "samples_per_s": round(len(x) / s),
             "gflop_per_s": round(flops / s / 1e9, 1)} for name, s in alternate(candidates, args.rounds).items()]


# --------------------------------------------------------------------- adam ---
def adam_forms(n: int, threads: int):
    """{name: update(p, g, m, v)} for vectors of n float32 (seqnn's own passes first), fixed scalars."""
    import numpy as np

    from seqnn.backends.numpy_backend import compiled_updates
    from seqnn.backends.numpy_backend.optimizers import OptimizerOps
    f = np.float32
    beta_1, beta_2, lr, eps, step = 0.9, 0.999, 1e-3, 1e-7, 10
    bc1, bc2 = 1 - beta_1 ** step, 1 - beta_2 ** step
    c1, c2, e, rate = f(1 - beta_1), f(1 - beta_2), f(eps * bc2 ** 0.5), f(lr * bc2 ** 0.5 / bc1)
    ops = OptimizerOps()

    def seqnn_passes(p, g, m, v):
        os.environ["SEQNN_COMPILED_UPDATES"] = "0"
        try:
            ops.adam_update(p, g, m, v, None, lr, beta_1, beta_2, eps, step)
        finally:
            del os.environ["SEQNN_COMPILED_UPDATES"]

    def passes(p, g, m, v, t):  # seqnn's twelve passes, written out
        np.subtract(g, m, out=t)
        np.multiply(t, c1, out=t)
        np.add(m, t, out=m)
        np.multiply(g, g, out=t)
        np.subtract(t, v, out=t)
        np.multiply(t, c2, out=t)
        np.add(v, t, out=v)
        np.sqrt(v, out=t)
        np.add(t, e, out=t)
        np.divide(m, t, out=t)
        np.multiply(t, rate, out=t)
        np.subtract(p, t, out=p)

    scratch = np.empty(n, np.float32)
    pool = ThreadPoolExecutor(threads)

    def two_threads(p, g, m, v):
        bounds = [n * i // threads for i in range(threads + 1)]
        parts = [slice(a, b) for a, b in itertools.pairwise(bounds)]
        list(pool.map(lambda s: passes(p[s], g[s], m[s], v[s], scratch[s]), parts))

    forms = {"numpy, 12 passes (seqnn without fast)": seqnn_passes,
             f"numpy, 12 passes on {threads} threads": two_threads}
    if has("scipy"):
        from scipy.linalg import blas

        def saxpy(p, g, m, v):
            t = scratch
            np.subtract(g, m, out=t)
            blas.saxpy(t, m, a=c1)
            np.multiply(g, g, out=t)
            np.subtract(t, v, out=t)
            blas.saxpy(t, v, a=c2)
            np.sqrt(v, out=t)
            np.add(t, e, out=t)
            np.divide(m, t, out=t)
            blas.saxpy(t, p, a=-rate)

        forms["numpy + BLAS saxpy, 9 passes"] = saxpy
    if has("numexpr"):
        import numexpr

        def numexpr_form(p, g, m, v):
            names = {"p": p, "g": g, "m": m, "v": v, "c1": c1, "c2": c2, "e": e, "rate": rate}
            numexpr.evaluate("m + (g - m) * c1", local_dict=names, out=m, casting="same_kind")
            numexpr.evaluate("v + (g * g - v) * c2", local_dict=names, out=v, casting="same_kind")
            numexpr.evaluate("p - m / (sqrt(v) + e) * rate", local_dict=names, out=p, casting="same_kind")

        forms[f"numexpr, 3 expressions ({numexpr.get_num_threads()} threads)"] = numexpr_form
    kernel = compiled_updates.adam_kernel(np.float32) if has("numba") else None
    if kernel is not None:
        forms["numba, 1 compiled pass (fast extra)"] = lambda p, g, m, v: kernel(p, g, m, v, c1, c2, e, rate)
    return forms


def seconds_after_a_product(update, state, a, b) -> float:
    """One update, timed right after a matrix product (as in training: OpenBLAS's workers still spin)."""
    import numpy as np
    np.matmul(a, b)
    t0 = time.perf_counter()
    update(*state)
    return time.perf_counter() - t0


ADAM_WIDTHS = ((256, 128), (1024, 1024))  # the MLPs 784-w1-w2-10 whose parameters Adam updates



def torch_adam(args) -> list[dict]:
    """PyTorch's own Adam (``torch.optim.Adam``, its default implementation on CPU) over the same MLPs'
    parameter tensors, for comparison: one ``step()``, alone and right after a matrix product."""
    import torch
    torch.set_num_threads(args.threads)
    out = []
    a, b = torch.ones(128, 784), torch.ones(784, 256)
    for w1, w2 in ADAM_WIDTHS:
        n = harness.mlp_parameters(w1, w2)
        shapes = [(w1, 784), (w1,), (w2, w1), (w2,), (10, w2), (10,)]
        params = [torch.nn.Parameter(torch.randn(*shape)) for shape in shapes]
        for p in params:
            p.grad = torch.randn_like(p) * 1e-2
        opt = torch.optim.Adam(params, lr=1e-3, eps=1e-7)
        alone = alternate({"step": opt.step}, args.rounds * 10)["step"]
        after = []
        for _ in range(args.rounds * 10):
            torch.mm(a, b)
            t0 = time.perf_counter()
            opt.step()
            after.append(time.perf_counter() - t0)
        out.append({"part": "adam", "parameters": n, "form": "PyTorch's torch.optim.Adam",
                    "alone_us": round(1e6 * alone), "after_a_product_us": round(1e6 * statistics.median(after))})
    return out


def adam(args) -> list[dict]:
    if args.framework == "torch":
        return torch_adam(args)
    import numpy as np
    out = []
    a, b = np.ones((128, 784), np.float32), np.ones((784, 256), np.float32)  # the MLP's first product
    for n in (harness.mlp_parameters(w1, w2) for w1, w2 in ADAM_WIDTHS):
        rng = np.random.default_rng(0)
        start = [rng.standard_normal(n, dtype=np.float32), rng.standard_normal(n, dtype=np.float32) * 1e-2,
                 rng.standard_normal(n, dtype=np.float32) * 1e-3,
                 np.abs(rng.standard_normal(n, dtype=np.float32)) * 1e-5]
        forms = adam_forms(n, args.threads)
        results = {}
        for name, update in forms.items():
            results[name] = [x.copy() for x in start]
            update(*results[name])
        reference = next(iter(results.values()))
        state = {name: [x.copy() for x in start] for name in forms}
        alone = alternate({name: (lambda u=u, s=state[name]: u(*s)) for name, u in forms.items()}, args.rounds * 10)
        after = {name: [] for name in forms}
        for _ in range(args.rounds * 10):
            for name, update in forms.items():
                after[name].append(seconds_after_a_product(update, state[name], a, b))
        for name in forms:
            out.append({"part": "adam", "parameters": n, "form": name, "alone_us": round(1e6 * alone[name]),
                        "after_a_product_us": round(1e6 * statistics.median(after[name])),
                        "same_bits_as_seqnn": all(np.array_equal(x, y) for x, y in zip(results[name], reference))})
    return out


# ------------------------------------------------------------------- memory ---
STAGES = {
    "numpy + seqnn": "",
    "+ llvmlite (LLVM initialised)": "import llvmlite.binding as b; b.initialize_native_target(); "
                                      "b.initialize_native_asmprinter()",
    "+ numba": "import numba",
    "+ numba, seqnn's Adam kernel compiled": "from seqnn.backends.numpy_backend import compiled_updates as c; "
                                             "assert c.adam_kernel(numpy.float32) is not None",
}


def memory(args) -> list[dict]:
    out, base = [], None
    needs = {"+ llvmlite (LLVM initialised)": "llvmlite", "+ numba": "numba",
             "+ numba, seqnn's Adam kernel compiled": "numba"}
    for name, code in STAGES.items():
        if name in needs and not has(needs[name]):
            continue
        # VmHWM, not ru_maxrss: a child's ru_maxrss starts from its parent's.
        script = ("import numpy, seqnn\n" + code + "\n"
                  "print(open('/proc/self/status').read().split('VmHWM:')[1].split()[0])")
        env = dict(os.environ, PYTHONPATH=os.path.dirname(HERE), NUMBA_CACHE_DIR=os.path.join(
            os.environ.get("TMPDIR", "/tmp"), f"seqnn-limits-numba-{os.getpid()}"))  # no cached kernel
        rss = int(subprocess.run([sys.executable, "-c", script], check=True, capture_output=True, text=True,
                                   env=env).stdout.split()[-1]) / 1024
        base = rss if base is None else base
        out.append({"part": "memory", "form": name, "peak_rss_mib": round(rss), "added_mib": round(rss - base)})
    return out


def worker(args) -> int:
    harness.configure_threads(args.threads)
    for rec in {"inference": inference, "adam": adam, "memory": memory}[args.worker](args):
        print(json.dumps(rec))
    return 0


def run_worker(args, part: str, framework: str = "numpy") -> list[dict]:
    cmd = ["flock", LOCK, sys.executable, __file__, "--worker", part, "--framework", framework,
           "--threads", str(args.threads), "--rounds", str(args.rounds)] + (["--data", args.data] if args.data else [])
    done = subprocess.run(cmd, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise SystemExit(f"limits.py: the {part} worker ({framework}) failed:\n{done.stderr[-2000:]}")
    return [json.loads(line) for line in done.stdout.splitlines() if line.startswith("{")]


def summarise(records: list[dict]) -> list[dict]:
    """One record per (part, form, parameters): the median of each figure over the repetitions."""
    groups: dict = {}
    for rec in records:
        groups.setdefault((rec["part"], rec["form"], rec.get("parameters")), []).append(rec)
    out = []
    for group in groups.values():
        merged = dict(group[0], repetitions=len(group))
        for key, value in group[0].items():
            if isinstance(value, (int, float)) and not isinstance(value, bool) and key != "parameters":
                merged[key] = statistics.median(r[key] for r in group)
        out.append(merged)
    module = [r for r in out if r["form"] == "PyTorch module call"]
    if module:
        out.append({"part": "inference", "form": "target: 1.2× the PyTorch module call",
                    "samples_per_s": round(1.2 * module[0]["samples_per_s"]), "ms": round(module[0]["ms"] / 1.2, 2)})
    return out


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--parts", default="inference,adam,memory", help="comma list of inference, adam, memory")
    p.add_argument("--data", default=os.environ.get("SEQNN_DATA_DIR"), help="MNIST folder (inference)")
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--repeats", type=int, default=3, help="fresh processes per part, alternating frameworks")
    p.add_argument("--rounds", type=int, default=15, help="alternating rounds in a process (×10 for Adam)")
    p.add_argument("--json", action="store_true", help="one JSON record per line instead of a table")
    p.add_argument("--worker", choices=("inference", "adam", "memory"), help=argparse.SUPPRESS)
    p.add_argument("--framework", choices=("numpy", "torch"), default="numpy", help=argparse.SUPPRESS)
    args = p.parse_args()
    if args.worker:
        return worker(args)
    parts = [s.strip() for s in args.parts.split(",") if s.strip()]
    unknown = set(parts) - {"inference", "adam", "memory"}
    if unknown:
        p.error(f"--parts: unknown {sorted(unknown)}; choose from inference, adam, memory")
    jobs = [(part, fw) for part in parts for fw in (("numpy", "torch") if part != "memory" and has("torch")
                                                    else ("numpy",))]
    records = []
    for repetition in range(args.repeats):
        for part, fw in (jobs if repetition % 2 == 0 else jobs[::-1]):
            if part != "memory" or repetition == 0:  # peak RSS does not vary with the machine's load
                records += run_worker(args, part, fw)
    print(f"CPU: {harness.cpu_info()['model']}; {args.threads} threads; medians of {args.repeats} processes")
    for rec in summarise(records):
        print(json.dumps(rec) if args.json else "  ".join(f"{k}={v}" for k, v in rec.items()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
