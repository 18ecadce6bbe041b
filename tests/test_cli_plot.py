"""Plots of the learner's own numbers: `workbook check N --plot` draws them as text,
`--json` carries them, and the checks that draw them (lessons 1, 9, 11, 15, 18, 21)
put them in `grade(...).plots` for the reference solutions."""

from __future__ import annotations

import json
import re

import pytest

from tests.conftest import run_cli, write_solution
from workbook.grading.results import Verdict
from workbook.grading.runner import grade

FIGURE_KEYS = {"title", "x_label", "y_label", "log_y", "series"}
SERIES_KEYS = {"name", "x", "y"}


def _figures(workspace, lesson_id: str, text: str | None = None) -> list[dict]:
    """The plots of one graded attempt (the reference unless `text` is given)."""
    lesson = workspace.course.lesson(lesson_id)
    write_solution(workspace, lesson, text)
    result = grade(workspace, lesson)
    if text is None:
        assert result.verdict is Verdict.PASSED, [c.message for c in result.failing]
    return result.plots


def _series(figure: dict) -> dict[str, dict]:
    return {s["name"]: s for s in figure["series"]}


def _well_formed(figure: dict) -> None:
    """The documented shape: every key present, x and y of equal length, plain numbers."""
    assert set(figure) == FIGURE_KEYS
    assert isinstance(figure["log_y"], bool) and figure["title"]
    for series in figure["series"]:
        assert set(series) == SERIES_KEYS
        assert len(series["x"]) == len(series["y"]) > 0
        assert all(v is None or isinstance(v, float) for v in series["x"] + series["y"])


def test_check_plot_prints_lesson_11_as_text(workspace):
    write_solution(workspace, workspace.course.lesson("11-vanishing-gradient"))
    result = run_cli(workspace, "check", "11", "--plot")
    assert result.exit_code == 0, result.output
    assert "Gradient reaching step 0" in result.output
    assert "LSTM cell, f = 0.99" in result.output  # the legend
    assert "┌" in result.output and "└" in result.output  # the frame of a text plot
    assert "\x1b[" not in result.output  # not a terminal: no colour codes


def test_check_plot_says_so_when_a_lesson_draws_none(workspace):
    write_solution(workspace, workspace.course.lesson("02-concat"))
    result = run_cli(workspace, "check", "2", "--plot")
    assert result.exit_code == 0, result.output
    assert "This check draws no plot." in result.output
    assert "┌" not in result.output
    as_json = json.loads(run_cli(workspace, "check", "2", "--json").output)
    assert as_json["plots"] == []


def test_check_without_plot_flag_draws_nothing(workspace):
    write_solution(workspace, workspace.course.lesson("11-vanishing-gradient"))
    result = run_cli(workspace, "check", "11")
    assert result.exit_code == 0
    assert "┌" not in result.output and "Gradient reaching step 0" not in result.output


def test_check_json_carries_plots_with_documented_keys(workspace):
    write_solution(workspace, workspace.course.lesson("11-vanishing-gradient"))
    result = run_cli(workspace, "check", "11", "--json")
    assert result.exit_code == 0
    (figure,) = json.loads(result.output)["plots"]
    _well_formed(figure)
    assert figure["log_y"] is True
    assert len(figure["series"]) == 6  # RNN at two scales, LSTM at four forget gates


def test_lesson_9_plots_each_hidden_units_trace(workspace):
    (figure,) = _figures(workspace, "09-lstm-forward")
    _well_formed(figure)
    series = _series(figure)
    assert set(series) == {"unit 1", "unit 2", "unit 3"}  # right answer: no expected lines
    assert series["unit 1"]["x"] == [0.0, 1.0, 2.0, 3.0, 4.0, 5.0]  # h0, then h_1 … h_T


def test_lesson_9_adds_the_expected_traces_when_yours_differ(workspace):
    lesson = workspace.course.lesson("09-lstm-forward")
    reference = workspace.solution_for(lesson)
    wrong = reference.replace("h_t, C_t = h0, C0", "h_t, C_t = h0, np.zeros_like(C0)")
    assert wrong != reference, "the mistake no longer applies to the solution"
    (figure,) = _figures(workspace, lesson.id, wrong)
    assert {"unit 1", "unit 1, expected"} <= set(_series(figure))


def test_lesson_15_plots_the_loss_falling_with_your_gradients(workspace):
    (figure,) = _figures(workspace, "15-bptt")
    _well_formed(figure)
    series = _series(figure)
    yours, exact = series["your gradients"]["y"], series["exact gradients"]["y"]
    assert len(yours) == 21  # the loss before each of 20 steps, and after the last
    assert yours[-1] < 0.6 * yours[0]
    assert yours == pytest.approx(exact)


def test_lesson_15_shows_wrong_gradients_climbing(workspace):
    lesson = workspace.course.lesson("15-bptt")
    wrong = workspace.solution_for(lesson).replace("diff = H - Y", "diff = Y - H")
    (figure,) = _figures(workspace, lesson.id, wrong)
    yours = _series(figure)["your gradients"]["y"]
    assert yours[-1] > yours[0]


def test_lesson_18_plots_the_forecast_against_series_and_baseline(workspace):
    (figure,) = _figures(workspace, "18-keras-predict-next")
    _well_formed(figure)
    series = _series(figure)
    assert set(series) == {"series", "naive: last value", "your model"}
    assert series["series"]["y"][-1] == 30.0
    assert series["your model"]["y"][-1] == pytest.approx(30.0, abs=1.0)
    assert series["naive: last value"]["y"][-1] == 29.0
    assert "final training loss" in figure["title"]


def test_lesson_21_plots_the_validation_period(workspace):
    (figure,) = _figures(workspace, "21-keras-forecast")
    _well_formed(figure)
    by_kind = {s["name"].split(" (")[0]: s for s in figure["series"]}
    assert set(by_kind) == {"series", "naive: last value", "your model"}
    assert by_kind["series"]["x"][0] == 204.0 and by_kind["series"]["x"][-1] == 239.0

    def mae(name: str) -> float:
        return float(name.split("MAE ")[1].rstrip(")"))

    assert mae(by_kind["your model"]["name"]) < mae(by_kind["naive: last value"]["name"])


def test_the_text_plot_puts_its_legend_below_the_frame():
    """plotext's own legend sat in the top left corner, over where lesson 11's curves
    start; `check --plot` prints it under the plot, each entry whole, at 80 columns."""
    from workbook.present.plotting import as_text

    names = [f"LSTM cell, f = {f}" for f in (0.5, 0.9, 0.99, 0.999)] + ["RNN, W_h ~ 1.0·N(0, 1)"]
    figure = {
        "title": "Gradient reaching step 0",
        "x_label": "t",
        "y_label": "norm",
        "log_y": True,
        "series": [
            {"name": name, "x": [1.0, 2.0, 3.0], "y": [1.0, 0.1 / (i + 1), 0.01 / (i + 1)]}
            for i, name in enumerate(names)
        ],
    }
    text = re.sub(r"\x1b\[[0-9;]*m", "", as_text(figure, 80, 20, colour=False))
    lines = text.splitlines()
    bottom = max(i for i, line in enumerate(lines) if "└" in line)
    inside, below = "\n".join(lines[: bottom + 1]), lines[bottom + 1 :]
    assert all(name not in inside for name in names)
    entries = [entry.strip() for line in below for entry in line.split("   ") if entry.strip()]
    assert [entry.split(" ", 1)[1] for entry in entries if entry[:1] in "•+x*o#"] == names
    assert all(len(line) <= 80 for line in lines)
