"""Hidden checks for lesson 18: scaling makes the seed's model predict 30 after [27, 28, 29].

The judge supplies the data: the windows of 0 … 29 and the test sequence go to the
learner's `train_and_predict`, which runs once in the subject (fixed seed, the
exercise's own 100-step `train` helper) and scales, builds and trains there; the
subject records what reaches `train`: the trained model and the X and y it saw. The
judge also has `build_model` called with the same seed, for the model as it is before
training. The judge owns the verdict:

* X and y reaching `train` are the judge's windows rescaled (a linear map read off
  the data: min-max as taught, z-score, dividing by a constant all qualify) into a
  small range;
* the trained model is `build_model`'s LSTM network (an LSTM on the path from input
  to output), training moved its weights, and the loss the judge measures on its own
  windows, scaled the learner's way, fell at least tenfold from a fresh model's — a
  fresh model that must not already predict the series (weights set by hand);
* the returned number is real, 30 ± 1, *and* the judge's own NumPy prediction from
  that trained model for [27, 28, 29], scaled and unscaled the way the training data
  was. When it is wrong, the training data and the trained model tell which step was
  missed.
"""

import functools
from dataclasses import dataclass

import numpy as np

from workbook.grading.judge.expect import CheckFailure, call, expect_array, fail, function, plot
from workbook.grading.judge.kerascheck import (
    Evaluation,
    Training,
    as_number,
    fresh_model,
    predict,
    run_with_spy,
    training_problem,
    windows,
)

DATA = np.arange(30.0)
TEST = np.array([27.0, 28.0, 29.0]).reshape(1, 3, 1)
NEXT = 30.0
TOLERANCE = 1.0
# Scaled data stays within a few units of 0 (min-max: [0, 1]; z-score: ±1.8; /30:
# [0, 1)); the raw series reaches 29, where the LSTM's gates saturate.
SCALED_LIMIT = 5.0
# Returned prediction vs the judge's own (Keras float32 vs NumPy float64, unscaled).
AGREE = 0.02
SEED = 0  # the training run's and the fresh model's: the same initial weights
ARCHITECTURE = "LSTM(10) → Dense(8) → Dense(1), lesson 17's model, as `build_model` gives it"


def test_scale(learner):
    """scale maps lo → 0 and hi → 1: (v − lo) / (hi − lo)"""
    scale = function(learner, "scale")
    v = np.array([[10.0, 12.5], [15.0, 20.0]])
    lo, hi = 10.0, 20.0
    expect_array(
        call(scale, v.copy(), lo, hi),
        (v - lo) / (hi - lo),
        what="scale(v, lo=10, hi=20)",
        mistakes=[
            (v / hi, "this is v / hi: subtract lo first, then divide by hi − lo"),
            ((v - lo) / hi, "divide by the range hi − lo, not by hi"),
            (v / (hi - lo), "subtract lo before dividing by hi − lo"),
            (v * (hi - lo) + lo, "this is unscale; scale goes the other way"),
        ],
    )


def test_unscale(learner):
    """unscale undoes scale: s · (hi − lo) + lo"""
    unscale = function(learner, "unscale")
    s = np.array([[0.0, 0.25], [0.5, 1.0]])
    lo, hi = 10.0, 20.0
    expect_array(
        call(unscale, s.copy(), lo, hi),
        s * (hi - lo) + lo,
        what="unscale(s, lo=10, hi=20)",
        mistakes=[
            (s * hi, "this is s · hi: multiply by hi − lo, then add lo"),
            (
                s * hi + lo,
                "this is s · hi + lo: multiply by the range hi − lo, not by hi, "
                "then add lo: s · (hi − lo) + lo",
            ),
            (s * (hi - lo), "multiply by hi − lo and then add lo back"),
            ((s - lo) / (hi - lo), "this is scale again; unscale is its inverse"),
            (
                (s + lo) * (hi - lo),
                "this adds lo before multiplying: multiply by hi − lo first, then add lo: "
                "s · (hi − lo) + lo",
            ),
        ],
    )


