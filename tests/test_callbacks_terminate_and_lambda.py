"""TerminateOnNaN on a diverging fit, and LambdaCallback's hook wiring."""
import math

import numpy as np
import pytest

import seqnn as sn
from seqnn.callbacks import EarlyStopping, LambdaCallback, LearningRateScheduler, TerminateOnNaN


def diverging_model():
    # SGD with a huge rate on mse overflows within a few batches.
    model = sn.Sequential([sn.Input((4,)), sn.layers.Dense(1)])
    return model.compile(optimizer=sn.optimizers.SGD(1e3), loss="mse")


def data():
    rng = np.random.default_rng(0)
    return rng.normal(size=(64, 4)).astype(np.float32), rng.normal(size=(64, 1)).astype(np.float32)


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
def test_terminate_on_nan_stops_at_the_first_non_finite_batch(capsys):
    x, y = data()
    losses = []
    record = LambdaCallback(on_train_batch_end=lambda batch, logs: losses.append(logs["loss"]))
    history = diverging_model().fit(x, y, epochs=5, batch_size=4, verbose=0, callbacks=[record, TerminateOnNaN()])
    assert all(math.isfinite(v) for v in losses[:-1]) and not math.isfinite(losses[-1])
    assert len(losses) < 16                  # stopped inside the first epoch
    assert history.epoch == [0]              # on_epoch_end still ran: the stop is graceful
    assert f"Batch {len(losses) - 1}: Invalid loss, terminating training" in capsys.readouterr().out


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
def test_graceful_stop_lets_early_stopping_restore_the_last_good_weights():
    x, y = data()
    model = diverging_model()
    snapshots = []
    history = model.fit(x, y, epochs=5, batch_size=4, verbose=0, callbacks=[
        LearningRateScheduler(lambda epoch: 0.01 if epoch < 2 else 1e3),   # diverges in the third epoch
        TerminateOnNaN(),
        LambdaCallback(on_epoch_end=lambda epoch, logs: snapshots.append(model.get_weights())),
        EarlyStopping(monitor="loss", patience=10, restore_best_weights=True)])
    losses = history.history["loss"]
    assert len(losses) == 3 and not math.isfinite(losses[2])
    best = int(np.argmin(losses[:2]))
    assert all(np.array_equal(a, b) for a, b in zip(model.get_weights(), snapshots[best]))
    assert all(np.all(np.isfinite(w)) for w in model.get_weights())


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
def test_raise_error_raises_instead():
    x, y = data()
    with pytest.raises(RuntimeError, match=r"NaN or Inf loss encountered at batch \d+\. Loss value: (nan|inf)"):
        diverging_model().fit(x, y, epochs=5, batch_size=4, verbose=0, callbacks=[TerminateOnNaN(raise_error=True)])


@pytest.mark.parametrize("loss, stops", [(float("nan"), True), (float("inf"), True), (-float("inf"), True),
                                         (1e30, False), (None, False)])
def test_terminate_on_nan_hook_directly(loss, stops):
    model = diverging_model()
    cb = TerminateOnNaN()
    cb.set_model(model)
    model.stop_training = False
    cb.on_train_batch_end(0, {} if loss is None else {"loss": loss})
    assert model.stop_training is stops


# --------------------------------------------------------------- LambdaCallback ---
def test_lambda_callback_hooks_receive_keras_arguments():
    rng = np.random.default_rng(0)
    x, y = rng.normal(size=(16, 4)).astype(np.float32), rng.normal(size=(16, 1)).astype(np.float32)
    calls = []
    cb = LambdaCallback(
        on_train_begin=lambda logs: calls.append(("train_begin", logs)),
        on_epoch_begin=lambda epoch, logs: calls.append(("epoch_begin", epoch)),
        on_train_batch_end=lambda batch, logs: calls.append(("batch_end", batch, sorted(logs))),
        on_epoch_end=lambda epoch, logs: calls.append(("epoch_end", epoch, sorted(logs))),
        on_train_end=lambda logs: calls.append(("train_end", sorted(logs))))
    model = sn.Sequential([sn.Input((4,)), sn.layers.Dense(1)]).compile(optimizer="sgd", loss="mse")
    model.fit(x, y, epochs=2, batch_size=8, verbose=0, callbacks=[cb])
    assert calls == [("train_begin", {}), ("epoch_begin", 0), ("batch_end", 0, ["loss"]),
                     ("batch_end", 1, ["loss"]), ("epoch_end", 0, ["loss"]), ("epoch_begin", 1),
                     ("batch_end", 0, ["loss"]), ("batch_end", 1, ["loss"]), ("epoch_end", 1, ["loss"]),
                     ("train_end", ["loss"])]


def test_lambda_callback_other_hooks_and_batch_alias():
    seen = []
    model = sn.Sequential([sn.Input((4,)), sn.layers.Dense(1)]).compile(optimizer="sgd", loss="mse")
    cb = LambdaCallback(on_batch_end=lambda batch, logs: seen.append(("batch", batch)),
                        on_predict_end=lambda logs: seen.append("predict_end"),
                        on_test_batch_end=lambda batch, logs: seen.append(("test", batch)))
    x = np.zeros((8, 4), np.float32)
    model.fit(x, np.zeros((8, 1)), epochs=1, batch_size=8, verbose=0, callbacks=[cb])
    model.evaluate(x, np.zeros((8, 1)), verbose=0, callbacks=[cb])
    model.predict(x, verbose=0, callbacks=[cb])
    assert seen == [("batch", 0), ("test", 0), "predict_end"]


def test_lambda_callback_unknown_hook():
    with pytest.raises(ValueError, match="LambdaCallback: unknown hook 'on_epoch_finish'"):
        LambdaCallback(on_epoch_finish=lambda epoch, logs: None)
