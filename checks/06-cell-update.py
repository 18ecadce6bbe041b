"""Hidden checks for lesson 6: the cell-state update C_t = f_t ⊙ C_{t-1} + i_t ⊙ C̃_t."""

import sys
from pathlib import Path

import numpy as np

from workbook.grading.judge.expect import call_elementwise, expect_array, function

# Lessons 6 and 7 share the element-wise diagnoses in checks/_gates.py.
sys.path.insert(0, str(Path(__file__).resolve().parent))
import _gates

# Chosen so that every typical wrong combination gives different numbers: f_t and
# i_t differ per cell (and do not sum to 1), C_prev is larger than 1 in one cell.
F = np.array([[0.9], [0.2], [0.6]])
I_GATE = np.array([[0.1], [0.7], [0.3]])
C_TILDE = np.array([[0.5], [-0.8], [0.4]])
C_PREV = np.array([[2.0], [-1.0], [0.5]])


UNSCALED_GATE = (
    "C_{t-1} is missing from the forget term: f_t is added as it is, but the forget gate "
    "scales the old memory, f_t ⊙ C_{t-1} (`f_t * C_prev`)"
)


def _cell(f, i, c_tilde, c_prev):
    return f * c_prev + i * c_tilde


def _inner(a, b):
    """aᵀ·b for each column: what `a.T @ b` gives for one column, a single number that
    then broadcasts over every cell when the other term is added."""
    return np.sum(a * b, axis=0, keepdims=True)


def _product(left, right):
    return (
        f"`{left}.T @ {right}` (or np.dot) is a matrix product: a row times a column sums "
        f"{left} ⊙ {right} over the cells into one number, which then spreads to every "
        f"cell when the other term is added; ⊙ is the element-wise `{left} * {right}`"
    )


def _matrix_products(f, i, c_tilde, c_prev):
    """A matrix product where ⊙ belongs, in either term or both (one column: a number)."""
    return [
        (_inner(f, c_prev) + i * c_tilde, _product("f_t", "C_prev")),
        (f * c_prev + _inner(i, c_tilde), _product("i_t", "C_tilde")),
        (
            _inner(f, c_prev) + _inner(i, c_tilde),
            "both products are matrix products (`f_t.T @ C_prev`, `i_t.T @ C_tilde`): each "
            "sums over the cells into one number; ⊙ is the element-wise `*`, cell by cell",
        ),
    ]


def _mistakes(f, i, c_tilde, c_prev):
    """Results of the usual wrong updates, each with what went wrong."""
    return [
        *_matrix_products(f, i, c_tilde, c_prev),
        (
            f * c_tilde + i * c_prev,
            "f_t and i_t look swapped: the forget gate f_t scales the old memory C_{t-1}, "
            "the input gate i_t scales the candidate C̃_t",
        ),
        (
            c_prev + i * c_tilde,
            "the old memory C_{t-1} is added unscaled: the forget gate f_t must multiply it "
            "(f_t ⊙ C_{t-1})",
        ),
        (f + i * c_tilde, UNSCALED_GATE),
        (
            i * c_tilde,
            "the forget term f_t ⊙ C_{t-1} is missing: the old memory is carried over, "
            "scaled by f_t, and the new content is added to it",
        ),
        (
            f * c_prev,
            "the input term i_t ⊙ C̃_t is missing: the candidate C̃_t, scaled by i_t, is "
            "added to the kept memory",
        ),
        (
            f * c_prev + c_tilde,
            "the candidate C̃_t is added unscaled: the input gate i_t must multiply it",
        ),
        (
            (f + i) * (c_prev + c_tilde),
            "each gate scales its own term: f_t ⊙ C_{t-1} + i_t ⊙ C̃_t, not "
            "(f_t + i_t) ⊙ (C_{t-1} + C̃_t)",
        ),
        (
            f * c_prev + (1 - f) * c_tilde,
            "this couples the gates as (1 − f_t), a GRU-style update: the LSTM has its "
            "own input gate i_t for the candidate",
        ),
        (
            f * c_prev * i * c_tilde,
            "the two terms f_t ⊙ C_{t-1} and i_t ⊙ C̃_t are added, not multiplied",
        ),
        (
            f * c_prev + i * c_prev,
            "the input gate i_t scales C_{t-1} a second time; it scales the candidate C̃_t",
        ),
        (
            f * c_prev - i * c_tilde,
            "the input term is subtracted: C_t = f_t ⊙ C_{t-1} + i_t ⊙ C̃_t, a plus",
        ),
        (
            f * (c_prev + i * c_tilde),
            "f_t scales the new content too: only the old memory is multiplied by f_t, "
            "f_t ⊙ C_{t-1} + i_t ⊙ C̃_t (check the parentheses)",
        ),
        (
            (1 - f) * c_prev + i * c_tilde,
            "C_{t-1} is scaled by 1 − f_t: the forget gate's value is what is KEPT, "
            "f_t ⊙ C_{t-1} (f_t = 1 keeps everything, f_t = 0 forgets)",
        ),
        (
            f * c_prev + i + c_tilde,
            "i_t and C̃_t are added; the input gate scales the candidate: i_t ⊙ C̃_t",
        ),
        (
            f * c_prev + i * np.tanh(c_tilde),
            "C̃_t is squashed a second time: it already is tanh(…), so it goes in as it "
            "is, i_t ⊙ C̃_t",
        ),
        (
            f * c_tilde + i * c_tilde,
            "f_t scales the candidate C̃_t; it scales the old memory: f_t ⊙ C_{t-1}",
        ),
        (
            np.tanh(f * c_prev + i * c_tilde),
            "C_t is not squashed: there is no tanh in the cell update (tanh(C_t) comes "
            "later, in the hidden state)",
        ),
    ]


