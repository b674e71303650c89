"""fit / evaluate / predict behaviour: arguments, logs, reproducibility."""
import numpy as np
import pytest

import seqnn as sn

L = sn.layers


def data(n=64, features=4, classes=3, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, features)).astype(np.float32)
    y = np.argmax(x @ rng.normal(size=(features, classes)), axis=1)
    return x, y


def model_for(features=4, classes=3, metrics=("accuracy",), optimizer=None, dropout=0.0):
    layers = [L.Input((features,)), L.Dense(16, activation="relu")]
    if dropout:
        layers.append(L.Dropout(dropout))
    layers.append(L.Dense(classes, activation="softmax"))
    return sn.Sequential(layers).compile(optimizer=optimizer or sn.optimizers.Adam(0.01),
                                         loss="sparse_categorical_crossentropy", metrics=list(metrics))


class Recorder(sn.callbacks.Callback):
    def __init__(self):
        super().__init__()
        self.calls, self.batch_logs = [], []

    def on_train_begin(self, logs=None): self.calls.append("train_begin")
    def on_epoch_begin(self, epoch, logs=None): self.calls.append(f"epoch_begin {epoch}")
    def on_train_batch_end(self, batch, logs=None): self.batch_logs.append(dict(logs))
    def on_test_begin(self, logs=None): self.calls.append("test_begin")
    def on_test_end(self, logs=None): self.calls.append("test_end")
    def on_epoch_end(self, epoch, logs=None): self.calls.append(f"epoch_end {epoch} {sorted(logs)}")
    def on_train_end(self, logs=None): self.calls.append("train_end")


def test_history_has_per_epoch_lists_epoch_indices_and_params():
    x, y = data()
    history = model_for().fit(x, y, epochs=3, batch_size=16, validation_split=0.25, verbose=0)
    assert sorted(history.history) == ["accuracy", "loss", "val_accuracy", "val_loss"]
    assert all(len(v) == 3 for v in history.history.values())
    assert all(type(v) is float for vals in history.history.values() for v in vals)
    assert history.epoch == [0, 1, 2]
    assert history.params == {"verbose": 0, "epochs": 3, "steps": 3}


def test_loss_decreases_and_accuracy_rises_on_a_learnable_task():
    x, y = data(n=256)
    history = model_for().fit(x, y, epochs=15, batch_size=32, verbose=0, seed=0)
    assert history.history["loss"][-1] < 0.5 * history.history["loss"][0]
    assert history.history["accuracy"][-1] > 0.9


def test_callback_hooks_run_in_keras_order():
    x, y = data()
    rec = Recorder()
    model_for().fit(x, y, epochs=2, batch_size=32, validation_data=(x[:8], y[:8]), verbose=0, callbacks=[rec])
    keys = "['accuracy', 'loss', 'val_accuracy', 'val_loss']"
    assert rec.calls == ["train_begin", "epoch_begin 0", "test_begin", "test_end", f"epoch_end 0 {keys}",
                         "epoch_begin 1", "test_begin", "test_end", f"epoch_end 1 {keys}", "train_end"]
    assert len(rec.batch_logs) == 4 and set(rec.batch_logs[0]) == {"loss", "accuracy"}


def test_batch_logs_are_running_means_over_the_epoch():
    x, y = data(n=48)
    rec = Recorder()
    model = model_for()
    history = model.fit(x, y, epochs=1, batch_size=16, shuffle=False, verbose=0, callbacks=[rec])
    assert rec.batch_logs[-1]["loss"] == pytest.approx(history.history["loss"][0])
    assert rec.batch_logs[-1]["accuracy"] == pytest.approx(history.history["accuracy"][0])


def test_validation_split_takes_the_last_samples_before_shuffling():
    x, y = data(n=50)
    model = model_for()
    history = model.fit(x, y, epochs=1, batch_size=8, validation_split=0.2, verbose=0)
    val = model.evaluate(x[40:], y[40:], batch_size=8, return_dict=True, verbose=0)
    assert history.history["val_loss"][0] == pytest.approx(val["loss"], rel=1e-6)
    other = model.evaluate(x[:10], y[:10], batch_size=8, return_dict=True, verbose=0)
    assert other["loss"] != pytest.approx(val["loss"], rel=1e-6)