@functools.cache
def _run(learner):
    X, y = windows(DATA, 3)
    return run_with_spy(learner, "train_and_predict", X, y, TEST.copy(), seed=SEED)


@functools.cache
def _fresh(learner):
    """`build_model`'s model before training, built with the training run's seed."""
    return fresh_model(learner, "build_model", 3, seed=SEED)


def _trained(learner) -> Training:
    _, training = _run(learner)
    if training is None:
        fail("`train_and_predict` never called `train(model, X, y)`: train the model with it")
    return training


def _scaled(values):
    return float(np.max(np.abs(values))) <= SCALED_LIMIT


def _range(values) -> str:
    """How far from [0, 1] the values are: left raw, or transformed some other way."""
    lo, hi = float(np.min(values)), float(np.max(values))
    how = "unscaled" if hi >= 10 else "not in [0, 1]"  # the raw series reaches 29
    return f"{how}: from {lo:g} to {hi:g}"


def _scaled_words(values) -> str:
    lo, hi = float(np.min(values)), float(np.max(values))
    return "in [0, 1]" if lo >= -0.05 and hi <= 1.05 else f"scaled (from {lo:.3g} to {hi:.3g})"


def _training_data_problem(training: Training):
    """A sentence naming what was left unscaled, or None when X and y were scaled."""
    X_seen, y_seen = training.X, training.y
    x_ok, y_ok = _scaled(X_seen), _scaled(y_seen)
    advice = (
        "scale both with `scale`, using lo and hi taken from the training data "
        "(its min and max), before `train`"
    )
    if not x_ok and not y_ok:
        return (
            f"the model was trained on X {_range(X_seen)} and y {_range(y_seen)}; the "
            f"LSTM's gates saturate on values far from [0, 1]: {advice}"
        )
    if x_ok and not y_ok:
        return (
            f"X is {_scaled_words(X_seen)} but y is {_range(y_seen)}: scale y with the same "
            "lo and hi"
        )
    if y_ok and not x_ok:
        return (
            f"y is {_scaled_words(y_seen)} but X is {_range(X_seen)}: scale X with the same "
            "lo and hi"
        )
    return None


def _linear_map(raw, seen):
    """(a, b) with seen = a · raw + b, the learner's scaling read off the data `train`
    saw (min-max, z-score and division by a constant are all of this form); None when
    the data is not such a rescaling of the windows. Windows in another order (shuffled
    before training) are the same data: their sorted values are compared then."""
    raw, seen = np.ravel(raw), np.ravel(seen)
    if raw.shape != seen.shape or not np.isfinite(seen).all():
        return None
    tolerance = 1e-4 * max(1.0, float(np.max(np.abs(seen))))
    for r, s in ((raw, seen), (np.sort(raw), np.sort(seen))):
        a, b = np.polyfit(r, s, 1)
        if abs(a) >= 1e-9 and np.allclose(a * r + b, s, atol=tolerance):
            return float(a), float(b)
    return None


@dataclass(frozen=True)
class Judged:
    """The trained model's answers for [27, 28, 29], computed by the judge."""

    expected: float  # scaled like the training X, unscaled like the training y
    in_scaled_units: float  # the same, before unscaling
    on_raw: float  # the raw sequence fed to the model, answer left as it comes
    on_raw_unscaled: float  # the raw sequence fed to the model, answer unscaled
    test_own_scaling: float  # the test sequence min-max scaled with its own lo and hi


def _lo_hi(a: float, b: float) -> tuple[float, float]:
    """The lo and hi of the scaling a · v + b, read as (v − lo) / (hi − lo)."""
    lo = -b / a
    return lo, lo + 1 / a


