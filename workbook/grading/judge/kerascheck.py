"""Shared private reference code for the Keras lessons' hidden checks (16–21).

Checks never import a lesson's solution; what several Keras checks need (windows of
a series, the learner's model with its failure modes named, what reached the
exercise's training helper, a prediction) lives here once.

The judge never imports Keras: the learner's code runs in the subject process, and a
model it returns arrives as a `SavedModel` (plain data, see
`workbook/grading/judge/keras_model.py`) whose layers, weights, optimizer and loss the checks
read, and whose `predict` is a NumPy forward pass with Keras's semantics. A number
the subject reports is never taken as proof that a model does something: the checks
run the model themselves.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any, NoReturn

import numpy as np
import pytest

from workbook.grading.judge.expect import call, fail, function
from workbook.grading.judge.keras_model import (
    ModelDataError,
    SavedLayer,
    SavedModel,
    UnsupportedModel,
)


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
    it: the model in its state after the learner's function returned (trained), the X
    and y it was trained on, and the model as it was when handed to `train` (None when
    the subject could not read it then)."""

    model: SavedModel
    X: np.ndarray
    y: np.ndarray
    entry: SavedModel | None = None


def _numbers(value: Any, what: str) -> np.ndarray:
    return _real(value, what, "a NumPy array of real numbers")


def _training(call: Any) -> Training:
    arguments, entry = call if isinstance(call, tuple) and len(call) == 2 else (call, None)
    if not isinstance(arguments, tuple | list) or len(arguments) < 3:
        fail("call the training helper as `train(model, X, y)`: model, inputs, targets")
    model, X, y = arguments[:3]
    if not isinstance(model, SavedModel):
        fail(f"`train`'s first argument should be the Keras model, not a {type(model).__name__}")
    training = Training(
        model,
        _numbers(X, "the X given to `train`"),
        _numbers(y, "the y given to `train`"),
        entry if isinstance(entry, SavedModel) else None,
    )
    if training.X.size == 0 or training.y.size == 0:
        fail(
            f"`train` received no windows (X of shape {training.X.shape}, y of shape "
            f"{training.y.shape}): train on the windows of the series"
        )
    return training


def _spied_call(learner: Any, name: str, args: tuple, seed: int, what: str) -> tuple[Any, list]:
    """Learner `name` called with its module's `train` recorded; a missing function
    gets the usual message, a model that cannot be read says so (`what`)."""
    function(learner, name)
    try:
        return learner.call_with_spy(name, "train", *args, seed=seed)
    except ValueError as exc:
        if not _malformed(exc):
            raise
        _unreadable(what, exc)


def run_with_spy(learner: Any, name: str, *args: Any, seed: int = 0) -> tuple[Any, Training | None]:
    """Call learner `name` (numpy and Keras seeded with `seed`) while the subject records
    what it hands its module's `train` helper; returns the result and the last such
    call (None when `train` was never called)."""
    result, calls = _spied_call(learner, name, args, seed, f"the model `{name}` trained")
    if not calls:
        return result, None
    training = _training(calls[-1])
    return result, dataclasses.replace(training, entry=_first_entry(calls, training.model))


def _first_entry(calls: list, trained: SavedModel) -> SavedModel | None:
    """The trained model as it was when first handed to `train`: `train` may be called
    more than once on one model, and training is measured from where it all began."""
    for recorded in calls:
        entry = recorded[1] if isinstance(recorded, tuple) and len(recorded) == 2 else None
        if isinstance(entry, SavedModel) and architecture(entry) == architecture(trained):
            return entry
    return None


def _real(value: Any, what: str, kind: str) -> np.ndarray:
    """`value` as a float array, or a failure when it is not made of real numbers: a
    complex number would lose its imaginary part, a string or a bool would pass for a
    number if NumPy were left to convert them."""
    if value is None:
        fail(f"{what} is None: did you forget a `return`?")
    if isinstance(value, str | bytes | bool | np.bool_):
        fail(f"{what} should be {kind}, not a {type(value).__name__}")
    try:
        array = np.asarray(value)
    except (TypeError, ValueError):  # e.g. a list of arrays of different lengths
        fail(
            f"{what} should be {kind}; NumPy cannot make an array of this "
            f"{type(value).__name__} (items of different lengths?)"
        )
    if array.dtype.kind == "c":
        what_it_is = (
            f"holds complex numbers ({array.dtype})"
            if array.ndim
            else f"is a complex number ({type(value).__name__})"
        )
        fail(
            f"{what} {what_it_is}; it should be {kind}: a real value has no imaginary part to drop"
        )
    if array.dtype.kind not in "iuf":
        fail(f"{what} should be {kind}, not {type(value).__name__} of {array.dtype}")
    return array.astype(float)


def real_array(value: Any, what: str) -> np.ndarray:
    """An array of real numbers, whatever list or array the learner returned."""
    return _real(value, what, "an array of real numbers")


