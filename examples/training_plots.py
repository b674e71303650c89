"""
Training curves, a confusion matrix and the model diagram
=========================================================

Train a classifier on the embedded digits with a validation split, then draw
the three figures of :mod:`seqnn.plot`: the loss and accuracy per epoch, the
confusion matrix of the test predictions, and the model's layers. Each
function returns a matplotlib ``Figure`` (pyplot is never used), saved here as
a PNG file. Needs matplotlib, the ``plots`` extra.

.. code-block:: bash

   pip install ".[plots]"       # in a clone: matplotlib
   python examples/training_plots.py [--epochs 20] [--out-dir .]
"""
import argparse
import os

import seqnn as sn

parser = argparse.ArgumentParser(
    description="Training curves, a confusion matrix and the model diagram.")
parser.add_argument("--epochs", type=int, default=20)
parser.add_argument("--out-dir", default=".",
                    help="where the PNG files go (default: the current directory)")
parser.add_argument("--seed", type=int, default=0)
args = parser.parse_args()

# %%
# Train with a validation split
# -----------------------------
# ``validation_split=0.2`` keeps the last fifth of the training images aside
# and evaluates on it after every epoch, so the history holds ``val_loss`` and
# ``val_accuracy`` beside the training values.
(x_train, y_train), (x_test, y_test) = sn.datasets.digits.load_data()

sn.utils.set_random_seed(args.seed)
model = (sn.Sequential(name="digits_mlp")
         .add(sn.layers.Input((8, 8)))
         .add(sn.layers.Rescaling(1 / 16))
         .add(sn.layers.Flatten())
         .add(sn.layers.Dense(32, activation="relu"))
         .add(sn.layers.Dropout(0.1))
         .add(sn.layers.Dense(10, activation="softmax"))
         .compile(optimizer=sn.optimizers.Adam(3e-3),
                  loss="sparse_categorical_crossentropy",
                  metrics=["accuracy"]))
history = model.fit(x_train, y_train, epochs=args.epochs, batch_size=32,
                    validation_split=0.2, verbose=2, seed=args.seed)

# %%
# Training curves
# ---------------
# One panel per quantity: the training value as a solid line, the validation
# value dashed, against the epoch.
curves = sn.plot.history(history, title="digits_mlp on the digits")
curves.savefig(os.path.join(args.out_dir, "training_curves.png"))

# %%
# Confusion matrix
# ----------------
# Rows are the true classes, columns the predicted ones; ``y_pred`` may be the
# probabilities ``predict`` returns. The diagonal holds the correct answers.
probs = model.predict(x_test, verbose=0)
result = model.evaluate(x_test, y_test, verbose=0, return_dict=True)
print(f"test accuracy: {result['accuracy']:.4f}  (loss {result['loss']:.4f})")
confusion = sn.plot.confusion_matrix(y_test, probs)
confusion.savefig(os.path.join(args.out_dir, "confusion_matrix.png"))

# %%
# Model diagram
# -------------
# The layers top to bottom, each with its output shape and parameter count;
# unlike Keras's ``plot_model`` it needs neither pydot nor Graphviz.
diagram = sn.plot.model(model)
diagram.savefig(os.path.join(args.out_dir, "model.png"))
print("saved training_curves.png, confusion_matrix.png and model.png")
