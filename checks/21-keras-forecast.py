"""Hidden checks for lesson 21: chronological split, train-only scaling, beating the baseline.

The pipeline pieces are compared with private reference code; the forecast check
trains once (fixed seed, the exercise's own `train` helper, run in the subject), then
measures the trained model on correctly prepared validation windows itself, with the
NumPy forward pass, so a leaky or mis-scaled pipeline cannot flatter the score.
"""

import functools

import numpy as np

from workbook.expect import call, expect_array, fail, function, plot
from workbook.kerascheck import as_number, predict, run_with_spy, windows

WINDOW, FRACTION, LENGTH = 12, 0.8, 240


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


def test_split_is_chronological(learner):
    """split_series keeps time order: the first 80 % trains, the last 20 % validates"""
    split = function(learner, "split_series")
    series = _series(50)
    result = call(split, series.copy(), FRACTION)
    if not isinstance(result, tuple | list) or len(result) != 2:
        fail("`split_series` should return two arrays: (train, val)")
    got_train, got_val = (np.asarray(part, dtype=float) for part in result)
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
    result = call(fit, part.copy())
    if not isinstance(result, tuple | list) or len(result) != 2:
        fail("`fit_scaler` should return two numbers: (lo, hi)")
    got = np.array([as_number(v, "lo and hi") for v in result])
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
    got_scaler = np.array([as_number(v, "lo and hi") for v in scaler])
    # A shuffled split first: its scaler may well span the whole series' range, and
    # "fit on the whole series" would then name the wrong mistake.
    y_train = np.asarray(arrays[1], dtype=float)
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
        got = np.asarray(got, dtype=float)
        if (
            name == "y_train"
            and got.shape == want.shape
            and _shuffled(got * (hi - lo) + lo, series)
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
            ],
        )


def _prepared_with(series, lo, hi):
    train, val = _split(series)
    return (*windows((train - lo) / (hi - lo), WINDOW), *windows((val - lo) / (hi - lo), WINDOW))


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
    return run_with_spy(learner, "forecast", _series(), WINDOW, FRACTION, seed=0)


def _plot_validation(learner) -> None:
    """The trained model's one-step forecasts over the validation period against the
    series and the naive last-value baseline, each with its MAE: what the check below
    measures, drawn. The judge runs the model `train` received (NumPy) on validation
    windows prepared as the check prepares them (scaler from the training part) and
    unscales them; the title gives the final training loss on the data `train` saw,
    from the model's predictions. A loss per epoch is not shown: `train` runs one Keras
    epoch and only the trained model reaches the judge. A plot never fails a check."""
    try:
        _, training = _forecast(learner)
        if training is None:
            return
        _, _, X_val, y_val, (lo, hi) = _prepared(_series())
        with np.errstate(all="ignore"):
            mine = predict(training.model, X_val)[:, 0] * (hi - lo) + lo
            fitted = np.ravel(predict(training.model, training.X))
        loss = float(np.mean((fitted - np.ravel(training.y)) ** 2))
        actual, naive = y_val * (hi - lo) + lo, X_val[:, -1, 0] * (hi - lo) + lo
        t = np.arange(LENGTH - len(y_val), LENGTH)
        series = [
            ("series", t, actual),
            (f"naive: last value (MAE {np.mean(np.abs(naive - actual)):.3g})", t, naive),
            (f"your model (MAE {np.mean(np.abs(mine - actual)):.3g})", t, mine),
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
    """the trained LSTM beats the naive baseline on validation MAE"""
    _plot_validation(learner)
    _, training = _forecast(learner)
    if training is None:
        fail("`forecast` never called `train(model, X_train, y_train)`: train the model with it")
    model = training.model
    _, _, X_val, y_val, (lo, hi) = _prepared(_series())
    model_mae = float(np.mean(np.abs(predict(model, X_val)[:, 0] - y_val))) * (hi - lo)
    naive = float(np.mean(np.abs(y_val - X_val[:, -1, 0]))) * (hi - lo)
    if model_mae >= naive:
        fail(
            f"the model's validation MAE is {model_mae:.3g}, not better than the naive "
            f"baseline's {naive:.3g}: train longer or check what the model is trained on",
            expected=f"< {naive:.3g}",
            got=model_mae,
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
    if training is None:
        return
    model = training.model
    model_mae = float(np.mean(np.abs(predict(model, X_val)[:, 0] - y_val))) * (hi - lo)
    got_model = as_number(result["model_mae"], 'result["model_mae"]')
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
