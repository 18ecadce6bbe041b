"""Lesson 19: copy the seed's NumPy LSTM weights into the layout of a Keras `LSTM` layer.

Run `workbook check 19` (or save this file while the workbook is open) to grade it.
This file needs only NumPy; the check loads Keras to compare both LSTMs.
"""

import numpy as np

GATES_SEED = ("f", "i", "c", "o")  # the order the seed writes its gates in
GATES_KERAS = ("i", "f", "c", "o")  # the order Keras stacks them in


def init_params(input_dim=3, hidden_dim=2, seed=42):
    """Random weights shaped as in the seed: W (hidden, hidden + input), b (hidden, 1)."""
    rng = np.random.default_rng(seed)
    params = {}
    for gate in GATES_SEED:
        params[f"W_{gate}"] = rng.normal(size=(hidden_dim, hidden_dim + input_dim))
        params[f"b_{gate}"] = rng.normal(size=(hidden_dim, 1))
    return params


def to_keras_weights(params, input_dim):
    """[kernel (input, 4·hidden), recurrent_kernel (hidden, 4·hidden), bias (4·hidden,)].

    Keras computes z = x_t @ kernel + h_{t-1} @ recurrent_kernel + bias and splits z
    into the gates i, f, c, o.
    """
    # TODO: your code here
    raise NotImplementedError


if __name__ == "__main__":
    weights = to_keras_weights(init_params(), input_dim=3)
    print([w.shape for w in weights])
