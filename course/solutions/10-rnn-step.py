"""Lesson 10: one step of a plain (Elman) RNN, the network the LSTM was invented to fix.

Run `workbook check 10` (or save this file while the workbook is open) to grade it.
"""

import numpy as np


def rnn_step(x_t, h_prev, W_h, b_h):
    """h_t = tanh(W_h · [h_{t-1}, x_t] + b_h).

    Shapes: x_t (input, B), h_prev (hidden, B), W_h (hidden, hidden + input),
    b_h (hidden, 1). Returns h_t of shape (hidden, B).
    """
    # BEGIN SOLUTION
    concat = np.vstack((h_prev, x_t))  # [h_{t-1}; x_t], h first, as in the LSTM
    return np.tanh(W_h @ concat + b_h)  # b_h (hidden, 1) broadcasts over the B columns
    # END SOLUTION


if __name__ == "__main__":
    rng = np.random.default_rng(42)
    hidden, inputs = 2, 3
    W_h = rng.standard_normal((hidden, hidden + inputs))
    b_h = rng.standard_normal((hidden, 1))
    h = np.zeros((hidden, 1))
    for x in ([[0.5], [0.1], [0.9]], [[0.0], [1.0], [0.0]]):
        h = rnn_step(np.array(x), h, W_h, b_h)
        print(h.ravel())
