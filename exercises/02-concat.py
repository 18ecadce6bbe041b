"""Lesson 2: the concatenation [h_{t-1}, x_t] that every gate reads.

Run `workbook check 2` (or save this file while the workbook is open) to grade it.
"""

import numpy as np


def concat(h_prev, x_t):
    """Stack the previous hidden state on top of the input: [h_{t-1}; x_t].

    h_prev has shape (hidden, B) and x_t has shape (input, B), with B = 1 for a single
    column vector; the result has shape (hidden + input, B), h first, so that the first
    `hidden` columns of a gate's weight matrix multiply h_{t-1}.
    """
    # TODO: your code here
    raise NotImplementedError


if __name__ == "__main__":
    h_prev = np.array([[0.2], [0.4]])
    x_t = np.array([[0.6], [0.1]])
    print(concat(h_prev, x_t))  # the seed's example: [0.2, 0.4, 0.6, 0.1] as a column
