"""Hidden checks for lesson 21: chronological split, train-only scaling, beating the baseline.

The pipeline pieces are compared with private reference code. The judge supplies the
series (its own, not the exercise's) to the learner's `forecast`, which runs once in
the subject (fixed seed, the exercise's own `train` helper) and splits, scales, builds
and trains there; the subject records what reaches `train`. The judge also has
`build_forecaster` called with the same seed, for the model before training. Then:

* every window that reached `train` is located in the judge's series (the learner's
  scaling is read off the data): none may reach into the validation period, and the
  scaling must be the training part's min-max scaler;
* the trained model is `build_forecaster`'s LSTM network, its weights moved, and the
  loss the judge measures on the training windows fell tenfold from a fresh model's
  (which must not already predict the series: weights set by hand);
* the judge measures the trained model on the validation windows itself, with the
  NumPy forward pass, so a leaky or mis-scaled pipeline cannot flatter the score.
"""

import functools
from dataclasses import dataclass

import numpy as np

from workbook.grading.judge.expect import call, expect_array, fail, function, plot
from workbook.grading.judge.kerascheck import (
    Evaluation,
    as_number,
    fresh_model,
    predict,
    real_array,
    run_with_spy,
    training_problem,
    windows,
)

WINDOW, FRACTION, LENGTH = 12, 0.8, 240
SEED = 0  # the training run's and the fresh model's: the same initial weights
ARCHITECTURE = "LSTM(16) → Dense(1), as the exercise's `build_forecaster` gives it"
# A window of the series is recognised in what reached `train` to this many units of
# the series (its values are ~0.1 apart at the least, from the noise).
MATCH = 1e-4


def _series(n=LENGTH, seed=2121):
    rng = np.random.default_rng(seed)
    t = np.arange(n)
    return 20 + 0.05 * t + 8 * np.sin(2 * np.pi * t / 12) + rng.normal(scale=1.0, size=n)


def _split(series, fraction=FRACTION):
    n_train = int(len(series) * fraction)
    return series[:n_train], series[n_train:]


def _prepared(series):
    """The reference pipeline: split, scaler from train, scale, window each part."""
    train, val = _split(series)
    lo, hi = float(train.min()), float(train.max())
    X_train, y_train = windows((train - lo) / (hi - lo), WINDOW)
    X_val, y_val = windows((val - lo) / (hi - lo), WINDOW)
    return X_train, y_train, X_val, y_val, (lo, hi)


def _shuffled(got_train, series):
    """True when the training part holds values from the validation period."""
    _, val = _split(series)
    return bool(np.any(np.isin(np.round(np.asarray(got_train, float), 9), np.round(val, 9))))


def _scaler(result, what: str) -> np.ndarray:
    """(lo, hi) as two real numbers, or a failure that says what came instead."""
    if not isinstance(result, tuple | list | np.ndarray) or len(result) != 2:
        fail(f"{what} should be two numbers, (lo, hi); got {str(result)[:60]}")
    return np.array([as_number(v, f"lo and hi in {what}") for v in result])


def test_split_is_chronological(learner):
    """split_series keeps time order: the first 80 % trains, the last 20 % validates"""
    split = function(learner, "split_series")
    series = _series(50)
    result = call(split, series.copy(), FRACTION)
    if not isinstance(result, tuple | list) or len(result) != 2:
        fail("`split_series` should return two arrays: (train, val)")
    got_train = real_array(result[0], "the training part `split_series` returns")
    got_val = real_array(result[1], "the validation part `split_series` returns")
    train, val = _split(series)
    if got_train.shape == val.shape and got_val.shape == train.shape:
        fail("train and val are swapped: the training part is the first 80 % of the series")
    if got_train.shape == train.shape and _shuffled(got_train, series):
        fail(
            "the split is shuffled: the training part holds values from the last 20 % of the "
            "series; split by position, in time order, so validation is truly the future"
        )
    expect_array(got_train, train, what="the training part (first 80 %)")
    expect_array(got_val, val, what="the validation part (last 20 %)")


def test_fit_scaler_on_train(learner):
    """fit_scaler returns (lo, hi) = (min, max) of the values it is given"""
    fit = function(learner, "fit_scaler")
    part = _series(60)[:48]
    got = _scaler(call(fit, part.copy()), "`fit_scaler`")
    expect_array(
        got,
        [part.min(), part.max()],
        what="(lo, hi)",
        mistakes=[
            ([part.mean(), part.std()], "this is (mean, std); use (min, max)"),
            ([part.max(), part.min()], "this is (max, min): lo comes first, (min, max)"),
        ],
    )


