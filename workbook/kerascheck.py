"""Shared private reference code for the Keras lessons' hidden checks (16–21).

Checks never import a lesson's solution; what several Keras checks need (windows of
a series, the learner's model with its failure modes named, what reached the
exercise's training helper, a prediction) lives here once.

The judge never imports Keras: the learner's code runs in the subject process, and a
model it returns arrives as a `SavedModel` (plain data, see
`workbook/grading/keras_wire.py`) whose layers, weights, optimizer and loss the checks
read, and whose `predict` is a NumPy forward pass with Keras's semantics. A number
the subject reports is never taken as proof that a model does something: the checks
run the model themselves.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, NoReturn

import numpy as np

from workbook.expect import call, fail, function
from workbook.grading.keras_wire import ModelDataError, SavedModel, UnsupportedModel


def windows(data: np.ndarray, length: int) -> tuple[np.ndarray, np.ndarray]:
    """(X, y): every run of `length` values shaped (samples, length, 1), and the next value."""
    data = np.asarray(data, dtype=float)
    samples = len(data) - length
    X = np.stack([data[i : i + length] for i in range(samples)])[..., None]
    return X, data[length:].copy()


def _unreadable(what: str, exc: Exception) -> NoReturn:
    fail(f"{what} could not be read by the grader: {exc}")


# How ModelDataError reads once the proxy has carried it across as a ValueError.
MALFORMED = "malformed model data: "


def _malformed(exc: Exception) -> bool:
    return isinstance(exc, ModelDataError) or MALFORMED in str(exc)


def learner_model(learner: Any, name: str, *args: Any, **kwargs: Any) -> SavedModel:
    """Call the learner's model builder and insist on a built Keras model."""
    builder = function(learner, name)
    try:
        model = call(builder, *args, **kwargs)
    except (TypeError, ValueError) as exc:
        if _malformed(exc):
            _unreadable(f"the model from `{name}`", exc)
        old = keras2_argument(exc)
        if old is None:
            raise
        fail(
            f"`{old}=` is the Keras 2 name, refused by Keras 3: write "
            f"`{KERAS2_RENAMED[old]}=` instead (e.g. `Adam(learning_rate=0.01)`)"
        )
    if model is None:
        fail(f"`{name}` returned None: did you forget `return model`?")
    if not isinstance(model, SavedModel):
        fail(f"`{name}` should return a Keras model, not a {type(model).__name__}")
    if not model.built:
        fail(
            f"the model from `{name}` has no input shape yet, so Keras cannot build it: start "
            "it with `keras.Input(shape=(timesteps, features))`"
        )
    return model


# Keyword arguments that old tutorials still use and Keras 3 rejects.
KERAS2_RENAMED = {"lr": "learning_rate", "decay": "weight_decay"}


def keras2_argument(exc: BaseException) -> str | None:
    """The Keras 2 argument an error complains about, if that is what it is."""
    text = str(exc)
    if "not recognized" not in text and "unexpected keyword argument" not in text:
        return None
    return next((old for old in KERAS2_RENAMED if f"'{old}'" in text), None)


def lstm_params(units: int, features: int) -> int:
    """LSTM parameter count: four gates, each W_x (features, units), W_h (units, units), b."""
    return 4 * (units * (features + units) + units)


@dataclass(frozen=True)
class Training:
    """One call of the exercise's `train(model, X, y)` helper, as the judge received
    it: the model in its state after the learner's function returned (trained), and
    the X and y it was trained on."""

    model: SavedModel
    X: np.ndarray
    y: np.ndarray


def _numbers(value: Any, what: str) -> np.ndarray:
    try:
        array = np.asarray(value, dtype=float)
    except (TypeError, ValueError):
        fail(f"{what} should be a NumPy array of numbers, not a {type(value).__name__}")
    return array


def _training(arguments: Any) -> Training:
    if not isinstance(arguments, tuple | list) or len(arguments) < 3:
        fail("call the training helper as `train(model, X, y)`: model, inputs, targets")
    model, X, y = arguments[:3]
    if not isinstance(model, SavedModel):
        fail(f"`train`'s first argument should be the Keras model, not a {type(model).__name__}")
    return Training(
        model, _numbers(X, "the X given to `train`"), _numbers(y, "the y given to `train`")
    )


def run_with_spy(learner: Any, name: str, *args: Any, seed: int = 0) -> tuple[Any, Training | None]:
    """Call learner `name` (numpy and Keras seeded with `seed`) while the subject records
    what it hands its module's `train` helper; returns the result and the last such
    call (None when `train` was never called)."""
    function(learner, name)  # a missing function gets the usual message
    try:
        result, calls = learner.call_with_spy(name, "train", *args, seed=seed)
    except ValueError as exc:
        if not _malformed(exc):
            raise
        _unreadable(f"the model `{name}` trained", exc)
    return result, (_training(calls[-1]) if calls else None)


def as_number(value: Any, what: str) -> float:
    """A single prediction as a float, whatever array wrapping the learner returned."""
    if value is None:
        fail(f"{what} is None: did you forget a `return`?")
    try:
        array = np.asarray(value, dtype=float)
    except (TypeError, ValueError):
        fail(f"{what} should be a number, not a {type(value).__name__}")
    if array.size != 1:
        fail(f"{what} should be one number, but it has shape {array.shape}")
    number = float(array.reshape(-1)[0])
    if not np.isfinite(number):
        fail(f"{what} is NaN or infinite")
    return number


def predict(model: SavedModel, X: np.ndarray) -> np.ndarray:
    """The model's output for X, computed in the judge with NumPy (Keras's semantics).

    A layer the NumPy forward pass does not know becomes a failure that names it:
    the course's models use LSTM, GRU, SimpleRNN, Dense, Dropout and Bidirectional."""
    try:
        return model.predict(X)
    except (UnsupportedModel, ModelDataError) as exc:
        fail(f"the grader could not run your model: {exc}")
