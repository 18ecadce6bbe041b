"""Graded code cannot read the reference solutions or start processes (audit hook)."""

from __future__ import annotations

import os

from tests.conftest import write_solution
from workbook.grading.results import Verdict
from workbook.grading.runner import grade

LESSON = "06-cell-update"


def _attempt(workspace, body: str):
    lesson = workspace.course.lesson(LESSON)
    write_solution(workspace, lesson, body)
    return grade(workspace, lesson)


def _messages(result) -> str:
    parts = [c.message for c in result.checks]
    if result.error is not None:
        parts.append(result.error.message)
    return "\n".join(parts)


def test_a_file_that_runs_the_reference_solution_does_not_pass(workspace):
    solution = workspace.path(workspace.course.lesson(LESSON).solution)
    result = _attempt(workspace, f"exec(open({str(solution)!r}).read())\n")
    assert result.verdict is not Verdict.PASSED
    assert "may not open the reference solutions" in _messages(result)


def test_a_symlink_to_the_solutions_is_no_way_round(workspace):
    solutions = workspace.path(workspace.course.lesson(LESSON).solution).parent
    os.symlink(solutions, workspace.path("exercises/notes"))  # made before grading
    path = workspace.path("exercises/notes") / f"{LESSON}.py"
    result = _attempt(workspace, f"exec(open({str(path)!r}).read())\n")
    assert result.verdict is not Verdict.PASSED
    assert "may not open the reference solutions" in _messages(result)


def test_graded_code_cannot_start_a_process_that_outlives_it(workspace, tmp_path):
    marker = tmp_path / "spawned"
    reference = workspace.solution_for(workspace.course.lesson(LESSON))
    spawn = (
        "import subprocess\n"
        f"subprocess.Popen(['sh', '-c', 'touch {marker}; exec sleep 600'], "
        "start_new_session=True)\n"
    )
    result = _attempt(workspace, spawn + reference)
    assert result.verdict is Verdict.ERROR
    assert "may not start other processes" in _messages(result)
    assert not marker.exists()


def test_the_reference_solution_reads_nothing_sealed(workspace):
    result = _attempt(workspace, workspace.solution_for(workspace.course.lesson(LESSON)))
    assert result.verdict is Verdict.PASSED, result.headline
