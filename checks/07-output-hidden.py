"""Hidden checks for lesson 7: output gate o_t and hidden state h_t = o_t ⊙ tanh(C_t)."""

import numpy as np

from workbook.expect import call, call_elementwise, expect_array, function

HIDDEN, INPUT = 2, 3


def _sig(z):
    return 0.5 * (1.0 + np.tanh(0.5 * z))


def _setup(seed, batch=1):
    rng = np.random.default_rng(seed)
    W = rng.normal(0.0, 0.8, (HIDDEN, HIDDEN + INPUT))
    b = rng.normal(0.0, 1.0, (HIDDEN, 1))
    h = rng.uniform(-0.9, 0.9, (HIDDEN, batch))
    x = rng.uniform(-1.0, 1.0, (INPUT, batch))
    return W, b, h, x


def _gate_mistakes(W, b, h, x):
    """Results of the usual wrong output gates, each with what went wrong."""
    z = W @ np.vstack((h, x))
    return [
        (_sig(z), "the bias b_o seems to be missing: o_t = σ(W_o · [h_{t-1}, x_t] + b_o)"),
        (np.tanh(z + b), "values match tanh where sigmoid belongs: a gate uses σ, in (0, 1)"),
        (z + b, "σ is missing: the gate is σ(W_o · [h_{t-1}, x_t] + b_o)"),
        (
            _sig(W @ np.vstack((x, h)) + b),
            "looks like [x_t, h_{t-1}]: the seed concatenates h first, np.vstack((h_prev, x_t))",
        ),
        (_sig(z - b), "the bias b_o is subtracted; add it"),
    ]


def _output_gate(learner, W, b, h, x):
    output_gate = function(learner, "output_gate")
    return call(output_gate, W.copy(), b.copy(), h.copy(), x.copy())


def test_output_gate_values(learner):
    """output gate o_t = σ(W_o · [h_{t-1}, x_t] + b_o)"""
    W, b, h, x = _setup(7)
    expect_array(
        _output_gate(learner, W, b, h, x),
        _sig(W @ np.vstack((h, x)) + b),
        what="o_t",
        mistakes=_gate_mistakes(W, b, h, x),
    )


def test_output_gate_uses_bias(learner):
    """output gate with only the bias non-zero gives σ(b_o)"""
    _, b, h, x = _setup(8)
    W = np.zeros((HIDDEN, HIDDEN + INPUT))
    expect_array(
        _output_gate(learner, W, b, h, x),
        _sig(b),
        what="o_t with W_o = 0",
        mistakes=[
            (np.full_like(b, 0.5), "the bias b_o seems to be missing: with W_o = 0, o_t is σ(b_o)"),
            (np.tanh(b), "values match tanh where sigmoid belongs: a gate uses σ"),
        ],
    )


def test_output_gate_batch(learner):
    """output gate works on a batch of columns, shape (hidden, B)"""
    W, b, h, x = _setup(9, batch=4)
    expect_array(
        _output_gate(learner, W, b, h, x),
        _sig(W @ np.vstack((h, x)) + b),
        what="o_t for a batch of 4 columns",
        mistakes=_gate_mistakes(W, b, h, x),
    )


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
    ]


def test_hidden_state_values(learner):
    """hidden state h_t = o_t ⊙ tanh(C_t)"""
    hidden_state = function(learner, "hidden_state")
    got = call_elementwise(hidden_state, O_T.copy(), C_T.copy(), what="hidden_state")
    expect_array(got, O_T * np.tanh(C_T), what="h_t", mistakes=_hidden_mistakes(O_T, C_T))


def test_hidden_state_batch(learner):
    """hidden state works element-wise on a batch of columns"""
    rng = np.random.default_rng(10)
    o = rng.uniform(0.05, 0.95, (3, 4))
    c = rng.normal(0.0, 2.0, (3, 4))
    hidden_state = function(learner, "hidden_state")
    got = call_elementwise(hidden_state, o.copy(), c.copy(), what="hidden_state on a batch")
    expect_array(
        got, o * np.tanh(c), what="h_t for a batch of 4 columns", mistakes=_hidden_mistakes(o, c)
    )
