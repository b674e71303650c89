"""Training scenarios for the data-parallel tests (tests/test_distributed.py).

Usage::

    mpiexec -n N python distributed_train.py OUTDIR SCENARIO [SCENARIO ...] [options]
    python distributed_train.py OUTDIR SCENARIO ...                 # the reference: DataParallel() on one process
    python distributed_train.py OUTDIR SCENARIO ... --one-process   # no distribution at all (float32 sums)

Each scenario trains a small model and writes ``OUTDIR/<scenario>-rank<r>.npz``
(the final weights, in ``get_weights`` order) and
``OUTDIR/<scenario>-rank<r>.json`` (the History and the logs every callback
saw after every batch), one pair per process. Without a launcher the
script is one process, which trains with ``DataParallel()`` as N processes
do (exact sums included): the reference. With ``--one-process`` the same data
and seeds are trained without ``distribution=``; for ``bn`` that emulates
per-shard BatchNormalization over ``--shards`` shards in one process
(seqnn's documented semantics). ``--float32-sums`` trains with
``DataParallel(exact_sums=False)``.

Scenarios:
  mlp        Dropout, GaussianNoise, an L2 regularizer, sample weights, validation_split; a few hundred steps
  sum        a loss with reduction="sum", SGD with momentum, no shuffling
  uneven     101 samples in batches of 10: the last batch has 1 row (empty shards with 2 or 3 processes)
  loader     a shuffling BatchLoader over .npy memory maps, a validation BatchLoader
  batches    a list of (x, y) batches: a loader of the user's own, cut by the trainer
  bn         BatchNormalization and Dropout
  files      ModelCheckpoint, CSVLogger and model.save to relative paths, each process in OUTDIR/rank<r>
  backup     BackupAndRestore in OUTDIR/backup every 5 batches; --crash-at STEP ends every process there

Failure options (the job must end, naming the rank): --fail-rank R --fail-at STEP with --fail-how
raise (an exception), exit (sys.exit(0)), kill (SIGKILL) or sleep (stuck longer than --timeout).
"""
import argparse
import json
import os
import signal
import sys
import time

import numpy as np

import seqnn as sn
from seqnn.datasets import BatchLoader

parser = argparse.ArgumentParser()
parser.add_argument("outdir")
parser.add_argument("scenarios", nargs="+")
parser.add_argument("--one-process", action="store_true")
parser.add_argument("--shards", type=int, default=2, help="--one-process bn: the shards to emulate")
parser.add_argument("--dtype", default="float32")
parser.add_argument("--float32-sums", action="store_true", help="DataParallel(exact_sums=False)")
parser.add_argument("--crash-at", type=int, help="backup: os._exit(3) on every process after this many steps")
parser.add_argument("--fail-rank", type=int)
parser.add_argument("--fail-at", type=int, default=3)
parser.add_argument("--fail-how", choices=("raise", "exit", "kill", "sleep"), default="raise")
parser.add_argument("--timeout", type=float, default=600.0)
args = parser.parse_args()
os.makedirs(args.outdir, exist_ok=True)
rank = sn.distribute.rank()


class Recorder(sn.callbacks.Callback):
    """Keeps every batch's logs; ends the process where the options say."""

    def __init__(self):
        super().__init__()
        self.logs, self.steps = [], 0

    def on_train_batch_end(self, batch, logs=None):
        self.logs.append(dict(logs))
        self.steps += 1
        if args.crash_at is not None and self.steps == args.crash_at:
            os._exit(3)
        if args.fail_rank == rank and self.steps == args.fail_at:
            if args.fail_how == "raise":
                raise RuntimeError(f"a test failure on rank {rank}")
            if args.fail_how == "exit":
                sys.exit(0)
            if args.fail_how == "kill":
                print(f"rank {rank} is pid {os.getpid()}", flush=True)
                os.kill(os.getpid(), signal.SIGKILL)
            time.sleep(args.timeout * 10)

    def on_test_batch_end(self, batch, logs=None):
        self.logs.append({f"test_{k}": v for k, v in logs.items()})


