"""Correct answers in the learners' own styles pass (issue 10): the checks grade what
the code does, not whether it looks like the reference."""

from __future__ import annotations

import pytest

from tests.conftest import write_solution
from workbook.grading.results import Verdict
from workbook.grading.runner import grade

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
    pytest.param(22, 'ANSWER_1 = "C"', 'ANSWER_1 = " c "', id="22-lower-case-letter"),
]


@pytest.mark.parametrize(("number", "replace", "with_"), VARIANTS)
def test_correct_variant_passes(workspace, number, replace, with_):
    lesson = workspace.course.lesson(number)
    reference = workspace.solution_for(lesson)
    assert replace in reference, "the variant no longer applies to the solution"
    write_solution(workspace, lesson, reference.replace(replace, with_))
    result = grade(workspace, lesson)
    assert result.verdict is Verdict.PASSED, [(c.name, c.message) for c in result.failing]
