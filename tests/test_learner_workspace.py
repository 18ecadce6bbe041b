"""A learner's workspace holds no answers: the checks and references stay installed.

`workbook init` once copied `course/solutions/` and `checks/` into the workspace, so
`cp course/solutions/08-lstm-step.py exercises/` passed lesson 8 and the hidden
checks were one `cat` away. Now the workspace holds the exercises, the lesson texts
and the store; a lesson's reference appears in `solutions/` once it has passed there.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import run_cli, write_solution
from workbook.grading.results import Verdict
from workbook.workspace import bundled_root


def _answer_lines() -> set[str]:
    """Lines of the references and checks that no stub or lesson text carries: a
    workspace file holding one of them holds (part of) an answer."""
    root = bundled_root()
    answers = [*root.glob("course/solutions/*.py"), *root.glob("checks/*.py")]
    given = [*root.glob("exercises/*.py"), *root.glob("course/lessons/*.md")]
    shown = {line.strip() for path in given for line in path.read_text().splitlines()}
    return {
        line.strip()
        for path in answers
        for line in path.read_text().splitlines()
        if len(line.strip()) >= 20 and line.strip() not in shown
    }


def test_a_fresh_workspace_holds_no_reference_and_no_check(workspace):
    assert not (workspace.root / "checks").exists()
    assert not (workspace.root / "course" / "solutions").exists()
    assert not (workspace.root / "solutions").exists()
    answers = _answer_lines()
    assert len(answers) > 500  # the control: there are answers to find
    for path in workspace.root.rglob("*"):
        if path.is_file():
            text = path.read_text(encoding="utf-8", errors="replace")
            leaked = [line for line in text.splitlines() if line.strip() in answers]
            assert not leaked, f"{path.relative_to(workspace.root)} carries {leaked[:3]}"


def test_lesson_texts_hold_nothing_shown_only_after_passing(workspace):
    """The question lessons' answers ("After you answer") are not in the workspace's
    lesson files; the workbook still shows them once the lesson has passed, read from
    the installed course, and the shortened files are not reported as tampered."""
    from workbook.catalog import AFTER_PASS_MARKER
    from workbook.manifest import workspace_tampered

    shipped = bundled_root() / "course" / "lessons"
    with_answers = [p.name for p in shipped.glob("*.md") if AFTER_PASS_MARKER in p.read_text()]
    assert len(with_answers) >= 2  # the control: lessons 22 and 23 have such a part
    for name in with_answers:
        text = (workspace.root / "course" / "lessons" / name).read_text(encoding="utf-8")
        assert AFTER_PASS_MARKER not in text and "After you answer" not in text, name
    lesson = workspace.course.lesson("22-questions-gates")
    assert "After you answer" in lesson.explanation
    assert workspace_tampered(workspace) == []
    assert "After you answer" not in run_cli(workspace, "show", "22").output
    write_solution(workspace, lesson)
    assert run_cli(workspace, "check", "22").exit_code == 0
    assert "After you answer" in run_cli(workspace, "show", "22").output


def test_grading_uses_the_installed_checks(workspace):
    lesson = workspace.course.lesson("08-lstm-step")
    assert workspace.answers_root == bundled_root()
    write_solution(workspace, lesson)
    session_result = run_cli(workspace, "check", "8", "--json")
    assert '"verdict": "passed"' in session_result.output, session_result.output


def test_the_reference_appears_in_solutions_once_passed(workspace):
    lesson = workspace.course.lesson("02-concat")
    refused = run_cli(workspace, "solution", "2")
    assert refused.exit_code != 0 and "once you have passed" in refused.output
    assert not (workspace.root / "solutions").exists()
    write_solution(workspace, lesson)
    assert run_cli(workspace, "check", "2").exit_code == 0
    shown = run_cli(workspace, "solution", "2")
    assert shown.exit_code == 0, shown.output
    revealed = workspace.root / "solutions" / Path(lesson.exercise).name
    assert revealed.read_text(encoding="utf-8") == workspace.solution_for(lesson)
    assert workspace.solution_for(lesson) in shown.output
    assert sorted(p.name for p in (workspace.root / "solutions").iterdir()) == [revealed.name]


def test_a_learner_edit_of_the_catalog_is_reported(workspace):
    """The catalog stays in the workspace (lesson texts, limits): edits to it are
    still flagged, with the installed checks and references counted as present."""
    lesson = workspace.course.lesson("01-activations")
    write_solution(workspace, lesson)
    from workbook.grading.runner import grade

    clean = grade(workspace, lesson)
    assert clean.verdict is Verdict.PASSED and clean.tampered == []
    toml = workspace.root / "course" / "course.toml"
    toml.write_text(toml.read_text(encoding="utf-8") + "\n# edited\n", encoding="utf-8")
    assert grade(workspace, lesson).tampered == ["course/course.toml"]


@pytest.mark.parametrize(
    ("protection", "flagged"),
    [
        ({"landlock_abi": 7, "files_confined": True}, []),  # could not have written it
        ({}, ["course/course.toml"]),  # not confined: scanned again after the attempt
        ({"landlock_abi": 7, "files_confined": False}, ["course/course.toml"]),  # partial
    ],
)
def test_a_workspace_edit_during_an_unconfined_attempt_is_reported(workspace, protection, flagged):
    """The workspace is scanned before the attempt (the learner does not wait for it
    after the verdict); where learner code was not confined, what it may have written
    during the attempt is caught by a second scan after it, in that attempt's result."""
    import json

    from workbook.grading.runner import RunOutcome, grade

    lesson = workspace.course.lesson("01-activations")
    write_solution(workspace, lesson)
    toml = workspace.root / "course" / "course.toml"

    def attempt(job, tmp, cwd, cancel, deadline):
        toml.write_text(toml.read_text(encoding="utf-8") + "\n# edited\n", encoding="utf-8")
        events = [
            {"event": "subject", "protection": protection},
            {"event": "collected", "ids": []},
            {"event": "done", "output": "", "output_dropped": False},
        ]
        Path(job["report"]).write_text("".join(json.dumps(e) + "\n" for e in events))
        return RunOutcome(False, 0, "")

    assert grade(workspace, lesson, execute=attempt).tampered == flagged


def test_dev_commands_say_a_learner_workspace_is_not_a_course_source(workspace):
    result = run_cli(workspace, "dev", "stubs")
    assert result.exit_code == 2
    assert "learner's workspace" in result.output
    assert not (workspace.root / "checks").exists()
