"""``custom_objects`` holds for one load only, accepts only classes (and metric functions) of the right kind,
and covers layers, losses, metrics and optimizers."""
import os
import subprocess
import threading

import numpy as np
import pytest

import seqnn as sn
from seqnn.saving import custom_object_scope

L = sn.layers


class ShiftedDense(L.Dense):
    pass


class DoubledMSE(sn.losses.MeanSquaredError):
    def penalty(self, d):
        return self.backend.multiply(super().penalty(d), 2.0)

    def penalty_grad(self, d):
        return self.backend.multiply(super().penalty_grad(d), 2.0)


class SlowSGD(sn.optimizers.SGD):
    pass


class CountingMetric(sn.metrics.Mean):
    def update_state(self, y_true, y_pred, sample_weight=None):
        super().update_state(np.ones(len(y_pred)))


def mean_probability(y_true, y_pred):
    return np.max(y_pred, axis=-1)


def saved_with_custom_objects(tmp_path):
    with custom_object_scope({"ShiftedDense": ShiftedDense}):
        model = sn.Sequential([sn.Input((3,)), ShiftedDense(2, activation="softmax")])
    model.compile(optimizer=SlowSGD(0.1), loss=DoubledMSE(),
                  metrics=[CountingMetric(name="counting"), mean_probability])
    path = tmp_path / "custom.safetensors"
    model.save(path)
    return path


CUSTOM = {"ShiftedDense": ShiftedDense, "DoubledMSE": DoubledMSE, "SlowSGD": SlowSGD,
          "CountingMetric": CountingMetric, "mean_probability": mean_probability}


def test_layers_losses_metrics_and_optimizers_resolve_through_custom_objects(tmp_path):
    path = saved_with_custom_objects(tmp_path)
    loaded = sn.load_model(path, custom_objects=CUSTOM)
    assert type(loaded.layers[0]) is ShiftedDense
    assert type(loaded.loss) is DoubledMSE and type(loaded.optimizer) is SlowSGD
    x, y = np.ones((4, 3), np.float32), np.zeros((4, 2), np.float32)
    logs = loaded.evaluate(x, y, verbose=0, return_dict=True)
    assert set(logs) == {"loss", "counting", "mean_probability"}


@pytest.mark.parametrize("missing", sorted(CUSTOM))
def test_each_custom_object_is_needed_and_the_error_names_it(tmp_path, missing):
    path = saved_with_custom_objects(tmp_path)
    with pytest.raises(ValueError, match=missing):
        sn.load_model(path, custom_objects={k: v for k, v in CUSTOM.items() if k != missing})


def test_custom_objects_do_not_outlive_the_load(tmp_path):
    path = tmp_path / "m.safetensors"
    sn.Sequential([sn.Input((3,)), L.Dense(2)]).compile(loss="mse").save(path)
    assert type(sn.load_model(path, custom_objects={"Dense": ShiftedDense}).layers[0]) is ShiftedDense
    assert type(sn.load_model(path).layers[0]) is L.Dense
    assert "ShiftedDense" not in L.registry and "mean_probability" not in sn.metrics.registry


def test_a_scope_in_one_thread_is_not_seen_by_a_load_in_another(tmp_path):
    path = tmp_path / "m.safetensors"
    sn.Sequential([sn.Input((3,)), L.Dense(2)]).save(path)
    inside, go_on = threading.Event(), threading.Event()
    seen = {}

    def hold_scope():
        with custom_object_scope({"Dense": ShiftedDense}):
            seen["inside"] = type(sn.load_model(path).layers[0])
            inside.set()
            go_on.wait(30)

    holder = threading.Thread(target=hold_scope)
    holder.start()
    inside.wait(30)
    seen["beside"] = type(sn.load_model(path).layers[0])
    go_on.set()
    holder.join()
    assert seen == {"inside": ShiftedDense, "beside": L.Dense}


def test_scopes_nest_and_the_inner_one_wins():
    class Other(L.Dense):
        pass

    with custom_object_scope({"Custom": ShiftedDense}):
        with custom_object_scope({"Custom": Other}):
            assert L.registry.lookup("Custom") is Other
        assert L.registry.lookup("Custom") is ShiftedDense
    assert "Custom" not in L.registry


@pytest.mark.parametrize("obj", [subprocess.run, os.system, print, eval, lambda *args: None, object,
                                 ShiftedDense(2), "Dense", 5, np.mean])
def test_anything_but_a_seqnn_class_or_a_metric_function_is_refused(tmp_path, obj):
    path = tmp_path / "m.safetensors"
    sn.Sequential([sn.Input((3,)), L.Dense(2)]).save(path)
    with pytest.raises(TypeError, match=r"custom_objects\['run'\]: expected a name \(str\) mapped to a subclass"):
        sn.load_model(path, custom_objects={"run": obj})
    assert "run" not in sn.metrics.registry


def test_a_metric_function_from_custom_objects_cannot_be_reached_by_a_later_file(tmp_path):
    # A file naming a function the user passed once must not be able to call it later.
    path = tmp_path / "m.safetensors"
    model = sn.Sequential([sn.Input((3,)), L.Dense(2)]).compile(loss="mse", metrics=[mean_probability])
    model.save(path)
    sn.load_model(path, custom_objects={"mean_probability": mean_probability})
    with pytest.raises(ValueError, match="unknown metric 'mean_probability'"):
        sn.load_model(path)


def test_custom_objects_must_be_a_dict():
    with pytest.raises(TypeError, match="custom_objects must be a dict"):
        with custom_object_scope([ShiftedDense]):
            pass
