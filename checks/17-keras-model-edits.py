"""Hidden checks for lesson 17: the seed's three TODO edits, graded on the built model.

Nothing is trained: the checks take the compiled model apart (layer types, units,
parameter counts, optimizer and its learning rate, loss), so they stay fast and
accept every spelling that builds the same model.
"""

import functools

import numpy as np

from workbook.expect import fail
from workbook.kerascheck import (
    describe_layers,
    keras_module,
    kind,
    layers,
    learner_model,
    learning_rate,
    lstm_params,
)

SEQUENCE_LENGTH = 3


@functools.cache
def _model(learner):
    return learner_model(learner, "build_model", SEQUENCE_LENGTH)


def _lstm(model):
    found = [layer for layer in layers(model) if kind(layer) == "LSTM"]
    if not found:
        fail(f"the model has no LSTM layer (its layers: {describe_layers(model)})")
    return found[0]


def test_model_is_compiled_with_input_shape(learner):
    """build_model returns a compiled Keras model reading (batch, 3, 1)"""
    model = _model(learner)
    shape = tuple(model.inputs[0].shape)
    if shape != (None, SEQUENCE_LENGTH, 1):
        fail(
            f"the model reads inputs of shape {shape}; windows of {SEQUENCE_LENGTH} values "
            "with one feature are (batch, timesteps, features) = (None, 3, 1)",
            expected=(None, SEQUENCE_LENGTH, 1),
            got=shape,
        )
    if getattr(model, "optimizer", None) is None or not getattr(model, "compiled", True):
        fail("the model is not compiled: call `model.compile(loss=..., optimizer=...)`")


def test_lstm_has_ten_units(learner):
    """TODO 1: the LSTM has 10 units (480 parameters on one feature)"""
    lstm = _lstm(_model(learner))
    if lstm.units == 5:
        fail("the LSTM still has 5 units: TODO 1 asks for 10", expected=10, got=5)
    if lstm.units != 10:
        fail(f"the LSTM has {lstm.units} units; TODO 1 asks for 10", expected=10, got=lstm.units)
    wanted = lstm_params(10, 1)
    if lstm.count_params() != wanted:
        fail(
            f"the LSTM has {lstm.count_params()} parameters; LSTM(10) on one feature has "
            f"4 · (10 · 11 + 10) = {wanted}: is the input one feature per time step?",
            expected=wanted,
            got=lstm.count_params(),
        )


def test_extra_dense_layer(learner):
    """TODO 2: another Dense layer between the LSTM and the output"""
    model = _model(learner)
    stack = layers(model)
    dense = [layer for layer in stack if kind(layer) == "Dense"]
    if len(dense) < 2:
        fail(
            "there is only one Dense layer: TODO 2 asks for another one before the final "
            f"Dense(1) (your layers: {describe_layers(model)})"
        )
    if kind(stack[0]) != "LSTM":
        fail(f"the LSTM should come first (your layers: {describe_layers(model)})")
    last = stack[-1]
    if kind(last) != "Dense" or last.units != 1:
        fail(
            "the new Dense layer goes between the LSTM and the final Dense(1), which stays "
            f"the last layer (your layers: {describe_layers(model)})"
        )
    hidden = dense[0]
    wanted = 10 * hidden.units + hidden.units
    if hidden.count_params() != wanted:
        fail(
            f"the first Dense layer has {hidden.count_params()} parameters; after LSTM(10) a "
            f"Dense({hidden.units}) has 10 · {hidden.units} + {hidden.units} = {wanted}"
        )


def test_output_is_dense_one(learner):
    """the last layer is Dense(1) with no activation: one predicted number"""
    model = _model(learner)
    last = layers(model)[-1]
    if kind(last) != "Dense" or last.units != 1:
        what = kind(last) if kind(last) != "Dense" else f"Dense({last.units})"
        fail(
            f"the final layer is {what}; it must be Dense(1): one number, the next value "
            f"(your layers: {describe_layers(model)})"
        )
    activation = getattr(last.activation, "__name__", str(last.activation))
    if activation != "linear":
        fail(
            f"the final Dense(1) uses the {activation!r} activation, which bounds or bends the "
            "prediction; leave the output layer linear (no activation)"
        )
    if tuple(model.outputs[0].shape) != (None, 1):
        fail(f"the model outputs shape {tuple(model.outputs[0].shape)}; expected (None, 1)")


def test_adam_with_learning_rate(learner):
    """TODO 3: compiled with Adam(learning_rate=0.01)"""
    model = _model(learner)
    optimizer = model.optimizer
    name = type(optimizer).__name__
    rate = float(f"{learning_rate(model):.6g}")  # float32 storage: 0.001 reads 0.0010000000474
    if name != "Adam":
        fail(f"the optimizer is {name}; TODO 3 asks for Adam(learning_rate=0.01)")
    if np.isclose(rate, 0.001):
        fail(
            "the learning rate is still Adam's default 0.001 (the string 'adam' or Adam() "
            "without arguments); TODO 3 asks for Adam(learning_rate=0.01)",
            expected=0.01,
            got=rate,
        )
    if not np.isclose(rate, 0.01, rtol=1e-5):
        fail(f"the learning rate is {rate:g}; TODO 3 asks for 0.01", expected=0.01, got=rate)


def test_loss_is_mse(learner):
    """the loss is still mean squared error ('mse')"""
    keras = keras_module()
    model = _model(learner)
    try:
        loss = keras.losses.get(model.loss)
    except (ValueError, TypeError):
        loss = model.loss
    y_true = np.zeros((2, 1), dtype="float32")
    y_pred = np.array([[1.0], [3.0]], dtype="float32")
    try:
        value = float(np.mean(keras.ops.convert_to_numpy(loss(y_true, y_pred))))
    except Exception:  # any unusable loss gets the same message
        value = None
    if value is None or not np.isclose(value, 5.0):
        fail(f"the loss should be mean squared error ('mse'), got {model.loss!r}")
