"""Train a small classifier on the handwritten digits that ship with seqnn.

    python examples/quickstart.py [--epochs N]

Runs offline in about a second and prints the test accuracy: 97.8 % with the
defaults (96-98 % for seeds 0-15).
"""
import argparse

import seqnn as sn


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=30)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()

    (x_train, y_train), (x_test, y_test) = sn.datasets.digits.load_data()
    x_train, x_test = x_train.astype("float32") / 16, x_test.astype("float32") / 16  # pixels are 0..16

    sn.utils.set_random_seed(args.seed)  # same weights, shuffling and result on every run
    model = (sn.Sequential(name="digits_mlp")
             .add(sn.layers.Input((8, 8)))
             .add(sn.layers.Flatten())
             .add(sn.layers.Dense(64, activation="relu"))
             .add(sn.layers.Dense(10, activation="softmax"))
             .compile(optimizer=sn.optimizers.Adam(1e-3),
                      loss="sparse_categorical_crossentropy",
                      metrics=["accuracy"]))
    model.summary()
    model.fit(x_train, y_train, epochs=args.epochs, batch_size=32, verbose=2)

    result = model.evaluate(x_test, y_test, verbose=0, return_dict=True)
    print(f"test accuracy: {result['accuracy']:.4f}  (loss {result['loss']:.4f})")


if __name__ == "__main__":
    main()
