"""The comparison helpers' diagnoses (workbook/grading/judge/expect.py), in-process and fast.

Every lesson's own mistakes are tested end to end in tests/mistakes/*.toml; these tests
pin the helpers behind whole classes of them: numbers of any NumPy kind, float32
precision, a constant factor (a mean where a sum belongs), reductions on the wrong
axis, approximations of σ and tanh, terms outside the nonlinearity, sizes in code.
"""

from __future__ import annotations

import numpy as np
import pytest

from workbook.grading.judge.expect import (
    CheckFailure,
    approximation,
    approximation_mistakes,
    averaged,
    expect_array,
    expect_number,
    expect_scalar,
    fail_on_matrix_product,
    fail_on_size_in_code,
    gradient_tolerance,
    outside_terms,
    reduction_mistakes,
    size_in_code,
)


def _message(func, *args, **kwargs) -> str:
    with pytest.raises(CheckFailure) as failure:
        func(*args, **kwargs)
    return failure.value.message


# -- a single number ----------------------------------------------------------------------


@pytest.mark.parametrize(
    "value",
    [0.5, np.float64(0.5), np.float32(0.5), np.array(0.5), np.array(0.5, dtype=np.float32)],
    ids=["float", "np.float64", "np.float32", "0-d", "0-d float32"],
)
def test_a_number_of_any_kind_passes_where_a_float_is_expected(value):
    assert expect_scalar(value, 0.5, what="the loss") == 0.5


def test_an_array_holding_one_number_is_told_to_become_a_number():
    message = _message(expect_scalar, np.array([[0.5]]), 0.5, what="the loss")
    assert "should be a single number, a float (a NumPy scalar" in message
    assert "`float(…)` of it gives the number" in message
    assert "but expected ()" not in message


def test_a_string_is_not_a_number():
    assert "should be a single number" in _message(expect_scalar, "0.5", 0.5, what="the loss")


def test_a_float32_number_is_compared_at_float32_precision():
    value = np.float32(0.99) ** 50  # 4e-7 from 0.99**50
    expect_number(value, "ANSWER_3", 0.99**50)
    expect_number(np.array(0.99**50), "ANSWER_3", 0.99**50)
    expect_number(np.int64(480), "ANSWER_5", 480)


def test_an_answer_written_as_a_string_is_named_a_string_where_a_number_belongs():
    message = _message(expect_number, "480", "ANSWER_5", 480)
    assert "`ANSWER_5` is a string ('480', a str), but it should be a number" in message
    assert "a float (" not in message  # a count is not a float


def test_two_mistakes_with_the_same_number_are_both_named():
    message = _message(expect_number, 440, "ANSWER_5", 480, mistakes=[(440, "one"), (440, "two")])
    assert message.endswith("one; or two")


# -- precision ----------------------------------------------------------------------------


def test_a_float32_result_is_compared_at_float32_precision():
    expected = np.array([[-0.024321337], [0.5], [-0.75]])
    got = (expected * (1 + 6e-6)).astype(np.float32)  # a float32 GRU after 5 steps
    expect_array(got, expected, what="h_5", rtol=1e-6)


def test_a_float64_result_with_float32_error_is_told_to_compute_in_float64():
    expected = np.array([[-0.024321337], [0.5], [-0.75]])
    got = expected * (1 + 6e-6) + np.array([[0.0], [1e-7], [0.0]])
    message = _message(expect_array, got, expected, what="h_5", rtol=1e-6)
    assert "only to about float32's precision" in message
    assert "Then compute in float64" in message


def test_float16_is_refused_with_the_reason():
    expected = np.linspace(-1, 1, 6).reshape(3, 2) / 3
    got = (expected + 1e-3).astype(np.float16)
    assert "float16" in _message(expect_array, got, expected, what="h_t")


def test_gradient_checks_allow_float32_its_own_error():
    assert gradient_tolerance(np.zeros(3)) == 1e-6
    assert gradient_tolerance(np.zeros(3, np.float32)) == 1e-4


