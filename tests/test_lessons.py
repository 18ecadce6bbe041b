"""Every hidden check is itself tested: the reference passes, the pristine stub fails,
and each typical wrong answer (tests/mistakes/<lesson>.toml) fails with its message.
"""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest

from tests.conftest import write_solution
from workbook.grading.results import Verdict
from workbook.grading.runner import grade
from workbook.workspace import Workspace, bundled_root

MISTAKES_DIR = Path(__file__).parent / "mistakes"
COURSE = Workspace(bundled_root()).course
LESSON_IDS = [lesson.id for lesson in COURSE.lessons]


def _mistakes():
    for path in sorted(MISTAKES_DIR.glob("*.toml")):
        for entry in tomllib.loads(path.read_text(encoding="utf-8"))["mistake"]:
            yield pytest.param(path.stem, entry, id=f"{path.stem}:{entry['name']}")


MISTAKES = list(_mistakes())


@pytest.mark.parametrize("lesson_id", LESSON_IDS)
def test_reference_solution_passes(workspace, lesson_id):
    lesson = workspace.course.lesson(lesson_id)
    write_solution(workspace, lesson)
    result = grade(workspace, lesson)
    assert result.verdict is Verdict.PASSED, [
        (c.name, c.message) for c in result.failing
    ] or result.error


@pytest.mark.parametrize("lesson_id", LESSON_IDS)
def test_pristine_stub_is_not_started_and_fails(workspace, lesson_id):
    lesson = workspace.course.lesson(lesson_id)
    assert grade(workspace, lesson).verdict is Verdict.NOT_STARTED
    forced = grade(workspace, lesson, detect_untouched=False)
    assert forced.verdict is Verdict.FAILED
    assert forced.checks and all(
        c.outcome != "passed" or "TODO" not in c.message for c in forced.checks
    )
    assert any("still a TODO" in c.message for c in forced.failing)


@pytest.mark.parametrize("lesson_id", LESSON_IDS)
def test_every_lesson_has_at_least_three_known_mistakes(lesson_id):
    assert sum(1 for p in MISTAKES if p.values[0] == lesson_id) >= 3


@pytest.mark.parametrize(("lesson_id", "mistake"), MISTAKES)
def test_typical_mistake_gets_its_diagnosis(workspace, lesson_id, mistake):
    lesson = workspace.course.lesson(lesson_id)
    reference = workspace.solution_for(lesson)
    assert mistake["replace"] in reference, "the mistake no longer applies to the solution"
    wrong = reference.replace(mistake["replace"], mistake["with"])
    write_solution(workspace, lesson, wrong)
    result = grade(workspace, lesson)
    assert str(result.verdict) == mistake.get("verdict", "failed"), result.headline
    messages = [c.message for c in result.failing]
    if result.error:
        messages.append(result.error.message)
    assert any(mistake["expect"] in m for m in messages), messages
    if "not_expect" in mistake:  # a diagnosis that would name the wrong mistake
        assert not any(mistake["not_expect"] in m for m in messages), messages
