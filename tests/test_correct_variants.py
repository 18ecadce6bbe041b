"""Correct answers in the learners' own styles pass (issue 10): the checks grade what
the code does, not whether it looks like the reference."""

from __future__ import annotations

import pytest

from tests.conftest import write_solution
from workbook.grading.results import Verdict
from workbook.grading.runner import grade

LOSS = "loss = 0.5 * float(np.sum(diff**2))"
ANSWER_5 = "ANSWER_5 = 4 * (UNITS * (UNITS + FEATURES) + UNITS)"

# (lesson, text of the reference, what a learner wrote instead)
VARIANTS = [
    pytest.param(
        18,
        """    lo = min(X.min(), y.min())
    hi = max(X.max(), y.max())
    model = build_model(X.shape[1])
    # Scale BOTH inputs and targets: gates and tanh live in [-1, 1], and so must the loss.
    train(model, scale(X, lo, hi), scale(y, lo, hi))
    # The test sequence goes through the same scaling as the training inputs...
    prediction = model.predict(scale(test_seq, lo, hi), verbose=0)
    # ...and the model answers in scaled units, so map the answer back.
    return float(unscale(prediction, lo, hi)[0, 0])""",
        """    mean, std = X.mean(), X.std()  # z-score scaling instead of min-max
    model = build_model(X.shape[1])
    train(model, (X - mean) / std, (y - mean) / std)
    prediction = model.predict((test_seq - mean) / std, verbose=0)
    return float(prediction[0, 0] * std + mean)""",
        id="18-z-score",
    ),
    pytest.param(
        18,
        "return float(unscale(prediction, lo, hi)[0, 0])",
        "return unscale(prediction, lo, hi)[0, 0]",
        id="18-np.float64",
    ),
    pytest.param(22, 'ANSWER_1 = "C"', 'ANSWER_1 = " c "', id="22-lower-case-letter"),
    # Issue (diagnoses, NumPy part): a number may be a float, a NumPy scalar (np.float64,
    # np.float32, np.int64) or a 0-d array, in every lesson that asks for one.
    *(
        pytest.param(15, LOSS, f"loss = {value}", id=f"15-loss-{name}")
        for name, value in (
            ("np.float64", "0.5 * np.sum(diff**2)"),
            ("np.float32", "np.float32(0.5 * np.sum(diff**2))"),
            ("0-d-array", "np.array(0.5 * np.sum(diff**2))"),
            ("0-d-float32-array", "np.asarray(0.5 * np.sum(diff**2), dtype=np.float32)"),
            (
                "python-sum-over-steps",
                "0.5 * sum(np.sum((h - y) ** 2) for h, y in zip(reversed(H), reversed(Y)))",
            ),
        )
    ),
    *(
        pytest.param(22, "ANSWER_3 = 0.99**STEPS", f"ANSWER_3 = {value}", id=f"22-{name}")
        for name, value in (
            ("np.float64", "np.float64(0.99) ** STEPS"),
            ("np.float32", "np.float32(0.99) ** STEPS"),
            ("0-d-array", "np.array(0.99**STEPS)"),
            ("np.prod", "np.prod(np.full(STEPS, 0.99))"),
        )
    ),
    pytest.param(
        22, "ANSWER_4 = 0.5**STEPS", "ANSWER_4 = np.float32(0.5) ** STEPS", id="22-np.float32-tiny"
    ),
    *(
        pytest.param(23, ANSWER_5, f"import numpy as np\n\nANSWER_5 = {value}", id=f"23-{name}")
        for name, value in (
            ("np.int64", "np.int64(4 * (UNITS * (UNITS + FEATURES) + UNITS))"),
            ("np.float64", "np.float64(4 * (UNITS * (UNITS + FEATURES) + UNITS))"),
            ("np.float32", "np.float32(4 * (UNITS * (UNITS + FEATURES) + UNITS))"),
            ("0-d-array", "np.array(4 * (UNITS * (UNITS + FEATURES) + UNITS))"),
        )
    ),
    # Computed in float32 (as Keras does): compared at float32's precision.
    pytest.param(
        12,
        "concat = np.vstack((h_prev, x_t))  # [h_{t-1}; x_t], h first",
        "params = {k: v.astype(np.float32) for k, v in params.items()}\n"
        "    h_prev, x_t = h_prev.astype(np.float32), x_t.astype(np.float32)\n"
        "    concat = np.vstack((h_prev, x_t))",
        id="12-float32",
    ),
    pytest.param(
        12,
        "concat = np.vstack((h_prev, x_t))  # [h_{t-1}; x_t], h first",
        "params = {k: v.astype(np.float32) for k, v in params.items()}\n"
        "    concat = np.vstack((h_prev, x_t))",
        id="12-float32-weights",
    ),
    pytest.param(
        9,
        "h_t, C_t = h0, C0  # start from the given states, not from zeros",
        "h_t, C_t = h0.astype(np.float32), C0.astype(np.float32)\n"
        "    params = {k: v.astype(np.float32) for k, v in params.items()}\n"
        "    X = X.astype(np.float32)\n"
        "    H = H.astype(np.float32)",
        id="09-float32",
    ),
]


@pytest.mark.parametrize(("number", "replace", "with_"), VARIANTS)
def test_correct_variant_passes(workspace, number, replace, with_):
    lesson = workspace.course.lesson(number)
    reference = workspace.solution_for(lesson)
    assert replace in reference, "the variant no longer applies to the solution"
    write_solution(workspace, lesson, reference.replace(replace, with_))
    result = grade(workspace, lesson)
    assert result.verdict is Verdict.PASSED, [(c.name, c.message) for c in result.failing]
