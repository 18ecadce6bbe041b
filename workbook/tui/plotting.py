"""Plots of the learner's own numbers (`GradeResult.plots`), drawn with plotext.

Shared by the TUI's Plot tab (through textual-plotext's `PlotextPlot`, whose `plt` is
a plotext module of its own) and `workbook check --plot` (plain plotext, as text).
Nothing here imports Textual or plotext at module level: the CLI imports this for
`--plot` only, and the TUI only once a result with plots is shown.

plotext over textual-plot: one library draws both faces (textual-plot is a Textual
widget only, and needs numpy ≥ 2.2), it is pure Python (≈ 1 MB, no dependencies),
and its braille lines keep five series apart at 80×24.
"""

from __future__ import annotations

import math
import os
from typing import Any

# Without colour the series differ by their marks; with colour, by colour (braille
# lines are the finest at 80×24).
NO_COLOUR_MARKERS = ["•", "+", "x", "*", "o", "#"]


def no_colour() -> bool:
    return bool(os.environ.get("NO_COLOR"))


def _pieces(xs: list, ys: list, log_y: bool) -> list[tuple[list[float], list[float]]]:
    """The series split at its gaps (None, NaN, and on a log axis values ≤ 0)."""
    pieces: list[tuple[list[float], list[float]]] = [([], [])]
    for x, y in zip(xs, ys, strict=False):
        bad = y is None or x is None or not math.isfinite(y) or (log_y and y <= 0)
        if bad:
            if pieces[-1][0]:
                pieces.append(([], []))
            continue
        pieces[-1][0].append(float(x))
        pieces[-1][1].append(float(y))
    return [piece for piece in pieces if piece[0]]


def draw(plt: Any, figure: dict, *, colour: bool = True) -> None:
    """Draw one figure ({"title", "x_label", "y_label", "log_y", "series"}) on `plt`."""
    plt.clear_data()
    log_y = bool(figure.get("log_y"))
    plt.title(figure.get("title", ""))
    plt.xlabel(figure.get("x_label", ""))
    plt.ylabel(figure.get("y_label", ""))
    if log_y:
        plt.yscale("log")
    shown: list[float] = []
    steps: list[float] = []
    for index, series in enumerate(figure.get("series", [])):
        marker = "braille" if colour else NO_COLOUR_MARKERS[index % len(NO_COLOUR_MARKERS)]
        for piece, (xs, ys) in enumerate(_pieces(series["x"], series["y"], log_y)):
            label = series["name"] if piece == 0 else None
            plt.plot(xs, ys, marker=marker, label=label)
            shown += ys
            steps += xs
    if log_y and shown:
        plt.yticks(*decade_ticks(min(shown), max(shown)))
    if steps and all(x == int(x) for x in steps):
        plt.xticks(whole_ticks(min(steps), max(steps)))


def whole_ticks(low: float, high: float, most: int = 6) -> list[int]:
    """Whole-number ticks for an axis of time steps: plotext would label 0..5 as 1.2, 2.5 …"""
    low, high = int(low), int(high)
    step = max(1, math.ceil((high - low) / (most - 1)))
    return list(range(low, high + 1, step))


def decade_ticks(low: float, high: float, most: int = 6) -> tuple[list[float], list[str]]:
    """Powers of ten over [low, high] labelled 1e-20 …: plotext's own log labels print
    every digit (0.0000000000000000402760), wider than the plot at 80 columns."""
    first, last = math.floor(math.log10(low)), math.ceil(math.log10(high))
    step = max(1, math.ceil((last - first) / (most - 1)))
    powers = range(last, first - 1, -step)
    return [10.0**k for k in powers], ["1" if k == 0 else f"1e{k}" for k in powers]


def as_text(figure: dict, width: int, height: int, *, colour: bool = True) -> str:
    """The figure as terminal text (ANSI colours unless `colour` is off or NO_COLOR set)."""
    import plotext as plt

    plt.clear_figure()
    colour = colour and not no_colour()
    if colour:  # the terminal's own background and text colour, light or dark
        plt.canvas_color("default")
        plt.axes_color("default")
        plt.ticks_color("default")
    else:
        plt.theme("clear")
    plt.plotsize(width, height)
    draw(plt, figure, colour=colour)
    return plt.build()