def compile_(model, **kwargs):
    distribution = None if args.one_process else sn.distribute.DataParallel(timeout=args.timeout,
                                                                            exact_sums=not args.float32_sums)
    kwargs.setdefault("metrics", ["accuracy"])
    kwargs.setdefault("loss", "sparse_categorical_crossentropy")
    return model.compile(dtype=args.dtype, distribution=distribution, **kwargs)


def classification(n, features, classes, seed):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, features)).astype(np.float32)
    y = np.argmax(x[:, :classes] @ rng.normal(size=(classes, classes)), axis=1)
    return x, y


def mlp():
    x, y = classification(240, 12, 3, 0)
    w = np.random.default_rng(1).uniform(0.5, 1.5, size=len(x))
    model = sn.Sequential([sn.Input((12,)), sn.layers.GaussianNoise(0.1),
                           sn.layers.Dense(24, activation="relu", kernel_regularizer=sn.regularizers.L2(1e-3)),
                           sn.layers.Dropout(0.25), sn.layers.Dense(3, activation="softmax")])
    compile_(model, optimizer=sn.optimizers.Adam(3e-3))
    return model, dict(x=x, y=y, sample_weight=w, batch_size=8, epochs=14, validation_split=0.25, seed=5)


def sum_reduction():
    x, y = classification(90, 6, 4, 2)
    model = sn.Sequential([sn.Input((6,)), sn.layers.Dense(16, activation="tanh"),
                           sn.layers.Dense(4, activation="softmax")])
    compile_(model, optimizer=sn.optimizers.SGD(1e-3, momentum=0.9),
             loss=sn.losses.SparseCategoricalCrossentropy(reduction="sum"))
    return model, dict(x=x, y=y, batch_size=16, epochs=6, shuffle=False)


def uneven():
    x, y = classification(101, 5, 2, 3)
    model = sn.Sequential([sn.Input((5,)), sn.layers.Dense(16, activation="relu"), sn.layers.Dropout(0.3),
                           sn.layers.Dense(2, activation="softmax")])
    compile_(model, optimizer="adam")
    return model, dict(x=x, y=y, batch_size=10, epochs=5, seed=7)


def loader():
    x, y = classification(150, 10, 3, 4)
    paths = {}
    for name, array in (("x", x), ("y", y)):  # every process writes the same bytes: any copy is complete
        paths[name] = os.path.join(args.outdir, f"loader-{name}-{rank}.npy")
        np.save(paths[name], array)
    model = sn.Sequential([sn.Input((10,)), sn.layers.Dense(16, activation="relu"), sn.layers.Dropout(0.2),
                           sn.layers.Dense(3, activation="softmax")])
    compile_(model, optimizer="adam")
    train = BatchLoader(paths["x"], paths["y"], batch_size=12, shuffle=True, seed=None)
    val = BatchLoader(x[:40], y[:40], batch_size=16, shuffle=False)
    return model, dict(x=train, epochs=4, validation_data=val, seed=3)


def batches():
    x, y = classification(64, 4, 2, 5)
    model = sn.Sequential([sn.Input((4,)), sn.layers.Dense(8, activation="relu"), sn.layers.Dropout(0.2),
                           sn.layers.Dense(2, activation="softmax")])
    compile_(model, optimizer="adam")
    return model, dict(x=[(x[i:i + 9], y[i:i + 9]) for i in range(0, 64, 9)], epochs=5, seed=1)


def bn():
    x, y = classification(96, 8, 3, 6)
    # No bias before BatchNormalization: its gradient is zero up to rounding, and Adam turns rounding noise
    # into full-size steps, so two ways of rounding (exact sums, or the emulation's float32 ones) would
    # move it apart (by 1e-4 of the weights here) while the model computes the same function.
    model = sn.Sequential([sn.Input((8,)), sn.layers.Dense(16, use_bias=False),
                           sn.layers.BatchNormalization(momentum=0.9),
                           sn.layers.Activation("relu"), sn.layers.Dense(3, activation="softmax")])
    compile_(model, optimizer="adam")
    return model, dict(x=x, y=y, batch_size=16, epochs=5, shuffle=False)