# -- mistakes, factors, shapes ------------------------------------------------------------


def test_a_known_mistake_is_named_even_when_it_changes_the_shape():
    expected = np.ones((3, 1))
    wrong = np.ones(3)
    message = _message(expect_array, wrong, expected, what="db", mistakes=[(wrong, "no keepdims")])
    assert message == "db: no keepdims"


def test_a_mean_where_the_sum_belongs_is_named_by_its_factor():
    expected = np.array([[1.0, -2.0], [3.0, 0.5]])
    message = _message(expect_array, expected / 2, expected, what="dW_f")
    assert "every entry is 1/2 of the expected one" in message
    assert "a mean over 2 items where their sum belongs" in message
    message = _message(expect_array, -expected, expected, what="dW_f")
    assert "opposite sign" in message


def test_averaged_names_what_was_counted():
    (value, message), *_ = averaged(np.ones((2, 2)), {"batch columns": 2})
    assert np.allclose(value, 0.5)
    assert "a mean over the batch columns (2) where their sum belongs" in message
    assert len(averaged(1.0, {"batch columns": 2, "time steps": 4})) == 3  # and both


def test_reductions_on_the_wrong_axis_or_of_the_wrong_kind():
    f = np.random.default_rng(0).uniform(0.3, 1.0, (4, 3, 1))
    found = dict(
        (message, value)
        for value, message in reduction_mistakes(
            f, "cumprod", 0, axes=("time", "hidden units", "batch columns")
        )
    )
    flat = [m for m in found if "without `axis`" in m]
    assert flat and any(np.allclose(np.cumprod(f).reshape(f.shape), found[m]) for m in flat)
    assert any("axis 1 (hidden units)" in m for m in found)
    assert any("np.cumsum where np.cumprod belongs" in m for m in found)
    d = np.arange(6.0).reshape(3, 2)
    sums = reduction_mistakes(d, "sum", 1, axes=("hidden units", "batch columns"), keepdims=True)
    shapes = {np.shape(v): m for v, m in sums}
    assert "keepdims=True" in shapes[(3,)]
    assert "axis 0 (hidden units)" in shapes[(1, 2)]
    assert "without `axis`" in shapes[()]


# -- nonlinearities -----------------------------------------------------------------------

PRE = np.linspace(-3, 3, 8).reshape(4, 2)


def test_known_stand_ins_for_sigmoid_and_tanh_are_named():
    hard = np.clip(0.5 + PRE / 4, 0, 1)
    assert "a hard sigmoid, clip(0.5 + a/4, 0, 1)" in approximation(hard, PRE, "sigmoid")
    assert "a softsign" in approximation(PRE / (1 + np.abs(PRE)), PRE, "tanh")
    named = [m for v, m in approximation_mistakes("tanh", lambda act: 2 * act(PRE))]
    assert any("hard tanh" in m for m in named)


def test_an_unknown_curve_like_sigmoid_is_named_as_an_approximation():
    slope = 0.5 + 0.5 * np.tanh(0.4 * PRE)  # σ(0.8 a)
    assert "seems replaced by an approximation" in approximation(slope, PRE, "sigmoid")


def test_the_right_values_and_unrelated_ones_are_not_called_approximations():
    sigmoid = 0.5 * (1 + np.tanh(0.5 * PRE))
    assert approximation(sigmoid, PRE, "sigmoid") is None
    scrambled = sigmoid.reshape(-1)[::-1].reshape(PRE.shape)  # falls as a rises
    assert approximation(scrambled, PRE, "sigmoid") is None


def test_terms_outside_the_nonlinearity():
    h = np.array([[0.3], [-0.2]])
    pre = np.array([[0.5], [1.5]])
    found = outside_terms(np.tanh, pre, {"W·h": 0.1 * h}, {"h_{t-1}": h}, "tanh", "a")
    values = {m.split(" ")[0]: v for v, m in found}
    assert np.allclose(values["W·h"], np.tanh(pre - 0.1 * h) + 0.1 * h)
    assert np.allclose(values["h_{t-1}"], np.tanh(pre) + h)


