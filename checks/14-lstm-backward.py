"""Hidden checks for lesson 14: lstm_step_backward, verified gradient by gradient against
central differences of our own forward step, with known wrong answers named."""

from functools import cache

import numpy as np

from workbook.expect import call, expect_array, fail, function
from workbook.recurrent import (
    LSTM_GATES,
    LSTM_KEYS,
    expect_gradient,
    lstm_step,
    lstm_step_backward,
    numerical_gradient,
    random_params,
)

HIDDEN, INPUTS, B = 3, 2, 2
NAMES = ("dx", "dh_prev", "dC_prev", *(f"d{k}" for k in LSTM_KEYS))

# Typical wrong answers: switches of our reference backward, and what they mean.
MISTAKES = [
    (dict(h_to_C=False), "the path from h_t back into C_t is missing: C_t also reaches the "
     "loss through h_t = o_t ⊙ tanh(C_t), so dC_total = dC + dh ⊙ o_t ⊙ (1 − tanh²(C_t))"),
    (dict(cell_tanh_prime="none"), "dh reaches C_t through tanh: multiply dh ⊙ o_t by "
     "1 − tanh²(C_t)"),
    (dict(cell_tanh_prime="C"), "the derivative of tanh(C_t) is 1 − tanh²(C_t) (cache "
     "\"tanh_C\"), not 1 − C_t²"),
    (dict(gate_sigmoid_prime=False), "the sigmoid derivative of the gates is missing: "
     "multiply by g ⊙ (1 − g) for g = f_t, i_t, o_t"),
    (dict(candidate_tanh_prime=False), "the candidate's tanh derivative 1 − C̃_t² is missing"),
    (dict(forget_on_C=False), "dC_prev must be multiplied by f_t: C_t = f_t ⊙ C_{t-1} + …"),
]  # fmt: skip
SWAPPED = (
    "dx and dh_prev look swapped; the first `hidden` rows of the gradient of "
    "[h_{t-1}; x_t] belong to h_{t-1} (h first)"
)


@cache
def _case(seed: int, with_dh: bool = True, with_dC: bool = True):
    rng = np.random.default_rng(seed)
    p = random_params(rng, HIDDEN, INPUTS, scale=0.7)
    x = rng.standard_normal((INPUTS, B))
    h = 0.5 * rng.standard_normal((HIDDEN, B))
    C = rng.standard_normal((HIDDEN, B))
    dh = rng.standard_normal((HIDDEN, B)) * with_dh
    dC = rng.standard_normal((HIDDEN, B)) * with_dC
    inputs = {"dx": x, "dh_prev": h, "dC_prev": C, **{f"d{k}": p[k] for k in LSTM_KEYS}}

    def loss() -> float:  # L = Σ dh ⊙ h_t + Σ dC ⊙ C_t has exactly these upstream gradients
        h_new, C_new, _ = lstm_step(x, h, C, p)
        return float(np.sum(dh * h_new) + np.sum(dC * C_new))

    numeric = {name: numerical_gradient(loss, array) for name, array in inputs.items()}
    wrong = [(lstm_step_backward(dh, dC, x, h, C, p, **sw), message) for sw, message in MISTAKES]
    # Splitting the gradient of [h; x] as if x came first: right shapes, wrong rows.
    d_concat = np.vstack((numeric["dh_prev"], numeric["dx"]))
    split = {"dx": d_concat[:INPUTS], "dh_prev": d_concat[INPUTS:]}
    wrong.append((split, SWAPPED))
    return x, h, C, p, dh, dC, numeric, wrong


def _learner_grads(learner, case):
    x, h, C, p, dh, dC, *_ = case
    forward = function(learner, "lstm_step_forward")
    backward = function(learner, "lstm_step_backward")
    params = {k: v.copy() for k, v in p.items()}
    result = forward(x.copy(), h.copy(), C.copy(), params)
    ok_h, ok_C, _ = lstm_step(x, h, C, p)
    if not (
        isinstance(result, tuple)
        and len(result) == 3
        and np.allclose(result[0], ok_h)
        and np.allclose(result[1], ok_C)
    ):
        fail("lstm_step_forward is given and must stay as it was: it no longer returns the "
             "seed's (h_t, C_t, cache)")  # fmt: skip
    grads = call(backward, dh.copy(), dC.copy(), result[2])
    if not isinstance(grads, dict):
        fail(f"lstm_step_backward should return a dict of gradients, not {type(grads).__name__}")
    missing = [name for name in NAMES if name not in grads]
    if missing:
        fail(f"the gradient dict lacks {', '.join(repr(m) for m in missing)}")
    return grads


def _shape_diagnosis(name, got):
    """Name the two shape mistakes that expect_array can only report as 'wrong shape'."""
    shape = np.shape(got)
    if name.startswith("db_") and shape == (HIDDEN, B):
        fail(
            f"{name} has shape {shape}, one column per batch entry: the bias is shared "
            "by all columns, so sum its gradient over them "
            "(`.sum(axis=1, keepdims=True)`), shape (hidden, 1)"
        )
    if name in ("dx", "dh_prev") and shape == ({"dx": HIDDEN, "dh_prev": INPUTS}[name], B):
        fail(f"{name} has shape {shape}: {SWAPPED}")


def _expect(learner, case, names, context):
    *_, numeric, wrong = case
    grads = _learner_grads(learner, case)
    for name in names:
        got, expected = grads[name], numeric[name]
        _shape_diagnosis(name, got)
        expect_gradient(
            got,
            expected,
            name=name,
            context=context,
            mistakes=[(w[name], message) for w, message in wrong if name in w],
        )


def test_returns_all_gradients(learner):
    """lstm_step_backward returns every gradient, shaped like what it differentiates"""
    case = _case(1)
    grads = _learner_grads(learner, case)
    for name in NAMES:
        _shape_diagnosis(name, grads[name])
        expect_array(grads[name], case[6][name], what=name, rtol=np.inf, atol=np.inf)


def test_gradients_from_the_cell_state_only(learner):
    """with dh = 0 (loss only on C_t): every gradient passes the numerical gradient check"""
    _expect(learner, _case(2, with_dh=False), NAMES, " (with dh = 0)")


def test_cell_and_input_gradients(learner):
    """dC_prev, dh_prev and dx pass the numerical gradient check"""
    _expect(learner, _case(3), ("dC_prev", "dh_prev", "dx"), "")


def test_output_gate_gradients(learner):
    """dW_o and db_o pass the numerical gradient check"""
    _expect(learner, _case(3), ("dW_o", "db_o"), "")


def test_forget_input_candidate_gradients(learner):
    """dW_f, db_f, dW_i, db_i, dW_c and db_c pass the numerical gradient check"""
    _expect(learner, _case(3), [f"d{p}_{g}" for g in LSTM_GATES if g != "o" for p in "Wb"], "")
