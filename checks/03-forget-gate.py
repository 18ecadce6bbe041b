"""Hidden checks for lesson 3: the forget gate f_t = σ(W_f·[h_{t-1}, x_t] + b_f)."""

import sys
from pathlib import Path

# The gate lessons share their reference and known mistakes in checks/_gates.py.
sys.path.insert(0, str(Path(__file__).resolve().parent))
import _gates

GATE = _gates.Gate("forget_gate", "f_t", "W_f", "b_f", "sigmoid")
CASES = _gates.cases(seed=3)


def test_forget_gate(learner):
    """forget gate is σ(W_f·[h_{t-1}, x_t] + b_f)"""
    _gates.check(learner, GATE, CASES["full"], "f_t")


def test_bias_term(learner):
    """the bias term: with h_{t-1} = x_t = 0, f_t = σ(b_f)"""
    _gates.check(learner, GATE, CASES["bias"], "f_t")


def test_hidden_term(learner):
    """the h_{t-1} term: the first hidden columns of W_f multiply h_{t-1}"""
    _gates.check(learner, GATE, CASES["h"], "f_t")


def test_input_term(learner):
    """the x_t term: the last input columns of W_f multiply x_t"""
    _gates.check(learner, GATE, CASES["x"], "f_t")


def test_batch(learner):
    """works on a batch: h_prev (hidden, B) and x_t (input, B) give f_t (hidden, B)"""
    _gates.check(learner, GATE, CASES["batch"], "f_t")


def test_keeps_or_forgets(learner):
    """a large bias b_f keeps the memory (f_t ≈ 1); a very negative one forgets (f_t ≈ 0)"""
    _gates.check_saturation(
        learner, GATE, CASES["full"], meaning="f_t is the fraction of C_{t-1} to keep"
    )


def test_other_sizes(learner):
    """works for other sizes too: hidden = 4, input = 2 and a batch of 3 columns"""
    _gates.check(learner, GATE, CASES["sizes"], "f_t")
