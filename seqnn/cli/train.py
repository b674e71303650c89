"""seqnn-train: train a model on a dataset and save it.

With no arguments it trains the ``mlp`` preset on the embedded digits (a few
seconds, offline), prints what it did and the test accuracy, and saves
``model.safetensors``.
"""
from __future__ import annotations

import argparse
import importlib.util
import inspect
import os
import sys
import time
from typing import Sequence

import numpy as np

from .. import backends, callbacks, distribute, optimizers, utils
from .._version import __version__
from ..distribute.runtime import current_world
from ..file_names import check_save_path
from ..models import Sequential
from ..models.loading import model_from_config
from ..saving import json_text
from . import data as cli_data
from . import plot_file, presets
from .args import non_negative_int, positive_int
from .errors import EXIT_INTERRUPTED, ArgumentParser, UsageError, run

PROG = "seqnn-train"

EPILOG = """\
examples:
  seqnn-train                                   mlp on the embedded digits, saves model.safetensors
  seqnn-train --data mnist --epochs 10          MNIST from --data-dir, $SEQNN_DATA_DIR or the cache
                                                (downloaded and SHA-256-checked when absent)
  seqnn-train --data houses.csv --target price  regression or classification from a CSV with a header
  seqnn-train --model my_model.py --data fashion_mnist --early-stopping 3 --validation-split 0.1
  seqnn-train --data mnist --resume             interrupted? run the same command again to continue
  mpiexec -n 4 seqnn-train --data mnist --distributed
                                                data-parallel over 4 processes (the mpi extra); rank 0
                                                prints and saves

MODEL is a preset (mlp, cnn), a .json model config (Sequential.to_json() or get_config()), or a .py file
defining build_model() (optionally build_model(input_shape, num_classes)); a model it returns compiled is
trained with its own optimizer and loss. Presets take the data as stored (uint8 pixels, raw CSV values):
the scaling is part of the saved model, so seqnn-predict needs no preprocessing.
A mistake (missing file, unknown name, wrong shape) exits with status 2 and one line on stderr; any other
error (in the model file's code, or a bug) shows the traceback of the model file's code and exits with 1.
SEQNN_DEBUG=1 shows the full traceback of any error.
"""