def files():
    x, y = classification(64, 4, 2, 8)
    model = sn.Sequential([sn.Input((4,)), sn.layers.Dense(8, activation="relu"),
                           sn.layers.Dense(2, activation="softmax")])
    compile_(model, optimizer="adam")
    where = os.path.join(args.outdir, f"rank{rank}")
    os.makedirs(where, exist_ok=True)
    os.chdir(where)  # relative paths: what a process writes lands in its own directory
    cbs = [sn.callbacks.ModelCheckpoint("ckpt/last.safetensors", save_freq=2, verbose=1),
           sn.callbacks.ModelCheckpoint("ckpt/best.safetensors", monitor="val_loss", save_best_only=True,
                                        verbose=1),
           sn.callbacks.CSVLogger("log.csv")]
    return model, dict(x=x, y=y, batch_size=8, epochs=3, validation_split=0.25, callbacks=cbs, verbose=2)


def backup():
    x, y = classification(120, 6, 3, 9)
    model = sn.Sequential([sn.Input((6,)), sn.layers.Dense(16, activation="relu"), sn.layers.Dropout(0.3),
                           sn.layers.Dense(3, activation="softmax")])
    compile_(model, optimizer="adam")
    cbs = [sn.callbacks.BackupAndRestore(os.path.join(args.outdir, "backup"), save_freq=5),
           sn.callbacks.EarlyStopping(monitor="loss", patience=50)]
    return model, dict(x=x, y=y, batch_size=10, epochs=4, callbacks=cbs, seed=2)


SCENARIOS = {"mlp": mlp, "sum": sum_reduction, "uneven": uneven, "loader": loader, "batches": batches,
             "bn": bn, "files": files, "backup": backup}


def emulate_shards(model, x, y, batch_size, epochs, shards):
    """One process training as ``shards`` processes would with per-shard BatchNormalization (no shuffling).

    For each global batch: every shard's forward and backward pass from the same weights and moving
    statistics; gradients summed with shares n_r/n; moving statistics averaged with weights n_r/n; one update.
    """
    from seqnn.distribute.shards import shard_of

    model._check_xy(x, y, None)
    model._prepare()
    b, arena = model.backend, model.arena
    moving = [(layer, key) for layer in model.layers if isinstance(layer, sn.layers.BatchNormalization)
              for key in ("moving_mean", "moving_variance")]
    for _ in range(epochs):
        for start in range(0, len(x), batch_size):
            xb, yb = x[start:start + batch_size], y[start:start + batch_size]
            before = [layer.params[key].copy() for layer, key in moving]
            grads = np.zeros_like(arena.grads)
            stats = [np.zeros_like(s) for s in before]
            for r in range(shards):
                shard = shard_of(len(xb), r, shards)
                for (layer, key), value in zip(moving, before):
                    layer.params[key][...] = value
                rows = shard.compute
                out = model._forward(b.asarray(xb[rows], model.dtype), training=True)
                model._train_loss.forward(out, b.asarray(yb[rows], "int64"))
                dy = model._train_loss.backward()
                for i in range(len(model._layers) - 1, -1, -1):
                    dy = model._layers[i].backward(dy, need_input_grad=i > 0)
                grads += arena.grads * arena.grads.dtype.type(shard.share())
                for s, (layer, key) in zip(stats, moving):
                    s += layer.params[key] * s.dtype.type(shard.weight())
            arena.grads[...] = grads
            for s, (layer, key) in zip(stats, moving):
                layer.params[key][...] = s
            model.optimizer.apply()


for name in args.scenarios:
    sn.utils.set_random_seed(11 + rank * (0 if args.one_process else 1000))  # distinct per rank: fit must sync
    cwd = os.getcwd()
    model, fit_args = SCENARIOS[name]()
    recorder = Recorder()
    fit_args.setdefault("verbose", 0)
    fit_args["callbacks"] = fit_args.get("callbacks", []) + [recorder]
    if args.one_process and name == "bn":
        emulate_shards(model, fit_args["x"], fit_args["y"], fit_args["batch_size"], fit_args["epochs"], args.shards)
        history = {}
    else:
        history = model.fit(**fit_args).history
    if name == "files":
        model.save("final.safetensors")
    os.chdir(cwd)
    base = os.path.join(args.outdir, f"{name}-rank{rank}")
    np.savez(base + ".npz", *model.get_weights())
    with open(base + ".json", "w") as f:
        json.dump({"history": history, "logs": recorder.logs}, f)
