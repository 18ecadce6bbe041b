"""Lesson 5: the candidate cell state C̃_t = tanh(W_C·[h_{t-1}, x_t] + b_C).

`tanh` (lesson 1) and `concat` (lesson 2) are given; write `candidate`.
Run `workbook check 5` (or save this file while the workbook is open) to grade it.
"""

import numpy as np


def tanh(x):
    """Hyperbolic tangent, element-wise, in (−1, 1) (given, lesson 1)."""
    return np.tanh(x)


def concat(h_prev, x_t):
    """[h_{t-1}; x_t]: h_prev stacked on top of x_t (given, lesson 2)."""
    return np.vstack((h_prev, x_t))


def candidate(W_c, b_c, h_prev, x_t):
    """The new values proposed for the cell state, in (−1, 1).

    Shapes: W_c (hidden, hidden + input), b_c (hidden, 1), h_prev (hidden, 1),
    x_t (input, 1); the result C̃_t is (hidden, 1), or (hidden, B) for a batch of B
    columns. Unlike a gate it uses tanh: the proposal can be negative, so writing it
    can lower a memory component as well as raise it.
    """
    # BEGIN SOLUTION
    # One column holding both inputs, h first: (hidden + input, 1).
    z = concat(h_prev, x_t)
    # Matrix product plus bias, squashed into (−1, 1) by tanh, not sigmoid.
    return tanh(np.dot(W_c, z) + b_c)
    # END SOLUTION


if __name__ == "__main__":
    rng = np.random.default_rng(42)
    hidden_dim, input_dim = 2, 3
    W_c = rng.normal(size=(hidden_dim, hidden_dim + input_dim))
    b_c = rng.normal(size=(hidden_dim, 1))
    h_prev = np.zeros((hidden_dim, 1))
    x_t = np.array([[0.5], [0.1], [0.9]])  # the seed's input
    print("C̃_t =\n", candidate(W_c, b_c, h_prev, x_t))