def test_prepare_scales_with_train_only(learner):
    """prepare fits the scaler on the training part only (no leakage) and windows each part"""
    prepare = function(learner, "prepare")
    series = _series()
    result = call(prepare, series.copy(), WINDOW, FRACTION)
    if not isinstance(result, tuple | list) or len(result) != 5:
        fail("`prepare` should return five things: X_train, y_train, X_val, y_val, (lo, hi)")
    *arrays, scaler = result
    expected = _prepared(series)
    lo, hi = expected[4]
    got_scaler = _scaler(scaler, "the scaler from `prepare`")
    # A shuffled split first: its scaler may well span the whole series' range, and
    # "fit on the whole series" would then name the wrong mistake.
    y_train = real_array(arrays[1], "y_train")
    own_lo, own_hi = got_scaler
    if y_train.shape == expected[1].shape and _shuffled(
        y_train * (own_hi - own_lo) + own_lo, series
    ):
        fail(
            "y_train holds values from the validation period: the split is shuffled; "
            "keep it chronological (the first part trains, the last part validates)"
        )
    expect_array(
        got_scaler,
        [lo, hi],
        what="the scaler (lo, hi) from `prepare`",
        mistakes=[
            (
                [series.min(), series.max()],
                "the scaler was fit on the whole series: the validation period leaks into "
                "training (data leakage); fit it on the training part only",
            )
        ],
    )
    leaked_lo, leaked_hi = series.min(), series.max()
    names = ("X_train", "y_train", "X_val", "y_val")
    for name, got, want, index in zip(names, arrays, expected[:4], range(4), strict=True):
        values = real_array(got, name)
        if (
            name == "y_train"
            and values.shape == want.shape
            and _shuffled(values * (hi - lo) + lo, series)
        ):
            fail(
                "y_train holds values from the validation period: the split is shuffled; "
                "keep it chronological"
            )
        leaked = _prepared_with(series, leaked_lo, leaked_hi)[index]
        expect_array(
            got,
            want,
            what=name,
            mistakes=[
                (
                    leaked,
                    "scaled with lo and hi of the whole series: that is data leakage; use "
                    "the training part's scaler for both parts",
                ),
                (
                    _unscaled(series)[index],
                    "not scaled: scale both parts with the training scaler before windowing",
                ),
                *([(_reached_back(series)[index], _reach_message(series))] if index > 1 else []),
            ],
        )


def _prepared_with(series, lo, hi):
    train, val = _split(series)
    return (*windows((train - lo) / (hi - lo), WINDOW), *windows((val - lo) / (hi - lo), WINDOW))


def _reached_back(series):
    """The four arrays with the validation windows cut from the series from
    len(train) − window on: the first ones reach back into the training part."""
    train, _ = _split(series)
    lo, hi = float(train.min()), float(train.max())
    reach = (series[len(train) - WINDOW :] - lo) / (hi - lo)
    return (*windows((train - lo) / (hi - lo), WINDOW), *windows(reach, WINDOW))


def _reach_message(series) -> str:
    _, val = _split(series)
    return (
        f"{len(val)} validation windows where {len(val) - WINDOW} belong: they are cut from "
        f"the series from len(train) − window on, so the first {WINDOW} reach back into the "
        "training part; the validation windows come from the validation part only, "
        f"make_dataset of the scaled val part ({len(val)} values, {len(val) - WINDOW} windows "
        f"of {WINDOW})"
    )


def _unscaled(series):
    train, val = _split(series)
    return (*windows(train, WINDOW), *windows(val, WINDOW))


def test_baseline_mae(learner):
    """baseline_mae is the MAE of "next value = last value of the window\""""
    baseline = function(learner, "baseline_mae")
    X, y = windows(_series(40), WINDOW)
    got = as_number(call(baseline, X.copy(), y.copy()), "baseline_mae")
    want = float(np.mean(np.abs(y - X[:, -1, 0])))
    candidates = [
        (
            float(np.mean(np.abs(y - X[:, 0, 0]))),
            "it uses the first value of each window; the "
            "naive forecast is the LAST value, X[:, -1, 0]",
        ),
        (
            float(np.mean((y - X[:, -1, 0]) ** 2)),
            "that is the mean SQUARED error; use the mean ABSOLUTE error",
        ),
        (
            float(np.mean(np.abs(y - X[:, :, 0].mean(axis=1)))),
            "it predicts the window's mean; the naive forecast is the last value",
        ),
    ]
    expect_array(
        np.array([got]),
        np.array([want]),
        what="baseline_mae",
        mistakes=[(np.array([value]), message) for value, message in candidates],
    )