def as_number(value: Any, what: str) -> float:
    """A single prediction as a float, whatever array wrapping the learner returned;
    only real numbers (no complex, bool or string that NumPy would convert)."""
    array = _real(value, what, "a real number (a float)")
    if array.size != 1:
        fail(f"{what} should be one number, but it has shape {array.shape}")
    number = float(array.reshape(-1)[0])
    if not np.isfinite(number):
        fail(f"{what} is NaN or infinite")
    return number


def predict(model: SavedModel, X: np.ndarray) -> np.ndarray:
    """The model's output for X, computed in the judge with NumPy (Keras's semantics).

    What the NumPy forward pass cannot run (or what is not Keras's own) becomes a
    failure that names it; so does a model with several outputs, which no check of
    these lessons asks for."""
    try:
        out = model.predict(X)
    except (UnsupportedModel, ModelDataError) as exc:
        fail(f"the grader could not run your model: {exc}")
    if not isinstance(out, np.ndarray):
        fail(
            f"the model has {len(out)} outputs; these lessons predict one value per window, "
            f"so the model has one output (your model: {describe(model)})"
        )
    return out


# Every name Keras accepts for mean squared error, lower-cased without underscores:
# "mse", "MSE", "mean_squared_error", a MeanSquaredError() object, the function.
MSE_NAMES = frozenset({"mse", "meansquarederror"})


def is_mse(loss: str | None) -> bool:
    """Whether a model's loss (`SavedModel.loss`) is Keras's mean squared error."""
    return loss is not None and loss.lower().replace("_", "") in MSE_NAMES


# ------------------------------------------------------------------ the graph


def describe(model: SavedModel) -> str:
    """The model in one line (`LSTM(10) → Dense(8) → Dense(1)`), never an exception."""
    try:
        return model.describe()
    except Exception:  # a model whose graph cannot be read still has its layer list
        return " → ".join(layer.describe() for layer in model.layers) or "no layers"


def chain(model: SavedModel) -> list[SavedLayer] | None:
    """The layers from input to output when the model is one stack, each layer reading
    the one before (inference-identity layers such as Dropout included), else None
    (branches, several inputs or outputs, ops between layers, a subclassed model)."""
    try:
        nodes = model.chain()
    except (UnsupportedModel, ModelDataError):
        return None
    if nodes is None or any(node.layer is None for node in nodes):
        return None
    return [node.layer for node in nodes]


def path_layers(model: SavedModel) -> list[SavedLayer]:
    """The layers on a path from the model's input to its output: the ones whose
    weights shape the prediction. Failing to read the graph is a failure naming why."""
    try:
        return model.path_layers()
    except (UnsupportedModel, ModelDataError) as exc:
        fail(f"the grader could not read how your model's layers connect: {exc}")


def recurrent_lstms(layer: SavedLayer) -> list[tuple[str, SavedLayer]]:
    """The LSTMs a layer runs, each with a name for messages: an LSTM itself, or both
    directions of a Bidirectional(LSTM) (an explicit `backward_layer` included)."""
    if layer.kind == "LSTM":
        return [("", layer)]
    if not layer.kind.startswith("Bidirectional("):
        return []
    found = []
    for role, child in (("forward", layer.forward_layer), ("backward", layer.backward_layer)):
        if child is not None and child.kind == "LSTM":
            found.append((role, child))
    return found


def lstm_problem(model: SavedModel, owner: str, wanted: str) -> str | None:
    """None when an LSTM lies on the path from the model's input to its output; else
    what is wrong, in words. `owner` names where the model comes from ("the model
    `train` received"), `wanted` the lesson's architecture ("LSTM(10) → Dense(8) →
    Dense(1)")."""
    custom = model.custom
    if custom:
        return f"{owner} cannot be graded here: {custom[0]}"
    on_path = path_layers(model)
    if any(recurrent_lstms(layer) for layer in on_path):
        return None
    if any(recurrent_lstms(layer) for layer in model.layers):
        return (
            f"{owner} has an LSTM, but its output never reaches the model's output "
            f"({describe(model)}): the prediction does not depend on it. The LSTM reads "
            f"the window and the layers after it read the LSTM: {wanted}"
        )
    return (
        f"{owner} has no LSTM layer ({describe(model)}); this lesson's model reads the "
        f"window with an LSTM: {wanted}"
    )


def architecture(model: SavedModel) -> list[tuple]:
    """What makes two models the same network: each layer's kind, units and weight
    shapes, in order (names and weight values left out)."""

    def layer_signature(layer: SavedLayer) -> tuple:
        shapes = tuple(w.shape for _, _, w in layer.weight_list)
        inner = tuple(layer_signature(child) for _, child in sorted(layer.wrapped.items()))
        return (layer.kind, layer.units, shapes, inner)

    return [layer_signature(layer) for layer in model.layers]


def all_weights(model: SavedModel) -> list[np.ndarray]:
    """Every weight array of the model, wrapped layers' included, in a fixed order."""

    def of(layer: SavedLayer) -> list[np.ndarray]:
        own = [w for _, _, w in layer.weight_list]
        return own + [w for _, child in sorted(layer.wrapped.items()) for w in of(child)]

    return [w for layer in model.layers for w in of(layer)]


# ---------------------------------------------------------------- was it trained