def test_steps_per_epoch_limits_the_batches():
    x, y = data(n=64)
    rec = Recorder()
    model_for().fit(x, y, epochs=2, batch_size=8, steps_per_epoch=3, verbose=0, callbacks=[rec])
    assert len(rec.batch_logs) == 6


def test_initial_epoch_starts_counting_there():
    x, y = data()
    history = model_for().fit(x, y, epochs=4, initial_epoch=2, verbose=0)
    assert history.epoch == [2, 3]


def test_validation_freq_integer_and_list():
    x, y = data()
    rec = Recorder()
    model_for().fit(x, y, epochs=4, validation_split=0.25, validation_freq=2, verbose=0, callbacks=[rec])
    ends = [c for c in rec.calls if c.startswith("epoch_end")]
    assert ["val_loss" in c for c in ends] == [False, True, False, True]
    rec = Recorder()
    model_for().fit(x, y, epochs=3, validation_split=0.25, validation_freq=[1, 3], verbose=0, callbacks=[rec])
    ends = [c for c in rec.calls if c.startswith("epoch_end")]
    assert ["val_loss" in c for c in ends] == [True, False, True]


def _trained_weights(seed, dropout=0.3, **fit_args):
    sn.utils.set_random_seed(7)
    x, y = data(n=96)
    model = model_for(dropout=dropout)
    model.fit(x, y, epochs=3, batch_size=16, verbose=0, seed=seed, **fit_args)
    return model.get_weights()


def test_same_seed_gives_bit_identical_weights():
    a, b = _trained_weights(5), _trained_weights(5)
    for wa, wb in zip(a, b):
        assert np.array_equal(wa, wb)
    c = _trained_weights(6)
    assert not all(np.array_equal(wa, wc) for wa, wc in zip(a, c))


def test_set_random_seed_alone_makes_runs_reproducible():
    a, b = _trained_weights(None), _trained_weights(None)
    for wa, wb in zip(a, b):
        assert np.array_equal(wa, wb)


def test_uint8_data_is_converted_per_batch_with_the_same_result():
    rng = np.random.default_rng(1)
    x8 = rng.integers(0, 256, size=(40, 4), dtype=np.uint8)
    y = rng.integers(0, 3, size=40)
    results = []
    for x in (x8, x8.astype(np.float32)):
        sn.utils.set_random_seed(3)
        model = model_for()
        model.fit(x, y, epochs=2, batch_size=8, verbose=0, seed=1)
        results.append(model.get_weights())
    for a, b in zip(*results):
        assert np.array_equal(a, b)


def test_class_weight_equals_matching_sample_weight():
    x, y = data()
    weights = {0: 2.0, 1: 0.5, 2: 1.0}
    results = []
    for kwargs in ({"class_weight": weights}, {"sample_weight": np.array([weights[int(c)] for c in y])}):
        sn.utils.set_random_seed(3)
        model = model_for()
        model.fit(x, y, epochs=2, batch_size=16, verbose=0, seed=2, **kwargs)
        results.append(model.get_weights())
    for a, b in zip(*results):
        assert np.array_equal(a, b)


def test_sample_weight_scales_the_loss_over_batch_size():
    x, y = data(n=8)
    model = model_for(metrics=())
    full = model.evaluate(x, y, batch_size=8, verbose=0)
    half = model.evaluate(x, y, sample_weight=np.full(8, 0.5), batch_size=8, verbose=0)
    assert half == pytest.approx(full / 2, rel=1e-6)


def test_shuffle_false_and_true_visit_different_orders_but_same_samples():
    x, y = data(n=32)
    losses = []
    for shuffle in (False, True):
        sn.utils.set_random_seed(3)
        model = model_for()
        model.fit(x, y, epochs=1, batch_size=8, verbose=0, shuffle=shuffle, seed=4)
        losses.append(model.get_weights()[0])
    assert not np.array_equal(*losses)


def test_evaluate_return_forms():
    x, y = data()
    model = model_for()
    assert isinstance(model.evaluate(x, y, verbose=0), list)
    loss, acc = model.evaluate(x, y, verbose=0)
    assert model.evaluate(x, y, verbose=0, return_dict=True) == {"loss": loss, "accuracy": acc}
    bare = model_for(metrics=())
    assert isinstance(bare.evaluate(x, y, verbose=0), float)


