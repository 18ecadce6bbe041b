"""Lesson 4: the input gate i_t = σ(W_i·[h_{t-1}, x_t] + b_i).

`sigmoid` (lesson 1) and `concat` (lesson 2) are given; write `input_gate`.
Run `workbook check 4` (or save this file while the workbook is open) to grade it.
"""

import numpy as np


def sigmoid(x):
    """Numerically stable logistic sigmoid, element-wise, in (0, 1) (given, lesson 1)."""
    x = np.asarray(x, dtype=float)
    z = np.exp(-np.abs(x))
    return np.where(x >= 0, 1.0 / (1.0 + z), z / (1.0 + z))


def concat(h_prev, x_t):
    """[h_{t-1}; x_t]: h_prev stacked on top of x_t (given, lesson 2)."""
    return np.vstack((h_prev, x_t))


def input_gate(W_i, b_i, h_prev, x_t):
    """How much of the candidate C̃_t to write into the cell state, in (0, 1).

    Shapes: W_i (hidden, hidden + input), b_i (hidden, 1), h_prev (hidden, 1),
    x_t (input, 1); the result i_t is (hidden, 1), or (hidden, B) for a batch of B
    columns. Same recipe as the forget gate, with the input gate's own W_i and b_i.
    """
    # BEGIN SOLUTION
    # One column holding both inputs, h first: (hidden + input, 1).
    z = concat(h_prev, x_t)
    # Matrix product plus bias, squashed into (0, 1) by the sigmoid: (hidden, 1).
    return sigmoid(np.dot(W_i, z) + b_i)
    # END SOLUTION


if __name__ == "__main__":
    rng = np.random.default_rng(42)
    hidden_dim, input_dim = 2, 3
    W_i = rng.normal(size=(hidden_dim, hidden_dim + input_dim))
    b_i = rng.normal(size=(hidden_dim, 1))
    h_prev = np.zeros((hidden_dim, 1))
    x_t = np.array([[0.5], [0.1], [0.9]])  # the seed's input
    print("i_t =\n", input_gate(W_i, b_i, h_prev, x_t))
