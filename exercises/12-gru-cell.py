"""Lesson 12: the GRU cell, the LSTM's leaner cousin with two gates and no cell state.

Run `workbook check 12` (or save this file while the workbook is open) to grade it.
The hidden checks also compare your cell with `keras.layers.GRU(reset_after=False)`.
"""

import numpy as np


def sigmoid(x):
    """σ(x) = 1 / (1 + e^(−x)), written through tanh so it never overflows."""
    return 0.5 * (1.0 + np.tanh(0.5 * x))


def gru_step(x_t, h_prev, params):
    """One GRU step (Cho et al. 2014; Keras's GRU with reset_after=False).

        z_t = σ(W_z · [h_{t-1}, x_t] + b_z)              update gate
        r_t = σ(W_r · [h_{t-1}, x_t] + b_r)              reset gate
        h̃_t = tanh(W_h · [r_t ⊙ h_{t-1}, x_t] + b_h)     candidate
        h_t = z_t ⊙ h_{t-1} + (1 − z_t) ⊙ h̃_t

    Shapes: x_t (input, B), h_prev (hidden, B), every W (hidden, hidden + input),
    every b (hidden, 1). Returns h_t (hidden, B).
    """
    # TODO: your code here
    raise NotImplementedError


if __name__ == "__main__":
    rng = np.random.default_rng(42)
    hidden, inputs = 2, 3
    params = {f"W_{g}": rng.standard_normal((hidden, hidden + inputs)) for g in "zrh"}
    params.update({f"b_{g}": rng.standard_normal((hidden, 1)) for g in "zrh"})
    h = np.zeros((hidden, 1))
    for x in ([[0.5], [0.1], [0.9]], [[0.0], [1.0], [0.0]]):
        h = gru_step(np.array(x), h, params)
        print(h.ravel())