@functools.cache
def _forecast(learner):
    return run_with_spy(learner, "forecast", _series(), WINDOW, FRACTION, seed=SEED)


@functools.cache
def _fresh(learner):
    """`build_forecaster`'s model before training, built with the training run's seed."""
    return fresh_model(learner, "build_forecaster", WINDOW, seed=SEED)


def _trained(learner):
    _, training = _forecast(learner)
    if training is None:
        fail("`forecast` never called `train(model, X_train, y_train)`: train the model with it")
    return training


@dataclass(frozen=True)
class Located:
    """The windows that reached `train`, found in the judge's series."""

    x_map: tuple[float, float] | None  # seen X = a · series value + b
    y_map: tuple[float, float] | None  # seen y = c · series value + d
    targets: np.ndarray  # the series index of each window's target (the value after it)
    problem: str | None  # why the windows could not be located


def _affine(raw: np.ndarray, seen: np.ndarray) -> tuple[float, float] | None:
    """(a, b) with seen = a · raw + b to MATCH (in the series' units), else None."""
    if raw.size < 2 or np.ptp(raw) == 0 or not np.isfinite(seen).all():
        return None
    a, b = np.polyfit(raw, seen, 1)
    if abs(a) < 1e-12 or np.max(np.abs((seen - b) / a - raw)) > MATCH:
        return None
    return float(a), float(b)


def _locate(X_seen: np.ndarray, y_seen: np.ndarray) -> Located:
    """Which windows of the judge's series reached `train`, and how they were scaled
    (read off the first window: the affine map under which it is a window of the
    series); every window is then located by its values, in any order."""
    series = _series()
    raw_X, raw_y = windows(series, WINDOW)
    raw = raw_X[:, :, 0]
    nothing = np.zeros(0, dtype=int)
    if X_seen.ndim != 3 or X_seen.shape[1:] != (WINDOW, 1) or len(X_seen) == 0:
        return Located(None, None, nothing, f"X has shape {X_seen.shape}, not (samples, 12, 1)")
    y_seen = np.ravel(y_seen)
    if len(y_seen) != len(X_seen):
        return Located(None, None, nothing, f"{len(X_seen)} windows but {len(y_seen)} targets")
    rows = X_seen[:, :, 0]
    x_map = next(filter(None, (_affine(r, rows[0]) for r in raw)), None)
    if x_map is None:
        return Located(None, None, nothing, "the first window is no run of 12 values of it")
    a, b = x_map
    unscaled = (rows - b) / a
    found = np.zeros(len(rows), dtype=int)
    stray = 0
    for start in range(0, len(rows), 256):  # 256 windows × 228 candidates at a time
        part = unscaled[start : start + 256]
        distance = np.max(np.abs(part[:, None, :] - raw[None, :, :]), axis=2)
        found[start : start + 256] = np.argmin(distance, axis=1)
        stray += int(np.sum(np.min(distance, axis=1) > MATCH))
    if stray:
        return Located(
            x_map, None, nothing, f"{stray} of the {len(rows)} windows are no run of 12 values"
        )
    y_map = _affine(raw_y[found], y_seen)
    if y_map is None:
        return Located(x_map, None, found + WINDOW, "the targets are not the values after them")
    return Located(x_map, y_map, found + WINDOW, None)


@functools.cache
def _located(learner) -> Located:
    training = _trained(learner)
    return _locate(training.X, training.y)


def _map_as_scaler(a: float, b: float) -> tuple[float, float]:
    """The (lo, hi) that `(v − lo) / (hi − lo)` = a · v + b stands for."""
    return -b / a, (1.0 - b) / a


