"""Learner comforts: carry progress, reset everything, continue anywhere, review, doctor."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from tests.conftest import write_solution
from workbook.cli import cli
from workbook.progress import ProgressStore
from workbook.workspace import Workspace

EXAMPLE = Path(__file__).parent / "example_course"


@pytest.fixture
def example(tmp_path: Path) -> Workspace:
    shutil.copytree(EXAMPLE, tmp_path / "ex", ignore=shutil.ignore_patterns(".workbook"))
    return Workspace(tmp_path / "ex")


def _cli(ws: Workspace, *args: str, input: str | None = None):
    return CliRunner().invoke(cli, ["--workspace", str(ws.root), *args], obj={}, input=input)


def test_progress_export_and_merge_import(tmp_path: Path):
    home = ProgressStore(tmp_path / "home.db")
    home.record_attempt("01-a", "failed", 0.3, ["t1"])
    home.record_attempt("01-a", "passed", 0.2)
    home.reveal_hint("01-a", 4)
    away = ProgressStore(tmp_path / "away.db")
    away.record_attempt("02-b", "failed", 0.1)
    for _ in range(3):
        away.reveal_hint("01-a", 4)
    data = home.export_data()
    assert away.import_data(data) == 2
    assert away.import_data(data) == 0  # importing twice adds nothing
    rows = away.attempts()
    assert {(r["lesson"], r["verdict"]) for r in rows} == {
        ("01-a", "failed"), ("01-a", "passed"), ("02-b", "failed"),
    }  # fmt: skip
    assert away.hints_revealed("01-a") == 3  # the larger count wins
    with pytest.raises(ValueError, match="format"):
        away.import_data({"format": 99})


def test_progress_export_import_cli(example, tmp_path: Path):
    write_solution(example, example.course.lesson(1))
    assert _cli(example, "check", "1").exit_code == 0
    dump = tmp_path / "progress.json"
    assert _cli(example, "progress", "--export", str(dump)).exit_code == 0
    other = Workspace(
        shutil.copytree(EXAMPLE, tmp_path / "other", ignore=shutil.ignore_patterns(".workbook"))
    )
    merged = _cli(other, "progress", "--import", str(dump))
    assert merged.exit_code == 0 and "Merged 1 new attempts" in merged.output
    assert json.loads(_cli(other, "progress", "--json").output)["passed"] == 1
    bad = tmp_path / "bad.json"
    bad.write_text('{"format": 7}')
    assert _cli(other, "progress", "--import", str(bad)).exit_code == 2


def test_reset_all_asks_and_backs_up_every_edited_file(example):
    edited = example.path("exercises/01-double.py")
    edited.write_text("# mine\n")
    assert _cli(example, "reset", "--all", input="n\n").exit_code == 1
    assert edited.read_text() == "# mine\n"
    done = _cli(example, "reset", "--all", input="y\n")
    assert done.exit_code == 0, done.output
    assert "1 backups" in done.output
    assert edited.read_text() == example.stub_for(example.course.lesson(1))
    assert _cli(example, "reset").exit_code == 2  # neither a lesson nor --all


def test_continue_at_moves_the_current_lesson(example):
    assert _cli(example, "continue-at", "2").exit_code == 0
    data = json.loads(_cli(example, "list", "--json").output)
    assert data["current"] == "02-mean"
    assert [row["current"] for row in data["lessons"]] == [False, True]
    assert _cli(example, "continue-at").exit_code == 0
    assert json.loads(_cli(example, "list", "--json").output)["current"] == "01-double"


def test_solution_diff_after_passing(example):
    lesson = example.course.lesson(1)
    write_solution(example, lesson, "def double(x):\n    return x + x\n")
    assert _cli(example, "check", "1").exit_code == 0
    diff = _cli(example, "solution", "1", "--diff").output
    assert "-    return x + x" in diff and "+    return 2 * x" in diff


def test_review_rechecks_passed_lessons_oldest_first(example):
    for number in (1, 2):  # passing 2 completes the course, which re-checks 1 last
        write_solution(example, example.course.lesson(number))
        assert _cli(example, "check", str(number)).exit_code == 0
    ok = _cli(example, "review")
    assert ok.exit_code == 0
    assert ok.output.index("The mean") < ok.output.index("Double a number")
    example.path("exercises/02-mean.py").write_text("def mean(values):\n    return 0\n")
    broken = _cli(example, "review")
    assert broken.exit_code == 1 and "✗  2. The mean" in broken.output


def test_finishing_the_course_rechecks_every_lesson(example):
    write_solution(example, example.course.lesson(1))
    assert _cli(example, "check", "1").exit_code == 0
    example.path("exercises/01-double.py").write_text("def double(x):\n    return x * x\n")
    write_solution(example, example.course.lesson(2))
    last = _cli(example, "check", "2")
    assert last.exit_code == 0
    assert "Re-checking the other 1" in last.output
    assert "1. Double a number" in last.output and "broke since you passed" in last.output
    # The lesson's own result comes first; the re-check follows it.
    assert last.output.index("2. ") < last.output.index("Re-checking")


def test_skipped_lessons_stay_open_until_passed(example):
    """continue-at skips ahead; once the rest is done, the skipped lesson is current."""
    assert _cli(example, "continue-at", "2").exit_code == 0
    write_solution(example, example.course.lesson(2))
    passed = _cli(example, "check", "2")
    assert passed.exit_code == 0
    assert "last lesson" not in passed.output  # lesson 1 was skipped, not passed
    data = json.loads(_cli(example, "list", "--json").output)
    assert data["current"] == "01-double" and data["passed"] == 1
    assert "Course complete" not in _cli(example, "progress").output
    write_solution(example, example.course.lesson(1))
    finished = _cli(example, "check")  # the current lesson: 1
    assert finished.exit_code == 0 and "1. Double a number" in finished.output
    assert "All lessons still pass. Course complete!" in finished.output


def test_doctor_reports_versions_workspace_and_watching(example):
    result = _cli(example, "doctor")
    assert result.exit_code == 0
    labels = ("python", "numpy", "textual", "workspace", "file watching", "progress store")
    for label in (*labels, "grading sandbox"):
        assert label in result.output
    assert str(example.root) in result.output
    assert re.search(r"file watching +works", result.output)
    from workbook.grading.subject.sandbox import probe

    assert re.search(rf"grading sandbox +{re.escape(probe().label())}\n", result.output)
