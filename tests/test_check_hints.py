"""Hints tied to the check that failed (`check_hints` in a lesson's front matter)."""

from __future__ import annotations

import dataclasses
import json
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from tests.conftest import write_solution
from workbook.authoring.devtools import lint_course
from workbook.cli import cli
from workbook.grading.results import CheckResult, GradeResult, Verdict
from workbook.workspace import Workspace

EXAMPLE = Path(__file__).parent / "example_course"


def _failed(*failing: str) -> GradeResult:
    """A failed attempt whose listed check ids fail (named "check <id>") and one passes."""
    checks = [CheckResult("test_sigmoid_values", "values", "passed")]
    checks += [CheckResult(cid, f"check {cid}", "failed", f"wrong: {cid}") for cid in failing]
    return GradeResult("01-activations", Verdict.FAILED, 0.1, checks)


@pytest.fixture
def lesson(session):
    lesson = session.course.lesson(1)
    assert lesson.check_hints["test_sigmoid_extreme_inputs"] == 2
    assert lesson.check_hints["test_tanh_values"] == 4
    return lesson


def test_a_revealed_hint_about_the_failing_check_is_shown(session, lesson):
    for _ in range(3):
        session.reveal_hint(lesson)  # hints 1–3 revealed; the latest is 3
    hint = session.hint_after_attempt(lesson, _failed("test_sigmoid_extreme_inputs"))
    assert (hint.number, hint.text) == (2, lesson.hints[1])
    assert hint.about_check == "check test_sigmoid_extreme_inputs" and hint.is_about_check
    # Only the first failing check counts: a later one usually fails for the same
    # reason, so the hint about its own topic would be about another mistake.
    hint = session.hint_after_attempt(
        lesson, _failed("test_sigmoid_extreme_inputs", "test_tanh_values")
    )
    assert hint.number == 2
    hint = session.hint_after_attempt(
        lesson, _failed("test_sigmoid_keeps_shape", "test_sigmoid_extreme_inputs", "x")
    )
    assert (hint.number, hint.about_check) == (3, None)  # the latest revealed, as unmapped


def test_one_error_failing_several_checks_ties_no_hint_to_them(session, lesson):
    """A NameError fails every check alike: that says nothing about the Adam check."""
    for _ in range(3):
        session.reveal_hint(lesson)
    result = _failed("test_sigmoid_extreme_inputs", "test_tanh_values")
    for check in result.failing:
        check.message = "your code raised NameError: name 'x' is not defined"
    hint = session.hint_after_attempt(lesson, result)
    assert hint.about_check is None and hint.number == 3  # the latest, as without a mapping


def test_an_unrevealed_hint_is_pointed_to_not_revealed(session, lesson):
    hint = session.hint_after_attempt(lesson, _failed("test_tanh_values"))
    # The first failure reveals hint 1 as before, and says hint 4 is the one to reach.
    assert (hint.number, hint.revealed) == (1, 1)
    assert hint.about_hint == 4 and not hint.is_about_check
    assert hint.about_check == "check test_tanh_values"
    assert session.progress.hints_revealed(lesson.id) == 1  # nothing more was revealed


def test_without_a_mapping_the_latest_revealed_hint_shows(session, lesson):
    session.reveal_hint(lesson)
    session.reveal_hint(lesson)
    plain = dataclasses.replace(lesson, check_hints={})
    hint = session.hint_after_attempt(plain, _failed("test_sigmoid_extreme_inputs"))
    assert (hint.number, hint.about_check, hint.about_hint) == (2, None, None)
    # An unmapped failing check behaves the same with a mapping present.
    hint = session.hint_after_attempt(lesson, _failed("test_sigmoid_keeps_shape"))
    assert (hint.number, hint.about_check) == (2, None)
    errored = GradeResult(lesson.id, Verdict.ERROR, 0.1)
    assert session.hint_after_attempt(lesson, errored) is None