def build_parser() -> ArgumentParser:
    p = ArgumentParser(prog=PROG, description="Train a seqnn model and save it as .safetensors.", epilog=EPILOG,
                       formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--version", action="version", version=f"seqnn {__version__}")
    g = p.add_argument_group("model and data")
    g.add_argument("--model", default="mlp", metavar="MODEL",
                   help="preset name (mlp, cnn), a .json model config, or a .py file defining build_model() "
                        "(default: mlp)")
    g.add_argument("--data", default="digits", metavar="DATA",
                   help="digits, mnist, fashion_mnist, or a .csv / .npz file (default: digits)")
    g.add_argument("--data-dir", metavar="DIR", help="directory with the mnist / fashion_mnist IDX files "
                   "(default: $SEQNN_DATA_DIR, then $XDG_CACHE_HOME or ~/.cache, /seqnn/datasets/NAME)")
    g.add_argument("--target", metavar="COLUMN", help="CSV column holding the targets (name or 0-based index)")
    g.add_argument("--drop", action="append", metavar="COLUMN",
                   help="CSV column to leave out of the inputs (an id, a name); repeat for several")
    g.add_argument("--task", choices=("auto", "classification", "regression"), default="auto",
                   help="for files: auto treats whole-number targets 0..99 as class labels (default: auto)")
    g.add_argument("--test-split", type=float, default=0.2, metavar="FRACTION",
                   help="for files without a test part: fraction held out for testing (default: 0.2)")
    g.add_argument("--limit", type=positive_int, metavar="N", help="train on the first N training samples only")
    f = p.add_argument_group("training (as in fit)")
    f.add_argument("--epochs", type=positive_int, metavar="N",
                   help="default: 30 for digits, 10 for mnist / fashion_mnist, 20 for files")
    f.add_argument("--batch-size", type=positive_int, metavar="N",
                   help="default: 32 for digits and files, 128 for mnist / fashion_mnist")
    f.add_argument("--optimizer", metavar="NAME",
                   help="adam (default), sgd, rmsprop, adamw, nadam, adamax, adagrad, adadelta")
    f.add_argument("--lr", "--learning-rate", type=float, dest="lr", metavar="RATE",
                   help="learning rate (default: the optimizer's, 0.001 for adam)")
    f.add_argument("--validation-split", type=float, default=0.0, metavar="FRACTION",
                   help="fraction of the training data (its end) kept for validation (default: 0)")
    f.add_argument("--seed", type=non_negative_int, default=0,
                   help="seed for weights, shuffling, dropout, splits (default: 0)")
    f.add_argument("--distributed", action="store_true",
                   help="train data-parallel over the processes of mpiexec -n N (needs mpi4py and an MPI library: "
                        "the mpi extra); --batch-size is the global batch; rank 0 prints and writes the files")
    f.add_argument("--backend", default="auto",
                   help="auto (default: metal where it runs, else numpy), numpy, or metal (Apple GPUs, float32; "
                        "its kernels are tested on Linux through an emulator, for indexing, bounds, barriers and "
                        "results against numpy, while Apple's compiler, fast-math numerics and speed are proven "
                        "on a Mac only: see the backends guide)")
    o = p.add_argument_group("output and callbacks")
    o.add_argument("--out", default="model.safetensors", metavar="FILE",
                   help="where to save the trained model (default: model.safetensors)")
    o.add_argument("--checkpoint-dir", metavar="DIR",
                   help="save DIR/best.safetensors (best val_loss, or loss) and DIR/last.safetensors every epoch")
    o.add_argument("--csv-log", metavar="FILE", help="write one CSV row of metrics per epoch")
    o.add_argument("--early-stopping", type=non_negative_int, metavar="PATIENCE",
                   help="stop after PATIENCE epochs without improvement of val_loss (or loss) and keep the "
                        "best weights")
    o.add_argument("--resume", nargs="?", const="", metavar="DIR",
                   help="back up the training state every epoch (in DIR, default OUT's name + '.backup'); "
                        "rerunning the same command after an interruption continues where it stopped")
    o.add_argument("--plot", metavar="FILE",
                   help="after training, draw the training curves (loss and metrics, train and validation) to "
                        "FILE (.png, .svg, .pdf; needs matplotlib, the plots extra)")
    o.add_argument("-v", "--verbose", action="store_true",
                   help="also print the model summary, and the callbacks' notices (early stopping)")
    o.add_argument("-q", "--quiet", action="store_true",
                   help="no progress while training (by default: a live bar on a terminal, one line per epoch "
                        "when the output is a file or a pipe)")
    return p


def main(argv: Sequence[str] | None = None) -> int:
    """``seqnn-train`` with the arguments ``argv`` (default: the command line); returns the exit status
    (see :func:`seqnn.cli.errors.run`)."""
    return run(PROG, _main, argv)


def _main(argv: Sequence[str] | None) -> int:
    args = build_parser().parse_args(argv)
    _check_args(args)
    loaded = cli_data.load(args.data, args.data_dir, args.target, args.task, args.test_split, args.limit,
                           args.seed, drop=args.drop)
    epochs = args.epochs or loaded.defaults.get("epochs", 10)
    batch_size = args.batch_size or loaded.defaults.get("batch_size", 32)
    utils.set_random_seed(args.seed)
    model, how = build_model(args, loaded)
    say(f"data:     {loaded.summary()}")
    say(f"model:    {how}: {presets.describe(model)}")
    if args.verbose:
        model.summary()
    optimizer = model.optimizer
    lr = getattr(optimizer, "learning_rate", None)
    say(f"training: {epochs} epochs, batch size {batch_size}, {type(optimizer).__name__} (learning rate "
        f"{_fmt(lr)}), seed {args.seed}, {model.backend.name} backend"
        + (f", validation split {args.validation_split}" if args.validation_split else ""))
    cbs, backup_dir = make_callbacks(args)
    if backup_dir and os.path.exists(os.path.join(backup_dir, callbacks.backup_and_restore.BACKUP_NAME)):
        say(f"resuming: from the backup in {backup_dir}")
    start = time.perf_counter()
    try:
        history = model.fit(loaded.x_train, loaded.y_train, epochs=epochs, batch_size=batch_size,
                            validation_split=args.validation_split, seed=args.seed, callbacks=cbs,
                            verbose=0 if args.quiet else "auto")
    except KeyboardInterrupt:
        hint = f"; run the same command again to continue from the backup in {backup_dir}" if backup_dir else ""
        print(f"{PROG}: interrupted{hint}", file=sys.stderr)
        return EXIT_INTERRUPTED
    elapsed = time.perf_counter() - start
    ran = len(history.history.get("loss", []))
    final = {k: v[-1] for k, v in history.history.items() if v}
    stopped = f" (stopped early after {ran} of {epochs} epochs)" if args.early_stopping is not None and \
        ran < epochs else ""
    say(f"trained:  in {elapsed:.1f} s{stopped}: " + ", ".join(f"{k} {_fmt(v)}" for k, v in final.items()))
    result = model.evaluate(loaded.x_test, loaded.y_test, batch_size=max(batch_size, 256), verbose=0,
                            return_dict=True)
    say(_test_line(result))
    model.save(args.out)
    say(f"saved:    {args.out}")
    if args.plot:
        from .. import plot

        plot_file.save(plot.history(history, title=f"{model.name} on {os.path.basename(args.data)}"), args.plot)
        say(f"plotted:  {args.plot}")
    return 0


def _check_args(args) -> None:
    if not 0.0 <= args.validation_split < 1.0:
        raise UsageError(f"--validation-split must be in [0, 1), got {args.validation_split}")
    # Checked for every dataset, not only for files that use it: a value out of range is a typo either way.
    if not 0.0 < args.test_split < 1.0:
        raise UsageError(f"--test-split must be a fraction in (0, 1), got {args.test_split}")
    if args.lr is not None and not args.lr > 0:
        raise UsageError(f"--lr must be a positive number, got {args.lr}")
    try:
        check_save_path(args.out, "--out")
    except ValueError as e:
        raise UsageError(str(e)) from None
    backends.get(args.backend)  # an unknown or unavailable backend fails before any data is loaded
    if args.distributed:
        args.distribution = distribute.DataParallel()  # without MPI: says what to install, before any data loads
    if os.path.splitext(args.model)[1].lower() not in (".json", ".py"):
        presets.check(args.model)
    elif not os.path.isfile(args.model):
        raise UsageError(f"--model: no such file: {args.model}")
    if args.plot:
        plot_file.check(args.plot)


def build_model(args, loaded: cli_data.TrainingData) -> tuple[Sequential, str]:
    """The model to train, compiled; and how it was made (for the report)."""
    source = args.model
    ext = os.path.splitext(source)[1].lower()
    if ext == ".json":
        model, how = _from_json(source), f"config {source}"
    elif ext == ".py":
        model, how = _from_python(source, loaded), f"build_model() in {source}"
    else:
        model, how = presets.build(source, loaded.spec), f"preset {source.lower()}"
    if model.compiled and ext == ".py":
        if args.optimizer or args.lr is not None:
            raise UsageError(f"--optimizer/--lr: build_model() in {source} returns a compiled model, which keeps "
                             "its optimizer; drop these flags or return the model uncompiled")
        if args.backend != "auto" or args.distributed:
            model.compile(**{**model.compile_config, "optimizer": model.optimizer,
                             "backend": args.backend if args.backend != "auto" else model.compile_config["backend"],
                             "distribution": _distribution(args)})
        return model, how + " (compiled there)"
    config = {"learning_rate": args.lr} if args.lr is not None else {}
    optimizer = optimizers.get({"class_name": args.optimizer or "adam", "config": config})
    if loaded.task == "classification":
        loss, metrics = "sparse_categorical_crossentropy", ["accuracy"]
    else:
        loss, metrics = "mse", ["mae"]
    model.compile(optimizer=optimizer, loss=loss, metrics=metrics, backend=args.backend,
                  distribution=_distribution(args))
    return model, how


def _distribution(args):
    """--distributed's DataParallel (made by _check_args), or None."""
    return getattr(args, "distribution", None)


def _from_json(path: str) -> Sequential:
    with open(path, "rb") as f:
        text = f.read()
    try:
        config = json_text.parse(text, f"--model {path}")  # limits: no JSON can cost more than an error
    except ValueError as e:
        raise UsageError(str(e)) from None
    return model_from_config(config, f"--model {path}: config")  # errors name the entry: layers[2] (Dense 'dense')


def _from_python(path: str, loaded: cli_data.TrainingData) -> Sequential:
    if not os.path.isfile(path):
        raise UsageError(f"--model: no such file: {path}")
    spec = importlib.util.spec_from_file_location("seqnn_user_model", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)  # the user's own file: running it is the point
    factory = getattr(module, "build_model", None)
    if not callable(factory):
        raise UsageError(f"--model: {path} does not define a function build_model()")
    offered = {"input_shape": tuple(loaded.x_train.shape[1:]), "num_classes": loaded.spec.num_outputs}
    parameters = inspect.signature(factory).parameters
    model = factory(**{k: v for k, v in offered.items() if k in parameters})
    if not isinstance(model, Sequential):
        raise UsageError(f"--model: build_model() in {path} must return a seqnn Sequential, got "
                         f"{type(model).__name__}")
    return model


def make_callbacks(args) -> tuple[list, str | None]:
    """The callbacks the flags ask for, and the backup directory (None without --resume)."""
    monitor = "val_loss" if args.validation_split else "loss"
    cbs = []
    if args.early_stopping is not None:
        cbs.append(callbacks.EarlyStopping(monitor=monitor, patience=args.early_stopping, restore_best_weights=True,
                                           verbose=int(args.verbose)))
    if args.checkpoint_dir:
        cbs.append(callbacks.ModelCheckpoint(os.path.join(args.checkpoint_dir, "best.safetensors"),
                                             monitor=monitor, save_best_only=True))
        cbs.append(callbacks.ModelCheckpoint(os.path.join(args.checkpoint_dir, "last.safetensors")))
    if args.csv_log:
        cbs.append(callbacks.CSVLogger(args.csv_log))
    backup_dir = None
    if args.resume is not None:
        backup_dir = args.resume or os.path.splitext(args.out)[0] + ".backup"
        cbs.append(callbacks.BackupAndRestore(backup_dir))
    return cbs, backup_dir


def _test_line(result: dict) -> str:
    extra = ", ".join(f"{k} {_fmt(v)}" for k, v in result.items() if k not in ("accuracy",))
    if "accuracy" in result:
        return f"test accuracy: {result['accuracy']:.4f} ({extra})"
    return f"test: {extra}"


def say(text: str) -> None:
    # With --distributed (MPI loaded in this process) rank 0 reports for the job; otherwise every process does.
    world = current_world()
    if world is None or world.rank == 0:
        print(text, flush=True)


def _fmt(value) -> str:
    if isinstance(value, (float, np.floating)):
        return f"{value:.4g}"
    return str(value)


if __name__ == "__main__":
    sys.exit(main())
