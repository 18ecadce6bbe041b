"""A course and glossary read before are reused while their files are unchanged
(`workbook.filestamp`): the grading service forks a command per check and reads them
once. What must hold: any change to what was read is seen, at once; a file written
within the racy window is never trusted; the reused result is the same object."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

from tests.conftest import copy_example
from workbook import filestamp
from workbook.catalog import load_course
from workbook.glossary import load_glossary

OLD = time.time() - 3600
RACY_S = 0.3  # the window, shortened: a file's change time (ctime) cannot be set back


def _settle() -> None:
    time.sleep(RACY_S + 0.05)


@pytest.fixture
def course_dir(tmp_path: Path, monkeypatch) -> Path:
    monkeypatch.setattr(filestamp, "RACY_S", RACY_S)
    root = copy_example(tmp_path / "ex").root / "course"
    for path in [root, *root.rglob("*")]:
        os.utime(path, (OLD, OLD))
    _settle()
    return root


def test_an_unchanged_course_is_read_once(course_dir):
    assert load_course(course_dir) is load_course(course_dir)


@pytest.mark.parametrize("how", ["same size", "other size"])
def test_an_edited_lesson_is_read_again(course_dir, how):
    first = load_course(course_dir)
    lesson = course_dir / "lessons" / "01-double.md"
    text = lesson.read_text(encoding="utf-8")
    title = first.lessons[0].title
    new = "X" * len(title) if how == "same size" else title + " (edited)"
    lesson.write_text(text.replace(title, new, 1), encoding="utf-8")
    if how == "same size":
        os.utime(lesson, (OLD, OLD))  # even with its old modification time back
    _settle()
    assert load_course(course_dir).lessons[0].title == new


def test_an_added_lesson_file_changes_the_stamp(course_dir):
    """A file added beside the lessons (here not listed) is part of the stamp."""
    before = filestamp.stamp(course_dir / "lessons")
    extra = course_dir / "lessons" / "99-extra.md"
    extra.write_text("+++\n+++\n", encoding="utf-8")
    os.utime(extra, (OLD, OLD))
    _settle()
    assert filestamp.stamp(course_dir / "lessons") != before


def test_a_file_written_just_now_is_not_trusted(course_dir):
    """Within the racy window a rewrite of the same size could keep its stamp: the
    course is read afresh each time until its files are old enough."""
    (course_dir / "course.toml").touch()
    assert filestamp.stamp(course_dir / "course.toml") is None
    assert load_course(course_dir) is not load_course(course_dir)


def test_the_glossary_is_reused_and_reread_when_edited(course_dir):
    first = load_glossary(course_dir)
    assert load_glossary(course_dir) == first
    glossary = course_dir / "glossary.toml"
    glossary.write_text(
        glossary.read_text(encoding="utf-8") + '\n[added]\nname = "Added"\ndefinition = "new"\n',
        encoding="utf-8",
    )
    _settle()
    assert "added" in load_glossary(course_dir)
    load_glossary(course_dir).clear()  # a caller's copy: the kept one is untouched
    assert "added" in load_glossary(course_dir)
