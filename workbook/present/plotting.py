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
# Each series' colour, by plotext's name for it (ANSI 12, 10, 9, 14, 13, 11: the
# terminal's own bright colours), and as rich names it: the legend is drawn outside the
# plot, by the face, in the same colour as the line.
PALETTE = ["blue+", "green+", "red+", "cyan+", "magenta+", "orange+"]
RICH_COLOURS = [
    "bright_blue",
    "bright_green",
    "bright_red",
    "bright_cyan",
    "bright_magenta",
    "bright_yellow",
]
LEGEND_GAP = 3  # spaces between two legend entries on a line


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
    """Draw one figure ({"title", "x_label", "y_label", "log_y", "series"}) on `plt`,
    without a legend: plotext puts it in the top left corner, where at 80×24 it covered
    the start of every falling curve. The faces draw `legend(...)` below the plot."""
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
        marker, colour_name = _look(index, colour)
        for xs, ys in _pieces(series["x"], series["y"], log_y):
            plt.plot(xs, ys, marker=marker, color=colour_name)
            shown += ys
            steps += xs
    if log_y and shown:
        plt.yticks(*decade_ticks(min(shown), max(shown)))
    if steps and all(x == int(x) for x in steps):
        plt.xticks(whole_ticks(min(steps), max(steps)))


def _look(index: int, colour: bool) -> tuple[str, str | None]:
    """A series' plotext marker and colour (None: the theme's own)."""
    if colour:
        return "braille", PALETTE[index % len(PALETTE)]
    return NO_COLOUR_MARKERS[index % len(NO_COLOUR_MARKERS)], None


def legend(figure: dict, *, colour: bool = True) -> list[tuple[str, str | None, str]]:
    """Each series as (its mark, its rich colour or None, its name), in plot order."""
    entries = []
    for index, series in enumerate(figure.get("series", [])):
        if colour:
            entries.append(("━━", RICH_COLOURS[index % len(RICH_COLOURS)], series["name"]))
        else:
            entries.append((_look(index, False)[0] * 2, None, series["name"]))
    return entries


def legend_lines(widths: list[int], width: int) -> list[list[int]]:
    """Entries (by their widths in cells) packed into lines at most `width` wide, in
    order, never splitting one: which entries go on each line."""
    from workbook.present.fitting import pack

    return pack(widths, width, LEGEND_GAP)


def whole_ticks(low: float, high: float, most: int = 6) -> list[int]:
    """Whole-number ticks for an axis of time steps (plotext would label 0..5 as 1.2,
    2.5 …): the first step, then round multiples (1, 10, 20 … 50, as lesson 11's table
    reads), at most `most` of them."""
    low, high = int(low), int(high)
    span = max(1, high - low)
    step = next(
        size
        for size in (k * 10**e for e in range(12) for k in (1, 2, 5))
        if span / size <= most - 1
    )
    ticks = [low]
    ticks += [t for t in range((low // step + 1) * step, high + 1, step) if t - low >= step / 2]
    return ticks


def decade_ticks(low: float, high: float, most: int = 6) -> tuple[list[float], list[str]]:
    """Powers of ten over [low, high] labelled 1e-20 …: plotext's own log labels print
    every digit (0.0000000000000000402760), wider than the plot at 80 columns."""
    first, last = math.floor(math.log10(low)), math.ceil(math.log10(high))
    step = max(1, math.ceil((last - first) / (most - 1)))
    powers = range(last, first - 1, -step)
    return [10.0**k for k in powers], ["1" if k == 0 else f"1e{k}" for k in powers]


def as_text(figure: dict, width: int, height: int, *, colour: bool = True) -> str:
    """The figure as terminal text (ANSI colours unless `colour` is off or NO_COLOR set),
    its legend below it."""
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
    entries = legend(figure, colour=colour)
    texts = [f"{mark} {name}" for mark, _, name in entries]
    rows = []
    for line in legend_lines([len(text) for text in texts], width):
        rows.append((" " * LEGEND_GAP).join(_ansi(texts[i], entries[i][1]) for i in line))
    return plt.build().rstrip("\n") + "\n" + "\n".join(rows)


# SGR codes of the bright colours, by rich's names for them.
_ANSI = {
    "bright_red": 91,
    "bright_green": 92,
    "bright_yellow": 93,
    "bright_blue": 94,
    "bright_magenta": 95,
    "bright_cyan": 96,
}


def _ansi(text: str, colour: str | None) -> str:
    """`text` with its mark (up to the first space) in `colour`, a rich colour name."""
    if colour is None:
        return text
    mark, _, rest = text.partition(" ")
    return f"\x1b[{_ANSI[colour]}m{mark}\x1b[0m {rest}"
