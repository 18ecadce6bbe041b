"""Hidden checks for lesson 4: the input gate i_t = σ(W_i·[h_{t-1}, x_t] + b_i)."""

import sys
from pathlib import Path

# The gate lessons share their reference and known mistakes in checks/_gates.py.
sys.path.insert(0, str(Path(__file__).resolve().parent))
import _gates

GATE = _gates.Gate("input_gate", "i_t", "W_i", "b_i", "sigmoid")
CASES = _gates.cases(seed=4)
MEANING = "i_t is the fraction of the candidate C̃_t to write into the memory"


def test_input_gate(learner):
    """input gate is σ(W_i·[h_{t-1}, x_t] + b_i)"""
    _gates.check(learner, GATE, CASES["full"], "i_t")


def test_bias_term(learner):
    """the bias term: with h_{t-1} = x_t = 0, i_t = σ(b_i)"""
    _gates.check(learner, GATE, CASES["bias"], "i_t")


def test_hidden_term(learner):
    """the h_{t-1} term: the first hidden columns of W_i multiply h_{t-1}"""
    _gates.check(learner, GATE, CASES["h"], "i_t")


def test_input_term(learner):
    """the x_t term: the last input columns of W_i multiply x_t"""
    _gates.check(learner, GATE, CASES["x"], "i_t")


def test_batch(learner):
    """works on a batch: h_prev (hidden, B) and x_t (input, B) give i_t (hidden, B)"""
    _gates.check(learner, GATE, CASES["batch"], "i_t")


def test_between_zero_and_one(learner):
    """i_t is a fraction: it stays strictly between 0 and 1, even for large inputs"""
    _gates.check_range(learner, GATE, CASES["batch"], meaning=MEANING)


def test_opens_and_closes(learner):
    """a large bias b_i opens the gate (i_t ≈ 1); a very negative one shuts it (i_t ≈ 0)"""
    _gates.check_saturation(learner, GATE, CASES["full"], meaning=MEANING)


def test_other_sizes(learner):
    """works for other sizes too: hidden = 4, input = 2 and a batch of 3 columns"""
    _gates.check(learner, GATE, CASES["sizes"], "i_t")
