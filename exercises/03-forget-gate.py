"""Lesson 3: the forget gate f_t = σ(W_f·[h_{t-1}, x_t] + b_f).

`sigmoid` (lesson 1) and `concat` (lesson 2) are given; write `forget_gate`.
Run `workbook check 3` (or save this file while the workbook is open) to grade it.
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


def forget_gate(W_f, b_f, h_prev, x_t):
    """How much of each component of the old cell state C_{t-1} to keep, in (0, 1).

    Shapes: W_f (hidden, hidden + input), b_f (hidden, 1), h_prev (hidden, 1),
    x_t (input, 1); the result f_t is (hidden, 1). With a batch (B columns in h_prev
    and x_t) the same code gives (hidden, B): b_f broadcasts across the columns.
    """
    # TODO: your code here
    raise NotImplementedError


if __name__ == "__main__":
    rng = np.random.default_rng(42)
    hidden_dim, input_dim = 2, 3
    W_f = rng.normal(size=(hidden_dim, hidden_dim + input_dim))
    b_f = rng.normal(size=(hidden_dim, 1))
    h_prev = np.zeros((hidden_dim, 1))
    x_t = np.array([[0.5], [0.1], [0.9]])  # the seed's input
    print("f_t =\n", forget_gate(W_f, b_f, h_prev, x_t))
