"""The course data is complete and consistent; the format is enforced."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from workbook.catalog import load_course
from workbook.errors import CourseFormatError, WorkbookError
from workbook.stubgen import clean_solution, make_stub

SEED_TERMS = [
    "RNN", "LSTM", "Cell state", "Hidden state", "Forget gate", "Input gate", "Output gate",
    "Sigmoid", "Tanh", "Weights and biases", "Vanishing gradient problem", "GRU",
]  # fmt: skip


def test_lessons_are_numbered_without_gaps(repo_workspace):
    numbers = [lesson.number for lesson in repo_workspace.course.lessons]
    assert numbers == list(range(1, len(numbers) + 1))


def test_every_lesson_has_text_hints_terms_and_files(repo_workspace):
    glossary = repo_workspace.glossary
    for lesson in repo_workspace.course.lessons:
        assert len(lesson.text) > 200, lesson.id
        assert 2 <= len(lesson.hints) <= 4, lesson.id
        assert lesson.glossary, lesson.id
        assert set(lesson.glossary) <= set(glossary), lesson.id
        for rel in (lesson.exercise, lesson.check, lesson.solution):
            assert repo_workspace.path(rel).is_file(), rel
        assert "TODO" in repo_workspace.stub_for(lesson), lesson.id


def test_committed_stubs_equal_the_generated_ones(repo_workspace):
    for lesson in repo_workspace.course.lessons:
        committed = repo_workspace.path(lesson.exercise).read_text(encoding="utf-8")
        assert committed == repo_workspace.stub_for(lesson), (
            f"{lesson.exercise} differs from the stub generated from {lesson.solution}"
        )


def test_no_orphan_files(repo_workspace):
    course = repo_workspace.course
    for folder, attr in (("exercises", "exercise"), ("checks", "check")):
        listed = {getattr(lesson, attr) for lesson in course.lessons}
        present = {
            f"{folder}/{p.name}"
            for p in repo_workspace.path(folder).glob("*.py")
            if not p.name.startswith("_")
        }
        assert present == listed, folder


def test_glossary_covers_the_seed(repo_workspace):
    names = {t.name for t in repo_workspace.glossary.values()}
    assert set(SEED_TERMS) <= names
    used = {key for lesson in repo_workspace.course.lessons for key in lesson.glossary}
    for term in repo_workspace.glossary.values():
        assert term.definition
        assert term.key in used, f"glossary term {term.key!r} is used by no lesson"


def test_lesson_lookup(repo_workspace):
    course = repo_workspace.course
    first = course.lessons[0]
    assert course.lesson("1") is first
    assert course.lesson("01") is first
    assert course.lesson(first.id) is first
    assert course.lesson(first.id.split("-", 1)[1]) is first
    with pytest.raises(WorkbookError, match="unknown lesson") as unknown:
        course.lesson("999")
    assert f"use a number (1–{len(course.lessons)})" in str(unknown.value)
    with pytest.raises(WorkbookError, match="did you mean '03-forget-gate'"):
        course.lesson("forgetgate")


def test_lesson_numbers_read_as_ranges():
    from workbook.catalog import _ranges

    assert _ranges([3, 1, 2, 5, 7, 8]) == "1–3, 5, 7–8"
    assert _ranges([4]) == "4"


def _course(tmp_path: Path, toml: str, lesson: str = "") -> Path:
    (tmp_path / "lessons").mkdir()
    (tmp_path / "course.toml").write_text(toml)
    if lesson:
        (tmp_path / "lessons" / "01-a.md").write_text(lesson)
    return tmp_path


def test_format_version_is_checked(tmp_path: Path):
    root = _course(tmp_path, 'format = 99\nlessons = ["01-a"]\n')
    with pytest.raises(CourseFormatError, match="format 99"):
        load_course(root)


def test_bad_front_matter_is_reported(tmp_path: Path):
    toml = 'format = 1\nlessons = ["01-a"]\n[[topics]]\nid = "t"\ntitle = "T"\n'
    root = _course(tmp_path, toml, "+++\ntitle = 'A'\n+++\ntext\n")
    with pytest.raises(CourseFormatError, match="lacks 'topic'"):
        load_course(root)


def test_ids_must_increase(tmp_path: Path):
    root = _course(tmp_path, 'format = 1\nlessons = ["02-b", "01-a"]\n')
    with pytest.raises(CourseFormatError, match="increasing"):
        load_course(root)


SOLUTION = """def f(x):
    y = x
    # BEGIN SOLUTION
    return y + 1
    # END SOLUTION


def g():
    # BEGIN SOLUTION
    # STUB: return None  # replace me
    return 42
    # END SOLUTION
"""


def test_stub_and_clean_solution():
    stub = make_stub(SOLUTION)
    assert "return y + 1" not in stub and "return 42" not in stub
    assert "    # TODO: your code here\n    raise NotImplementedError\n" in stub
    assert "    return None  # replace me\n" in stub
    clean = clean_solution(SOLUTION)
    assert "SOLUTION" not in clean and "STUB" not in clean
    assert "return y + 1" in clean and "return 42" in clean


@pytest.mark.parametrize(
    "bad",
    ["# BEGIN SOLUTION\nx = 1\n", "x = 1\n# END SOLUTION\n",
     "# BEGIN SOLUTION\n# BEGIN SOLUTION\n# END SOLUTION\n"],
)  # fmt: skip
def test_broken_markers_are_refused(bad):
    with pytest.raises(CourseFormatError):
        make_stub(bad)


def test_lesson_text_equations_are_unicode(repo_workspace):
    """Textual's Markdown drops LaTeX: lesson texts must not rely on it."""
    for lesson in repo_workspace.course.lessons:
        assert not re.search(r"\$[^$]+\$|\\(frac|sigma|odot|tilde)", lesson.text), lesson.id
