"""Hidden checks for lesson 1: sigmoid and tanh."""

import numpy as np

from workbook.expect import CheckFailure, call, expect_array, fail, function, plot

X = np.array([[-3.0], [-0.5], [0.0], [0.7], [2.5]])


def _sigmoid(x):
    return 0.5 * (1.0 + np.tanh(0.5 * x))


EXTREMES = np.array([[-1000.0], [-710.0], [-50.0], [0.0], [50.0], [710.0], [1000.0]])


def _overflow(name, code):
    """Why `code` (the line that warned) overflows, and what stays finite instead."""
    if name == "tanh":
        terms = (
            "sinh(x) and cosh(x) overflow"
            if "sinh" in code or "cosh" in code
            else ("e^x or e^(−x) overflows")
        )
        return (
            f"{terms} for |x| above about 710, and a ratio of two overflowing terms is "
            "inf / inf = NaN; np.tanh(x) stays finite, or use 2·sigmoid(2x) − 1 with your "
            "stable sigmoid"
        )
    branches = (
        " np.where does not help: it computes both of its branches on every element."
        if "where" in code
        else ""
    )
    return (
        f"e^(−x) overflows for x below about −709 (and e^(x) above +709).{branches} "
        "Exponentiate only −|x|: z = np.exp(-np.abs(x)) (hint 3 shows the whole trick)"
    )


def _run(func, x, name, *, strict=False):
    """Call on a copy; name the `math` module on arrays, and (strict) an overflow."""
    try:
        return call(func, x.copy(), forbid_warnings=strict)
    except TypeError as exc:
        code = (getattr(exc, "trace", None) or {}).get("code") or ""
        if "math." not in code:
            raise
        fail(
            f"{name} uses the `math` module (`{code}`), which takes one number at a time; "
            "use NumPy's functions (np.exp, np.tanh), which work element-wise on arrays"
        )
    except CheckFailure as failure:
        if not strict:
            raise
        trace = getattr(failure.__context__, "trace", None) or {}
        code = trace.get("code") or ""
        line = f" at {trace['location']} (`{code}`)" if trace.get("location") else ""
        fail(f"{name} of large |x| triggered a NumPy warning{line}: {_overflow(name, code)}")


def test_sigmoid_values(learner):
    """sigmoid(x) equals 1 / (1 + e^(−x)) element-wise"""
    sigmoid = function(learner, "sigmoid")
    expect_array(
        _run(sigmoid, X, "sigmoid"),
        _sigmoid(X),
        what="sigmoid(x)",
        mistakes=[
            (np.tanh(X), "values match tanh where sigmoid belongs"),
            (1 / (1 + np.exp(X)), "this is σ(−x): the exponent should be e^(−x), not e^(x)"),
            (1 / (1 - np.exp(-X)), "the denominator should be 1 + e^(−x), not 1 − e^(−x)"),
            (1 / 1 + np.exp(-X), "1 / 1 + e^(−x) is 1 + e^(−x): put the denominator in "
             "parentheses, 1 / (1 + np.exp(-x))"),
            (np.exp(-X) / (1 + np.exp(-X)), "e^(−x) / (1 + e^(−x)) is σ(−x) = 1 − σ(x): the "
             "numerator is 1 (or e^(x) in the form e^(x) / (1 + e^(x)))"),
            (_sigmoid(np.abs(X)), "for negative x this gives σ(|x|): the x < 0 branch should "
             "be e^(x) / (1 + e^(x)), i.e. z / (1 + z) with z = e^(−|x|)"),
        ],
    )  # fmt: skip


def test_sigmoid_keeps_shape(learner):
    """sigmoid keeps the shape of its input (matrices too)"""
    sigmoid = function(learner, "sigmoid")
    grid = np.linspace(-4, 4, 6).reshape(2, 3)
    expect_array(_run(sigmoid, grid, "sigmoid"), _sigmoid(grid), what="sigmoid of a 2×3 matrix")


def test_sigmoid_extreme_inputs(learner):
    """sigmoid stays finite and warning-free for |x| up to 1000"""
    sigmoid = function(learner, "sigmoid")
    x = np.array([[-1000.0], [-745.0], [-50.0], [50.0], [745.0], [1000.0]])
    got = _run(sigmoid, x, "sigmoid", strict=True)
    expect_array(got, _sigmoid(x), what="sigmoid at ±50, ±745, ±1000", atol=1e-12)


def test_sigmoid_range(learner):
    """sigmoid(0) is exactly 0.5 and outputs stay within [0, 1]"""
    sigmoid = function(learner, "sigmoid")
    got = np.asarray(_run(sigmoid, np.array([[0.0]]), "sigmoid"), dtype=float)
    if got.shape != (1, 1) or not np.isclose(got[0, 0], 0.5):
        fail("sigmoid(0) should be 0.5", expected=np.array([[0.5]]), got=got)
    wide = np.asarray(_run(sigmoid, np.linspace(-30, 30, 61), "sigmoid"), dtype=float)
    if np.any(wide < 0) or np.any(wide > 1):
        fail("sigmoid must stay between 0 and 1")


PLOT_X = np.linspace(-10.0, 10.0, 201)


def _plot_activations(learner) -> None:
    """Your sigmoid and tanh over [−10, 10] against the true curves: where they leave
    the line shows. Only your functions' results are drawn; a plot never fails a check."""
    series = []
    for name, true in (("sigmoid", _sigmoid(PLOT_X)), ("tanh", np.tanh(PLOT_X))):
        try:
            with np.errstate(all="ignore"):
                mine = np.asarray(function(learner, name)(PLOT_X.copy()), dtype=float)
            if mine.shape == PLOT_X.shape:
                series.append((f"your {name}", PLOT_X, mine))
        except Exception:
            pass
        series.append((f"true {name}", PLOT_X, true))
    plot("Your sigmoid and tanh", series, x_label="x", y_label="value")


def test_tanh_values(learner):
    """tanh(x) matches the hyperbolic tangent, in (−1, 1)"""
    _plot_activations(learner)
    tanh = function(learner, "tanh")
    expect_array(
        _run(tanh, X, "tanh"),
        np.tanh(X),
        what="tanh(x)",
        mistakes=[
            (_sigmoid(X), "values match sigmoid where tanh belongs"),
            (2 * _sigmoid(X) - 1, "2σ(x) − 1 is tanh(x/2); tanh(x) = 2σ(2x) − 1"),
            (_sigmoid(2 * X), "σ(2x) is only part of it: tanh(x) = 2σ(2x) − 1"),
        ],
    )


def test_tanh_extreme_inputs(learner):
    """tanh stays finite and warning-free for |x| up to 1000 (and on a matrix)"""
    tanh = function(learner, "tanh")
    got = _run(tanh, EXTREMES, "tanh", strict=True)
    expect_array(got, np.tanh(EXTREMES), what="tanh at 0, ±50, ±710, ±1000", atol=1e-12)
    grid = np.linspace(-4, 4, 6).reshape(3, 2)
    expect_array(_run(tanh, grid, "tanh"), np.tanh(grid), what="tanh of a 3×2 matrix")
