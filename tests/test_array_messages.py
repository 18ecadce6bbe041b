"""expect_array's message on a batch: where the values differ, as (row, column).

A learner's batch is a matrix with one sample per column, so "index 7 of a flattened
list" would send them counting; the message names the positions of the largest
differences and shows the matrix around the worst one (issue 10).
"""

from __future__ import annotations

import numpy as np
import pytest

from workbook.grading.judge.expect import CheckFailure, expect_array


def _failure(got: np.ndarray, expected: np.ndarray) -> CheckFailure:
    with pytest.raises(CheckFailure) as caught:
        expect_array(got, expected, what="h_t")
    return caught.value


def test_a_batch_names_rows_and_columns_largest_first():
    expected = np.arange(12.0).reshape(3, 4)
    got = expected.copy()
    got[1, 2] += 1.0
    got[2, 0] -= 0.5
    failure = _failure(got, expected)
    assert "2 of 12 entries differ" in failure.message
    assert failure.message.index("(row 1, column 2): expected 6, got 7") < failure.message.index(
        "(row 2, column 0): expected 8, got 7.5"
    )
    assert "index" not in failure.message
    # The matrix itself, row by row, not a flattened list.
    assert failure.got.startswith("[[ 0. ,  1. ,  2. ,  3. ],\n [ 4. ,  5. ,  7. ,  7. ]")
    assert failure.got.endswith("(shape (3, 4))")


def test_a_large_batch_shows_the_window_around_the_worst_entry():
    expected = np.zeros((10, 12))
    got = expected.copy()
    got[7, 9] = 1.0
    failure = _failure(got, expected)
    assert "the difference is at (row 7, column 9): expected 0, got 1" in failure.message
    assert "rows 6–9, columns 6–11 of shape (10, 12)" in failure.got


def test_a_small_column_is_shown_whole_and_a_long_one_names_only_its_rows():
    """A (5, 1) column lost one of its five rows to the window ("rows 1–4, columns
    0–0 of shape (5, 1)"): shown whole now; a long column names the rows it shows."""
    expected = np.zeros((5, 1))
    got = expected.copy()
    got[4, 0] = 1.0
    failure = _failure(got, expected)
    assert failure.got.endswith("(shape (5, 1))") and failure.got.count("\n") == 4
    long = np.zeros((30, 1))
    changed = long.copy()
    changed[20, 0] = 1.0
    failure = _failure(changed, long)
    assert failure.got.endswith("(rows 19–22 of shape (30, 1))"), failure.got


def test_a_stack_of_matrices_names_the_matrix_then_row_and_column():
    expected = np.arange(60.0).reshape(5, 3, 4)
    got = expected.copy()
    got[3, 1, 2] += 1.0
    failure = _failure(got, expected)
    assert "(row 1, column 2) of matrix [3]: expected 42, got 43" in failure.message
    assert failure.got.startswith("[3]: [[36., 37., 38., 39.],")


def test_a_flat_array_keeps_its_index():
    failure = _failure(np.array([0.0, 2.0, 2.0]), np.arange(3.0))
    assert "at index (1,)" in failure.message