def test_forecast_trains_on_training_windows(learner):
    """windows from the validation period never reach `train`; X and y are scaled with
    the training part's (lo, hi)"""
    located = _located(learner)
    series = _series()
    n_train = len(_split(series)[0])
    if located.problem is not None:
        fail(
            "the X and y that reached `train` are not windows of the series given to "
            f"`forecast`, rescaled ({located.problem}): train on the windows `prepare` "
            "makes of the training part (is the split shuffled?)"
        )
    leaked = located.targets[located.targets >= n_train]
    if leaked.size:
        fail(
            f"{leaked.size} of the {located.targets.size} windows given to `train` end in the "
            f"validation period (their targets lie at t = {leaked.min()} … {leaked.max()}; "
            f"validation starts at t = {n_train}): that is data leakage, the model is then "
            "graded on values it was trained on. Train on X_train and y_train from `prepare`, "
            "the windows of the training part only"
        )
    (a, b), (c, d) = located.x_map, located.y_map
    _, _, _, _, (lo, hi) = _prepared(series)
    got_lo, got_hi = _map_as_scaler(a, b)
    if np.allclose([got_lo, got_hi], [series.min(), series.max()], rtol=1e-4, atol=1e-6):
        fail(
            f"X was scaled with lo and hi of the whole series ({got_lo:.4g}, {got_hi:.4g}): "
            "the validation period leaks into training (data leakage); scale with "
            f"`fit_scaler` of the training part only ({lo:.4g}, {hi:.4g})"
        )
    if not np.allclose([got_lo, got_hi], [lo, hi], rtol=1e-4, atol=1e-6):
        fail(
            f"X was scaled as if lo = {got_lo:.4g} and hi = {got_hi:.4g} (read off the data "
            f"`train` received); the training part's scaler is ({lo:.4g}, {hi:.4g}): scale "
            "with `fit_scaler` of the training part"
        )
    if not np.allclose([c, d], [a, b], rtol=1e-4, atol=1e-6):
        y_lo, y_hi = _map_as_scaler(c, d)
        fail(
            f"y was scaled as if lo = {y_lo:.4g} and hi = {y_hi:.4g}, unlike X: scale the "
            "targets with the same (lo, hi) as the windows"
        )


def test_forecast_trains_the_lstm(learner):
    """`train` fits build_forecaster's LSTM: its weights move and the loss falls tenfold

    The judge measures the loss on the training part's windows (scaled the learner's
    way), for the trained model and for a fresh one from `build_forecaster`, which must
    not predict the series before training."""
    training = _trained(learner)
    problem = training_problem(
        training,
        _fresh(learner),
        _training_evaluation(learner),
        builder="build_forecaster",
        wanted=ARCHITECTURE,
        train_call="train(model, X_train, y_train)",
    )
    if problem:
        fail(problem)


def _training_evaluation(learner) -> Evaluation | None:
    """The training part's windows as the model reads them, targets in series units;
    None when the windows that reached `train` could not be located."""
    located = _located(learner)
    if located.x_map is None or located.y_map is None:
        return None
    (a, b), (c, d) = located.x_map, located.y_map
    X, y = windows(_split(_series())[0], WINDOW)
    return Evaluation(a * X + b, y, lambda out: (out - d) / c)


@dataclass(frozen=True)
class Validation:
    """The judge's measure of the trained model on the validation windows."""

    model_mae: float  # the model's MAE, in the series' units
    naive_mae: float  # the last-value baseline's
    predicted: np.ndarray  # the model's forecasts, in the series' units
    actual: np.ndarray
    naive: np.ndarray


def _validation(learner) -> Validation:
    """Validation windows of the series, scaled the way the model was trained (the
    learner's scaling, read off what reached `train`; the training part's min-max when
    it cannot be read), forecast by the model in NumPy and unscaled."""
    training = _trained(learner)
    located = _located(learner)
    series = _series()
    X_val, y_val = windows(_split(series)[1], WINDOW)
    if located.x_map is not None and located.y_map is not None:
        (a, b), (c, d) = located.x_map, located.y_map
    else:
        lo, hi = _prepared(series)[4]
        a, b = 1 / (hi - lo), -lo / (hi - lo)
        c, d = a, b
    with np.errstate(all="ignore"):
        predicted = (np.ravel(predict(training.model, a * X_val + b)) - d) / c
    if predicted.shape != y_val.shape:
        fail(
            f"the model gives {predicted.size} numbers for {len(y_val)} validation windows; "
            "it should predict one value per window (output shape (None, 1))"
        )
    naive = X_val[:, -1, 0]
    return Validation(
        float(np.mean(np.abs(predicted - y_val))),
        float(np.mean(np.abs(naive - y_val))),
        predicted,
        y_val,
        naive,
    )