def _named_ranges() -> dict[str, tuple[float, float]]:
    """The min-max pairs a learner might take lo and hi from, by what they are."""
    X_raw, y_raw = windows(DATA, 3)
    both = (min(X_raw.min(), y_raw.min()), max(X_raw.max(), y_raw.max()))
    return {
        "the min and max of X and y together": both,
        "X's own min and max": (X_raw.min(), X_raw.max()),
        "y's own min and max": (y_raw.min(), y_raw.max()),
        "the test sequence's own min and max": (TEST.min(), TEST.max()),
    }


def _words(lo: float, hi: float) -> str:
    for name, (named_lo, named_hi) in _named_ranges().items():
        if np.allclose((lo, hi), (named_lo, named_hi), atol=1e-3):
            return f"lo {named_lo:.4g} and hi {named_hi:.4g}, {name}"
    return f"lo {round(lo, 4) + 0.0:.4g} and hi {round(hi, 4) + 0.0:.4g}"


def _mismatch(model, x_map, y_map, got: float) -> str | None:
    """Which lo and hi the returned number was scaled in and unscaled with, when it is
    the trained model's answer for [27, 28, 29] with some scaling other than X's in and
    y's out (the candidate closest to it, within AGREE); None when no candidate gives
    that number, or the closest is X's scaling in and y's out."""
    x_pair, y_pair = _lo_hi(*x_map), _lo_hi(*y_map)
    pairs = [x_pair, y_pair, *_named_ranges().values()]
    best = None
    for lo_in, hi_in in pairs:
        scaled = float(np.ravel(predict(model, (TEST - lo_in) / (hi_in - lo_in)))[0])
        for lo_out, hi_out in pairs:
            off = abs(scaled * (hi_out - lo_out) + lo_out - got)
            if off <= AGREE and (best is None or off < best[0]):
                best = (off, (lo_in, hi_in), (lo_out, hi_out))
    if best is None:
        return None
    _, pair_in, pair_out = best
    same_in = np.allclose(pair_in, x_pair, atol=1e-3)
    same_out = np.allclose(pair_out, y_pair, atol=1e-3)
    if same_in and same_out:
        return None
    parts = []
    if not np.allclose(x_pair, y_pair, atol=1e-3):
        parts.append(
            f"X and y were scaled with different lo and hi (X with {_words(*x_pair)}; "
            f"y with {_words(*y_pair)})"
        )
    if not same_in:
        parts.append(f"the test sequence was scaled with {_words(*pair_in)}")
    if not same_out:
        parts.append(f"the answer was unscaled with {_words(*pair_out)}")
    return "; ".join(parts)


def _judge(training: Training) -> Judged | None:
    """What the trained model predicts, in NumPy, with the learner's own scaling."""
    X_raw, y_raw = windows(DATA, 3)
    x_map, y_map = _linear_map(X_raw, training.X), _linear_map(y_raw, training.y)
    if x_map is None or y_map is None:
        return None
    (a, b), (c, d) = x_map, y_map
    scaled = float(np.ravel(predict(training.model, a * TEST + b))[0])
    on_raw = float(np.ravel(predict(training.model, TEST))[0])
    lo, hi = float(TEST.min()), float(TEST.max())
    own = float(np.ravel(predict(training.model, (TEST - lo) / (hi - lo)))[0])
    return Judged((scaled - d) / c, scaled, on_raw, (on_raw - d) / c, (own - d) / c)


def _scaled_unlike_training(got: float, training: Training, judged: Judged) -> CheckFailure | None:
    """The returned number is the trained model's answer, but scaled in or unscaled out
    with a lo and hi other than those its training X and y were scaled with."""
    X_raw, y_raw = windows(DATA, 3)
    x_map, y_map = _linear_map(X_raw, training.X), _linear_map(y_raw, training.y)
    if abs(got - judged.expected) <= AGREE or x_map is None or y_map is None:
        return None
    how = _mismatch(training.model, x_map, y_map, got)
    if how is None:
        return None
    return CheckFailure(
        f"`train_and_predict` returned {got:.4g}: {how}. The model reads input scaled like "
        "its training X and answers in its training y's scaling (it predicts "
        f"{judged.expected:.4g}): take one lo and hi from the training data (the min and max "
        "of X and y together) and use them for X, y, the test sequence and `unscale`",
        expected=judged.expected,
        got=got,
    )


