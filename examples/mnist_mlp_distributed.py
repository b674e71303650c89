"""
MNIST on several processes (data-parallel, MPI)
===============================================

The classic MNIST MLP (``mnist_mlp.py``), trained data-parallel: started with
``mpiexec -n N``, every process holds the whole model, computes its shard of
each global batch of 128 images, and the gradients are summed over the
processes once per step. The result is the model one process trains on the
same batches: the same test accuracy (about 98 %), and, with
``DataParallel``'s exact sums (float64 gradient sums, rounded to float32
once), the same weights: after one epoch on 2 or 3 processes they are
bit-identical to those of the script run without ``mpiexec``. Only rank 0
prints and saves.

It needs MPI for Python (``pip install mpi4py mpich``, or seqnn's ``mpi``
extra). Without ``mpiexec`` the script runs as one process.

.. code-block:: bash

   export SEQNN_DATA_DIR=/path/to/mnist
   mpiexec -n 2 python examples/mnist_mlp_distributed.py --epochs 1 --save two.safetensors
   # the one-process reference on the same global batches (no mpiexec), and the comparison:
   python examples/mnist_mlp_distributed.py --epochs 1 --compare two.safetensors
   # float32 sums per shard, and a model compiled without distribution=: equal to rounding only
   mpiexec -n 2 python examples/mnist_mlp_distributed.py --epochs 1 --float32-sums --save two32.safetensors
   python examples/mnist_mlp_distributed.py --epochs 1 --one-process --compare two32.safetensors

(Not run when these docs are built: it is meant for ``mpiexec``.)
"""
import argparse

import numpy as np

import seqnn as sn

parser = argparse.ArgumentParser(description="Train the MNIST MLP data-parallel over the processes of mpiexec.")
parser.add_argument("--epochs", type=int, default=10)
parser.add_argument("--limit", type=int, default=None, help="train on the first N images only (quick run)")
parser.add_argument("--data-dir", default=None, help="directory with the IDX files")
parser.add_argument("--seed", type=int, default=0)
parser.add_argument("--dtype", default="float32", choices=("float32", "float64"))
parser.add_argument("--one-process", action="store_true",
                    help="compile without distribution= (float32 gradient sums, as a model that is not distributed; "
                         "without mpiexec the script is one process anyway, with DataParallel's exact sums)")
parser.add_argument("--float32-sums", action="store_true",
                    help="DataParallel(exact_sums=False): each process sums its shard's gradient in float32")
parser.add_argument("--save", metavar="FILE", help="save the trained model (rank 0 writes it)")
parser.add_argument("--compare", metavar="FILE", help="print the relative difference between the trained "
                                                      "weights and those of a model saved by another run")
args = parser.parse_args()

# %%
# The processes
# -------------
# ``DataParallel()`` joins the MPI job that ``mpiexec`` started (one process
# without it). Its exact sums (the default) make the gradient of a global
# batch the same float32 numbers however many processes share it.
# ``is_chief()`` is rank 0, the one process that prints.
distribution = None if args.one_process else sn.distribute.DataParallel(exact_sums=not args.float32_sums)
chief = sn.distribute.is_chief()


def say(text: str) -> None:
    if chief:
        print(text, flush=True)


say(f"processes: {1 if args.one_process else sn.distribute.size()}")

# %%
# The data and the model
# ----------------------
# Every process loads the data; ``fit`` gives each one its shard of every
# batch (with 2 processes, 64 of the 128 images), and only those rows are
# converted and computed. ``batch_size`` is the global batch, as on one process.
(x_train, y_train), (x_test, y_test) = sn.datasets.mnist.load_data(args.data_dir)
if args.limit:
    x_train, y_train = x_train[:args.limit], y_train[:args.limit]
say(f"MNIST: {len(x_train)} training and {len(x_test)} test images")

sn.utils.set_random_seed(args.seed)
model = (sn.Sequential(name="mnist_mlp")
         .add(sn.layers.Input((28, 28)))
         .add(sn.layers.Rescaling(1 / 255))
         .add(sn.layers.Flatten())
         .add(sn.layers.Dense(256, activation="relu"))
         .add(sn.layers.Dropout(0.2))
         .add(sn.layers.Dense(128, activation="relu"))
         .add(sn.layers.Dense(10, activation="softmax"))
         .compile(optimizer=sn.optimizers.Adam(1e-3),
                  loss="sparse_categorical_crossentropy",
                  metrics=["accuracy"],
                  dtype=args.dtype,
                  distribution=distribution))

# %%
# Training and testing
# --------------------
# The logs are the global batch's on every process; the progress lines come
# from rank 0. ``evaluate`` after ``fit`` runs whole on every process.
model.fit(x_train, y_train, epochs=args.epochs, batch_size=128, verbose=2, seed=args.seed)
result = model.evaluate(x_test, y_test, batch_size=1024, verbose=0, return_dict=True)
say(f"test accuracy: {result['accuracy']:.4f}  (loss {result['loss']:.4f})")

if args.save:
    model.save(args.save)  # rank 0 writes; the others return at once
    say(f"saved: {args.save}")
if args.compare:
    mine = np.concatenate([w.ravel() for w in model.get_weights()]).astype(np.float64)
    theirs = np.concatenate([w.ravel() for w in sn.load_model(args.compare).get_weights()]).astype(np.float64)
    say(f"weights vs {args.compare}: relative difference {np.linalg.norm(mine - theirs) / np.linalg.norm(theirs):.2e}"
        f" (largest element difference {np.abs(mine - theirs).max():.2e})")
