"""Lesson 16: cut a series into (window → next value) examples, shaped for a Keras LSTM.

Run `workbook check 16` (or save this file while the workbook is open) to grade it.
"""

import numpy as np


def make_dataset(data, sequence_length):
    """Windows of `sequence_length` values, each paired with the value that follows it.

    Returns `(X, y)`: X has shape (samples, timesteps, features) =
    (len(data) - sequence_length, sequence_length, 1), because that is the layout a Keras
    LSTM reads; y has shape (samples,).
    """
    data = np.asarray(data, dtype=float)
    # TODO: your code here
    raise NotImplementedError


if __name__ == "__main__":
    X, y = make_dataset(np.arange(30), 3)
    print("X shape:", X.shape, "y shape:", y.shape)
    print("first windows:", X[:2, :, 0].tolist(), "targets:", y[:2].tolist())