def _test_scaled_alone(got: float, judged: Judged) -> CheckFailure | None:
    """The test sequence scaled with its own min and max (27 and 29), not the training
    data's: the model then reads [0, 0.5, 1], a window it was never trained on."""
    if abs(got - judged.test_own_scaling) <= AGREE and abs(got - judged.expected) > AGREE:
        return CheckFailure(
            f"`train_and_predict` returned {got:.4g}: the test sequence [27, 28, 29] was "
            "scaled with its own lo and hi (27 and 29), so the model read [0, 0.5, 1]; scale "
            "it with the lo and hi of the training data, as X was (the model then predicts "
            f"{judged.expected:.4g})",
            expected=judged.expected,
            got=got,
        )
    return None


def _wrong(message: str, got: float) -> CheckFailure:
    return CheckFailure(message, expected=NEXT, got=got)


def _right_answer_failure(
    got: float, training: Training, judged: Judged | None
) -> CheckFailure | None:
    """30 ± 1 is not enough: the trained model itself must give that answer."""
    if judged is None:
        return CheckFailure(
            f"predicted {got:.4g}, but the X and y that reached `train` are not the windows "
            "given to `train_and_predict` rescaled, so the grader cannot confirm that the "
            "trained model gives this answer: scale X and y with `scale` and train on them"
        )
    alone = _test_scaled_alone(got, judged) or _scaled_unlike_training(got, training, judged)
    if alone is not None:
        return alone
    if abs(got - judged.expected) > AGREE:
        return CheckFailure(
            f"`train_and_predict` returned {got:.4g}, but the model trained by `train` "
            f"predicts {judged.expected:.4g} for [27, 28, 29] (scaled and unscaled like its "
            "training data): return that model's own prediction",
            expected=judged.expected,
            got=got,
        )
    return None


def _wrong_answer_failure(got: float, training: Training, judged: Judged | None) -> CheckFailure:
    """Which scaling step was missed, from the training data and the trained model."""
    problem = _training_data_problem(training)
    if problem:
        return _wrong(f"predicted {got:.4g} for [27, 28, 29]; {problem}", got)
    if judged is not None:
        alone = _test_scaled_alone(got, judged) or _scaled_unlike_training(got, training, judged)
        if alone is not None:
            return alone
        if np.isclose(got, judged.in_scaled_units, atol=1e-3):
            return _wrong(
                f"predicted {got:.4g}: that is the model's answer in scaled units (near 1); "
                "unscale the prediction before returning it",
                got,
            )
        if np.isclose(got, judged.on_raw_unscaled, atol=1e-2) or np.isclose(
            got, judged.on_raw, atol=1e-3
        ):
            return _wrong(
                f"predicted {got:.4g}: the test sequence [27, 28, 29] was fed to the model "
                "unscaled; scale it with the same lo and hi as the training data",
                got,
            )
    if -0.5 <= got <= 1.5:
        return _wrong(
            f"predicted {got:.4g}, a value in the scaled range: unscale the prediction", got
        )
    return _wrong(f"predicted {got:.4g} after [27, 28, 29]; expected {NEXT:g} ± {TOLERANCE:g}", got)


@functools.cache
def _prediction_failure(learner) -> CheckFailure | None:
    """The verdict on `train_and_predict`'s answer (None: right, and the model's own)."""
    result, training = _run(learner)
    got = as_number(result, "the value `train_and_predict` returns")
    if training is None:
        return CheckFailure(
            "`train_and_predict` never called `train(model, X, y)`: train the model with it"
        )
    judged = _judge(training)
    if abs(got - NEXT) > TOLERANCE:
        return _wrong_answer_failure(got, training, judged)
    return _right_answer_failure(got, training, judged) or _not_a_float(result, got)