def _plot_validation(learner) -> None:
    """The trained model's one-step forecasts over the validation period against the
    series and the naive last-value baseline, each with its MAE: what the check below
    measures, drawn. The judge runs the model `train` received (NumPy) on validation
    windows scaled as it was trained and unscales them; the title gives the final
    training loss on the data `train` saw, from the model's predictions. A loss per
    epoch is not shown: `train` runs one Keras epoch and only the trained model reaches
    the judge. A plot never fails a check."""
    try:
        training = _trained(learner)
        measured = _validation(learner)
        with np.errstate(all="ignore"):
            fitted = np.ravel(predict(training.model, training.X))
        loss = float(np.mean((fitted - np.ravel(training.y)) ** 2))
        t = np.arange(LENGTH - len(measured.actual), LENGTH)
        series = [
            ("series", t, measured.actual),
            (f"naive: last value (MAE {measured.naive_mae:.3g})", t, measured.naive),
            (f"your model (MAE {measured.model_mae:.3g})", t, measured.predicted),
        ]
    except Exception:
        return
    plot(
        f"Your forecast on the validation period (final training loss {loss:.3g})",
        series,
        x_label="t",
        y_label="value",
    )


def test_forecast_beats_baseline(learner):
    """the trained LSTM beats the naive baseline on validation MAE, measured by the judge"""
    _plot_validation(learner)
    measured = _validation(learner)
    if not np.isfinite(measured.model_mae):
        fail("the trained model predicts NaN or infinity on the validation windows")
    if measured.model_mae >= measured.naive_mae:
        fail(
            f"the model's validation MAE is {measured.model_mae:.3g}, not better than the "
            f"naive baseline's {measured.naive_mae:.3g}: train longer or check what the "
            "model is trained on",
            expected=f"< {measured.naive_mae:.3g}",
            got=measured.model_mae,
        )


def test_forecast_reports_mae(learner):
    """forecast reports both MAEs on validation, in the series' own units"""
    result, training = _forecast(learner)
    if not isinstance(result, dict) or not {"model_mae", "baseline_mae"} <= result.keys():
        fail('`forecast` should return a dict with keys "model_mae" and "baseline_mae"')
    _, _, X_val, y_val, (lo, hi) = _prepared(_series())
    naive = float(np.mean(np.abs(y_val - X_val[:, -1, 0]))) * (hi - lo)
    got_naive = as_number(result["baseline_mae"], 'result["baseline_mae"]')
    _shifted_by_lo("baseline_mae", got_naive, naive, lo)
    if np.isclose(got_naive, naive / (hi - lo), rtol=0.02):
        fail(
            f'result["baseline_mae"] is {got_naive:.3g}, in scaled units; multiply by '
            "hi − lo to report it in the series' units",
            expected=naive,
            got=got_naive,
        )
    if not np.isclose(got_naive, naive, rtol=0.02):
        fail(
            f'result["baseline_mae"] is {got_naive:.3g}; the naive forecast on the validation '
            f"windows has MAE {naive:.3g}",
            expected=naive,
            got=got_naive,
        )
    got_model = as_number(result["model_mae"], 'result["model_mae"]')
    if training is None:
        fail("`forecast` never called `train(model, X_train, y_train)`: train the model with it")
    model_mae = _validation(learner).model_mae
    _shifted_by_lo("model_mae", got_model, model_mae, lo, rtol=0.05)
    if np.isclose(got_model, model_mae / (hi - lo), rtol=0.05):
        fail(
            f'result["model_mae"] is {got_model:.3g}, in scaled units: unscale (× (hi − lo)) '
            "before reporting it",
            expected=model_mae,
            got=got_model,
        )
    if not np.isclose(got_model, model_mae, rtol=0.05):
        fail(
            f'result["model_mae"] is {got_model:.3g}, but the trained model scores '
            f"{model_mae:.3g} on the validation windows",
            expected=model_mae,
            got=got_model,
        )


def _shifted_by_lo(key: str, got: float, right: float, lo: float, rtol: float = 0.02) -> None:
    """An MAE "unscaled" like a value, × (hi − lo) + lo: an error is a difference of two
    values, and lo cancels in a difference, so only the width scales it."""
    if np.isclose(got, right + lo, rtol=rtol) and not np.isclose(got, right, rtol=rtol):
        fail(
            f'result["{key}"] is {got:.3g}: lo was added to it. An error is a difference of '
            "two values, where lo cancels out; unscale it by the width alone: × (hi − lo)",
            expected=right,
            got=got,
        )