def test_cli_json_names_the_overflow_hint_for_a_naive_sigmoid(workspace):
    lesson = workspace.course.lesson(1)
    naive = "def sigmoid(x):\n    return 1 / (1 + np.exp(-x))\n"
    reference = workspace.solution_for(lesson)
    start = reference.index("def sigmoid(")
    end = reference.index("\ndef ", start + 1)
    write_solution(workspace, lesson, reference[:start] + naive + reference[end:])

    def run(*args: str) -> str:
        argv = ["--workspace", str(workspace.root), *args]
        return CliRunner().invoke(cli, argv, obj={}).output

    def check(*args: str):
        out = run("check", "1", *args)
        return json.loads(out) if args else out

    first = check("--json")
    assert first["verdict"] == "failed"
    failing = [c["id"] for c in first["checks"] if c["outcome"] != "passed"]
    assert failing[0] == "test_sigmoid_extreme_inputs", failing
    # First failure: hint 1 is revealed, and hint 2 (overflow) is named as the one to read.
    assert first["hint"]["number"] == 1
    assert first["hint"]["about_hint"] == 2
    assert first["hint"]["about_check"].startswith("sigmoid stays finite")
    run("hint", "1")
    second = check("--json")
    assert second["hint"]["number"] == 2 and "overflow" in second["hint"]["text"]
    assert "Hint 2/4 — about the failing check 'sigmoid stays finite" in check()


def test_lint_reports_unknown_check_ids_and_hint_numbers(tmp_path):
    shutil.copytree(EXAMPLE, tmp_path / "ex", ignore=shutil.ignore_patterns(".workbook"))
    md = tmp_path / "ex/course/lessons/01-double.md"
    md.write_text(
        md.read_text().replace(
            'hints = ["Multiply by two.", "`return 2 * x`"]\n',
            'hints = ["Multiply by two.", "`return 2 * x`"]\n'
            "check_hints = { test_double = 2, test_triple = 1, test_double_again = 3 }\n",
        )
    )
    ws = Workspace(tmp_path / "ex")
    problems = [str(p) for p in lint_course(ws, grade=False)]
    assert any("'test_triple', which is no check" in p for p in problems), problems
    assert any("'test_double_again' to hint 3" in p for p in problems), problems
    assert not any("'test_double'" in p for p in problems), problems


def test_tui_result_pane_says_which_check_the_hint_is_about(repo_workspace):
    from workbook.session import AttemptHint
    from workbook.tui.widgets import render_result

    lesson = repo_workspace.course.lesson(1)

    def pane(hint: AttemptHint) -> str:
        return "\n".join(str(c) for c, _ in render_result(_failed("x"), lesson, hint, "x.py"))

    about = pane(AttemptHint(2, lesson.hints[1], 3, "sigmoid stays finite", 2))
    assert "Hint 2/4" in about and "About the failing check “sigmoid stays finite”" in about
    later = pane(AttemptHint(1, lesson.hints[0], 1, "tanh values", 4))
    assert (
        "Press h (or run `workbook hint 1`) 3 times to see hint 4, which is about the failing "
        "check “tanh values”." in later
    )
    once = pane(AttemptHint(1, lesson.hints[0], 1, "sigmoid stays finite", 2))
    assert "Press h (or run `workbook hint 1`) to see hint 2, which is about" in once
    plain = pane(AttemptHint(1, lesson.hints[0], 1))
    assert "Press h for the next hint" in plain


@pytest.mark.parametrize(
    ("lesson_number", "replace", "with_", "about_hint"),
    [
        # A transposed h fails every check of lesson 8; the C_prev hint is not about it.
        (8, "return h_t, C_t", "return h_t.T, C_t", None),
        # `lr=` keeps the model from being built: that is TODO 3, the optimizer's hint.
        (17, "optimizer=Adam(learning_rate=0.01)", "optimizer=Adam(lr=0.01)", 3),
        # Only hidden_state is wrong: its hint (tanh, then ⊙ o_t), not the output gate's.
        (7, "return o_t * tanh(C_t)", "return o_t * C_t", 3),
    ],
    ids=["08-transposed-h", "17-keras2-lr", "07-hidden-state"],
)
def test_the_hint_beside_a_failure_concerns_that_failure(
    session, lesson_number, replace, with_, about_hint
):
    """Issue 10: each of these once got the hint about another check's topic."""
    from workbook.grading.runner import grade

    lesson = session.course.lesson(lesson_number)
    reference = session.workspace.solution_for(lesson)
    assert replace in reference
    write_solution(session.workspace, lesson, reference.replace(replace, with_))
    result = grade(session.workspace, lesson)
    assert result.verdict is Verdict.FAILED, result.headline
    hint = session.hint_after_attempt(lesson, result)
    assert hint.about_hint == about_hint, (hint, [(c.id, c.message) for c in result.failing])
    if about_hint is None:
        assert hint.number == 1  # the general first hint, with no claim about a check
