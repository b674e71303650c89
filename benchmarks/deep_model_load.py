"""Time to build, save and load a Sequential model of N layers: each should grow linearly with N.

Loading a file of 10,000 Dense layers took 12 s when adding a layer scanned every layer already in
the model (a quadratic load); run this to see the per-layer cost stay flat as N grows.

    python benchmarks/deep_model_load.py            # N = 1,000, 3,000, 10,000
    python benchmarks/deep_model_load.py 20000
"""
from __future__ import annotations

import os
import sys
import tempfile
import time

import seqnn as sn


def measure(n: int, directory: str) -> dict:
    layers = sn.layers
    start = time.perf_counter()
    model = sn.Sequential([layers.Input((2,))] + [layers.Dense(2) for _ in range(n)])
    built = time.perf_counter() - start
    model.compile(optimizer="sgd", loss="mse")
    path = os.path.join(directory, f"deep_{n}.safetensors")
    model.save(path)
    start = time.perf_counter()
    sn.load_model(path)
    loaded = time.perf_counter() - start
    return {"layers": n, "build_s": round(built, 3), "load_s": round(loaded, 3),
            "load_us_per_layer": round(loaded / n * 1e6, 1)}


def main(argv: list[str]) -> int:
    sizes = [int(a) for a in argv] or [1_000, 3_000, 10_000]
    with tempfile.TemporaryDirectory() as directory:
        for n in sizes:
            print(measure(n, directory), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