def _update(learner, f, i, c_tilde, c_prev, what):
    """The learner's C_t on copies; a matrix product is named by the shape it gives."""
    cell_update = function(learner, "cell_update")
    got = call_elementwise(
        cell_update, f.copy(), i.copy(), c_tilde.copy(), c_prev.copy(), what=what
    )
    _gates.diagnose_elementwise(got, _cell(f, i, c_tilde, c_prev), "C_t", "f_t", "C_prev")
    return got


def test_cell_update_values(learner):
    """C_t = f_t ⊙ C_{t-1} + i_t ⊙ C̃_t for one column"""
    got = _update(learner, F, I_GATE, C_TILDE, C_PREV, "cell_update")
    expect_array(
        got,
        _cell(F, I_GATE, C_TILDE, C_PREV),
        what="C_t",
        mistakes=_mistakes(F, I_GATE, C_TILDE, C_PREV),
    )


def test_gates_at_their_extremes(learner):
    """f_t = 1, i_t = 0 keeps C_{t-1}; f_t = 0, i_t = 1 writes C̃_t"""
    ones, zeros = np.ones_like(F), np.zeros_like(F)
    keep = _update(learner, ones, zeros, C_TILDE, C_PREV, "cell_update")
    expect_array(
        keep,
        C_PREV,
        what="C_t with f_t = 1 and i_t = 0 (keep everything, write nothing)",
        mistakes=[
            (C_TILDE, "the candidate was written although i_t = 0: i_t must scale C̃_t"),
            (np.zeros_like(F), "the old memory was lost although f_t = 1: f_t must scale C_{t-1}"),
            (ones, UNSCALED_GATE),
            *_matrix_products(ones, zeros, C_TILDE, C_PREV),
        ],
    )
    write = _update(learner, zeros, ones, C_TILDE, C_PREV, "cell_update")
    expect_array(
        write,
        C_TILDE,
        what="C_t with f_t = 0 and i_t = 1 (forget everything, write the candidate)",
        mistakes=[
            (C_PREV, "the old memory survived although f_t = 0: f_t must scale C_{t-1}"),
            (C_PREV + C_TILDE, "the old memory C_{t-1} is added unscaled: multiply it by f_t"),
            *_matrix_products(zeros, ones, C_TILDE, C_PREV),
        ],
    )


def test_batch_of_columns(learner):
    """works element-wise on a batch of columns, shape (hidden, B)"""
    rng = np.random.default_rng(6)
    f, i = rng.uniform(0.05, 0.95, (2, 3, 4))
    c_tilde = rng.uniform(-0.95, 0.95, (3, 4))
    c_prev = rng.normal(0.0, 1.5, (3, 4))
    got = _update(learner, f, i, c_tilde, c_prev, "cell_update on a (3, 4) batch")
    expect_array(
        got,
        _cell(f, i, c_tilde, c_prev),
        what="C_t for a batch of 4 columns",
        mistakes=_mistakes(f, i, c_tilde, c_prev),
    )


def test_inputs_are_not_modified(learner):
    """leaves its arguments unchanged (C_{t-1} belongs to the caller)"""
    cell_update = function(learner, "cell_update")
    args = [F.copy(), I_GATE.copy(), C_TILDE.copy(), C_PREV.copy()]
    call_elementwise(cell_update, *args, what="cell_update", in_place=True)
    _gates.expect_unchanged(
        "cell_update", ("f_t", "i_t", "C_tilde", "C_prev"), (F, I_GATE, C_TILDE, C_PREV), args
    )