def _not_a_float(result, got: float) -> CheckFailure | None:
    """The lesson asks for a float: a NumPy scalar or a 0-d array is one number, but an
    array of shape (1, 1) (the model's output unscaled, not indexed) or a list is not."""
    shape = np.shape(result)
    if shape == ():
        return None
    kind = "a list" if isinstance(result, list | tuple) else f"an array of shape {shape}"
    return CheckFailure(
        f"`train_and_predict` returned {kind} holding {got:.4g}; the lesson asks for one "
        "number, a float: take it out, e.g. `float(unscale(prediction, lo, hi)[0, 0])`",
        expected=NEXT,
        got=got,
    )


def test_trains_on_scaled_data(learner):
    """the model trains on scaled X and y: the windows rescaled into a small range"""
    training = _trained(learner)
    problem = _training_data_problem(training)
    if problem:
        fail(problem)
    X_raw, y_raw = windows(DATA, 3)
    for name, raw, seen in (("X", X_raw, training.X), ("y", y_raw, training.y)):
        if _linear_map(raw, seen) is None:
            fail(
                f"the {name} that reached `train` is not the {name} given to "
                "`train_and_predict` rescaled (every value mapped by the same "
                f"(v − lo) / (hi − lo)): scale the given {name} with `scale` and train on it"
            )


def _evaluation(training: Training) -> Evaluation | None:
    """The judge's windows as the learner's model reads them (scaled the learner's way),
    targets in the series' units; None when no scaling can be read off the data."""
    X_raw, y_raw = windows(DATA, 3)
    x_map, y_map = _linear_map(X_raw, training.X), _linear_map(y_raw, training.y)
    if x_map is None or y_map is None:
        return None
    (a, b), (c, d) = x_map, y_map
    return Evaluation(a * X_raw + b, y_raw, lambda out: (out - d) / c)


def test_trains_the_lstm(learner):
    """`train` fits build_model's LSTM: its weights move and the loss falls tenfold

    The judge measures the loss on its own windows (scaled the learner's way), for the
    trained model and for a fresh one from `build_model`, which must not predict the
    series before training."""
    training = _trained(learner)
    problem = training_problem(
        training,
        _fresh(learner),
        _evaluation(training),
        builder="build_model",
        wanted=ARCHITECTURE,
        train_call="train(model, X, y)",
    )
    if problem:
        fail(problem)


def _plot_forecast(learner) -> None:
    """The trained model's next-value forecast for every window of the series and for
    [27, 28, 29], against the series and the naive "same as the last value" baseline.
    The judge runs the model `train` received (NumPy), scaled and unscaled the way its
    training data was; the title gives its final training loss, from its predictions.
    A loss per epoch is not shown: `train` runs one Keras epoch and only the trained
    model reaches the judge. A plot never fails a check."""
    try:
        _, training = _run(learner)
        if training is None:
            return
        X_raw, y_raw = windows(DATA, 3)
        x_map, y_map = _linear_map(X_raw, training.X), _linear_map(y_raw, training.y)
        if x_map is None or y_map is None:
            return
        (a, b), (c, d) = x_map, y_map
        X_all = np.concatenate([X_raw, TEST])
        with np.errstate(all="ignore"):
            scaled = np.ravel(predict(training.model, a * X_all + b))
            fitted = np.ravel(predict(training.model, training.X))
        loss = float(np.mean((fitted - np.ravel(training.y)) ** 2))
        t = np.arange(3, len(DATA) + 1)
        series = [
            ("series", t, np.append(y_raw, NEXT)),
            ("naive: last value", t, X_all[:, -1, 0]),
            ("your model", t, (scaled - d) / c),
        ]
    except Exception:
        return
    plot(
        f"Your model's next-value forecast (final training loss {loss:.3g})",
        series,
        x_label="t (the last point: after [27, 28, 29])",
        y_label="value",
    )


def test_predicts_thirty(learner):
    """after [27, 28, 29] the model predicts 30 ± 1"""
    _plot_forecast(learner)
    failure = _prediction_failure(learner)
    if failure is not None:
        raise failure
