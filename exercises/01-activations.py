"""Lesson 1: sigmoid and tanh, the two squashing functions of every LSTM gate.

Run `workbook check 1` (or save this file while the workbook is open) to grade it.
"""

import numpy as np


def sigmoid(x):
    """Logistic sigmoid σ(x) = 1 / (1 + e^(−x)), element-wise, in (0, 1).

    Must stay finite and warning-free for |x| up to 1000.
    """
    x = np.asarray(x, dtype=float)
    # TODO: your code here
    raise NotImplementedError


def tanh(x):
    """Hyperbolic tangent, element-wise, in (−1, 1)."""
    x = np.asarray(x, dtype=float)
    # TODO: your code here
    raise NotImplementedError


if __name__ == "__main__":
    print(sigmoid(np.array([-1000.0, 0.0, 2.0, 1000.0])))
    print(tanh(np.array([-1.0, 0.0, 1.0])))
