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
    # BEGIN SOLUTION
    hidden = params["W_f"].shape[0]
    kernels, recurrents, biases = [], [], []
    for gate in GATES_KERAS:
        W = np.asarray(params[f"W_{gate}"], dtype=float)
        # The seed's W acts on [h; x] with h FIRST: columns :hidden belong to h.
        W_h, W_x = W[:, :hidden], W[:, hidden : hidden + input_dim]
        # Keras multiplies row vectors from the left (x @ kernel), hence the transposes.
        kernels.append(W_x.T)
        recurrents.append(W_h.T)
        biases.append(np.asarray(params[f"b_{gate}"], dtype=float).reshape(-1))
    # Gates side by side, each block `hidden` columns wide, in Keras's order i, f, c, o.
    return [
        np.concatenate(kernels, axis=1),
        np.concatenate(recurrents, axis=1),
        np.concatenate(biases),
    ]
    # END SOLUTION


if __name__ == "__main__":
    weights = to_keras_weights(init_params(), input_dim=3)
    print([w.shape for w in weights])
