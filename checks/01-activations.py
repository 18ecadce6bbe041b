"""Hidden checks for lesson 1: sigmoid and tanh."""

import numpy as np

from workbook.grading.judge.expect import (
    CheckFailure,
    approximation,
    approximation_mistakes,
    call,
    expect_array,
    fail,
    fail_on_size_in_code,
    function,
    plot,
)

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
    except ValueError as exc:
        fail_on_size_in_code(exc, here=f"x has shape {x.shape}")
        raise
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


def _sigmoid_mistakes(x, got):
    """The usual wrong sigmoids at `x`, each with what went wrong; `got` (the learner's
    values) for a stand-in that no formula here names (see approximation)."""
    with np.errstate(all="ignore"):
        return [
            (np.tanh(x), "values match tanh where sigmoid belongs"),
            (1 / (1 + np.exp(x)), "this is σ(−x): the exponent should be e^(−x), not e^(x)"),
            (1 / (1 - np.exp(-x)), "the denominator should be 1 + e^(−x), not 1 − e^(−x)"),
            (1 / 1 + np.exp(-x), "1 / 1 + e^(−x) is 1 + e^(−x): put the denominator in "
             "parentheses, 1 / (1 + np.exp(-x))"),
            (np.exp(-x) / (1 + np.exp(-x)), "e^(−x) / (1 + e^(−x)) is σ(−x) = 1 − σ(x): the "
             "numerator is 1 (or e^(x) in the form e^(x) / (1 + e^(x)))"),
            (_sigmoid(np.abs(x)), "for negative x this gives σ(|x|): the x < 0 branch should "
             "be e^(x) / (1 + e^(x)), i.e. z / (1 + z) with z = e^(−|x|)"),
            (_sigmoid(2 * x), "this is σ(2x): through tanh, σ(x) = 0.5·(1 + tanh(x/2)), "
             "with x/2 inside"),
            (_sigmoid(x / 2), "this is σ(x/2): the exponent is e^(−x), not e^(−x/2)"),
            *approximation_mistakes("sigmoid", lambda act: act(x)),
            *_approximated(got, x, "sigmoid"),
        ]  # fmt: skip


def _tanh_mistakes(x, got):
    """The usual wrong tanh at `x` (see _sigmoid_mistakes)."""
    with np.errstate(all="ignore"):
        return [
            (_sigmoid(x), "values match sigmoid where tanh belongs"),
            (2 * _sigmoid(x) - 1, "2σ(x) − 1 is tanh(x/2); tanh(x) = 2σ(2x) − 1"),
            (_sigmoid(2 * x), "σ(2x) is only part of it: tanh(x) = 2σ(2x) − 1"),
            (np.tanh(2 * x), "this is tanh(2x): tanh(x) = 2σ(2x) − 1, or np.tanh(x)"),
            (np.sinh(x), "this is sinh(x) alone; tanh(x) = sinh(x) / cosh(x)"),
            *approximation_mistakes("tanh", lambda act: act(x)),
            *_approximated(got, x, "tanh"),
        ]


def _approximated(got, x, activation):
    """A stand-in for the activation that no known mistake names (see approximation)."""
    message = approximation(got, x, activation, "x", min_points=5) if got is not None else None
    return [(got, message)] if message else []


def _expect(func, x, name, what, *, strict=False, atol=1e-8):
    """The learner's `name` at `x` against the true one, naming known mistakes."""
    got = _run(func, x, name, strict=strict)
    true, mistakes = (
        (_sigmoid, _sigmoid_mistakes) if name == "sigmoid" else (np.tanh, _tanh_mistakes)
    )
    expect_array(got, true(x), what=what, mistakes=mistakes(x, got), atol=atol)
    return got


def test_sigmoid_values(learner):
    """sigmoid(x) equals 1 / (1 + e^(−x)) element-wise"""
    _expect(function(learner, "sigmoid"), X, "sigmoid", "sigmoid(x)")


def test_sigmoid_keeps_shape(learner):
    """sigmoid keeps the shape of its input (matrices too)"""
    grid = np.linspace(-4, 4, 6).reshape(2, 3)
    _expect(function(learner, "sigmoid"), grid, "sigmoid", "sigmoid of a 2×3 matrix")


def test_sigmoid_extreme_inputs(learner):
    """sigmoid stays finite and warning-free for |x| up to 1000"""
    sigmoid = function(learner, "sigmoid")
    x = np.array([[-1000.0], [-745.0], [-50.0], [50.0], [745.0], [1000.0]])
    what = "sigmoid at ±50, ±745, ±1000"
    _expect(sigmoid, x, "sigmoid", what, strict=True, atol=1e-12)


def test_sigmoid_range(learner):
    """sigmoid(0) is exactly 0.5 and outputs stay within [0, 1]"""
    sigmoid = function(learner, "sigmoid")
    got = np.asarray(_run(sigmoid, np.array([[0.0]]), "sigmoid"), dtype=float)
    if got.shape != (1, 1) or not np.isclose(got[0, 0], 0.5):
        fail("sigmoid(0) should be 0.5", expected=np.array([[0.5]]), got=got)
    x = np.linspace(-30, 30, 61)
    wide = np.asarray(_run(sigmoid, x, "sigmoid"), dtype=float)
    if np.any(wide < 0) or np.any(wide > 1):
        named = [m for v, m in _sigmoid_mistakes(x, wide) if np.shape(v) == wide.shape
                 and np.allclose(wide, v, rtol=1e-5, atol=1e-8)]  # fmt: skip
        fail("sigmoid must stay between 0 and 1" + (f": {named[0]}" if named else ""))


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
    _expect(function(learner, "tanh"), X, "tanh", "tanh(x)")


def test_tanh_extreme_inputs(learner):
    """tanh stays finite and warning-free for |x| up to 1000 (and on a matrix)"""
    tanh = function(learner, "tanh")
    what = "tanh at 0, ±50, ±710, ±1000"
    _expect(tanh, EXTREMES, "tanh", what, strict=True, atol=1e-12)
    _expect(tanh, np.linspace(-4, 4, 6).reshape(3, 2), "tanh", "tanh of a 3×2 matrix")
