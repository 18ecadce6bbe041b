"""The Plot tab with every lesson's plot: resizing never ends the app, the legend sits
below the plot (never over the curves), and lesson 11's plot shows the numbers its
lesson text prints.

Each lesson that draws a plot is graded once, with its reference solution, for the
whole module (the Keras lessons train a model: about a minute on two cores)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.conftest import write_solution
from tests.tui_support import screen_text
from workbook.grading.results import Verdict
from workbook.grading.runner import grade
from workbook.session import Session
from workbook.tui.app import WorkbookApp
from workbook.tui.figure import Figure, Legend
from workbook.workspace import init_workspace

REPO = Path(__file__).resolve().parents[1]
SIZES = [(80, 24), (120, 40)]


def _plotting_lessons() -> list[str]:
    """Every lesson whose check calls `plot(…)`: new plots are covered without a list."""
    return sorted(
        path.stem
        for path in (REPO / "checks").glob("[0-9]*.py")
        if re.search(r"^\s*plot\(", path.read_text(encoding="utf-8"), re.MULTILINE)
    )


PLOTTING = _plotting_lessons()


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    """lesson id → its reference solution's GradeResult (with the plots)."""
    workspace = init_workspace(tmp_path_factory.mktemp("plots") / "ws")
    results = {}
    for lesson_id in PLOTTING:
        lesson = workspace.course.lesson(lesson_id)
        write_solution(workspace, lesson)
        result = grade(workspace, lesson)
        assert result.verdict is Verdict.PASSED, (lesson_id, result.summary())
        assert result.plots, f"{lesson_id} drew no plot"
        results[lesson_id] = result
    return workspace, results


def test_the_plotting_lessons_are_found():
    assert {"01-activations", "11-vanishing-gradient", "21-keras-forecast"} <= set(PLOTTING)


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.mark.anyio
async def test_resizing_with_every_plot_shown(graded, monkeypatch):
    """80×24 ↔ 120×40, three times, with each lesson's plot on screen: lesson 11's log
    axis once ended the app with plotext's `math domain error` (its build takes the log
    of the data in place, so a second build took the log of negative numbers)."""
    workspace, results = graded
    monkeypatch.setenv("WORKBOOK_WARM", "0")
    monkeypatch.delenv("WORKBOOK_THEME", raising=False)
    monkeypatch.chdir(workspace.root)
    session = Session(workspace)
    app = WorkbookApp(session, watch=False)
    try:
        async with app.run_test(size=SIZES[0]) as pilot:
            await pilot.pause()
            for lesson_id, result in results.items():
                app.results[lesson_id] = (result, None)  # as if graded in this window
                await app.go_to_lesson(lesson_id)
                app.show_lesson(app.lesson)
                await pilot.press("o")
                await pilot.pause()
                for size in [*SIZES[1:], SIZES[0]] * 3:
                    await pilot.resize_terminal(*size)
                    await pilot.pause()
                    assert app.is_running, f"the app ended resizing lesson {lesson_id}'s plot"
                    text = screen_text(app)
                    for figure in result.plots:
                        for series in figure["series"]:
                            assert series["name"] in text, (lesson_id, size, series["name"])
                    assert "┌" in text and "└" in text  # the plot's frame is drawn
            assert app._exception is None
    finally:
        session.close()


@pytest.mark.anyio
@pytest.mark.parametrize("size", SIZES, ids=["80x24", "120x40"])
async def test_the_legend_is_below_the_plot_not_over_its_curves(graded, monkeypatch, size):
    """plotext draws its legend in the top left corner of the plot, where lesson 11's
    curves all start: the legend is a line of its own under the plot instead."""
    workspace, results = graded
    monkeypatch.setenv("WORKBOOK_WARM", "0")
    monkeypatch.chdir(workspace.root)
    session = Session(workspace)
    lesson_id = "11-vanishing-gradient"
    app = WorkbookApp(session, watch=False)
    try:
        async with app.run_test(size=size) as pilot:
            await pilot.pause()
            app.results[lesson_id] = (results[lesson_id], None)
            await app.go_to_lesson(lesson_id)
            app.show_lesson(app.lesson)
            await pilot.press("o")
            await pilot.pause()
            figure = app.main_screen.query_one(Figure)
            plotted = "\n".join(
                figure.render_line(y).text for y in range(figure.content_region.height)
            )
            legend = app.main_screen.query_one(Legend)
            legend_text = "\n".join(
                legend.render_line(y).text for y in range(legend.content_region.height)
            )
            assert legend.region.y >= figure.region.bottom
            entries = [entry.strip() for entry in re.split(r"━━ ", legend_text) if entry.strip()]
            names = [series["name"] for series in results[lesson_id].plots[0]["series"]]
            assert entries == names  # each whole, in order, none split across lines
            for name in names:
                assert name not in plotted
            assert legend.region.bottom <= app.main_screen.query_one("#plot-pane").region.bottom
    finally:
        session.close()


# -- lesson 11: the plot shows the lesson's own table ------------------------------------

LESSON_11 = REPO / "course" / "lessons" / "11-vanishing-gradient.md"


def _lesson_table() -> tuple[list[int], dict[tuple[str, float], list[str]]]:
    """The table lesson 11 prints: its steps, and per row (kind, scale or f) the
    numbers as printed (8.1e, two significant figures)."""
    text = LESSON_11.read_text(encoding="utf-8")
    steps_line = re.search(r"^step t:\s+([\d ]+)$", text, re.MULTILINE)
    assert steps_line, "the table's `step t:` line is gone from lesson 11"
    steps = [int(t) for t in steps_line.group(1).split()]
    rows: dict[tuple[str, float], list[str]] = {}
    for line in text.splitlines():
        if match := re.match(r"^RNN, W_h ~ ([\d.]+) N\(0,1\):\s+(.+)$", line):
            rows[("RNN", float(match.group(1)))] = match.group(2).split()
        elif match := re.match(r"^LSTM cell, f_t = ([\d.]+)\s*:\s+(.+)$", line):
            rows[("LSTM", float(match.group(1)))] = match.group(2).split()
    return steps, rows


def _plotted(figure: dict) -> dict[tuple[str, float], dict[int, float]]:
    rows = {}
    for series in figure["series"]:
        name = series["name"]
        if match := re.match(r"RNN, W_h ~ ([\d.]+)", name):
            key = ("RNN", float(match.group(1)))
        elif match := re.match(r"LSTM cell, f = ([\d.]+)", name):
            key = ("LSTM", float(match.group(1)))
        else:
            raise AssertionError(f"unexpected series {name!r}")
        rows[key] = {int(x): y for x, y in zip(series["x"], series["y"], strict=True)}
    return rows


def test_lesson_11_plot_shows_the_numbers_its_lesson_prints(graded):
    """Every row of the lesson's table is a curve of the plot, through the same numbers
    at every step the table shows (as printed: two significant figures)."""
    _, results = graded
    (figure,) = results["11-vanishing-gradient"].plots
    steps, table = _lesson_table()
    assert len(table) == 6, table  # two RNN scales, four forget gates
    plotted = _plotted(figure)
    assert set(plotted) == set(table)
    for key, printed in table.items():
        shown = [f"{plotted[key][t]:.1e}" for t in steps]
        assert shown == printed, (key, shown, printed)
