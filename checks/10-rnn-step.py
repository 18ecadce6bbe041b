"""Hidden checks for lesson 10: rnn_step, h_t = tanh(W_h · [h_{t-1}, x_t] + b_h).

The plain RNN step is the candidate's recipe under other names, so its reference,
known mistakes and shape diagnoses are the gate lessons' (checks/_gates.py); only the
argument order differs: rnn_step(x_t, h_prev, W_h, b_h).
"""

import sys
from pathlib import Path

# The layers act(W·[h_{t-1}, x_t] + b) share their checks in checks/_gates.py.
sys.path.insert(0, str(Path(__file__).resolve().parent))
import _gates

GATE = _gates.Gate("rnn_step", "h_t", "W_h", "b_h", "tanh", args="xhWb")
CASES = _gates.cases(seed=10)


def test_bias_only(learner):
    """with h_{t-1} = x_t = 0, h_t = tanh(b_h)"""
    _gates.check(learner, GATE, CASES["bias"], "h_t")


def test_previous_hidden_state_only(learner):
    """h_{t-1} enters through the first `hidden` columns of W_h"""
    _gates.check(learner, GATE, CASES["h"], "h_t")


def test_input_only(learner):
    """x_t enters through the last `input` columns of W_h"""
    _gates.check(learner, GATE, CASES["x"], "h_t")


def test_full_step(learner):
    """a full step: h_t = tanh(W_h · [h_{t-1}, x_t] + b_h)"""
    _gates.check(learner, GATE, CASES["full"], "h_t")


def test_full_step_on_a_batch(learner):
    """a full step on a batch of 4 columns gives h_t of shape (hidden, 4)"""
    _gates.check(learner, GATE, CASES["batch"], "h_t")


def test_other_sizes(learner):
    """works for other sizes too: hidden = 4, input = 2 and a batch of 3 columns"""
    _gates.check(learner, GATE, CASES["sizes"], "h_t")
