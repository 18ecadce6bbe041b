"""Hidden checks for lesson 18: scaling makes the seed's model predict 30 after [27, 28, 29].

The prediction check trains once (fixed seed, the exercise's own 100-step `train`
helper) while spying on what reaches `train`; when the answer is wrong, the recorded
training data and the trained model tell which scaling step was missed.
"""

import functools

import numpy as np

from workbook.expect import call, expect_array, fail, function
from workbook.kerascheck import as_number, predict, run_with_spy, windows

DATA = np.arange(30.0)
TEST = np.array([27.0, 28.0, 29.0]).reshape(1, 3, 1)
NEXT = 30.0
TOLERANCE = 1.0
SCALED_LIMIT = 1.5  # scaled values sit in [0, 1]; raw ones reach 29


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
            (s * (hi - lo), "multiply by hi − lo and then add lo back"),
            ((s - lo) / (hi - lo), "this is scale again; unscale is its inverse"),
        ],
    )


@functools.cache
def _run(learner):
    X, y = windows(DATA, 3)
    result, spy = run_with_spy(learner, "train_and_predict", X, y, TEST.copy())
    return result, spy


def _scaled(values):
    return float(np.max(np.abs(values))) <= SCALED_LIMIT


def _range(values) -> str:
    """How far from [0, 1] the values are: left raw, or transformed some other way."""
    lo, hi = float(np.min(values)), float(np.max(values))
    how = "unscaled" if hi >= 10 else "not in [0, 1]"  # the raw series reaches 29
    return f"{how}: from {lo:g} to {hi:g}"


def _training_data_problem(spy):
    """A sentence naming what was not scaled into [0, 1], or None when X and y were."""
    if spy.last is None:
        return None
    _, X_seen, y_seen = spy.last
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
        return f"X is in [0, 1] but y is {_range(y_seen)}: scale y with the same lo and hi"
    if y_ok and not x_ok:
        return f"y is in [0, 1] but X is {_range(X_seen)}: scale X with the same lo and hi"
    return None


def _learner_scaling(X_seen):
    """lo and hi as the learner used them, read off the scaled inputs they trained on."""
    X_raw, _ = windows(DATA, 3)
    slope, offset = np.polyfit(X_raw.ravel(), X_seen.ravel(), 1)
    if not np.allclose(slope * X_raw + offset, X_seen, atol=1e-4) or abs(slope) < 1e-9:
        return 0.0, 29.0
    return -offset / slope, (1.0 - offset) / slope


def test_trains_on_scaled_data(learner):
    """the model trains on X and y scaled into [0, 1]"""
    _, spy = _run(learner)
    if spy.last is None:
        fail("`train_and_predict` never called `train(model, X, y)`: train the model with it")
    problem = _training_data_problem(spy)
    if problem:
        fail(problem)


def test_predicts_thirty(learner):
    """after [27, 28, 29] the model predicts 30 ± 1"""
    result, spy = _run(learner)
    got = as_number(result, "the value `train_and_predict` returns")
    if abs(got - NEXT) <= TOLERANCE:
        return
    problem = _training_data_problem(spy)
    if problem:
        fail(f"predicted {got:.4g} for [27, 28, 29]; {problem}", expected=NEXT, got=got)
    if spy.last is not None:
        model, X_seen, _ = spy.last
        lo, hi = _learner_scaling(X_seen)
        on_scaled = float(predict(model, (TEST - lo) / (hi - lo))[0, 0])
        on_raw = float(predict(model, TEST)[0, 0])
        if np.isclose(got, on_scaled, atol=1e-3):
            fail(
                f"predicted {got:.4g}: that is the model's answer in scaled units (near 1); "
                "unscale the prediction before returning it",
                expected=NEXT,
                got=got,
            )
        if np.isclose(got, on_raw * (hi - lo) + lo, atol=1e-2) or np.isclose(
            got, on_raw, atol=1e-3
        ):
            fail(
                f"predicted {got:.4g}: the test sequence [27, 28, 29] was fed to the model "
                "unscaled; scale it with the same lo and hi as the training data",
                expected=NEXT,
                got=got,
            )
    if -0.5 <= got <= 1.5:
        fail(
            f"predicted {got:.4g}, a value in the scaled range: unscale the prediction",
            expected=NEXT,
            got=got,
        )
    fail(
        f"predicted {got:.4g} after [27, 28, 29]; expected {NEXT:g} ± {TOLERANCE:g}",
        expected=NEXT,
        got=got,
    )
