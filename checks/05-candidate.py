"""Hidden checks for lesson 5: the candidate C̃_t = tanh(W_C·[h_{t-1}, x_t] + b_C)."""

import sys
from pathlib import Path

# The gate lessons share their reference and known mistakes in checks/_gates.py.
sys.path.insert(0, str(Path(__file__).resolve().parent))
import _gates

GATE = _gates.Gate("candidate", "C̃_t", "W_c", "b_c", "tanh")
CASES = _gates.cases(seed=5)
MEANING = "C̃_t proposes new memory values, negative ones included"


def test_candidate(learner):
    """candidate is tanh(W_c·[h_{t-1}, x_t] + b_c)"""
    _gates.check(learner, GATE, CASES["full"], "C̃_t")


def test_bias_term(learner):
    """the bias term: with h_{t-1} = x_t = 0, C̃_t = tanh(b_c)"""
    _gates.check(learner, GATE, CASES["bias"], "C̃_t")


def test_hidden_term(learner):
    """the h_{t-1} term: the first hidden columns of W_c multiply h_{t-1}"""
    _gates.check(learner, GATE, CASES["h"], "C̃_t")


def test_input_term(learner):
    """the x_t term: the last input columns of W_c multiply x_t"""
    _gates.check(learner, GATE, CASES["x"], "C̃_t")


def test_batch(learner):
    """works on a batch: h_prev (hidden, B) and x_t (input, B) give C̃_t (hidden, B)"""
    _gates.check(learner, GATE, CASES["batch"], "C̃_t")


def test_between_minus_one_and_one(learner):
    """C̃_t stays strictly between −1 and 1, even for large inputs"""
    _gates.check_range(learner, GATE, CASES["batch"], meaning=MEANING)


def test_positive_and_negative(learner):
    """a large bias b_c proposes ≈ +1; a very negative one proposes ≈ −1"""
    _gates.check_saturation(learner, GATE, CASES["full"], meaning=MEANING)


def test_other_sizes(learner):
    """works for other sizes too: hidden = 4, input = 2 and a batch of 3 columns"""
    _gates.check(learner, GATE, CASES["sizes"], "C̃_t")
