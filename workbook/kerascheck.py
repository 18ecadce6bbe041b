"""Shared private reference code for the Keras lessons' hidden checks (16–21).

Checks never import a lesson's solution; what several Keras checks need to compute
their expected values (windows of a series, a quiet Keras import, a learner's model
taken apart layer by layer, a spy on the exercise's training helper) lives here once.
Importing this module does not import TensorFlow: only `keras_module()` does, and
only the grading child calls it.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass, field
from types import ModuleType
from typing import Any

import numpy as np

from workbook.expect import call, fail, function


def windows(data: np.ndarray, length: int) -> tuple[np.ndarray, np.ndarray]:
    """(X, y): every run of `length` values shaped (samples, length, 1), and the next value."""
    data = np.asarray(data, dtype=float)
    samples = len(data) - length
    X = np.stack([data[i : i + length] for i in range(samples)])[..., None]
    return X, data[length:].copy()


def keras_module() -> ModuleType:
    """Keras 3 on the TensorFlow backend, with TensorFlow's start-up chatter silenced."""
    os.environ.setdefault("KERAS_BACKEND", "tensorflow")
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    import keras

    return keras


def learner_model(learner: ModuleType, name: str, *args: Any, **kwargs: Any) -> Any:
    """Call the learner's model builder and insist on a built Keras model."""
    keras = keras_module()
    try:
        model = call(function(learner, name), *args, **kwargs)
    except (TypeError, ValueError) as exc:
        old = keras2_argument(exc)
        if old is None:
            raise
        fail(
            f"`{old}=` is the Keras 2 name, refused by Keras 3: write "
            f"`{KERAS2_RENAMED[old]}=` instead (e.g. `Adam(learning_rate=0.01)`)"
        )
    if model is None:
        fail(f"`{name}` returned None: did you forget `return model`?")
    if not isinstance(model, keras.Model):
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


def layers(model: Any) -> list[Any]:
    """The model's layers without the InputLayer (Sequential and functional alike)."""
    keras = keras_module()
    return [layer for layer in model.layers if not isinstance(layer, keras.layers.InputLayer)]


def kind(layer: Any) -> str:
    """A layer's class name; a Bidirectional wrapper reads as `Bidirectional(LSTM)`."""
    name = type(layer).__name__
    inner = getattr(layer, "forward_layer", None)
    return f"{name}({type(inner).__name__})" if inner is not None else name


def describe_layers(model: Any) -> str:
    """`LSTM(10) → Dense(8) → Dense(1)`: with units, two Dense layers in the wrong order
    do not read the same as the right one."""
    return " → ".join(_with_units(layer) for layer in layers(model)) or "no layers"


def _with_units(layer: Any) -> str:
    units = getattr(layer, "units", None)
    return f"{kind(layer)}({units})" if isinstance(units, int) else kind(layer)


def learning_rate(model: Any) -> float:
    keras = keras_module()
    return float(keras.ops.convert_to_numpy(model.optimizer.learning_rate))


def lstm_params(units: int, features: int) -> int:
    """LSTM parameter count: four gates, each W_x (features, units), W_h (units, units), b."""
    return 4 * (units * (features + units) + units)


@dataclass
class TrainingSpy:
    """Records what the learner hands to the exercise's `train(model, X, y)` helper."""

    calls: list[tuple[Any, np.ndarray, np.ndarray]] = field(default_factory=list)

    def wrap(self, train: Callable) -> Callable:
        def spied(model: Any, X: Any, y: Any, *args: Any, **kwargs: Any) -> Any:
            self.calls.append((model, np.asarray(X, dtype=float), np.asarray(y, dtype=float)))
            return train(model, X, y, *args, **kwargs)

        spied.__name__ = getattr(train, "__name__", "train")
        return spied

    @property
    def last(self) -> tuple[Any, np.ndarray, np.ndarray] | None:
        return self.calls[-1] if self.calls else None


def run_with_spy(
    learner: ModuleType, name: str, *args: Any, seed: int = 0
) -> tuple[Any, TrainingSpy]:
    """Call learner `name` with a fixed seed while spying on its module's `train` helper."""
    keras = keras_module()
    target = function(learner, name)
    spy = TrainingSpy()
    original = getattr(learner, "train", None)
    if callable(original):
        learner.train = spy.wrap(original)
    try:
        keras.utils.set_random_seed(seed)
        result = call(target, *args)
    finally:
        if callable(original):
            learner.train = original
    return result, spy


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


def predict(model: Any, X: np.ndarray) -> np.ndarray:
    """Model output without Keras's predict() machinery (faster for a handful of samples)."""
    keras = keras_module()
    return np.asarray(keras.ops.convert_to_numpy(model(np.asarray(X, dtype="float32"))))
