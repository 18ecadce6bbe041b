"""Hidden checks for lesson 1: sigmoid and tanh."""

import numpy as np

from workbook.expect import call, expect_array, fail, function

X = np.array([[-3.0], [-0.5], [0.0], [0.7], [2.5]])


def _sigmoid(x):
    return 0.5 * (1.0 + np.tanh(0.5 * x))


def test_sigmoid_values(learner):
    """sigmoid(x) equals 1 / (1 + e^(−x)) element-wise"""
    sigmoid = function(learner, "sigmoid")
    expect_array(
        call(sigmoid, X.copy()),
        _sigmoid(X),
        what="sigmoid(x)",
        mistakes=[
            (np.tanh(X), "values match tanh where sigmoid belongs"),
            (1 / (1 + np.exp(X)), "this is σ(−x): the exponent should be e^(−x), not e^(x)"),
            (1 / (1 - np.exp(-X)), "the denominator should be 1 + e^(−x), not 1 − e^(−x)"),
        ],
    )


def test_sigmoid_keeps_shape(learner):
    """sigmoid keeps the shape of its input (matrices too)"""
    sigmoid = function(learner, "sigmoid")
    grid = np.linspace(-4, 4, 6).reshape(2, 3)
    expect_array(call(sigmoid, grid), _sigmoid(grid), what="sigmoid of a 2×3 matrix")


def test_sigmoid_extreme_inputs(learner):
    """sigmoid stays finite and warning-free for |x| up to 1000"""
    sigmoid = function(learner, "sigmoid")
    x = np.array([[-1000.0], [-745.0], [-50.0], [50.0], [745.0], [1000.0]])
    got = call(sigmoid, x, forbid_warnings=True)
    expect_array(got, _sigmoid(x), what="sigmoid at ±50, ±745, ±1000", atol=1e-12)


def test_sigmoid_range(learner):
    """sigmoid(0) is exactly 0.5 and outputs stay within [0, 1]"""
    sigmoid = function(learner, "sigmoid")
    got = np.asarray(call(sigmoid, np.array([[0.0]])), dtype=float)
    if got.shape != (1, 1) or not np.isclose(got[0, 0], 0.5):
        fail("sigmoid(0) should be 0.5", expected=np.array([[0.5]]), got=got)
    wide = np.asarray(call(sigmoid, np.linspace(-30, 30, 61)), dtype=float)
    if np.any(wide < 0) or np.any(wide > 1):
        fail("sigmoid must stay between 0 and 1")


def test_tanh_values(learner):
    """tanh(x) matches the hyperbolic tangent, in (−1, 1)"""
    tanh = function(learner, "tanh")
    expect_array(
        call(tanh, X.copy()),
        np.tanh(X),
        what="tanh(x)",
        mistakes=[(_sigmoid(X), "values match sigmoid where tanh belongs")],
    )
