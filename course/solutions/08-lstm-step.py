"""Lesson 8: one full LSTM time step, lstm_step(x_t, h_prev, C_prev, params) -> (h_t, C_t).

Run `workbook check 8` (or save this file while the workbook is open) to grade it.
"""

import numpy as np

# ---- Given: the pieces from lessons 1 to 7 ---------------------------------------


def sigmoid(x):
    """Logistic sigmoid, finite and warning-free for large |x|."""
    x = np.asarray(x, dtype=float)
    z = np.exp(-np.abs(x))
    return np.where(x >= 0, 1.0 / (1.0 + z), z / (1.0 + z))


def tanh(x):
    """Hyperbolic tangent."""
    return np.tanh(x)


def concat(h_prev, x_t):
    """[h_{t-1}; x_t]: h first, as in the seed's `np.vstack((h_prev, x_t))`."""
    return np.vstack((h_prev, x_t))


def forget_gate(W_f, b_f, h_prev, x_t):
    """f_t = σ(W_f · [h_{t-1}, x_t] + b_f): how much of C_{t-1} to keep."""
    return sigmoid(W_f @ concat(h_prev, x_t) + b_f)


def input_gate(W_i, b_i, h_prev, x_t):
    """i_t = σ(W_i · [h_{t-1}, x_t] + b_i): how much of the candidate to write."""
    return sigmoid(W_i @ concat(h_prev, x_t) + b_i)


def candidate(W_c, b_c, h_prev, x_t):
    """C̃_t = tanh(W_c · [h_{t-1}, x_t] + b_c): the new information, in (−1, 1)."""
    return tanh(W_c @ concat(h_prev, x_t) + b_c)


def cell_update(f_t, i_t, C_tilde, C_prev):
    """C_t = f_t ⊙ C_{t-1} + i_t ⊙ C̃_t."""
    return f_t * C_prev + i_t * C_tilde


def output_gate(W_o, b_o, h_prev, x_t):
    """o_t = σ(W_o · [h_{t-1}, x_t] + b_o): how much of the memory to reveal."""
    return sigmoid(W_o @ concat(h_prev, x_t) + b_o)


def hidden_state(o_t, C_t):
    """h_t = o_t ⊙ tanh(C_t)."""
    return o_t * tanh(C_t)


# ---- Your part --------------------------------------------------------------------


def lstm_step(x_t, h_prev, C_prev, params):
    """One LSTM time step, as in the seed's `lstm_step`; returns (h_t, C_t), h first.

    x_t: (input, 1); h_prev, C_prev: (hidden, 1) (or (input, B) and (hidden, B) for a
    batch of B columns). params: a dict with the keys "W_f", "W_i", "W_c", "W_o"
    (each (hidden, hidden + input)) and "b_f", "b_i", "b_c", "b_o" (each (hidden, 1)).
    """
    # BEGIN SOLUTION
    # Every gate reads the same [h_{t-1}, x_t] but with its OWN weights and bias.
    f_t = forget_gate(params["W_f"], params["b_f"], h_prev, x_t)
    i_t = input_gate(params["W_i"], params["b_i"], h_prev, x_t)
    C_tilde = candidate(params["W_c"], params["b_c"], h_prev, x_t)
    # The memory builds on the given C_prev: this is what carries information
    # from one time step to the next.
    C_t = cell_update(f_t, i_t, C_tilde, C_prev)
    o_t = output_gate(params["W_o"], params["b_o"], h_prev, x_t)
    h_t = hidden_state(o_t, C_t)
    # Same order as the seed: hidden state first, then cell state.
    return h_t, C_t
    # END SOLUTION


if __name__ == "__main__":
    # The seed's set-up: the same seed and drawing order give the seed's numbers.
    np.random.seed(42)
    input_dim, hidden_dim = 3, 2
    params = {}
    for name in ("W_f", "W_i", "W_c", "W_o"):
        params[name] = np.random.randn(hidden_dim, hidden_dim + input_dim)
    for name in ("b_f", "b_i", "b_c", "b_o"):
        params[name] = np.random.randn(hidden_dim, 1)
    x_t = np.array([[0.5], [0.1], [0.9]])
    zeros = np.zeros((hidden_dim, 1))
    h_next, C_next = lstm_step(x_t, zeros, zeros, params)
    print("New hidden state (h_next):\n", h_next)  # seed: [[-0.07794162] [-0.06642324]]
    print("\nNew cell state (C_next):\n", C_next)  # seed: [[-0.1448926] [-0.12589963]]
