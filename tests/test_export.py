"""`workbook export`: Gradescope results.json, CSV and JSON from the progress store."""

from __future__ import annotations

import csv
import io
import json
from datetime import datetime

import pytest
from click.testing import CliRunner

from tests.conftest import write_solution
from workbook.cli import cli
from workbook.instructor.export import (
    CSV_FIELDS,
    GRADESCOPE_FIELDS,
    GRADESCOPE_STATUS,
    GRADESCOPE_TEST_FIELDS,
    GRADESCOPE_VISIBILITY,
    collect,
    render,
    to_gradescope,
    to_json,
)


@pytest.fixture
def workspace(course_workspace):
    """The whole course, checks and references included, in the workspace: the
    hardest case (an instructor's course, a course author's checkout). A learner's
    own workspace holds no answers at all (tests/test_learner_workspace.py)."""
    return course_workspace


LESSON = "01-activations"


@pytest.fixture
def history(session):
    """Lesson 1: a failed attempt, a hint, a pass, then a failed attempt again."""
    lesson = session.course.lesson(LESSON)
    reference = session.workspace.solution_for(lesson)
    wrong = reference.replace("    return np.tanh(x)\n", "    return x\n")
    write_solution(session.workspace, lesson, wrong)
    first = session.check(lesson)
    session.reveal_hint(lesson)
    write_solution(session.workspace, lesson, reference)
    second = session.check(lesson)
    write_solution(session.workspace, lesson, wrong)
    third = session.check(lesson)
    assert [str(r.verdict) for r in (first, second, third)] == ["failed", "passed", "failed"]
    return session


def _record(report, lesson_id=LESSON):
    return next(r for r in report.lessons if r.lesson_id == lesson_id)


def test_verdict_is_best_and_last_is_kept(history):
    report = collect(history.workspace)
    record = _record(report)
    assert record.verdict == "passed"  # a pass stays a pass
    assert record.last_verdict == "failed"
    assert record.attempts == 3
    assert record.hints_used == 1
    assert record.hints_asked == 1  # asked for between the first two attempts
    assert record.last_failing_checks[0] == "test_tanh_values"  # tanh's other checks too
    first_pass = datetime.fromisoformat(record.first_passed_at)
    assert first_pass.tzinfo is not None
    assert first_pass <= datetime.fromisoformat(record.last_attempt_at)
    assert record.time_grading_s > 0
    others = [r for r in report.lessons if r.lesson_id != LESSON]
    assert all(r.verdict == "not-started" and r.attempts == 0 for r in others)


def test_gradescope_results_follow_their_spec(history):
    results = to_gradescope(collect(history.workspace))
    assert set(results) <= set(GRADESCOPE_FIELDS)
    assert {"score", "execution_time", "output", "tests"} <= set(results)
    assert isinstance(results["execution_time"], int | float) and results["execution_time"] > 0
    assert results["visibility"] in GRADESCOPE_VISIBILITY
    tests = results["tests"]
    assert len(tests) == len(history.course.lessons)
    for test in tests:
        assert set(test) <= set(GRADESCOPE_TEST_FIELDS)
        assert {"name", "score", "max_score", "output", "visibility", "status"} <= set(test)
        assert test["status"] in GRADESCOPE_STATUS
        assert test["visibility"] in GRADESCOPE_VISIBILITY
        assert test["max_score"] == 1.0
        assert test["score"] == (1.0 if test["status"] == "passed" else 0.0)
    assert results["score"] == sum(t["score"] for t in tests) == 1.0
    first = tests[0]
    assert first["name"] == "1. Sigmoid and tanh" and first["status"] == "passed"
    assert "Passed after 3 attempts" in first["output"] and "1 of" in first["output"]
    assert "1 of" in results["output"] and results["extra_data"]["tampered"] == []
    json.dumps(results)  # plain JSON types only


def test_gradescope_shows_the_diagnosis_of_a_lesson_not_passed(session):
    """On Gradescope the test output is all a student sees: it carries the diagnosis."""
    lesson = session.course.lesson(2)
    reference = session.workspace.solution_for(lesson)
    broken = reference.replace("return np.vstack((h_prev, x_t))", "return np.vstack((h_prev, x_t)")
    write_solution(session.workspace, lesson, broken)
    assert str(session.check(lesson).verdict) == "error"
    test = to_gradescope(collect(session.workspace))["tests"][1]
    assert test["status"] == "failed"
    assert "Not passed: last attempt error" in test["output"]
    assert f"syntax error at {lesson.exercise}:" in test["output"]


