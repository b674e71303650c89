"""Every public entry point, called with bad input: refused before any work, with a message that names the
argument, what it takes and what came, and the model left exactly as it was.

Three tables: constructors (layers, losses, optimizers, metrics, callbacks, Sequential, load_model), the
model's methods (add, build, compile, fit, evaluate, predict, ...), each run on a built and on an unbuilt
model where both make sense, and the console commands. Each regex below is the check that the message
says all three things; a case whose message loses one of them fails.
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any, Callable

import numpy as np
import pytest

import seqnn as sn
from seqnn import random as sn_random
from seqnn.cli import predict as cli_predict
from seqnn.cli import train as cli_train
from cli_helpers import in_process

L, C, M, O = sn.layers, sn.callbacks, sn.metrics, sn.optimizers

X = np.random.default_rng(0).normal(size=(10, 4)).astype(np.float32)
Y = np.arange(10) % 3


@dataclass
class Case:
    id: str
    call: Callable[..., Any]
    exc: type
    match: str  # names the argument, what it takes and what came
    states: tuple = ("built", "unbuilt")  # for model cases: the models it runs on


# ------------------------------------------------------------------------------------------ constructors ---
CONSTRUCTORS = [
    # layers
    Case("Dense units str", lambda: L.Dense("10"), ValueError, r"Dense units must be a positive integer, got '10'"),
    Case("Dense units float", lambda: L.Dense(2.5), ValueError, r"Dense units must be a positive integer, got 2.5"),
    Case("Dense units 0", lambda: L.Dense(0), ValueError, r"Dense units must be a positive integer, got 0"),
    Case("Dense activation unknown", lambda: L.Dense(3, activation="rleu"), ValueError,
         r"unknown activation 'rleu'; known activation names: .*relu"),
    Case("Dense activation int", lambda: L.Dense(3, activation=5), TypeError,
         r"expected a activation name, config dict or Activation instance, got int: 5"),
    Case("Dense use_bias str", lambda: L.Dense(3, use_bias="no"), TypeError,
         r"Dense: use_bias must be True or False, got str 'no'"),
    Case("Dense kernel_initializer int", lambda: L.Dense(3, kernel_initializer=5), TypeError,
         r"expected a initializer name, config dict or Initializer instance, got int: 5"),
    Case("Dense kernel_regularizer unknown", lambda: L.Dense(3, kernel_regularizer="l3"), ValueError,
         r"unknown regularizer 'l3'; known regularizer names: .*l2"),
    Case("Dense input_dim 0", lambda: L.Dense(3, input_dim=0), ValueError,
         r"Dense: input_dim must be a positive integer, got 0"),
    Case("Dense input_shape str", lambda: L.Dense(3, input_shape="28"), ValueError,
         r"Dense input_shape must be a tuple of positive integers .*got str: '28'"),
    Case("Dense trainable str", lambda: L.Dense(3, trainable="no"), TypeError,
         r"Dense: trainable must be True or False, got str 'no'"),
    Case("Dense name int", lambda: L.Dense(3, name=5), TypeError, r"Dense: name must be a string \(or None\), got 5"),
    Case("Dense unknown keyword", lambda: L.Dense(3, unit=3), TypeError,
         r"Dense\(\) got an unexpected keyword argument 'unit'; Dense takes units, activation, use_bias"),
    Case("Flatten unknown keyword", lambda: L.Flatten(dims=2), TypeError,
         r"Flatten\(\) got an unexpected keyword argument 'dims'; Flatten takes data_format, name"),
    Case("ReLU unknown keyword", lambda: L.ReLU(max_value=6), TypeError,
         r"ReLU\(\) got an unexpected keyword argument 'max_value'; ReLU takes negative_slope, name"),
    Case("Flatten data_format", lambda: L.Flatten(data_format="channels_first"), ValueError,
         r"Flatten data_format must be 'channels_last' \(or None\), got 'channels_first'"),
    Case("Conv2D filters 0", lambda: L.Conv2D(0, 3), ValueError, r"Conv2D filters must be a positive integer, got 0"),
    Case("Conv2D kernel_size str", lambda: L.Conv2D(4, "3"), ValueError,
         r"Conv2D kernel_size must be an int or a tuple of 2 ints >= 1, got '3'"),
    Case("Conv2D strides 0", lambda: L.Conv2D(4, 3, strides=0), ValueError,
         r"Conv2D strides must be an int or a tuple of 2 ints >= 1, got 0"),
    Case("Conv2D padding", lambda: L.Conv2D(4, 3, padding="full"), ValueError,
         r"Conv2D padding must be one of 'valid', 'same', got 'full'"),
    Case("Conv2D use_bias int", lambda: L.Conv2D(4, 3, use_bias=2), TypeError,
         r"Conv2D: use_bias must be True or False, got 2"),
    Case("Conv1D kernel_size pair", lambda: L.Conv1D(4, (3, 3)), ValueError,
         r"Conv1D kernel_size must be an int or a tuple of 1 ints >= 1, got \(3, 3\)"),
    Case("Conv2DTranspose output_padding", lambda: L.Conv2DTranspose(4, 3, output_padding=-1), ValueError,
         r"Conv2DTranspose output_padding must be an int or a tuple of 2 ints >= 0, got -1"),
    Case("Dropout rate 1", lambda: L.Dropout(1.0), ValueError, r"Dropout rate must be a number in \[0, 1\), got 1.0"),
    Case("Dropout rate str", lambda: L.Dropout("0.5"), ValueError,
         r"Dropout rate must be a number in \[0, 1\), got '0.5'"),
    Case("Dropout seed str", lambda: L.Dropout(0.5, seed="x"), ValueError,
         r"Dropout: seed must be a non-negative integer or None, got str 'x'"),
    Case("Dropout seed negative", lambda: L.Dropout(0.5, seed=-1), ValueError,
         r"Dropout: seed must be a non-negative integer or None, got -1"),
    Case("GaussianNoise stddev", lambda: L.GaussianNoise(-1), ValueError,
         r"GaussianNoise stddev must be a finite number >= 0, got -1"),
    Case("SpatialDropout2D rate", lambda: L.SpatialDropout2D(-0.1), ValueError,
         r"SpatialDropout2D rate must be a number in \[0, 1\), got -0.1"),
    Case("Input shape str", lambda: L.Input("28"), ValueError,
         r"Input shape must be a tuple of positive integers .*got str: '28'"),
    Case("Input shape float", lambda: L.Input((28.5,)), ValueError,
         r"Input shape must be a tuple of positive integers .*got tuple: \(28.5,\)"),
    Case("Input shape 0", lambda: L.Input((0, 3)), ValueError,
         r"Input shape must be a tuple of positive integers .*got tuple: \(0, 3\)"),
    Case("Input without shape", lambda: L.Input(), ValueError, r"Input needs a shape, e.g. Input\(\(784,\)\)"),
    Case("Input batch_size 0", lambda: L.Input((3,), batch_size=0), ValueError,
         r"Input batch_size must be a positive integer or None, got 0"),
    Case("Input batch_shape int", lambda: L.Input(batch_shape=5), ValueError,
         r"Input batch_shape must be a tuple \(batch size or None, \*sample shape\), got 5"),
    Case("Reshape target_shape str", lambda: L.Reshape("34"), ValueError,
         r"Reshape target_shape must be a tuple of positive sizes with at most one -1, got str: '34'"),
    Case("Reshape two -1", lambda: L.Reshape((-1, -1)), ValueError,
         r"Reshape target_shape must be .* at most one -1, got tuple: \(-1, -1\)"),
    Case("Permute not a permutation", lambda: L.Permute((1, 1)), ValueError,
         r"Permute dims must be a permutation of 1 … 2 .*got \(1, 1\)"),
    Case("RepeatVector 0", lambda: L.RepeatVector(0), ValueError, r"RepeatVector n must be a positive integer, got 0"),
    Case("Rescaling str", lambda: L.Rescaling("1/255"), ValueError,
         r"Rescaling: scale must be a number in \[-inf, inf\), got str '1/255'"),
    Case("Activation unknown", lambda: L.Activation("rleu"), ValueError, r"unknown activation 'rleu'; known"),
    Case("LeakyReLU slope str", lambda: L.LeakyReLU(negative_slope="x"), ValueError,
         r"LeakyReLU: negative_slope must be a number in \[0.0, 1.0\], got str 'x'"),
    Case("LeakyReLU slope negative", lambda: L.LeakyReLU(negative_slope=-1), ValueError,
         r"LeakyReLU: negative_slope must be a number in \[0.0, 1.0\], got -1"),
    Case("ELU alpha str", lambda: L.ELU(alpha="x"), ValueError,
         r"ELU: alpha must be a number in \(0.0, inf\), got str 'x'"),
    Case("GELU approximate str", lambda: L.GELU(approximate="tanh"), TypeError,
         r"GELU: approximate must be True or False, got str 'tanh'"),
    Case("Softmax axis", lambda: L.Softmax(axis="x"), ValueError, r"Softmax supports axis=-1 .*got axis='x'"),
    Case("BatchNormalization momentum", lambda: L.BatchNormalization(momentum=2), ValueError,
         r"BatchNormalization momentum must be a number in \[0.0, 1.0\], got 2"),
    Case("BatchNormalization epsilon", lambda: L.BatchNormalization(epsilon=0), ValueError,
         r"BatchNormalization epsilon must be > 0, got 0"),
    Case("BatchNormalization center str", lambda: L.BatchNormalization(center="yes"), TypeError,
         r"BatchNormalization: center must be True or False, got str 'yes'"),
    Case("LayerNormalization epsilon", lambda: L.LayerNormalization(epsilon=-1), ValueError,
         r"LayerNormalization epsilon must be a number >= 0.0, got -1"),
    Case("MaxPooling2D pool_size 0", lambda: L.MaxPooling2D(0), ValueError,
         r"MaxPooling2D pool_size must be an int or a tuple of 2 ints >= 1, got 0"),
    Case("AveragePooling1D pool_size str", lambda: L.AveragePooling1D("2"), ValueError,
         r"AveragePooling1D pool_size must be an int or a tuple of 1 ints >= 1, got '2'"),
    Case("GlobalMaxPooling2D keepdims str", lambda: L.GlobalMaxPooling2D(keepdims="yes"), TypeError,
         r"GlobalMaxPooling2D: keepdims must be True or False, got str 'yes'"),
    Case("UpSampling2D interpolation", lambda: L.UpSampling2D(interpolation="cubic"), ValueError,
         r"UpSampling2D interpolation must be one of 'nearest', 'bilinear', got 'cubic'"),
    Case("ZeroPadding2D negative", lambda: L.ZeroPadding2D(-1), ValueError,
         r"ZeroPadding2D padding for rows must be an int or a \(before, after\) pair of non-negative ints, got -1"),
    Case("Cropping2D str", lambda: L.Cropping2D("1"), ValueError,
         r"Cropping2D cropping must be an int, \(rows, cols\) or \(\(top, bottom\), \(left, right\)\), got '1'"),
    # losses
    Case("Huber delta 0", lambda: sn.losses.Huber(delta=0), ValueError,
         r"Huber: delta must be a number in \(0.0, inf\), got 0"),
    Case("Huber delta str", lambda: sn.losses.Huber(delta="1"), ValueError,
         r"Huber: delta must be a number in \(0.0, inf\), got str '1'"),
    Case("loss reduction", lambda: sn.losses.MeanSquaredError(reduction="mean"), ValueError,
         r"reduction must be one of sum_over_batch_size, sum, none, got 'mean'"),
    Case("loss name int", lambda: sn.losses.MeanSquaredError(name=5), TypeError,
         r"MeanSquaredError: name must be a string \(or None\), got 5"),
    Case("label_smoothing 1", lambda: sn.losses.BinaryCrossentropy(label_smoothing=1.0), ValueError,
         r"BinaryCrossentropy: label_smoothing must be a number in \[0.0, 1.0\), got 1.0"),
    Case("label_smoothing str", lambda: sn.losses.CategoricalCrossentropy(label_smoothing="0.1"), ValueError,
         r"CategoricalCrossentropy: label_smoothing must be a number in \[0.0, 1.0\), got str '0.1'"),
    Case("from_logits str", lambda: sn.losses.SparseCategoricalCrossentropy(from_logits="yes"), TypeError,
         r"SparseCategoricalCrossentropy: from_logits must be True or False, got str 'yes'"),
    Case("CosineSimilarity axis 0", lambda: sn.losses.CosineSimilarity(axis=0), ValueError,
         r"CosineSimilarity axis must be a feature axis \(-1 or >= 1\), got axis=0"),
    Case("CosineSimilarity axis str", lambda: sn.losses.CosineSimilarity(axis="x"), TypeError,
         r"CosineSimilarity axis must be an int, got str: 'x'"),
    # optimizers
    Case("Adam learning_rate negative", lambda: O.Adam(learning_rate=-1), ValueError,
         r"learning_rate must be a number in \[0.0, inf\), got -1"),
    Case("Adam learning_rate str", lambda: O.Adam(learning_rate="0.1"), ValueError,
         r"learning_rate must be a number in \[0.0, inf\), got '0.1'"),
    Case("Adam beta_1", lambda: O.Adam(beta_1=1.5), ValueError, r"beta_1 must be a number in \[0.0, 1.0\], got 1.5"),
    Case("Adam epsilon", lambda: O.Adam(epsilon=-1), ValueError, r"epsilon must be a number in \[0.0, inf\), got -1"),
    Case("Adam amsgrad str", lambda: O.Adam(amsgrad="yes"), TypeError,
         r"Adam: amsgrad must be True or False, got str 'yes'"),
    Case("Adam lr (Keras 2)", lambda: O.Adam(lr=0.1), ValueError,
         r"Adam: argument `lr` is not recognized .* pass learning_rate=0.1 instead"),
    Case("Adam unknown argument", lambda: O.Adam(betas=(0.9, 0.99)), TypeError,
         r"Adam got an unexpected argument 'betas'"),
    Case("Adam clipnorm", lambda: O.Adam(clipnorm=-1), ValueError,
         r"clipnorm must be a number in \(0.0, inf\), got -1"),
    Case("optimizer name int", lambda: O.Adam(name=5), TypeError, r"Adam: name must be a string \(or None\), got 5"),
    Case("SGD momentum", lambda: O.SGD(momentum=-1), ValueError, r"momentum must be a number in \[0.0, 1.0\], got -1"),
    Case("SGD nesterov str", lambda: O.SGD(nesterov="x"), TypeError,
         r"SGD: nesterov must be True or False, got str 'x'"),
    Case("RMSprop rho", lambda: O.RMSprop(rho=1.0), ValueError, r"rho must be a number in \[0.0, 1.0\), got 1.0"),
    Case("RMSprop centered int", lambda: O.RMSprop(centered=1), TypeError,
         r"RMSprop: centered must be True or False, got 1"),
    Case("Adagrad initial_accumulator_value", lambda: O.Adagrad(initial_accumulator_value=-1), ValueError,
         r"initial_accumulator_value must be a number in \[0.0, inf\), got -1"),
    Case("AdamW weight_decay", lambda: O.AdamW(weight_decay=-1), ValueError,
         r"weight_decay must be a number in \[0.0, inf\), got -1"),
    Case("schedule decay_steps", lambda: O.schedules.ExponentialDecay(0.1, decay_steps=0, decay_rate=0.9),
         ValueError, r"decay_steps must be a finite number > 0.0, got 0"),
    # metrics
    Case("AUC num_thresholds", lambda: M.AUC(num_thresholds=1), ValueError,
         r"num_thresholds must be an integer from 2 to 1,000,000, got 1"),
    Case("AUC curve", lambda: M.AUC(curve="XY"), ValueError, r"curve must be 'ROC' or 'PR', got 'XY'"),
    Case("TopKCategoricalAccuracy k", lambda: M.TopKCategoricalAccuracy(k=0), ValueError,
         r"k must be a positive integer, got 0"),
    Case("SparseTopKCategoricalAccuracy k str", lambda: M.SparseTopKCategoricalAccuracy(k="5"), ValueError,
         r"k must be a positive integer, got '5'"),
    Case("Precision thresholds", lambda: M.Precision(thresholds=2.0), ValueError,
         r"thresholds must lie in \[0, 1\], got 2.0"),
    Case("Recall class_id", lambda: M.Recall(class_id=-1), ValueError,
         r"class_id must be a non-negative integer or None, got -1"),
    Case("BinaryAccuracy threshold str", lambda: M.BinaryAccuracy(threshold="0.5"), ValueError,
         r"BinaryAccuracy: threshold must be a number in \[-inf, inf\), got str '0.5'"),
    Case("F1Score average", lambda: M.F1Score(average="mean"), ValueError,
         r"average must be one of None, 'micro', 'macro' or 'weighted', got 'mean'"),
    Case("FBetaScore beta", lambda: M.FBetaScore(beta=0), ValueError, r"beta must be a number greater than 0, got 0"),
    Case("ConfusionMatrix num_classes", lambda: M.ConfusionMatrix(0), ValueError,
         r"num_classes must be an integer >= 2 .*got 0"),
    Case("metric name int", lambda: M.Accuracy(name=5), TypeError,
         r"Accuracy: name must be a string \(or None\), got 5"),
    # callbacks
    Case("EarlyStopping patience", lambda: C.EarlyStopping(patience=-1), ValueError,
         r"EarlyStopping: patience must be a non-negative integer, got -1"),
    Case("EarlyStopping mode", lambda: C.EarlyStopping(mode="maximize"), ValueError,
         r"EarlyStopping: mode must be one of 'auto', 'min', 'max', got 'maximize'"),
    Case("EarlyStopping monitor int", lambda: C.EarlyStopping(monitor=5), ValueError,
         r"EarlyStopping: monitor must be the name of a logged quantity such as 'val_loss', got 5"),
    Case("EarlyStopping min_delta str", lambda: C.EarlyStopping(min_delta="x"), ValueError,
         r"EarlyStopping: min_delta must be a number, got 'x'"),
    Case("EarlyStopping baseline str", lambda: C.EarlyStopping(baseline="0.5"), ValueError,
         r"EarlyStopping: baseline must be a number or None, got '0.5'"),
    Case("EarlyStopping verbose str", lambda: C.EarlyStopping(verbose="x"), ValueError,
         r"EarlyStopping: verbose must be 0 \(silent\) or 1 \(print\), got str 'x'"),
    Case("EarlyStopping restore_best_weights str", lambda: C.EarlyStopping(restore_best_weights="no"), TypeError,
         r"EarlyStopping: restore_best_weights must be True or False, got str 'no'"),
    Case("ModelCheckpoint filepath int", lambda: C.ModelCheckpoint(5), TypeError,
         r"ModelCheckpoint: filepath must be a str or os.PathLike ending in .safetensors, got int: 5"),
    Case("ModelCheckpoint filepath suffix", lambda: C.ModelCheckpoint("model.txt"), ValueError,
         r"ModelCheckpoint: the filepath must end in .safetensors .*got filepath='model.txt'"),
    Case("ModelCheckpoint save_freq", lambda: C.ModelCheckpoint("m.safetensors", save_freq="batch"), ValueError,
         r"ModelCheckpoint: unrecognized save_freq: 'batch'; expected 'epoch' or a positive integer"),
    Case("ModelCheckpoint save_best_only str", lambda: C.ModelCheckpoint("m.safetensors", save_best_only="x"),
         TypeError, r"ModelCheckpoint: save_best_only must be True or False, got str 'x'"),
    Case("ModelCheckpoint verbose", lambda: C.ModelCheckpoint("m.safetensors", verbose=-1), ValueError,
         r"ModelCheckpoint: verbose must be 0 \(silent\) or 1 \(print\), got -1"),
    Case("CSVLogger filename int", lambda: C.CSVLogger(5), ValueError,
         r"CSVLogger: filename must be a file path, got 5"),
    Case("CSVLogger separator", lambda: C.CSVLogger("a.csv", separator=";;"), ValueError,
         r"CSVLogger: separator must be one character .*got ';;'"),
    Case("CSVLogger append str", lambda: C.CSVLogger("a.csv", append="no"), TypeError,
         r"CSVLogger: append must be True or False, got str 'no'"),
    Case("ReduceLROnPlateau factor", lambda: C.ReduceLROnPlateau(factor=1.0), ValueError,
         r"ReduceLROnPlateau does not support a factor outside \[0, 1\) .*factor=1.0"),
    Case("ReduceLROnPlateau factor str", lambda: C.ReduceLROnPlateau(factor="0.5"), ValueError,
         r"ReduceLROnPlateau: factor must be a number, got '0.5'"),
    Case("ReduceLROnPlateau min_lr", lambda: C.ReduceLROnPlateau(min_lr=-1), ValueError,
         r"ReduceLROnPlateau: min_lr must be >= 0, got -1"),
    Case("ReduceLROnPlateau cooldown", lambda: C.ReduceLROnPlateau(cooldown=-1), ValueError,
         r"ReduceLROnPlateau: cooldown must be a non-negative integer, got -1"),
    Case("LearningRateScheduler schedule", lambda: C.LearningRateScheduler(0.1), TypeError,
         r"LearningRateScheduler: schedule must be a function \(epoch, lr\) -> lr, got float"),
    Case("LearningRateScheduler verbose", lambda: C.LearningRateScheduler(lambda e, lr: lr, verbose="x"), ValueError,
         r"LearningRateScheduler: verbose must be 0 \(silent\) or 1 \(print\), got str 'x'"),
    Case("LambdaCallback hook not callable", lambda: C.LambdaCallback(on_epoch_end=5), TypeError,
         r"LambdaCallback: on_epoch_end must be a function \(or None\), got 5"),
    Case("LambdaCallback unknown hook", lambda: C.LambdaCallback(on_epoch_ends=print), ValueError,
         r"LambdaCallback: unknown hook 'on_epoch_ends'"),
    Case("ProgbarLogger verbose", lambda: C.ProgbarLogger(verbose=5), ValueError,
         r"verbose must be 0, 1, 2 or 'auto', got 5"),
    Case("ProgbarLogger stream", lambda: C.ProgbarLogger(stream="stdout"), TypeError,
         r"ProgbarLogger: stream must be a file-like object with write\(\) \(or None\), got str 'stdout'"),
    Case("TerminateOnNaN raise_error str", lambda: C.TerminateOnNaN(raise_error="yes"), TypeError,
         r"TerminateOnNaN: raise_error must be True or False, got str 'yes'"),
    Case("ClassificationReport validation_data", lambda: C.ClassificationReport(5), ValueError,
         r"ClassificationReport: validation_data must be a tuple \(x_val, y_val\) .*got int"),
    Case("ClassificationReport every", lambda: C.ClassificationReport((X, Y), every=0), ValueError,
         r"ClassificationReport: every must be an integer >= 1, got 0"),
    Case("ClassificationReport digits", lambda: C.ClassificationReport((X, Y), digits=-1), ValueError,
         r"ClassificationReport: digits must be an integer >= 0, got -1"),
    Case("ClassificationReport file int", lambda: C.ClassificationReport((X, Y), file=5), TypeError,
         r"ClassificationReport: file must be a path \(or None\), got 5"),
    Case("ClassificationReport target_names str", lambda: C.ClassificationReport((X, Y), target_names="abc"),
         TypeError, r"ClassificationReport: target_names must be a list of class names \(or None\), got str 'abc'"),
    Case("BackupAndRestore save_freq", lambda: C.BackupAndRestore("backup", save_freq=0), ValueError,
         r"BackupAndRestore: save_freq must be 'epoch' or a positive number of batches, got 0"),
    Case("BackupAndRestore backup_dir int", lambda: C.BackupAndRestore(5), TypeError,
         r"BackupAndRestore: backup_dir must be a directory path \(str or os.PathLike\), got 5"),
    Case("BackupAndRestore delete_checkpoint str", lambda: C.BackupAndRestore("b", delete_checkpoint="x"),
         TypeError, r"BackupAndRestore: delete_checkpoint must be True or False, got str 'x'"),
    # models and files
    Case("Sequential layers int", lambda: sn.Sequential(layers=5), TypeError,
         r"Sequential: layers must be a list of layers \(or None\), got int: 5"),
    Case("Sequential layers one layer", lambda: sn.Sequential(L.Dense(3)), TypeError,
         r"Sequential: layers must be a list of layers \(or None\), got Dense: .*; use .add\(\) for one layer"),
    Case("Sequential layers str", lambda: sn.Sequential("dense"), TypeError,
         r"Sequential: layers must be a list of layers \(or None\), got str: 'dense'"),
    Case("Sequential trainable str", lambda: sn.Sequential(trainable="no"), TypeError,
         r"Sequential: trainable must be True or False, got str 'no'"),
    Case("Sequential name int", lambda: sn.Sequential(name=5), TypeError,
         r"Sequential: name must be a string \(or None\), got 5"),
    Case("Sequential.from_config int", lambda: sn.Sequential.from_config(5), ValueError,
         r"a Sequential config is a dict with a 'layers' list .*got 5"),
    Case("load_model int", lambda: sn.load_model(5), TypeError,
         r"load_model: filepath must be a str or os.PathLike, got int: 5"),
    Case("load_model None", lambda: sn.load_model(None), TypeError,
         r"load_model: filepath must be a str or os.PathLike, got NoneType: None"),
    Case("load_model empty", lambda: sn.load_model(""), ValueError, r"load_model: filepath is empty"),
    Case("load_model compile str", lambda: sn.load_model(_model_file(), compile="no"), TypeError,
         r"load_model: compile must be True or False, got str 'no'"),
    Case("load_model custom_objects list", lambda: sn.load_model(_model_file(), custom_objects=[1]), TypeError,
         r"custom_objects must be a dict \{name: class\}, got list: \[1\]"),
    Case("set_random_seed str", lambda: sn.utils.set_random_seed("x"), ValueError,
         r"seed must be a non-negative integer, got 'x'"),
]


@pytest.mark.parametrize("call, exc, match", [pytest.param(c.call, c.exc, c.match, id=c.id) for c in CONSTRUCTORS])
def test_constructor_refuses(call, exc, match, monkeypatch, tmp_path):
    monkeypatch.chdir(tmp_path)
    seeds = sn_random.get_state()
    with pytest.raises(exc, match=match):
        call()
    assert sn_random.get_state() == seeds  # nothing drew from the global seed stream


# --------------------------------------------------------------------------------------- model methods ---
def fit(**kwargs):
    return lambda m: m.fit(**{"x": X, "y": Y, "verbose": 0, **kwargs})


def evaluate(**kwargs):
    return lambda m: m.evaluate(**{"x": X, "y": Y, "verbose": 0, **kwargs})


def predict(**kwargs):
    return lambda m: m.predict(**{"x": X, "verbose": 0, **kwargs})


def with_nan(array, index):
    array = array.astype(np.float64)
    array[index] = np.nan
    return array


def one_hot(values=None):
    y = sn.utils.to_categorical(Y, 3)
    if values is not None:
        y[0] = values
    return y


NOT_BUILT = ("unbuilt",)
BUILT = ("built",)

METHODS = [
    # add / build / pop / get_layer / set_weights / summary
    Case("add int", lambda m: m.add(5), TypeError, r"add\(\) takes a seqnn layer, got int: 5"),
    Case("add a class", lambda m: m.add(L.Dense), TypeError, r"add\(\) takes a seqnn layer, got type: .*Dense"),
    Case("add Input after layers", lambda m: m.add(L.Input((4,))), ValueError,
         r"an Input can only be the first entry of a Sequential model"),
    Case("add a layer twice", lambda m: m.add(m.layers[0]), ValueError,
         r"layer '.*' is already in this model; create a new layer instead"),
    Case("add a layer that cannot take the output", lambda m: m.add(L.Reshape((5,))), ValueError,
         r"layer 'reshape.*' \(Reshape\): cannot reshape input of shape \(3,\) \(3 values\) to \(5,\)", BUILT),
    Case("add a prebuilt layer of another shape", lambda m: m.add(_built_dense((None, 7))), ValueError,
         r"layer 'dense.*' was built for inputs \(None, 7\) but receives \(None, 3\) in this model", BUILT),
    Case("build input_shape str", lambda m: m.build("28"), ValueError,
         r"build: input_shape must be a tuple \(batch size or None, \*shape of one sample\), e.g. \(None, 784\), "
         r"got str '28'"),
    Case("build input_shape int", lambda m: m.build(4), ValueError, r"build: input_shape must be a tuple .*got 4"),
    Case("build input_shape entries", lambda m: m.build((None, "4")), ValueError,
         r"build: input_shape\[1:\] must be a tuple of positive integers .*got tuple: \('4',\)"),
    Case("build for another Input", lambda m: m.build((None, 5)), ValueError,
         r"input_shape \(None, 5\) does not match the model's Input \(None, 4\)", BUILT),
    Case("build for a shape a later layer refuses", lambda m: m.build((None, 4)), ValueError,
         r"layer 'conv.*' \(Conv2D\): Conv2D expects inputs of rank 4 .*got shape \(None, 4\)", NOT_BUILT),
    Case("get_layer index str", lambda m: m.get_layer(index="0"), TypeError,
         r"get_layer: index must be an integer, got str '0'"),
    Case("get_layer index out of range", lambda m: m.get_layer(index=7), ValueError,
         r"get_layer: index 7 is out of range for a model with \d layers"),
    Case("get_layer unknown name", lambda m: m.get_layer("dense9"), ValueError,
         r"get_layer: no layer named 'dense9'; the layers are"),
    Case("get_layer neither", lambda m: m.get_layer(), ValueError,
         r"get_layer\(\) takes a layer name or an index, not both and not neither; got name=None, index=None"),
    Case("set_weights int", lambda m: m.set_weights(5), TypeError,
         r"set_weights: weights must be a list of arrays .*got 5", BUILT),
    Case("set_weights count", lambda m: m.set_weights([np.zeros((4, 8))]), ValueError,
         r"set_weights: expected 4 arrays \(per layer: kernel, bias, ...\), got 1", BUILT),
    Case("set_weights shape", lambda m: m.set_weights([np.zeros(1)] * 4), ValueError,
         r"set_weights: .*kernel expects shape \(4, 8\), got \(1,\)", BUILT),
    Case("set_weights unbuilt", lambda m: m.set_weights([]), ValueError,
         r"set_weights: the model is not built yet; give it an Input, call build\(input_shape\)", NOT_BUILT),
    Case("summary line_length str", lambda m: m.summary(line_length="80"), ValueError,
         r"summary: line_length must be a positive integer or None, got str '80'"),
    Case("summary print_fn int", lambda m: m.summary(print_fn=5), TypeError,
         r"summary: print_fn must be a function of one string \(or None\), got 5"),
    # compile
    Case("compile optimizer None", lambda m: m.compile(optimizer=None, loss="mse"), TypeError,
         r"compile: optimizer must be an optimizer name \(e.g. 'adam'\), a config dict or a "
         r"seqnn.optimizers.Optimizer, got None"),
    Case("compile optimizer int", lambda m: m.compile(optimizer=5, loss="mse"), TypeError,
         r"expected a optimizer name, config dict or Optimizer instance, got int: 5"),
    Case("compile optimizer unknown", lambda m: m.compile(optimizer="adamm", loss="mse"), ValueError,
         r"unknown optimizer 'adamm'; known optimizer names: .*adam"),
    Case("compile loss int", lambda m: m.compile(optimizer="adam", loss=5), TypeError,
         r"expected a loss name, config dict or Loss instance, got int: 5"),
    Case("compile loss unknown", lambda m: m.compile(optimizer="adam", loss="crossentropy"), ValueError,
         r"unknown loss 'crossentropy'; known loss names: .*sparse_categorical_crossentropy"),
    Case("compile loss function", lambda m: m.compile(optimizer="adam", loss=lambda t, p: 0.0), TypeError,
         r"loss: got the function .* which is not one of seqnn.losses' functions.*Expected a loss name"),
    Case("compile metrics str", lambda m: m.compile(optimizer="adam", loss="mse", metrics="accuracy"), TypeError,
         r"metrics must be a list of names or Metric objects, got str"),
    Case("compile metrics entry", lambda m: m.compile(optimizer="adam", loss="mse", metrics=[5]), TypeError,
         r"expected a metric name, config dict or Metric instance, got int: 5"),
    Case("compile weighted_metrics int", lambda m: m.compile(optimizer="adam", loss="mse", weighted_metrics=5),
         TypeError, r"weighted_metrics must be a list of names or Metric objects, got int"),
    Case("compile backend unknown", lambda m: m.compile(optimizer="adam", loss="mse", backend="tpu"), ValueError,
         r"unknown backend 'tpu'; known backends: auto, numpy"),
    Case("compile backend int", lambda m: m.compile(optimizer="adam", loss="mse", backend=5), TypeError,
         r"backend must be a name or a Backend instance, got int"),
    Case("compile dtype", lambda m: m.compile(optimizer="adam", loss="mse", dtype="float16"), ValueError,
         r"dtype must be 'float32' or 'float64', got 'float16'"),
    Case("compile loss_weights", lambda m: m.compile(optimizer="adam", loss="mse", loss_weights=[1.0]), ValueError,
         r"loss_weights applies to multi-output models, which Sequential is not; leave it as None"),
    Case("compile unknown argument", lambda m: m.compile(optimizer="adam", los="mse"), TypeError,
         r"compile\(\) got an unexpected argument 'los'"),
    # fit: the option arguments
    Case("fit batch_size str", fit(batch_size="32"), ValueError, r"batch_size must be a positive integer, got '32'"),
    Case("fit batch_size 0", fit(batch_size=0), ValueError, r"batch_size must be a positive integer, got 0"),
    Case("fit epochs float", fit(epochs=1.5), ValueError, r"epochs must be a positive integer, got 1.5"),
    Case("fit epochs 0", fit(epochs=0), ValueError, r"epochs must be a positive integer, got 0"),
    Case("fit verbose", fit(verbose="loud"), ValueError, r"verbose must be 0, 1, 2 or 'auto', got 'loud'"),
    Case("fit callbacks int", fit(callbacks=5), TypeError,
         r"callbacks must be a list of seqnn.callbacks.Callback instances, got 5"),
    Case("fit callbacks entry", fit(callbacks=[C.History(), "csv"]), TypeError,
         r"callbacks\[1\] must be a seqnn.callbacks.Callback instance, got str 'csv'"),
    Case("fit callbacks class", fit(callbacks=[C.EarlyStopping]), TypeError,
         r"callbacks\[0\] must be a seqnn.callbacks.Callback instance, got type .*EarlyStopping.* "
         r"\(pass an instance: add the parentheses\)"),
    Case("fit validation_split str", fit(validation_split="0.2"), ValueError,
         r"validation_split must be a number in \[0, 1\) \(the fraction kept for validation\), got str '0.2'"),
    Case("fit validation_split 1", fit(validation_split=1), ValueError,
         r"validation_split must be a number in \[0, 1\) .*got 1"),
    Case("fit validation_split negative", fit(validation_split=-0.1), ValueError,
         r"validation_split must be a number in \[0, 1\) .*got -0.1"),
    Case("fit validation_split leaves no validation sample", fit(validation_split=0.05), ValueError,
         r"validation_split=0.05 leaves 10 training and 0 validation samples out of 10; both need at least one"),
    Case("fit seed str", fit(seed="abc"), ValueError, r"seed must be a non-negative integer or None, got str 'abc'"),
    Case("fit seed negative", fit(seed=-1), ValueError, r"seed must be a non-negative integer or None, got -1"),
    Case("fit seed float", fit(seed=1.5), ValueError, r"seed must be a non-negative integer or None, got 1.5"),
    Case("fit shuffle str", fit(shuffle="no"), TypeError, r"shuffle must be True, False or 'batch', got str 'no'"),
    Case("fit initial_epoch", fit(initial_epoch=-1), ValueError,
         r"initial_epoch must be a non-negative integer, got -1"),
    Case("fit steps_per_epoch", fit(steps_per_epoch="2"), ValueError,
         r"steps_per_epoch must be a positive integer, got '2'"),
    Case("fit validation_steps", fit(validation_split=0.2, validation_steps=0), ValueError,
         r"validation_steps must be a positive integer, got 0"),
    Case("fit validation_batch_size", fit(validation_split=0.2, validation_batch_size=0), ValueError,
         r"validation_batch_size must be a positive integer, got 0"),
    Case("fit validation_freq 0", fit(validation_freq=0), ValueError,
         r"validation_freq must be a positive integer or a list of epochs \(1-based\), got 0"),
    Case("fit validation_freq list", fit(validation_freq=[0, 2]), ValueError,
         r"validation_freq must be a positive integer or a list of epochs \(1-based\), got list \[0, 2\]"),
    Case("fit class_weight list", fit(class_weight=[1, 2, 3]), TypeError,
         r"class_weight must be a dict \{class index: weight\}, got list \[1, 2, 3\]"),
    Case("fit class_weight key str", fit(class_weight={"0": 1, 1: 1, 2: 1}), ValueError,
         r"class_weight: keys must be class indices \(non-negative integers\), got the key '0'"),
    Case("fit class_weight NaN", fit(class_weight={0: np.nan, 1: 1.0, 2: 1.0}), ValueError,
         r"class_weight: the weight of class 0 must be a finite number >= 0, got nan"),
    Case("fit class_weight inf", fit(class_weight={0: 1.0, 1: np.inf, 2: 1.0}), ValueError,
         r"class_weight: the weight of class 1 must be a finite number >= 0, got inf"),
    Case("fit class_weight negative", fit(class_weight={0: 1.0, 1: 1.0, 2: -2.0}), ValueError,
         r"class_weight: the weight of class 2 must be a finite number >= 0, got -2.0"),
    Case("fit class_weight str weight", fit(class_weight={0: "1", 1: 1, 2: 1}), ValueError,
         r"class_weight: the weight of class 0 must be a finite number >= 0, got str '1'"),
    Case("fit class_weight missing class", fit(class_weight={0: 1.0, 1: 2.0}), ValueError,
         r"class_weight: no weight for classes \[2\]; it must give every class in y"),
    Case("fit unknown argument", fit(epoch=3), TypeError, r"fit\(\) got an unexpected keyword argument 'epoch'"),
    # fit: the data
    Case("fit x None", fit(x=None), ValueError, r"fit\(\) needs training data: x \(and y\), or a data loader as x"),
    Case("fit x int", fit(x=5), TypeError,
         r"x: expected a numpy array \(or array-like\) or an iterable of batches, got int"),
    Case("fit x str", fit(x="train.csv"), TypeError,
         r"x: expected a numpy array \(or array-like\) or an iterable of batches, got str"),
    Case("fit x complex", fit(x=X.astype(complex)), TypeError, r"x: expected numeric data, got dtype complex128"),
    Case("fit x wrong rank", fit(x=X.reshape(10, 2, 2)), ValueError,
         r"x: wrong rank for this model: expected shape \(n, 4\) from its input, got \(10, 2, 2\)", BUILT),
    Case("fit x wrong features", fit(x=np.zeros((10, 5))), ValueError,
         r"x: wrong feature shape for this model: expected shape \(n, 4\) from its input, got \(10, 5\)", BUILT),
    Case("fit x NaN", fit(x=with_nan(X, (3, 2))), ValueError,
         r"x: contains NaN or inf \(first at index \(3, 2\)\)"),
    Case("fit x empty", fit(x=X[:0], y=Y[:0]), ValueError, r"x: got 0 samples; need at least one"),
    Case("fit y None", fit(y=None), ValueError, r"y: targets are required when x is an array"),
    Case("fit y length", fit(y=Y[:9]), ValueError,
         r"x, y and sample_weight must have the same number of samples: x has 10, y has 9"),
    Case("fit y str", fit(y=np.array(list("abcdefghij"))), TypeError, r"y: expected numeric data, got dtype <U1"),
    Case("fit y ragged", fit(y=[[1], [1, 2]] * 5), TypeError, r"y: expected an array, got list that numpy cannot"),
    Case("fit labels out of range", fit(y=Y + 1), ValueError,
         r"y: labels must be in \[0, 2\] for a model with 3 outputs, got labels in \[1, 3\]"),
    Case("fit labels not whole", fit(y=Y + 0.5), ValueError,
         r"y: labels must be whole numbers \(class indices\), got non-integer values"),
    Case("fit labels NaN", fit(y=with_nan(Y, 4)), ValueError, r"y: contains NaN or inf \(first at index \(4,\)\)"),
    Case("fit one-hot for sparse loss", fit(y=one_hot()), ValueError,
         r"y: sparse categorical cross-entropy expects integer labels of shape \(n,\), got shape \(10, 3\) "
         r"\(one-hot targets need loss='categorical_crossentropy'\)"),
    Case("fit regression targets NaN", fit(y=with_nan(np.zeros((10, 3)), (6, 2))), ValueError,
         r"y: contains NaN or inf \(first at index \(6, 2\)\)"),
    Case("fit regression targets inf", fit(y=np.full((10, 3), np.inf)), ValueError,
         r"y: contains NaN or inf \(first at index \(0, 0\)\)"),
    Case("fit one-hot targets above 1", fit(y=one_hot([5.0, 0.0, 0.0])), ValueError,
         r"y: categorical cross-entropy targets must lie in \[0, 1\] \(one-hot rows or probabilities\), "
         r"got values in \[0.0, 5.0\]"),
    Case("fit one-hot targets negative", fit(y=one_hot([1.5, -0.5, 0.0])), ValueError,
         r"y: categorical cross-entropy targets must lie in \[0, 1\] .*got values in \[-0.5, 1.5\]"),
    Case("fit one-hot targets NaN", fit(y=one_hot([np.nan, 1.0, 0.0])), ValueError,
         r"y: contains NaN or inf \(first at index \(0, 0\)\)"),
    Case("fit binary targets out of [0, 1]", fit(y=np.full((10, 3), 2.0)), ValueError,
         r"y: binary cross-entropy targets must lie in \[0, 1\], got values in \[2.0, 2.0\]"),
    Case("fit sample_weight str", fit(sample_weight="w"), TypeError,
         r"sample_weight: expected a numpy array \(or array-like\), got str"),
    Case("fit sample_weight length", fit(sample_weight=np.ones(3)), ValueError,
         r"same number of samples: x has 10, y has 10, sample_weight has 3"),
    Case("fit sample_weight 2-D", fit(sample_weight=np.ones((10, 2))), ValueError,
         r"sample_weight: expected one weight per sample, shape \(n,\), got shape \(10, 2\)"),
    Case("fit sample_weight NaN", fit(sample_weight=with_nan(np.ones(10), 0)), ValueError,
         r"sample_weight: must be finite and non-negative"),
    Case("fit sample_weight negative", fit(sample_weight=-np.ones(10)), ValueError,
         r"sample_weight: must be finite and non-negative"),
    Case("fit validation_data int", fit(validation_data=5), TypeError,
         r"validation_data: expected a numpy array \(or array-like\) or an iterable of batches, got int"),
    Case("fit validation_data length 1", fit(validation_data=(X,)), ValueError,
         r"validation_data must be a tuple \(x_val, y_val\) or \(x_val, y_val, sample_weight\), got a tuple of "
         r"length 1"),
    Case("fit validation_data list", fit(validation_data=[X, Y]), ValueError,
         r"validation_data must be a tuple .*got a list of length 2"),
    Case("fit validation_data labels", fit(validation_data=(X, Y + 5)), ValueError,
         r"validation_data y: labels must be in \[0, 2\] for a model with 3 outputs, got labels in \[5, 7\]"),
    Case("fit validation_data NaN", fit(validation_data=(with_nan(X, (0, 0)), Y)), ValueError,
         r"validation_data x: contains NaN or inf \(first at index \(0, 0\)\)"),
    Case("fit validation_data features", fit(validation_data=(np.zeros((4, 5)), Y[:4])), ValueError,
         r"validation_data x: wrong feature shape for this model: expected shape \(n, 4\) .*got \(4, 5\)"),
    Case("fit loader with y", fit(x=[(X, Y)], y=Y), ValueError,
         r"y: must be None when x is a data loader \(the loader yields the targets\)"),
    Case("fit loader with validation_split", fit(x=[(X, Y)], y=None, validation_split=0.2), ValueError,
         r"validation_split needs array data; pass validation_data with a data loader"),
    Case("fit loader with class_weight", fit(x=[(X, Y)], y=None, class_weight={0: 1, 1: 1, 2: 1}), ValueError,
         r"class_weight and sample_weight need array data"),
    # evaluate, predict and the one-batch forms
    Case("evaluate batch_size str", evaluate(batch_size="3"), ValueError,
         r"batch_size must be a positive integer, got '3'"),
    Case("evaluate steps 0", evaluate(steps=0), ValueError, r"steps must be a positive integer, got 0"),
    Case("evaluate callbacks int", evaluate(callbacks=5), TypeError,
         r"callbacks must be a list of seqnn.callbacks.Callback instances, got 5"),
    Case("evaluate verbose", evaluate(verbose=7), ValueError, r"verbose must be 0, 1, 2 or 'auto', got 7"),
    Case("evaluate return_dict str", evaluate(return_dict="yes"), TypeError,
         r"evaluate: return_dict must be True or False, got str 'yes'"),
    Case("evaluate x None", evaluate(x=None), ValueError, r"evaluate\(\) needs data: x and y, or a data loader as x"),
    Case("evaluate y None", evaluate(y=None), ValueError, r"y: targets are required when x is an array"),
    Case("evaluate regression targets NaN", evaluate(y=with_nan(one_hot(), (2, 1))), ValueError,
         r"y: contains NaN or inf \(first at index \(2, 1\)\)"),
    Case("evaluate sample_weight negative", evaluate(sample_weight=-np.ones(10)), ValueError,
         r"sample_weight: must be finite and non-negative"),
    Case("evaluate unknown argument", evaluate(batchsize=3), TypeError,
         r"evaluate\(\) got an unexpected keyword argument 'batchsize'"),
    Case("predict x None", predict(x=None), TypeError,
         r"x: expected a numpy array \(or array-like\) or an iterable of batches, got NoneType"),
    Case("predict x str", predict(x="images.npy"), TypeError,
         r"x: expected a numpy array \(or array-like\) or an iterable of batches, got str"),
    Case("predict batch_size", predict(batch_size=-1), ValueError, r"batch_size must be a positive integer, got -1"),
    Case("predict steps str", predict(steps="1"), ValueError, r"steps must be a positive integer, got '1'"),
    Case("predict callbacks int", predict(callbacks=5), TypeError,
         r"callbacks must be a list of seqnn.callbacks.Callback instances, got 5"),
    Case("predict verbose", predict(verbose=9), ValueError, r"verbose must be 0, 1, 2 or 'auto', got 9"),
    Case("predict x wrong features", predict(x=np.zeros((2, 7))), ValueError,
         r"x: wrong feature shape for this model: expected shape \(n, 4\) from its input, got \(2, 7\)", BUILT),
    Case("predict x NaN", predict(x=with_nan(X, (1, 1))), ValueError,
         r"x: contains NaN or inf \(first at index \(1, 1\)\)"),
    Case("predict x inf", predict(x=np.full((2, 4), np.inf)), ValueError,
         r"x: contains NaN or inf \(first at index \(0, 0\)\)"),
    Case("predict_on_batch str", lambda m: m.predict_on_batch("a"), TypeError,
         r"x: expected a numpy array \(or array-like\), got str"),
    Case("predict_on_batch NaN", lambda m: m.predict_on_batch(with_nan(X, (0, 3))), ValueError,
         r"x: contains NaN or inf \(first at index \(0, 3\)\)"),
    Case("call training str", lambda m: m(X, training="yes"), TypeError,
         r"model\(x, training=...\): training must be True or False, got str 'yes'"),
    Case("call NaN", lambda m: m(with_nan(X, (2, 2))), ValueError,
         r"x: contains NaN or inf \(first at index \(2, 2\)\)"),
    Case("train_on_batch class_weight", lambda m: m.train_on_batch(X, Y, class_weight={0: -1, 1: 1, 2: 1}),
         ValueError, r"class_weight: the weight of class 0 must be a finite number >= 0, got -1"),
    Case("train_on_batch labels", lambda m: m.train_on_batch(X, Y + 3), ValueError,
         r"y: labels must be in \[0, 2\] for a model with 3 outputs, got labels in \[3, 5\]"),
    Case("train_on_batch return_dict", lambda m: m.train_on_batch(X, Y, return_dict=1), TypeError,
         r"train_on_batch: return_dict must be True or False, got 1"),
    Case("test_on_batch sample_weight", lambda m: m.test_on_batch(X, Y, sample_weight=np.ones(3)), ValueError,
         r"same number of samples: x has 10, y has 10, sample_weight has 3"),
    # files
    Case("save int", lambda m: m.save(5), TypeError,
         r"save: filepath must be a str or os.PathLike ending in .safetensors, got int: 5", BUILT),
    Case("save empty", lambda m: m.save(""), ValueError, r"save: filepath is empty", BUILT),
    Case("save include_optimizer str", lambda m: m.save("m.safetensors", include_optimizer="no"), TypeError,
         r"save: include_optimizer must be True or False, got str 'no'", BUILT),
    Case("save suffix", lambda m: m.save("model.txt"), ValueError,
         r"save: the filepath must end in .safetensors .*got filepath='model.txt'", BUILT),
    Case("save_weights int", lambda m: m.save_weights(5), TypeError,
         r"save_weights: filepath must be a str or os.PathLike ending in .safetensors, got int: 5", BUILT),
    Case("load_weights int", lambda m: m.load_weights(5), TypeError,
         r"load_weights: filepath must be a str or os.PathLike, got int: 5"),
]


def _seeded_dense(units: int) -> L.Dense:
    """A Dense whose initializers have their own seeds: building it draws nothing from the global stream."""
    return L.Dense(units, kernel_initializer=sn.initializers.GlorotUniform(seed=0),
                   bias_initializer=sn.initializers.Zeros(seed=0))


def _built_dense(input_shape):
    layer = _seeded_dense(2)
    layer.build(input_shape)
    return layer


def _model_file() -> str:
    """A saved model in the current (the test's own) directory, for load_model cases whose other argument is wrong."""
    sn.Sequential([L.Input((4,)), _seeded_dense(3)]).save("model.safetensors")
    return "model.safetensors"


def _model(state: str, loss="sparse_categorical_crossentropy"):
    layers = [L.Dense(8, activation="relu"), L.Dense(3, activation="softmax")]
    if state == "built":
        layers.insert(0, L.Input((4,)))
    return sn.Sequential(layers).compile(optimizer="adam", loss=loss)


# Cases that need another loss than sparse categorical cross-entropy (labels) for their targets.
LOSS_FOR = {"evaluate regression targets NaN": "mse", "fit regression targets NaN": "mse",
            "fit regression targets inf": "mse", "fit one-hot targets above 1": "categorical_crossentropy",
            "fit one-hot targets negative": "categorical_crossentropy",
            "fit one-hot targets NaN": "categorical_crossentropy",
            "fit binary targets out of [0, 1]": "binary_crossentropy"}


def _model_for(case_id: str, state: str):
    if case_id == "build for a shape a later layer refuses":
        return sn.Sequential([L.Dense(4), L.Conv2D(2, 3)]).compile(optimizer="adam", loss="mse")
    return _model(state, loss=LOSS_FOR.get(case_id, "sparse_categorical_crossentropy"))


def _snapshot(model) -> dict:
    return {
        "built": model.built,
        "input": None if model.input_layer is None else model.input_layer.batch_shape,
        "layers": [(layer.name, layer.built, layer.input_shape) for layer in model.layers],
        "weights": model.get_weights() if model.built else None,
        "compile": (model.compiled, model.compile_config, type(model.optimizer), type(model.loss)),
        "optimizer steps": model.optimizer.iterations,
        "seeds": sn_random.get_state(),
    }


def _assert_same(before: dict, after: dict) -> None:
    assert after.keys() == before.keys()
    for key in before:
        if key == "weights" and before[key] is not None:
            assert len(after[key]) == len(before[key])
            for a, b in zip(before[key], after[key]):
                np.testing.assert_array_equal(a, b)
        else:
            assert after[key] == before[key], key


METHOD_PARAMS = [pytest.param(c.call, c.exc, c.match, state, c.id, id=f"{c.id} [{state}]")
                 for c in METHODS for state in c.states]


@pytest.mark.parametrize("call, exc, match, state, case_id", METHOD_PARAMS)
def test_model_method_refuses_before_any_work(call, exc, match, state, case_id, monkeypatch, tmp_path):
    monkeypatch.chdir(tmp_path)  # a save that wrongly went ahead would write here
    model = _model_for(case_id, state)
    work = []
    for step in ("_train_batch", "_test_batch", "_predict_batch", "_forward"):
        monkeypatch.setattr(model, step, lambda *a, _step=step, **k: work.append(_step))
    before = _snapshot(model)
    with pytest.raises(exc, match=match):
        call(model)
    assert work == [], f"{case_id}: ran {work} before refusing"
    _assert_same(before, _snapshot(model))
    assert os.listdir(tmp_path) == []


def test_an_uncompiled_model_is_refused_by_every_training_entry():
    model = sn.Sequential([L.Input((4,)), L.Dense(3)])
    for name, call in (("fit", lambda: model.fit(X, Y)), ("evaluate", lambda: model.evaluate(X, Y)),
                       ("train_on_batch", lambda: model.train_on_batch(X, Y)),
                       ("test_on_batch", lambda: model.test_on_batch(X, Y))):
        with pytest.raises(sn.errors.NotCompiledError, match=rf"call compile\(\) before {name}\(\)"):
            call()


# ------------------------------------------------------------------------------------- console commands ---
COMMANDS = [
    ("train", ["--epochs", "0"], "argument --epochs: expected a positive integer, got '0'"),
    ("train", ["--epochs", "abc"], "argument --epochs: expected a positive integer, got 'abc'"),
    ("train", ["--batch-size", "-1"], "argument --batch-size: expected a positive integer, got '-1'"),
    ("train", ["--limit", "0"], "argument --limit: expected a positive integer, got '0'"),
    ("train", ["--seed", "-1"], "argument --seed: expected a non-negative integer, got '-1'"),
    ("train", ["--early-stopping", "-1"], "argument --early-stopping: expected a non-negative integer, got '-1'"),
    ("train", ["--validation-split", "1.5"], "--validation-split must be in [0, 1), got 1.5"),
    ("train", ["--validation-split", "abc"], "argument --validation-split: invalid float value: 'abc'"),
    ("train", ["--test-split", "2"], "--test-split must be a fraction in (0, 1), got 2.0"),
    ("train", ["--lr", "-1"], "--lr must be a positive number, got -1.0"),
    ("train", ["--lr", "fast"], "argument --lr/--learning-rate: invalid float value: 'fast'"),
    ("train", ["--optimizer", "adamm"], "unknown optimizer 'adamm'; known optimizer names:"),
    ("train", ["--backend", "tpu"], "unknown backend 'tpu'"),
    ("train", ["--task", "clustering"], "argument --task: invalid choice: 'clustering'"),
    ("train", ["--model", "resnet"], "--model: unknown preset 'resnet'; presets are mlp, cnn"),
    ("train", ["--model", "absent.py"], "--model: no such file: absent.py"),
    ("train", ["--data", "imagenet"], "--data: unknown dataset 'imagenet'"),
    ("train", ["--out", "model.pt"], "--out: the filepath must end in .safetensors"),
    ("train", ["--no-such-flag"], "unrecognized arguments: --no-such-flag"),
    ("predict", [], "the following arguments are required: MODEL"),
    ("predict", ["absent.safetensors", "--data", "digits"], "MODEL: no such file: absent.safetensors"),
    ("predict", ["m.safetensors", "--top-k", "0"], "argument --top-k: expected a positive integer, got '0'"),
    ("predict", ["m.safetensors", "--batch-size", "0"], "argument --batch-size: expected a positive integer, got '0'"),
    ("predict", ["m.safetensors", "--limit", "-3"], "argument --limit: expected a positive integer, got '-3'"),
    ("predict", ["m.safetensors", "--split", "val"], "argument --split: invalid choice: 'val'"),
    ("predict", ["m.safetensors", "--frobnicate"], "unrecognized arguments: --frobnicate"),
]


@pytest.mark.parametrize("command, argv, fragment", COMMANDS, ids=[f"seqnn-{c} {' '.join(a)}" for c, a, _ in COMMANDS])
def test_console_command_refuses(command, argv, fragment, capsys, monkeypatch, tmp_path):
    monkeypatch.chdir(tmp_path)
    main = cli_train.main if command == "train" else cli_predict.main
    proc = in_process(main, argv, capsys)
    assert proc.returncode == 2, (proc.stdout, proc.stderr)
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in proc.stderr, proc.stderr
    assert lines[0].startswith(f"seqnn-{command}: error: ") and fragment in lines[0], lines[0]
    assert proc.stdout == "" and os.listdir(tmp_path) == []  # nothing trained, nothing written