def fresh_model(learner: Any, name: str, *args: Any, seed: int = 0) -> SavedModel:
    """The learner's builder called with the random seed the training run used: the
    model as it is before any training (its initial weights are the ones `train`
    started from, when the learner's pipeline builds it first)."""
    model, _ = _spied_call(learner, name, args, seed, f"the model from `{name}`")
    if not isinstance(model, SavedModel):
        fail(f"`{name}` should return a Keras model, not a {type(model).__name__}")
    return model


# A weight that `train`'s Adam steps (learning rate 0.01) leave closer than this to
# where it started was barely trained: one Adam step moves a weight by about the rate.
MOVED = 0.05
# A fresh model (random initial weights) predicts the training targets no better than
# their mean; one that already explains half their variance was set by hand.
FRESH_FITS = 0.5
# Training must lower the judge's loss at least this many times.
LOWERED = 10.0


@dataclass(frozen=True)
class Evaluation:
    """The judge's own data for measuring a model: inputs as the model reads them
    (scaled the learner's way) and targets in the units `to_units` maps predictions to."""

    X: np.ndarray
    y: np.ndarray
    to_units: Any = None  # predictions → the targets' units (None: as they are)

    def loss(self, model: SavedModel) -> float:
        """Mean squared error of the model's predictions for X, in y's units."""
        with np.errstate(all="ignore"):
            out = np.ravel(predict(model, self.X))
            if self.to_units is not None:
                out = self.to_units(out)
            if out.shape != self.y.shape:
                fail(
                    f"the model gives {out.size} numbers for {len(self.y)} windows; it "
                    "should predict one value per window (output shape (None, 1))"
                )
            return float(np.mean((out - self.y) ** 2))


def training_problem(
    training: Training,
    fresh: SavedModel,
    data: Evaluation | None,
    *,
    builder: str,
    wanted: str,
    train_call: str,
) -> str | None:
    """None when the model `train` received is an LSTM network of `builder`'s
    architecture whose weights training moved and whose loss on the judge's data
    training lowered tenfold, from a start that could not predict the data; else what
    is wrong, in words.

    The start is the model as it was handed to `train` (the subject records it on
    entry), so weights set by hand between `builder` and `train` are seen as such;
    `fresh` (the builder's model, same seed) stands in when no entry state arrived.

    `data` None: the judge's data could not be put in the form the model was trained on
    (another check says why); the losses are then not measured, and the check that
    asked is not run rather than passed (`pytest.skip`)."""
    trained = training.model
    problem = lstm_problem(fresh, f"the model `{builder}` builds", wanted)
    if problem is None:
        problem = lstm_problem(trained, "the model `train` received", wanted)
    if problem:
        return problem
    if architecture(trained) != architecture(fresh):
        return (
            f"`train` received {describe(trained)}, but `{builder}` builds "
            f"{describe(fresh)}: train the model that `{builder}` returns"
        )
    start, before = fresh, f"a model fresh from `{builder}`, before any training,"
    why = "its weights are set by hand, not learned"
    if training.entry is not None and architecture(training.entry) == architecture(trained):
        start, before = training.entry, "the model as it was first handed to `train`"
        why = "its weights were set before `train` ran (by hand, or trained some other way)"
    moved = _moved(trained, start)
    if data is None:
        if moved < MOVED:
            return _barely_moved(moved, builder, train_call)
        pytest.skip(
            "not run: the loss is measured on the judge's windows scaled the way yours "
            "were, and the data that reached `train` did not show how (see the check "
            "on what `train` receives)"
        )
    start_loss, trained_loss = data.loss(start), data.loss(trained)
    spread = float(np.var(data.y))
    if not np.isfinite(trained_loss):
        return (
            "the trained model predicts NaN or infinity: training diverged (are X and y "
            "scaled into a small range?)"
        )
    if start_loss < FRESH_FITS * spread:
        return (
            f"{before} already predicts the training targets (mean squared error "
            f"{start_loss:.3g}, where always predicting their mean gives {spread:.3g}): "
            f"{why}. Keep Keras's random initial weights and let `train` fit them"
        )
    if moved < MOVED:
        return _barely_moved(moved, builder, train_call)
    if trained_loss * LOWERED > start_loss:
        return (
            f"training lowered the mean squared error on the training windows only from "
            f"{start_loss:.3g} ({before.removesuffix(',')}) to {trained_loss:.3g}; a trained "
            f"model does at least {LOWERED:g} times better: call `{train_call}` with its "
            "default number of steps, on the scaled training data"
        )
    return None


def _moved(trained: SavedModel, fresh: SavedModel) -> float:
    """The largest change of any weight between a fresh model and the trained one."""
    pairs = zip(all_weights(trained), all_weights(fresh), strict=True)
    return max((float(np.max(np.abs(a - b))) for a, b in pairs if a.size), default=0.0)


def _barely_moved(moved: float, builder: str, train_call: str) -> str:
    return (
        f"training barely changed the weights (no weight moved by more than {moved:.2g} "
        f"from a fresh `{builder}()`): call `{train_call}` with its default number of "
        "steps, on the scaled training data"
    )
