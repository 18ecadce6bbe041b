"""Hidden checks for lesson 16: windows of a series as a Keras-shaped dataset."""

import sys
from pathlib import Path

import numpy as np

# Shared with the NumPy lessons: a size written into the code is named (checks/_sizes.py).
sys.path.insert(0, str(Path(__file__).resolve().parent))
import _sizes

from workbook.grading.judge.expect import expect_array, expect_pair, fail, function
from workbook.grading.judge.kerascheck import windows

SEED_DATA = np.arange(30.0)


def _dataset(learner, data, length, first=True):
    """`first`: the seed's case; another series and length after it, where a length
    written into the code shows up as an error of the sizes."""
    make_dataset = function(learner, "make_dataset")
    named = {"values": len(data), "window length": length}
    result = _sizes.at_size(make_dataset, (data, length), first, **named)
    return expect_pair(result, "make_dataset", ("X", "y"))


def _shape(value, name):
    """The shape of what the learner returned; windows of different lengths (a loop that
    runs past the end of the series) have none."""
    try:
        return np.shape(value)
    except ValueError:
        lengths = sorted({len(item) for item in value if hasattr(item, "__len__")})
        fail(
            f"{name} holds windows of different lengths ({', '.join(map(str, lengths))}): "
            "the loop runs past the end of the series; stop where the last window's target "
            "is the last value"
        )


def _expect_x_shape(X, data, length):
    """Shape diagnosis first: most mistakes in this lesson show up in the shape of X."""
    samples = len(data) - length
    wanted = (samples, length, 1)
    got = _shape(X, "X")
    if got == wanted:
        return
    if len(got) == 3 and got[1:] == (length, 1) and got[0] in (samples - 1, samples + 1):
        fail(
            f"X has {got[0]} windows, expected {samples}: an off-by-one in the window loop "
            f"({len(data)} values and windows of {length} give {len(data)} − {length} windows, "
            "and the last window's target is the last value)",
            expected=f"shape {wanted}",
            got=f"shape {got}",
        )
    if len(got) == 3 and got[2] == 1 and got[1] != length and got[0] == len(data) - got[1]:
        fail(
            f"X's windows hold {got[1]} values, but sequence_length is {length} here: the "
            "window length seems written into the code; take it from the argument "
            "`sequence_length`",
            expected=f"shape {wanted}",
            got=f"shape {got}",
        )
    apart = {samples // length, -(-samples // length)}  # windows `length` values apart
    if len(got) == 3 and got[1:] == (length, 1) and got[0] in apart and got[0] != samples:
        fail(
            f"X has {got[0]} windows where {samples} belong: the windows do not overlap "
            f"(each starts {length} values after the one before); each starts one value "
            "later, `for i in range(len(data) - sequence_length)`",
            expected=f"shape {wanted}",
            got=f"shape {got}",
        )
    if got == (samples, length):
        fail(
            f"X has shape {got}: the features axis is missing; a Keras LSTM reads "
            "(samples, timesteps, features), so reshape to "
            f"{wanted}",
            expected=f"shape {wanted}",
            got=f"shape {got}",
        )
    if got == (samples, 1, length):
        fail(
            f"X has shape {got}, which is (samples, features, timesteps): the LSTM would see "
            f"one time step with {length} features; the order is (samples, timesteps, features)",
            expected=f"shape {wanted}",
            got=f"shape {got}",
        )
    fail(f"X has shape {got} but expected {wanted}", expected=f"shape {wanted}", got=f"shape {got}")


def _window_mistakes(data, length):
    """Windows shifted by one against their targets: each starts one value late."""
    late = np.lib.stride_tricks.sliding_window_view(np.asarray(data, dtype=float), length)[1:]
    return [
        (
            late[..., None],
            "each window starts one value late, X[k] = data[k+1 : k+1+sequence_length], so "
            "it ends on the value it should predict, y[k] = data[k+sequence_length]; window "
            "k is data[k : k+sequence_length], the values right before its target",
        )
    ]


def _target_mistakes(data, length):
    samples = len(data) - length
    last_in_window = data[length - 1 : length - 1 + samples]
    first_in_window = data[:samples]
    skip_one = np.append(data[length + 1 :], np.nan)[:samples]
    return [
        (
            last_in_window,
            "each target is the last value of its own window; it should be "
            "the value right after the window",
        ),
        (skip_one, "each target skips a value: it should be the value right after the window"),
        (
            first_in_window,
            "each target is the first value of its own window; it should be the value "
            "right after the window",
        ),
    ]


def test_seed_dataset_shapes(learner):
    """0..29 with windows of 3 gives X of shape (27, 3, 1) and y of shape (27,)"""
    X, y = _dataset(learner, SEED_DATA, 3)
    _expect_x_shape(X, SEED_DATA, 3)
    y_shape = _shape(y, "y")
    if y_shape != (27,):
        fail(
            f"y has shape {y_shape}: expected one target per window, shape (27,)",
            expected="shape (27,)",
            got=f"shape {y_shape}",
        )


def test_seed_dataset_values(learner):
    """X[k] is [k, k+1, k+2] and y[k] is k+3, as in the seed"""
    X, y = _dataset(learner, SEED_DATA, 3)
    _expect_x_shape(X, SEED_DATA, 3)
    expected_X, expected_y = windows(SEED_DATA, 3)
    expect_array(X, expected_X, what="X (the windows)", mistakes=_window_mistakes(SEED_DATA, 3))
    expect_array(y, expected_y, what="y (the targets)", mistakes=_target_mistakes(SEED_DATA, 3))


def test_any_series_any_length(learner):
    """works for any series and window length (here 12 random values, windows of 4)"""
    data = np.random.default_rng(16).normal(size=12).round(3)
    X, y = _dataset(learner, data, 4, first=False)
    _expect_x_shape(X, data, 4)
    expected_X, expected_y = windows(data, 4)
    expect_array(
        X, expected_X, what="X for 12 values and windows of 4", mistakes=_window_mistakes(data, 4)
    )
    expect_array(
        y, expected_y, what="y for 12 values and windows of 4", mistakes=_target_mistakes(data, 4)
    )
