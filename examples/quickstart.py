"""
Quick start: a classifier for the digits
========================================

Train a small classifier on the handwritten digits that ship with seqnn,
entirely offline. It runs in about a second and prints the test accuracy:
97.8 % with the defaults (96-98 % for seeds 0-15).

.. code-block:: bash

   python examples/quickstart.py [--epochs N] [--seed N]
"""
import argparse

import seqnn as sn

parser = argparse.ArgumentParser(
    description="Train a small classifier on the digits that ship with seqnn.")
parser.add_argument("--epochs", type=int, default=30)
parser.add_argument("--seed", type=int, default=0)
args = parser.parse_args()

# %%
# The data
# --------
# 1,797 images of 8×8 pixels with values 0..16, split into 1,437 for training
# and 360 for testing. Dividing by 16 puts the pixels in [0, 1].
(x_train, y_train), (x_test, y_test) = sn.datasets.digits.load_data()
x_train, x_test = x_train.astype("float32") / 16, x_test.astype("float32") / 16
print(f"{len(x_train)} training and {len(x_test)} test images, "
      f"each of shape {x_train.shape[1:]}")

# %%
# The model
# ---------
# ``add`` and ``compile`` return the model, so the whole definition is one
# expression. Seeding first gives the same weights, shuffling and result on
# every run.
sn.utils.set_random_seed(args.seed)
model = (sn.Sequential(name="digits_mlp")
         .add(sn.layers.Input((8, 8)))
         .add(sn.layers.Flatten())
         .add(sn.layers.Dense(64, activation="relu"))
         .add(sn.layers.Dense(10, activation="softmax"))
         .compile(optimizer=sn.optimizers.Adam(1e-3),
                  loss="sparse_categorical_crossentropy",
                  metrics=["accuracy"]))
model.summary()

# %%
# Training
# --------
# ``verbose=2`` prints one line per epoch: the running loss and accuracy over
# the epoch's batches.
history = model.fit(x_train, y_train, epochs=args.epochs, batch_size=32, verbose=2)

# %%
# Testing
# -------
result = model.evaluate(x_test, y_test, verbose=0, return_dict=True)
print(f"test accuracy: {result['accuracy']:.4f}  (loss {result['loss']:.4f})")
