"""Hidden checks for lesson 7: output gate o_t and hidden state h_t = o_t ⊙ tanh(C_t)."""

import sys
from pathlib import Path

import numpy as np

from workbook.grading.judge.expect import (
    approximation_mistakes,
    call_elementwise,
    expect_array,
    function,
    helper_message,
    learner_activation,
)

# The output gate is σ(W_o·[h_{t-1}, x_t] + b_o), the forget gate's recipe: it shares its
# reference, known mistakes and shape diagnoses with lessons 3 to 5 (checks/_gates.py).
sys.path.insert(0, str(Path(__file__).resolve().parent))
import _gates

GATE = _gates.Gate("output_gate", "o_t", "W_o", "b_o", "sigmoid")
CASES = _gates.cases(seed=7)


def _sig(z):
    return 0.5 * (1.0 + np.tanh(0.5 * z))


def test_output_gate_values(learner):
    """output gate o_t = σ(W_o · [h_{t-1}, x_t] + b_o)"""
    _gates.check(learner, GATE, CASES["full"], "o_t")


def test_output_gate_uses_bias(learner):
    """output gate with h_{t-1} = x_t = 0 gives σ(b_o)"""
    _gates.check(learner, GATE, CASES["bias"], "o_t")


def test_output_gate_batch(learner):
    """output gate works on a batch of columns, shape (hidden, B)"""
    _gates.check(learner, GATE, CASES["batch"], "o_t")


def test_output_gate_other_sizes(learner):
    """output gate works for other sizes too: hidden = 4, input = 2, a batch of 3"""
    _gates.check(learner, GATE, CASES["sizes"], "o_t")


# Cell-state values beyond ±1 so that C_t, tanh(C_t) and σ(C_t) all differ clearly.
O_T = np.array([[0.8], [0.3], [0.6]])
C_T = np.array([[2.0], [-1.5], [0.4]])


def _hidden_mistakes(o, c):
    return [
        (o * c, "h_t uses C_t; it should use tanh(C_t)"),
        (o * _sig(c), "values match σ(C_t) where tanh(C_t) belongs"),
        (
            np.tanh(o * c),
            "tanh is applied to o_t ⊙ C_t; squash C_t alone, then scale it: o_t ⊙ tanh(C_t)",
        ),
        (np.tanh(c), "the output gate o_t is missing: h_t = o_t ⊙ tanh(C_t)"),
        (o + np.tanh(c), "o_t and tanh(C_t) are multiplied (⊙), not added"),
        (np.tanh(o) * c, "tanh is applied to o_t; it squashes the cell state: o_t ⊙ tanh(C_t)"),
    ]


def _tanh_mistakes(learner, o, c):
    """tanh replaced: the file's own `tanh` changed, or an approximation written in."""
    found = approximation_mistakes("tanh", lambda act: o * act(c))
    helper = learner_activation(learner, "tanh", "tanh")
    if helper is not None:
        found.insert(0, (o * helper(c), helper_message(learner, "tanh", "tanh")))
    return found


def _expect_hidden(learner, o, c, what):
    """Call hidden_state on copies and compare, naming a matrix product by its shape."""
    hidden_state = function(learner, "hidden_state")
    got = call_elementwise(hidden_state, o.copy(), c.copy(), what="hidden_state")
    _gates.diagnose_elementwise(got, o * np.tanh(c), what, "o_t", "tanh(C_t)")
    right = o * np.tanh(c)
    close = np.shape(got) == right.shape and np.allclose(got, right, rtol=1e-5, atol=1e-8)
    mistakes = _hidden_mistakes(o, c) + ([] if close else _tanh_mistakes(learner, o, c))
    expect_array(got, right, what=what, mistakes=mistakes)


def test_hidden_state_values(learner):
    """hidden state h_t = o_t ⊙ tanh(C_t)"""
    _expect_hidden(learner, O_T, C_T, "h_t")


def test_hidden_state_batch(learner):
    """hidden state works element-wise on a batch of columns"""
    rng = np.random.default_rng(10)
    o = rng.uniform(0.05, 0.95, (3, 4))
    c = rng.normal(0.0, 2.0, (3, 4))
    _expect_hidden(learner, o, c, "h_t for a batch of 4 columns")


def test_hidden_state_leaves_its_arguments(learner):
    """hidden state leaves o_t and C_t unchanged (the caller still needs them)"""
    hidden_state = function(learner, "hidden_state")
    args = [O_T.copy(), C_T.copy()]
    call_elementwise(hidden_state, *args, what="hidden_state", in_place=True)
    _gates.expect_unchanged("hidden_state", ("o_t", "C_t"), (O_T, C_T), args)
