"""Lesson 11: measure the vanishing gradient, in a plain RNN and along an LSTM's cell state.

Run `workbook check 11` (or save this file while the workbook is open) to grade it.
Then run this file (`python exercises/11-vanishing-gradient.py`) to see your numbers.
"""

import numpy as np


def rnn_step(x_t, h_prev, W_h, b_h):
    """h_t = tanh(W_h · [h_{t-1}, x_t] + b_h) (given: you wrote it in lesson 10)."""
    return np.tanh(W_h @ np.vstack((h_prev, x_t)) + b_h)


def rnn_step_jacobian(h_t, W_h):
    """∂h_t/∂h_{t-1} for one sequence, a (hidden, hidden) matrix.

    h_t is the step's *output* (hidden, 1). Since h_t = tanh(a) and tanh'(a) = 1 − tanh(a)²
    = 1 − h_t², row j of the Jacobian is (1 − h_t[j]²) times row j of the part of W_h
    that multiplies h_{t-1} (its first `hidden` columns).
    """
    # TODO: your code here
    raise NotImplementedError


def rnn_gradient_norms(W_h, b_h, xs, h0):
    """Run the RNN over xs (T, input, 1) from h0 (hidden, 1) and measure the gradient.

    Returns a 1-D array of length T: entry t − 1 is the 2-norm (largest singular value,
    `np.linalg.norm(J, 2)`) of J_t = ∂h_t/∂h_0, the product of the step Jacobians
    J_t = (∂h_t/∂h_{t-1}) · … · (∂h_1/∂h_0), newest on the left (chain rule).
    """
    # TODO: your code here
    raise NotImplementedError


def lstm_cell_gradient(f_values):
    """∂C_t/∂C_0 along the cell state's direct path, for t = 1 … T.

    On that path C_t = f_t ⊙ C_{t-1} + (terms without C_{t-1}), so each step multiplies
    the gradient element-wise by f_t. f_values has shape (T, hidden, 1) (the forget gate
    at each step); return the same shape, entry t − 1 being f_1 ⊙ f_2 ⊙ … ⊙ f_t.
    """
    # TODO: your code here
    raise NotImplementedError


if __name__ == "__main__":
    rng = np.random.default_rng(0)
    hidden, inputs, T = 4, 3, 50
    xs = rng.standard_normal((T, inputs, 1))
    h0 = np.zeros((hidden, 1))
    b_h = np.zeros((hidden, 1))
    show = [1, 5, 10, 20, 50]
    print("step t:                 ", "  ".join(f"{t:>8d}" for t in show))
    for scale in (0.5, 1.0):
        W_h = scale * rng.standard_normal((hidden, hidden + inputs))
        norms = rnn_gradient_norms(W_h, b_h, xs, h0)
        print(f"RNN, W_h ~ {scale} N(0,1):   ", "  ".join(f"{norms[t - 1]:8.1e}" for t in show))
    for f in (0.5, 0.9, 0.99, 0.999):
        path = lstm_cell_gradient(np.full((T, hidden, 1), f))
        print(f"LSTM cell, f_t = {f:<6}: ", "  ".join(f"{path[t - 1, 0, 0]:8.1e}" for t in show))
