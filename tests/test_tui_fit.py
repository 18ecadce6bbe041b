"""What a new learner saw go wrong at 80×24 and 120×40, each now held in place: the
status line cut mid-sentence, expected/got values split mid-number, the lesson list
drawn at a width it no longer has, a path split across lines, a key missing from the
footer and the README."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from textual.widgets import OptionList

from tests.tui_support import BATCH_EXPECTED, BATCH_GOT, failed_with_arrays, screen_text
from workbook.grading.results import ErrorInfo, GradeResult, Verdict
from workbook.present.fitting import fit_value, pack, value_atoms
from workbook.tui.app import WorkbookApp
from workbook.tui.screens import MainScreen
from workbook.tui.widgets import LessonList, ResultPane, VerdictBar, render_result

REPO = Path(__file__).resolve().parents[1]
SIZES = [(80, 24), (120, 40)]
pytestmark = pytest.mark.anyio


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture(autouse=True)
def _cold_and_still(monkeypatch, workspace):
    monkeypatch.setenv("WORKBOOK_WARM", "0")
    monkeypatch.delenv("WORKBOOK_THEME", raising=False)
    monkeypatch.delenv("COLORFGBG", raising=False)
    monkeypatch.chdir(workspace.root)


def _syntax_error() -> GradeResult:
    error = ErrorInfo(
        "syntax",
        "syntax error at exercises/03-forget-gate.py:2: '(' was never closed",
        file="exercises/03-forget-gate.py",
        line=2,
        code="def forget_gate(W_f, b_f, h_prev, x_t:",
    )
    return GradeResult("03-forget-gate", Verdict.ERROR, 0.5, error=error)


async def _show(app, pilot, result: GradeResult) -> None:
    lesson = app.session.course.lesson(result.lesson)
    app.results[lesson.id] = (result, None)
    await app.go_to_lesson(lesson.id)
    app.show_lesson(lesson)
    await pilot.press("v")
    await pilot.pause()


# -- expected/got values --------------------------------------------------------------


def test_values_break_only_between_entries_and_before_the_shape():
    assert value_atoms("[ 1.2, -0.3] (shape (2, 1))") == ["[ 1.2,", "-0.3]", "(shape (2, 1))"]
    assert value_atoms("[…, 0.1, 0.2] (entries 6–11 of shape (2, 4))")[-1] == (
        "(entries 6–11 of shape (2, 4))"
    )
    lines = fit_value(BATCH_GOT, 30)
    assert all(len(line) <= 30 for line in lines)
    assert lines[-1] == "(shape (2, 4))"
    assert " ".join(lines).split() == BATCH_GOT.split()  # nothing lost, nothing split
    assert pack([5, 5, 5], 11) == [[0, 1], [2]]
    assert pack([20], 10) == [[0]]  # too wide for any line: a line of its own


def _region_text(app, widget) -> str:
    """What the screen shows inside `widget`, row by row."""
    region = widget.region
    rows = screen_text(app).splitlines()[region.y : region.bottom]
    return "\n".join(row[region.x : region.right] for row in rows)


def _numbers(text: str) -> set[str]:
    return set(re.findall(r"-?\d+\.\d+", text))


@pytest.mark.parametrize("size", SIZES, ids=["80x24", "120x40"])
async def test_expected_and_got_never_split_a_number(session, size):
    app = WorkbookApp(session, watch=False)
    async with app.run_test(size=size) as pilot:
        await pilot.pause()
        await _show(app, pilot, failed_with_arrays())
        shown = _region_text(app, app.main_screen.query_one(ResultPane))
        shown = shown.replace("0.50 s", "")  # the duration
        whole = _numbers(BATCH_EXPECTED + BATCH_GOT)
        assert _numbers(shown) <= whole | _numbers("0.39210815 0.73321036 1.22578661 -0.35263079")
        assert "0.1552945" in shown and "(shape (2, 4))" in shown
        for row in shown.splitlines():
            assert row.count("(shape") == len(re.findall(r"\(shape \(2, [14]\)\)", row)), row
            assert not row.rstrip().endswith("[") and not row.lstrip().startswith(","), row
        # A continuation line starts under the first value, not under the label.
        rows = shown.splitlines()
        first = next(i for i, row in enumerate(rows) if "expected [0.1552945" in row)
        column = rows[first].index("[")
        if "(shape (2, 4))" not in rows[first]:
            assert rows[first + 1][:column].strip() == ""
            assert rows[first + 1][column] not in " "


async def test_values_are_fitted_again_after_a_resize(session):
    app = WorkbookApp(session, watch=False)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        await _show(app, pilot, failed_with_arrays())
        await pilot.resize_terminal(80, 24)
        await pilot.pause()
        await pilot.pause()
        pane = app.main_screen.query_one(ResultPane)
        width = pane.scrollable_content_region.width
        for widget in pane.query(".values"):
            for line in str(widget.content).splitlines():
                assert len(line) <= width - 4, line


def test_render_result_without_a_width_keeps_one_line_per_value(workspace):
    lesson = workspace.course.lesson("03-forget-gate")
    lines = render_result(failed_with_arrays(), lesson, None, "exercises/03-forget-gate.py")
    values = [str(content) for content, classes in lines if "values" in classes]
    assert values[0] == "expected " + BATCH_EXPECTED


# -- the status line --------------------------------------------------------------------


@pytest.mark.parametrize("size", SIZES, ids=["80x24", "120x40"])
async def test_a_long_verdict_wraps_onto_two_lines_and_ends_in_an_ellipsis(session, size):
    """'! error: syntax error at' was all an 80-column bar showed of a syntax error."""
    app = WorkbookApp(session, watch=False)
    async with app.run_test(size=size) as pilot:
        await pilot.pause()
        await _show(app, pilot, _syntax_error())
        bar = app.main_screen.query_one(VerdictBar)
        rows = [row.rstrip() for row in _region_text(app, bar).splitlines()]
        assert 1 <= len(rows) <= 2
        shown = " ".join(row.strip() for row in rows)
        assert shown.startswith("! error: syntax error at")
        assert "exercises/03-forget-gate.py:2" in shown  # the place, whole
        if not shown.endswith(")"):  # cut short: says so
            assert shown.endswith("…")
        assert "error: syntax error at" in bar.text and "never closed" in bar.text


async def test_a_short_verdict_stays_on_one_line(session):
    app = WorkbookApp(session, watch=False)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        await _show(app, pilot, failed_with_arrays())
        assert app.main_screen.query_one(VerdictBar).size.height == 1


# -- the lesson list --------------------------------------------------------------------


@pytest.mark.parametrize(("first", "then"), [(SIZES[0], SIZES[1]), (SIZES[1], SIZES[0])])
async def test_the_lesson_list_is_drawn_at_its_width_even_without_a_resize_event(
    session, monkeypatch, first, then
):
    """A resize while the app starts left the list drawn at 28 columns at 120×40 until
    a key redrew it; the list now redraws whenever its width is not the drawn one."""
    monkeypatch.setattr(OptionList, "_on_resize", lambda self: None)  # the lost event
    app = WorkbookApp(session, watch=False)
    async with app.run_test(size=first) as pilot:
        await pilot.pause()
        await pilot.resize_terminal(*then)
        await pilot.pause()
        await pilot.pause()
        lessons = app.main_screen.query_one(LessonList)
        width = lessons.scrollable_content_region.width
        for y in range(lessons.size.height):
            assert lessons.render_line(y).cell_length == width
        text = screen_text(app)
        if then == SIZES[1]:
            assert "The concatenation [h_{t-1}, x_…" in text
        else:
            assert "The concatenation [h…" in text


# -- paths ------------------------------------------------------------------------------


async def test_a_workspace_elsewhere_is_named_beside_the_file_not_joined_to_it(
    session, workspace, monkeypatch, tmp_path
):
    """`workbook -w ~/lstm-workbook` (the quick start) from the clone: the header said
    File: /home/…/lstm-workbook/exercises/01-activations.p|y at 80 columns."""
    monkeypatch.setenv("HOME", str(workspace.root.parent))
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    app = WorkbookApp(session, watch=False)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        lesson = session.course.lessons[0]
        assert app.display_path(lesson) == f"{lesson.exercise} in ~/{workspace.root.name}"
        text = screen_text(app)
        assert lesson.exercise in text


# -- keys -------------------------------------------------------------------------------


async def test_the_footer_shows_the_plot_key(session):
    for size in SIZES:
        app = WorkbookApp(session, watch=False)
        async with app.run_test(size=size) as pilot:
            await pilot.pause()
            await pilot.pause()
            footer = screen_text(app).splitlines()[-1]
            assert "o Plot" in footer and "q Quit" in footer and "c Check" in footer


def test_the_readme_key_table_names_every_key():
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    table = readme.split("| key | action |", 1)[1].split("\n\n", 1)[0]
    listed = set(re.findall(r"`([^`]+)`", table))
    keys = {binding.key for binding in MainScreen.BINDINGS} | {"q", "ctrl+p"}
    assert keys <= listed, keys - listed
    assert "Plot" in table or "plot" in table


async def test_a_wrapped_check_name_stays_under_itself(session):
    app = WorkbookApp(session, watch=False)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        await _show(app, pilot, failed_with_arrays())
        rows = _region_text(app, app.main_screen.query_one(ResultPane)).splitlines()
        first = next(i for i, row in enumerate(rows) if "✗ works on a batch" in row)
        assert rows[first + 1].startswith("   ") and rows[first + 1][3] != " "
