"""Hidden checks for lesson 17: the seed's three TODO edits, graded on the built model.

Nothing is trained: the checks take the compiled model apart (layer types, units,
parameter counts, optimizer and its learning rate, loss), so they stay fast and
accept every spelling that builds the same model. The model arrives as plain data
(`SavedModel`): these checks never import Keras.
"""

import functools

import numpy as np
import pytest

from workbook.grading.judge.expect import CheckFailure, fail
from workbook.grading.judge.keras_model import SavedModel
from workbook.grading.judge.kerascheck import (
    chain,
    describe,
    is_mse,
    learner_model,
    lstm_params,
    path_layers,
)

SEQUENCE_LENGTH = 3
STACK = "LSTM(10) → Dense(…) → Dense(1)"


@functools.cache
def _built(learner) -> tuple[SavedModel | None, CheckFailure | None]:
    """The model, or the failure that a Keras 2 argument (`Adam(lr=…)`) caused."""
    try:
        return learner_model(learner, "build_model", SEQUENCE_LENGTH), None
    except CheckFailure as exc:
        if "is the Keras 2 name" not in exc.message:
            raise
        return None, exc


def _model(learner, *, optimizer_check: bool = False) -> SavedModel:
    """The learner's model. A Keras 2 argument keeps it from being built at all; that
    is TODO 3's business (the optimizer), so only TODO 3's check fails with it and the
    others are not run, rather than every check failing with the optimizer's message
    (and the hint beside it being about units)."""
    model, keras2 = _built(learner)
    if keras2 is None:
        return model
    if optimizer_check:
        raise keras2
    pytest.skip("not run: the model could not be built, see TODO 3's check (the optimizer)")


def _lstm(model):
    found = [layer for layer in path_layers(model) if layer.kind == "LSTM"]
    if not found:
        fail(f"the model has no LSTM layer between its input and output ({describe(model)})")
    return found[0]


def _stack(model):
    """The layers from input to output, each reading the one before (a failure when
    the model is not one such stack: branches, several outputs, a subclassed model)."""
    layers = chain(model)
    if layers is None:
        fail(
            f"the layers do not form one stack ({describe(model)}): each layer reads the "
            f"output of the one before, {STACK}"
        )
    return layers


def test_model_is_compiled_with_input_shape(learner):
    """build_model returns a compiled Keras model reading (batch, 3, 1)"""
    model = _model(learner)
    shape = model.input_shape
    if shape != (None, SEQUENCE_LENGTH, 1):
        fail(
            f"the model reads inputs of shape {shape}; windows of {SEQUENCE_LENGTH} values "
            "with one feature are (batch, timesteps, features) = (None, 3, 1)",
            expected=(None, SEQUENCE_LENGTH, 1),
            got=shape,
        )
    if model.optimizer is None or not model.compiled:
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
    stack = _stack(model)
    dense = [layer for layer in stack if layer.kind == "Dense"]
    if len(dense) < 2:
        fail(
            "there is only one Dense layer: TODO 2 asks for another one before the final "
            f"Dense(1) (your layers: {describe(model)})"
        )
    if stack[0].kind != "LSTM":
        fail(f"the LSTM should come first (your layers: {describe(model)})")
    last = stack[-1]
    if last.kind != "Dense" or last.units != 1:
        fail(
            "the new Dense layer goes between the LSTM and the final Dense(1), which stays "
            f"the last layer (your layers: {describe(model)})"
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
    last = _stack(model)[-1]
    if last.kind != "Dense" or last.units != 1:
        what = last.kind if last.kind != "Dense" else f"Dense({last.units})"
        fail(
            f"the final layer is {what}; it must be Dense(1): one number, the next value "
            f"(your layers: {describe(model)})"
        )
    activation = last.activation or "custom"
    if activation != "linear":
        fail(
            f"the final Dense(1) uses the {activation!r} activation, which bounds or bends the "
            "prediction; leave the output layer linear (no activation)"
        )
    if model.output_shape != (None, 1):
        sequences = [layer for layer in _stack(model) if layer.return_sequences]
        if sequences:
            fail(
                f"the model outputs shape {model.output_shape}, one number per time step: "
                f"{sequences[0].describe()} has `return_sequences=True`, so it passes on all "
                f"{SEQUENCE_LENGTH} hidden states and the Dense layers read each of them. An "
                "LSTM that feeds Dense layers returns only its last state: remove "
                "`return_sequences=True`",
                expected=(None, 1),
                got=model.output_shape,
            )
        fail(f"the model outputs shape {model.output_shape}; expected (None, 1)")


def test_adam_with_learning_rate(learner):
    """TODO 3: compiled with Adam(learning_rate=0.01)"""
    model = _model(learner, optimizer_check=True)
    name = model.optimizer
    if name is None:
        fail("the model is not compiled: TODO 3 asks for Adam(learning_rate=0.01)")
    rate = float(
        f"{model.learning_rate or 0.0:.6g}"
    )  # float32 storage: 0.001 reads 0.0010000000474
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
    model = _model(learner)
    loss = model.loss
    if not is_mse(loss):
        fail(f"the loss should be mean squared error ('mse'), got {loss!r}")