# -- sizes in code ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("code", "error", "piece"),
    [
        (
            "return sigmoid(np.dot(z.T, W_f.T).reshape(2, 1) + b_f)",
            "cannot reshape array of size 8 into shape (2,1)",
            "reshape(2, 1)",
        ),
        ("z = np.zeros((4, 1))", "could not broadcast input array", "np.zeros((4, 1))"),
        (
            "H = np.zeros((X.shape[0], 3, X.shape[2]))",
            "could not broadcast input array from shape (4,2) into shape (3,2)",
            "np.zeros((X.shape[0], 3, X.shape[2]))",
        ),
        ("J = np.eye(4)", "matmul: size 4 is different from 3", "np.eye(4)"),
        ("for t in range(4):", "index 4 is out of bounds for axis 0 with size 4", "range(4)"),
        ("z[:2] = h_prev", "could not broadcast input array from shape (3,1)", "[:2]"),
        ("b = b_f.reshape(-1, 1) + W.T @ z", "shapes (5,2) and (5,1) not aligned", None),
        ("J = np.eye(h.shape[0])", "matmul: size 4 is different from 3", None),
        ("x = np.zeros((4, 1))", "name 'y' is not defined", None),
    ],
)
def test_a_size_written_into_code_is_found(code, error, piece):
    assert size_in_code(code, error) == piece


def test_an_index_past_the_end_is_named_as_a_size_or_an_off_by_one():
    exc = IndexError("index 4 is out of bounds for axis 0 with size 4")
    exc.trace = {"location": "bptt.py:85", "code": "step = backward(diff[t], caches[t])"}
    message = _message(fail_on_size_in_code, exc, T=4)
    assert "an index runs past the end of an array" in message
    assert "off by one" in message


def test_a_shape_error_without_a_size_in_its_line_is_left_to_the_caller():
    exc = ValueError("operands could not be broadcast together with shapes (4,4) (3,4)")
    exc.trace = {"location": "x.py:3", "code": "return f.T @ c + i * d"}
    fail_on_size_in_code(exc, hidden=3)  # returns: nothing to say about sizes


def test_rounded_values_are_named_with_their_decimals():
    expected = np.array([[0.123456789], [0.987654321], [0.5]])
    message = _message(expect_array, np.round(expected, 4), expected, what="o_t")
    assert "only to 4 decimal places: the values seem rounded" in message


def test_two_entries_off_by_the_same_factor_are_named():
    expected = np.array([[0.7], [0.3]])
    assert "1/2 of the expected one" in _message(expect_array, expected / 2, expected, what="i_t")


def test_a_broadcast_error_from_a_matrix_product_is_named():
    exc = ValueError("operands could not be broadcast together with shapes (4,4) (3,4)")
    exc.trace = {"location": "gru.py:9", "code": "return z_t.T @ h_prev + (1 - z_t) * h"}
    message = _message(fail_on_matrix_product, exc, "gru_step")
    assert "`z_t.T @ h_prev` is a matrix product" in message


@pytest.mark.parametrize(
    ("code", "refused"),
    [
        ('f_t = sigmoid(p["W_f"] @ z + p["p_f"] @ C_prev + p["b_f"])', 'p["p_f"] @ C_prev'),
        ("f_t = sigmoid(np.dot(p['W_f'], z) + p['p_f'] @ C_prev)", "p['p_f'] @ C_prev"),
        ("f_t = sigmoid(W_f @ z + p_f @ C_prev + b_f)", "p_f @ C_prev"),
    ],
)
def test_a_refused_product_names_the_one_not_led_by_a_weight_matrix(code, refused):
    exc = ValueError("matmul: Input operand 1 has a mismatch in its core dimension 0")
    exc.trace = {"location": "peephole.py:30", "code": code}
    message = _message(fail_on_matrix_product, exc, "peephole_step", refused=True)
    assert f"NumPy refused the matrix product `{refused}` at peephole.py:30" in message
