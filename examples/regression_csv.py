"""
Regression from a CSV file
==========================

Predict a numeric column from the others. Reads the CSV with
``seqnn.datasets.load_csv`` (a header row, numeric values; a bad cell is an
error naming its line and column), holds out 20 % for testing, standardises
features and target with the training statistics, and trains a small MLP with
the mean squared error. Prints the test error in the target's own units beside
the error of always predicting the mean.

.. code-block:: bash

   python examples/regression_csv.py          # writes a synthetic houses.csv first
   python examples/regression_csv.py data.csv --target price [--epochs 100]
"""
import argparse
import os
import tempfile

import numpy as np

import seqnn as sn

parser = argparse.ArgumentParser(
    description="Regression from a CSV file: predict a numeric column from the others.")
parser.add_argument("csv", nargs="?",
                    help="a CSV file with a header (default: a synthetic one)")
parser.add_argument("--target", default="price",
                    help="the column to predict (default: price)")
parser.add_argument("--epochs", type=int, default=100)
parser.add_argument("--samples", type=int, default=2000,
                    help="rows of the synthetic CSV")
parser.add_argument("--seed", type=int, default=0)
args = parser.parse_args()


# %%
# The data
# --------
# Without a file on the command line, the script writes a synthetic one: house
# prices that depend (partly non-linearly) on four features, plus noise.
def write_synthetic_csv(path: str, n: int, seed: int = 0) -> None:
    """House prices that depend (partly non-linearly) on four features, plus noise."""
    rng = np.random.default_rng(seed)
    area = rng.uniform(30, 250, n)               # m²
    rooms = np.clip(np.round(area / 30 + rng.normal(0, 1, n)), 1, 9)
    age = rng.uniform(0, 80, n)                  # years
    distance = rng.exponential(8, n)             # km to the centre
    price = (2500 * area + 8000 * rooms - 40 * age ** 2
             + 250_000 * np.exp(-distance / 5) + rng.normal(0, 15_000, n))
    table = np.column_stack([area, rooms, age, distance, price])
    np.savetxt(path, table, delimiter=",", header="area,rooms,age,distance,price",
               comments="", fmt="%.2f")


with tempfile.TemporaryDirectory() as tmp:
    path = args.csv
    if path is None:
        path = os.path.join(tmp, "houses.csv")
        write_synthetic_csv(path, args.samples, args.seed)
        print(f"wrote a synthetic CSV with {args.samples} rows: "
              "area, rooms, age, distance -> price")
    x, y = sn.datasets.load_csv(path, target=args.target, target_dtype="float32")

# %%
# Split and standardise
# ---------------------
# The statistics come from the training part only, so the test part stays
# unseen.
x_train, x_test, y_train, y_test = sn.datasets.train_test_split(x, y, test_size=0.2,
                                                               seed=args.seed)
x_mean, x_std = x_train.mean(axis=0), x_train.std(axis=0) + 1e-8
y_mean, y_std = y_train.mean(), y_train.std() + 1e-8
scale_x = lambda a: (a - x_mean) / x_std  # noqa: E731

# %%
# Train
# -----
# A 10 % validation split feeds ``EarlyStopping``, which keeps the weights of
# the best epoch.
sn.utils.set_random_seed(args.seed)
model = (sn.Sequential(name="regressor")
         .add(sn.layers.Input((x.shape[1],)))
         .add(sn.layers.Dense(64, activation="relu"))
         .add(sn.layers.Dense(64, activation="relu"))
         .add(sn.layers.Dense(1))
         .compile(optimizer=sn.optimizers.Adam(1e-3), loss="mse", metrics=["mae"]))
early_stopping = sn.callbacks.EarlyStopping(patience=10, restore_best_weights=True)
history = model.fit(scale_x(x_train), (y_train - y_mean) / y_std, epochs=args.epochs,
                    batch_size=32, validation_split=0.1, verbose=0, seed=args.seed,
                    callbacks=[early_stopping])
best = min(history.history["val_loss"])
print(f"trained {len(history.epoch)} epochs; best validation loss {best:.4f}")

# %%
# Test
# ----
# Predictions are scaled back to the target's units: the mean absolute error
# is in the same units as the prices.
predicted = model.predict(scale_x(x_test), verbose=0)[:, 0] * y_std + y_mean
mae = np.mean(np.abs(predicted - y_test))
baseline = np.mean(np.abs(y_mean - y_test))
r2 = 1 - np.sum((predicted - y_test) ** 2) / np.sum((y_test - y_test.mean()) ** 2)
print(f"{len(x_train)} training and {len(x_test)} test rows, {x.shape[1]} features")
print(f"test mean absolute error: {mae:,.2f} (predicting the mean: {baseline:,.2f}), "
      f"R^2 {r2:.3f}")
