"""Lesson 13: the peephole LSTM, whose gates also look at the cell state.

Run `workbook check 13` (or save this file while the workbook is open) to grade it.
"""

import numpy as np


def sigmoid(x):
    """σ(x) = 1 / (1 + e^(−x)), written through tanh so it never overflows."""
    return 0.5 * (1.0 + np.tanh(0.5 * x))


def peephole_step(x_t, h_prev, C_prev, params):
    """One peephole-LSTM step (Gers & Schmidhuber, 2000).

        f_t = σ(W_f · [h_{t-1}, x_t] + p_f ⊙ C_{t-1} + b_f)
        i_t = σ(W_i · [h_{t-1}, x_t] + p_i ⊙ C_{t-1} + b_i)
        C̃_t = tanh(W_c · [h_{t-1}, x_t] + b_c)
        C_t = f_t ⊙ C_{t-1} + i_t ⊙ C̃_t
        o_t = σ(W_o · [h_{t-1}, x_t] + p_o ⊙ C_t + b_o)       the *new* cell state
        h_t = o_t ⊙ tanh(C_t)

    Peephole weights p_f, p_i, p_o have shape (hidden, 1): one weight per cell unit
    (a diagonal matrix stored as a column), applied element-wise.
    Returns (h_t, C_t), both (hidden, B).
    """
    # BEGIN SOLUTION
    concat = np.vstack((h_prev, x_t))
    f_t = sigmoid(params["W_f"] @ concat + params["p_f"] * C_prev + params["b_f"])
    i_t = sigmoid(params["W_i"] @ concat + params["p_i"] * C_prev + params["b_i"])
    C_tilde = np.tanh(params["W_c"] @ concat + params["b_c"])  # no peephole here
    C_t = f_t * C_prev + i_t * C_tilde
    # The output gate is computed after the cell update, so it can peek at C_t.
    o_t = sigmoid(params["W_o"] @ concat + params["p_o"] * C_t + params["b_o"])
    h_t = o_t * np.tanh(C_t)
    return h_t, C_t
    # END SOLUTION


if __name__ == "__main__":
    rng = np.random.default_rng(42)
    hidden, inputs = 2, 3
    params = {f"W_{g}": rng.standard_normal((hidden, hidden + inputs)) for g in "fico"}
    params.update({f"b_{g}": rng.standard_normal((hidden, 1)) for g in "fico"})
    params.update({f"p_{g}": rng.standard_normal((hidden, 1)) for g in "fio"})
    h, C = np.zeros((hidden, 1)), np.ones((hidden, 1))
    h, C = peephole_step(np.array([[0.5], [0.1], [0.9]]), h, C, params)
    print("h_t:", h.ravel(), " C_t:", C.ravel())
