"""Lesson 6: the cell-state update C_t = f_t ⊙ C_{t-1} + i_t ⊙ C̃_t.

Run `workbook check 6` (or save this file while the workbook is open) to grade it.
"""

import numpy as np


def cell_update(f_t, i_t, C_tilde, C_prev):
    """New cell state C_t = f_t ⊙ C_{t-1} + i_t ⊙ C̃_t (⊙ is element-wise, NumPy's `*`).

    All four arguments have the same shape: (hidden, 1), or (hidden, B) for a batch
    of B columns. Returns a new array; the caller's C_prev must stay unchanged.
    """
    # BEGIN SOLUTION
    # Keep the old memory in proportion f_t (the forget gate), then write the
    # candidate in proportion i_t (the input gate). `*` is element-wise, so each
    # memory cell has its own keep/write amounts; `@` would mix cells together.
    # `f_t * C_prev` builds a new array, so the caller's C_prev is not modified.
    return f_t * C_prev + i_t * C_tilde
    # END SOLUTION


if __name__ == "__main__":
    f_t = np.array([[1.0], [0.0]])  # keep cell 0 entirely, forget cell 1
    i_t = np.array([[0.0], [1.0]])  # write nothing to cell 0, everything to cell 1
    print(cell_update(f_t, i_t, np.array([[0.3], [-0.7]]), np.array([[2.0], [5.0]])))
