"""Lesson 9: unroll one LSTM step over a whole sequence.

Run `workbook check 9` (or save this file while the workbook is open) to grade it.
`sigmoid` and `lstm_step` are given (you wrote them in earlier lessons).
"""

import numpy as np


def sigmoid(x):
    """σ(x) = 1 / (1 + e^(−x)), written through tanh so it never overflows."""
    return 0.5 * (1.0 + np.tanh(0.5 * x))


def lstm_step(x_t, h_prev, C_prev, params):
    """One LSTM time step (given). Shapes: x_t (input, B), h_prev and C_prev (hidden, B)."""
    concat = np.vstack((h_prev, x_t))  # [h_{t-1}; x_t], h first
    f_t = sigmoid(params["W_f"] @ concat + params["b_f"])
    i_t = sigmoid(params["W_i"] @ concat + params["b_i"])
    C_tilde = np.tanh(params["W_c"] @ concat + params["b_c"])
    o_t = sigmoid(params["W_o"] @ concat + params["b_o"])
    C_t = f_t * C_prev + i_t * C_tilde
    h_t = o_t * np.tanh(C_t)
    return h_t, C_t


def lstm_forward(X, h0, C0, params):
    """Run `lstm_step` over every time step of X.

    X has shape (T, input, B): X[t] is the input at step t, a batch of B columns.
    h0 and C0 (hidden, B) are the states *before* the first step.
    Returns (H, C_T): H of shape (T, hidden, B) with H[t] the hidden state produced
    at step t (so H[0] is h_1, not h0), and C_T the cell state after the last step.
    """
    # TODO: your code here
    raise NotImplementedError


if __name__ == "__main__":
    rng = np.random.default_rng(42)
    hidden, inputs, T = 2, 3, 5
    params = {f"W_{g}": rng.standard_normal((hidden, hidden + inputs)) for g in "fico"}
    params.update({f"b_{g}": rng.standard_normal((hidden, 1)) for g in "fico"})
    X = rng.standard_normal((T, inputs, 1))
    H, C_T = lstm_forward(X, np.zeros((hidden, 1)), np.zeros((hidden, 1)), params)
    print("H[:, :, 0] (one row per time step):\n", H[:, :, 0])
    print("C_T:\n", C_T)
