"""Train the classic MNIST MLP (784-256-128-10) to about 98 % test accuracy.

    SEQNN_DATA_DIR=/path/to/mnist python examples/mnist_mlp.py [--epochs 10] [--limit N]

The four MNIST IDX files are read from ``--data-dir``, ``$SEQNN_DATA_DIR`` or
``~/.cache/seqnn/datasets/mnist``; where none has them they are downloaded
(and checked by SHA-256). The uint8 images go into ``fit`` as they are: the
model's ``Rescaling(1/255)`` converts each batch, so no float copy of the
dataset is made. About 15 s on two CPU cores; 98.1 % with the defaults.
"""
import argparse

import seqnn as sn


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=10)
    parser.add_argument("--limit", type=int, default=None, help="train on the first N images only (quick run)")
    parser.add_argument("--data-dir", default=None, help="directory with the IDX files")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()

    (x_train, y_train), (x_test, y_test) = sn.datasets.mnist.load_data(args.data_dir)
    if args.limit:
        x_train, y_train = x_train[:args.limit], y_train[:args.limit]
    print(f"MNIST: {len(x_train)} training and {len(x_test)} test images, {x_train.dtype}")

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
                      metrics=["accuracy"]))
    model.summary()
    model.fit(x_train, y_train, epochs=args.epochs, batch_size=128, verbose=2, seed=args.seed)

    result = model.evaluate(x_test, y_test, batch_size=1024, verbose=0, return_dict=True)
    print(f"test accuracy: {result['accuracy']:.4f}  (loss {result['loss']:.4f})")


if __name__ == "__main__":
    main()