def test_an_older_progress_store_gains_the_summary_column(tmp_path):
    from tests.conftest import make_old_store
    from workbook.progress import ProgressStore

    path = tmp_path / "old.db"
    make_old_store(path)
    store = ProgressStore(path)
    store.record_attempt("x", "failed", 0.5, ["t1"], "what went wrong")
    assert [a["summary"] for a in store.attempts()] == ["", "what went wrong"]
    assert [a["imported"] for a in store.attempts()] == [False, False]
    store.close()


def test_gradescope_rejects_unknown_visibility(history):
    with pytest.raises(ValueError, match="visibility"):
        to_gradescope(collect(history.workspace), visibility="public")


def test_csv_has_one_row_per_lesson(history):
    text = render(collect(history.workspace), "csv")
    reader = csv.DictReader(io.StringIO(text))
    assert tuple(reader.fieldnames) == CSV_FIELDS
    rows = list(reader)
    assert [r["lesson_id"] for r in rows] == [lesson.id for lesson in history.course.lessons]
    row = rows[0]
    assert row["number"] == "1" and row["title"] == "Sigmoid and tanh"
    assert row["verdict"] == "passed" and row["last_verdict"] == "failed"
    assert row["attempts"] == "3" and row["hints_used"] == "1" and row["hints_asked"] == "1"
    datetime.fromisoformat(row["first_passed_at"])
    assert row["last_failing_checks"].startswith("test_tanh_values")
    assert row["last_message"].startswith("tanh(x) matches the hyperbolic tangent")
    for other in rows[1:]:
        assert other["verdict"] == "not-started" and other["first_passed_at"] == ""


def test_json_dump_has_the_attempt_log(history):
    data = json.loads(render(collect(history.workspace), "json"))
    assert data["format"] == 1 and data["passed"] == 1
    assert data["total"] == len(history.course.lessons) and data["tampered"] == []
    lesson = data["lessons"][0]
    assert set(lesson) >= set(CSV_FIELDS) | {"attempt_log"}
    log = lesson["attempt_log"]
    assert [a["verdict"] for a in log] == ["failed", "passed", "failed"]
    assert log[0]["failing"][0] == "test_tanh_values" and log[1]["failing"] == []
    assert log[2]["hints_shown"] == 1 and all(a["duration_s"] > 0 for a in log)
    assert to_json(collect(history.workspace))["lessons"][0]["attempt_log"] == log


def test_export_without_progress_creates_nothing(workspace):
    report = collect(workspace)
    assert report.passed == 0
    assert all(r.verdict == "not-started" for r in report.lessons)
    assert not workspace.progress_path.exists()


def test_export_reports_tampered_files(history):
    lesson = history.course.lesson(LESSON)
    check = history.workspace.path(lesson.check)
    check.write_text(check.read_text() + "\n", encoding="utf-8")
    results = to_gradescope(collect(history.workspace))
    assert results["extra_data"]["tampered"] == [lesson.check]
    assert "differ from the shipped course" in results["output"]


def test_cli_export_to_file_and_stdout(history, tmp_path):
    runner = CliRunner()
    root = str(history.workspace.root)
    target = tmp_path / "out" / "results.json"
    written = runner.invoke(
        cli, ["-w", root, "export", "--format", "gradescope", "-o", str(target)], obj={}
    )
    assert written.exit_code == 0, written.output
    assert json.loads(target.read_text())["score"] == 1.0
    shown = runner.invoke(cli, ["-w", root, "export", "--format", "csv"], obj={})
    assert shown.exit_code == 0
    assert shown.output.splitlines()[0] == ",".join(CSV_FIELDS)
    bad = runner.invoke(cli, ["-w", root, "export", "--format", "xml"], obj={})
    assert bad.exit_code == 2


def test_hints_asked_for_are_told_apart_from_the_first_one(session):
    """Issue 10: exports show hints shown in all and those the learner asked for; the
    first one comes by itself with the first failure."""
    from workbook.grading.results import CheckResult, GradeResult, Verdict

    lesson = session.course.lesson(2)
    failed = GradeResult(lesson.id, Verdict.FAILED, 0.1, [CheckResult("t", "t", "failed", "x")])
    session.progress.record_attempt(lesson.id, "failed", 0.1, ["t"])
    assert session.hint_after_attempt(lesson, failed).number == 1  # shown unasked
    session.reveal_hint(lesson)  # asked for
    report = collect(session.workspace)
    record = _record(report, lesson.id)
    assert (record.hints_used, record.hints_asked) == (2, 1)
    test = to_gradescope(report)["tests"][1]
    assert f"2 of {len(lesson.hints)} hints used, 1 of them asked for" in test["output"]
    assert json.loads(render(report, "json"))["lessons"][1]["hints_asked"] == 1
