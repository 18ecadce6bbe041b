"""Lesson 7: the output gate o_t and the new hidden state h_t = o_t ⊙ tanh(C_t).

Run `workbook check 7` (or save this file while the workbook is open) to grade it.
"""

import numpy as np


def sigmoid(x):
    """Logistic sigmoid (lesson 1), finite and warning-free for large |x|."""
    x = np.asarray(x, dtype=float)
    z = np.exp(-np.abs(x))
    return np.where(x >= 0, 1.0 / (1.0 + z), z / (1.0 + z))


def tanh(x):
    """Hyperbolic tangent (lesson 1)."""
    return np.tanh(x)


def concat(h_prev, x_t):
    """[h_{t-1}; x_t]: h first, as in the seed's `np.vstack((h_prev, x_t))`."""
    return np.vstack((h_prev, x_t))


def output_gate(W_o, b_o, h_prev, x_t):
    """o_t = σ(W_o · [h_{t-1}, x_t] + b_o), shape (hidden, 1) (or (hidden, B)).

    W_o: (hidden, hidden + input); b_o: (hidden, 1); h_prev: (hidden, 1);
    x_t: (input, 1).
    """
    # TODO: your code here
    raise NotImplementedError


def hidden_state(o_t, C_t):
    """h_t = o_t ⊙ tanh(C_t): the part of the squashed cell state that is revealed."""
    # TODO: your code here
    raise NotImplementedError


if __name__ == "__main__":
    rng = np.random.default_rng(0)
    W_o, b_o = rng.standard_normal((2, 5)), rng.standard_normal((2, 1))
    o_t = output_gate(W_o, b_o, np.zeros((2, 1)), np.array([[0.5], [0.1], [0.9]]))
    print("o_t:\n", o_t)
    print("h_t:\n", hidden_state(o_t, np.array([[2.0], [-0.3]])))
