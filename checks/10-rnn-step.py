"""Hidden checks for lesson 10: rnn_step, h_t = tanh(W_h · [h_{t-1}, x_t] + b_h)."""

import numpy as np

from workbook.expect import call, expect_array, function
from workbook.recurrent import sigmoid

HIDDEN, INPUTS = 3, 2


def _case(batch: int, seed: int, *, x=True, h=True, W=True, b=True):
    """Random inputs; switching a term off (zeros) isolates the others."""
    rng = np.random.default_rng(seed)

    def draw(shape, on):
        return rng.standard_normal(shape) if on else np.zeros(shape)

    return (
        draw((INPUTS, batch), x),
        draw((HIDDEN, batch), h),
        draw((HIDDEN, HIDDEN + INPUTS), W),
        draw((HIDDEN, 1), b),
    )


def _check(learner, case, what):
    x, h, W, b = case
    rnn_step = function(learner, "rnn_step")
    got = call(rnn_step, x.copy(), h.copy(), W.copy(), b.copy())
    a = W @ np.vstack((h, x)) + b
    expect_array(
        got,
        np.tanh(a),
        what=what,
        mistakes=[
            (sigmoid(a), "values match sigmoid where tanh belongs"),
            (a, "the tanh is missing: h_t = tanh(W_h · [h_{t-1}, x_t] + b_h)"),
            (np.tanh(W @ np.vstack((h, x))), "the bias b_h seems to be missing"),
            (np.tanh(W @ np.vstack((x, h)) + b),
             "looks like [x_t, h_{t-1}]: the seed concatenates h first"),
            (np.tanh(W[:, :HIDDEN] @ h + b), "x_t is missing: only h_{t-1} reaches h_t"),
            (np.tanh(W[:, HIDDEN:] @ x + b), "h_{t-1} is missing: only x_t reaches h_t"),
        ],
    )  # fmt: skip


def test_bias_only(learner):
    """with zero weights, h_t = tanh(b_h)"""
    _check(learner, _case(1, 1, x=True, h=True, W=False), "h_t with W_h = 0")


def test_previous_hidden_state_only(learner):
    """h_{t-1} enters through the first `hidden` columns of W_h"""
    _check(learner, _case(1, 2, x=False, b=False), "h_t with x_t = 0 and b_h = 0")


def test_input_only(learner):
    """x_t enters through the last `input` columns of W_h"""
    _check(learner, _case(1, 3, h=False, b=False), "h_t with h_{t-1} = 0 and b_h = 0")


def test_full_step_on_a_batch(learner):
    """a full step on a batch of 4 columns gives h_t of shape (hidden, 4)"""
    _check(learner, _case(4, 4), "h_t for a batch of 4")
