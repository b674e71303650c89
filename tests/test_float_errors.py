"""Training, evaluation and prediction under ``np.seterr(all="raise")``, for every loss and every activation.

Underflow is harmless in a network (exp of a very negative logit, a tiny gradient times a tiny
activation) and seqnn ignores it whatever numpy's error state; the user's own state is neither a
reason to fail nor changed: callbacks see it as the user set it, and it is the same afterwards.
"""
import numpy as np
import pytest

import seqnn as sn
from seqnn.losses import registry as loss_registry

L = sn.layers
N = 64
RNG = np.random.default_rng(0)
# Large inputs saturate softmax, sigmoid, tanh and softplus: their exponentials underflow in float32.
X = (RNG.normal(size=(N, 4)) * 60).astype(np.float32)
LABELS = RNG.integers(0, 3, N)
ONE_HOT = sn.utils.to_categorical(LABELS, 3)
BINARY = (LABELS % 2).astype(np.float32)

# Every loss class: (output units, output activation, targets). A new loss must be added here.
LOSS_SETUPS = {
    sn.losses.SparseCategoricalCrossentropy: (3, "softmax", LABELS),
    sn.losses.CategoricalCrossentropy: (3, "softmax", ONE_HOT),
    sn.losses.BinaryCrossentropy: (1, "sigmoid", BINARY),
    sn.losses.KLDivergence: (3, "softmax", ONE_HOT),
    sn.losses.Poisson: (3, "softplus", RNG.poisson(2.0, size=(N, 3)).astype(np.float32)),
    sn.losses.Hinge: (1, "tanh", BINARY),
    sn.losses.SquaredHinge: (1, "tanh", BINARY),
    sn.losses.CategoricalHinge: (3, None, ONE_HOT),
    sn.losses.MeanSquaredError: (3, None, RNG.normal(size=(N, 3))),
    sn.losses.MeanAbsoluteError: (3, None, RNG.normal(size=(N, 3))),
    sn.losses.Huber: (3, None, RNG.normal(size=(N, 3))),
    sn.losses.LogCosh: (3, None, RNG.normal(size=(N, 3))),
    sn.losses.MeanAbsolutePercentageError: (3, None, RNG.normal(size=(N, 3)) + 5),
    sn.losses.MeanSquaredLogarithmicError: (3, "softplus", RNG.random(size=(N, 3))),
    sn.losses.CosineSimilarity: (3, None, RNG.normal(size=(N, 3))),
}
FROM_LOGITS = (sn.losses.SparseCategoricalCrossentropy, sn.losses.CategoricalCrossentropy,
               sn.losses.BinaryCrossentropy)
ACTIVATIONS = sorted({type(sn.activations.get(name)).__name__: name for name in sn.activations.registry.names()
                      }.values())


@pytest.fixture
def raising():
    """numpy raises on every floating-point error inside the test; the test's own state is restored after."""
    outside = np.geterr()
    with np.errstate(all="raise"):
        yield
    assert np.geterr() == outside


def run_everything(model, y):
    """fit (with validation), evaluate, predict, the one-batch forms and model(x); checks the user's state holds."""
    seen = []
    watch = sn.callbacks.LambdaCallback(on_train_batch_end=lambda batch, logs: seen.append(np.geterr()),
                                        on_epoch_end=lambda epoch, logs: seen.append(np.geterr()))
    history = model.fit(X, y, epochs=2, batch_size=16, validation_split=0.25, verbose=0, callbacks=[watch])
    assert all(np.isfinite(v).all() for v in history.history.values())
    model.evaluate(X, y, verbose=0)
    assert np.isfinite(model.predict(X, verbose=0)).all()
    model.train_on_batch(X, y)
    model.test_on_batch(X, y)
    model.predict_on_batch(X)
    model(X, training=True)
    assert seen and all(state["under"] == "raise" for state in seen)  # callbacks run in the user's state
    assert np.geterr()["under"] == "raise"


def test_every_loss_is_covered():
    assert set(LOSS_SETUPS) == {cls for cls in map(loss_registry.lookup, loss_registry.names())}


@pytest.mark.parametrize("loss_class", list(LOSS_SETUPS), ids=lambda cls: cls.__name__)
@pytest.mark.parametrize("optimizer", ["adam", "sgd"])
def test_training_with_every_loss_under_raise(loss_class, optimizer, raising):
    units, activation, y = LOSS_SETUPS[loss_class]
    sn.utils.set_random_seed(0)
    model = sn.Sequential([L.Input((4,)), L.Dense(16, activation="relu"), L.Dense(units, activation=activation)])
    # SGD's steps grow with the gradient: a small rate keeps the large outputs from diverging (an overflow).
    rate = {"adam": 1e-3, "sgd": 1e-6}[optimizer]
    model.compile(optimizer=sn.optimizers.get({"class_name": optimizer, "config": {"learning_rate": rate}}),
                  loss=loss_class())
    run_everything(model, y)


@pytest.mark.parametrize("loss_class", FROM_LOGITS, ids=lambda cls: cls.__name__)
def test_cross_entropy_from_logits_under_raise(loss_class, raising):
    units, _, y = LOSS_SETUPS[loss_class]
    sn.utils.set_random_seed(0)
    model = sn.Sequential([L.Input((4,)), L.Dense(16, activation="relu"), L.Dense(units)])
    model.compile(optimizer=sn.optimizers.Adam(1e-3), loss=loss_class(from_logits=True))
    run_everything(model, y)


@pytest.mark.parametrize("activation", ACTIVATIONS)
def test_every_activation_under_raise(activation, raising):
    sn.utils.set_random_seed(0)
    model = sn.Sequential([L.Input((4,)), L.Dense(16, activation=activation), L.Dense(3, activation=activation)])
    model.compile(optimizer=sn.optimizers.Adam(1e-3), loss="mse")
    run_everything(model, RNG.normal(size=(N, 3)).astype(np.float32))


def test_direct_calls_of_layers_and_losses_under_raise(raising):
    logits = np.array([[300.0, -300.0, 0.0]], np.float32)
    assert L.Softmax()(logits)[0, 1] == 0.0
    assert L.Activation("sigmoid")(logits)[0, 1] == 0.0
    loss = sn.losses.CategoricalCrossentropy(from_logits=True)(np.array([[1.0, 0.0, 0.0]]), logits)
    assert loss == pytest.approx(0.0, abs=1e-6)
    assert np.isfinite(sn.losses.BinaryCrossentropy(from_logits=True)(np.ones((1, 3)), logits))


def test_a_genuine_overflow_still_raises_as_the_user_asked():
    """Only underflow is the library's business: a model that diverges still trips the user's ``over="raise"``."""
    model = sn.Sequential([L.Input((4,)), L.Dense(3)])
    model.compile(optimizer=sn.optimizers.SGD(1e30), loss="mse")
    with np.errstate(over="raise", invalid="raise"):
        with pytest.raises(FloatingPointError):
            model.fit(X, RNG.normal(size=(N, 3)), epochs=3, verbose=0)


def test_the_library_leaves_the_error_state_as_it_found_it():
    with np.errstate(all="ignore"):
        before = np.geterr()
        model = sn.Sequential([L.Input((4,)), L.Dense(3, activation="softmax")])
        model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
        model.fit(X, LABELS, epochs=1, verbose=0)
        model.predict(X, verbose=0)
        assert np.geterr() == before