def test_train_and_test_on_batch():
    x, y = data(n=16)
    model = model_for()
    before = model.test_on_batch(x, y, return_dict=True)
    for _ in range(30):
        model.train_on_batch(x, y)
    after = model.test_on_batch(x, y, return_dict=True)
    assert after["loss"] < before["loss"]
    assert set(after) == {"loss", "accuracy"}
    assert isinstance(model.train_on_batch(x, y), list)


def test_stop_training_from_a_callback_ends_after_the_batch():
    x, y = data(n=64)

    class StopAt(sn.callbacks.Callback):
        def on_train_batch_end(self, batch, logs=None):
            if batch == 1:
                self.model.stop_training = True

    rec = Recorder()
    history = model_for().fit(x, y, epochs=5, batch_size=8, verbose=0, callbacks=[StopAt(), rec])
    assert len(rec.batch_logs) == 2 and history.epoch == [0]


def test_fit_on_a_data_loader_and_a_generator():
    x, y = data(n=40)

    class Loader:
        def __len__(self):
            return 5

        def __iter__(self):
            for i in range(0, 40, 8):
                yield x[i:i + 8], y[i:i + 8]

    model = model_for()
    history = model.fit(Loader(), epochs=2, verbose=0)
    assert history.params["steps"] == 5 and len(history.history["loss"]) == 2
    assert model.evaluate(Loader(), verbose=0, return_dict=True)["loss"] == pytest.approx(
        model.evaluate(x, y, batch_size=8, verbose=0, return_dict=True)["loss"], rel=1e-6)

    def endless():
        while True:
            yield x[:8], y[:8]

    rec = Recorder()
    model.fit(endless(), epochs=2, steps_per_epoch=3, verbose=0, callbacks=[rec])
    assert len(rec.batch_logs) == 6
    np.testing.assert_allclose(model.predict(iter([x[:8], x[8:16]]), verbose=0), model.predict(x[:16], verbose=0),
                               rtol=1e-6)


def test_regularization_penalty_is_part_of_the_loss():
    x, y = data(n=16)
    reg = sn.regularizers.L2(0.5)
    model = sn.Sequential([L.Input((4,)), L.Dense(3, kernel_regularizer=reg, activation="softmax")]).compile(
        optimizer="adam", loss="sparse_categorical_crossentropy")
    kernel = model.get_weights()[0]
    plain = sn.losses.SparseCategoricalCrossentropy()(y, model.predict(x, verbose=0))
    assert model.evaluate(x, y, batch_size=16, verbose=0) == pytest.approx(
        plain + 0.5 * float((kernel.astype(np.float64) ** 2).sum()), rel=1e-5)


def test_verbose_2_prints_one_line_per_epoch(capsys):
    x, y = data()
    model_for().fit(x, y, epochs=3, verbose=2)
    lines = capsys.readouterr().out.strip().splitlines()
    assert len(lines) == 3 and lines[0].startswith("Epoch 1/3") and "loss:" in lines[0]
    assert "\r" not in "".join(lines)


def test_verbose_0_prints_nothing(capsys):
    x, y = data()
    model_for().fit(x, y, epochs=2, verbose=0)
    assert capsys.readouterr().out == ""


@pytest.mark.parametrize("loss, y, last", [
    ("mse", np.random.default_rng(0).normal(size=(32, 2)), L.Dense(2)),
    ("mae", np.random.default_rng(0).normal(size=(32,)), L.Dense(1)),
    (sn.losses.Huber(delta=0.5), np.random.default_rng(0).normal(size=(32, 1)), L.Dense(1)),
    ("binary_crossentropy", (np.arange(32) % 2).astype(np.float32), L.Dense(1, activation="sigmoid")),
    ("categorical_crossentropy", sn.utils.to_categorical(np.arange(32) % 3, 3), L.Dense(3, activation="softmax")),
])
def test_every_loss_trains_end_to_end(loss, y, last):
    x = np.random.default_rng(1).normal(size=(32, 4))
    model = sn.Sequential([L.Input((4,)), L.Dense(8, activation="tanh"), last]).compile(
        optimizer=sn.optimizers.Adam(0.01), loss=loss)
    history = model.fit(x, y, epochs=20, batch_size=8, verbose=0)
    assert history.history["loss"][-1] < history.history["loss"][0]
