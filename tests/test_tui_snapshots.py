"""SVG snapshots of the main screen, a failed result and the glossary (80×24), and of
the screens issue 11 changed at 80×24 and 120×40: a long preformatted block, a result
with a plot, the glossary searched for "σ".

Deterministic by construction: a fresh workspace (its content is the shipped course,
pinned to the lessons the snapshots were taken with: `tui_support.pin_course`, so
adding a lesson changes no snapshot), shown relative to the cwd, the default theme,
durations frozen, no cursor blink, no background grading server. Update with `pytest
tests/test_tui_snapshots.py --snapshot-update` and look at the SVGs before committing
them.
"""

from __future__ import annotations

import pytest

from tests.conftest import write_solution
from tests.tui_support import LESSON, failing_version, pin_course, wait_for_results
from workbook.tui import widgets
from workbook.tui.app import WorkbookApp

SIZE = (80, 24)


@pytest.fixture
def workspace(workspace):
    """The learner's workspace of conftest.py, pinned to the snapshots' lessons."""
    return pin_course(workspace)


@pytest.fixture
def app(monkeypatch, workspace, session):
    monkeypatch.setenv("WORKBOOK_WARM", "0")
    monkeypatch.delenv("WORKBOOK_THEME", raising=False)
    monkeypatch.delenv("COLORFGBG", raising=False)
    monkeypatch.chdir(workspace.root)
    monkeypatch.setattr(widgets, "format_duration", lambda seconds: "0.05 s")
    return WorkbookApp(session, watch=False)


def test_main_screen(snap_compare, app):
    assert snap_compare(app, terminal_size=SIZE)


def test_failed_result(snap_compare, app, workspace):
    lesson = workspace.course.lesson(LESSON)
    write_solution(workspace, lesson, failing_version(workspace.solution_for(lesson)))

    async def check(pilot) -> None:
        await pilot.press("c")
        await wait_for_results(app, pilot, 1)

    assert snap_compare(app, terminal_size=SIZE, run_before=check)


def test_glossary(snap_compare, app):
    async def search(pilot) -> None:
        await pilot.pause()  # the main screen's widgets are mounted
        await pilot.press("g")
        await pilot.pause()  # the glossary screen is up (slow on a busy machine)
        await pilot.press(*"gate")
        await pilot.pause()
        await pilot.pause()  # the search has filtered the list

    assert snap_compare(app, terminal_size=SIZE, run_before=search)


SIZES = [(80, 24), (120, 40)]


@pytest.mark.parametrize("size", SIZES, ids=["80x24", "120x40"])
def test_long_preformatted_block(snap_compare, app, size):
    """Lesson 19's weight table wraps behind ↪ instead of losing "gate order i, f, c, o"."""

    async def open_lesson(pilot) -> None:
        await pilot.pause()  # the main screen's widgets are mounted
        await app.go_to_lesson("19-keras-weight-bridge")
        await pilot.pause()
        await pilot.press("pagedown")
        await pilot.pause()

    assert snap_compare(app, terminal_size=size, run_before=open_lesson)


@pytest.mark.parametrize("size", SIZES, ids=["80x24", "120x40"])
def test_result_with_a_plot(snap_compare, app, workspace, size):
    lesson = workspace.course.lesson("11-vanishing-gradient")
    write_solution(workspace, lesson)

    async def check(pilot) -> None:
        await pilot.pause()  # the main screen's widgets are mounted
        await app.go_to_lesson(lesson.id)
        await pilot.press("c")
        await wait_for_results(app, pilot, 1)
        await pilot.press("o")
        await pilot.pause()

    assert snap_compare(app, terminal_size=size, run_before=check)


@pytest.mark.parametrize("size", SIZES, ids=["80x24", "120x40"])
def test_glossary_search_sigma(snap_compare, app, size):
    assert snap_compare(app, press=["g", "σ"], terminal_size=size)
