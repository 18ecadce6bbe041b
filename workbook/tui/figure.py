"""One figure of `GradeResult.plots` as Textual widgets, the plot and its legend below
it; imported only when a result with plots is shown, so the workbook starts without
plotext (tests/test_tui_imports.py)."""

from __future__ import annotations

from textual.app import ComposeResult, RenderResult
from textual.containers import Vertical
from textual.content import Content
from textual.geometry import Size
from textual.widget import Widget
from textual_plotext import PlotextPlot
from textual_plotext.plot import Plot

from workbook.present.plotting import LEGEND_GAP, draw, legend, legend_lines, no_colour


class Figure(PlotextPlot):
    """textual-plotext redraws at every size and follows the app's light/dark theme."""

    def __init__(self, figure: dict) -> None:
        super().__init__(classes="plot")
        self.figure = figure

    def on_mount(self) -> None:
        # The ANSI themes name the terminal's own colours, which textual-plotext's
        # "auto" theme turns into black on black: plotext's "clear" theme draws text,
        # frame and ticks in the terminal's default colour instead.
        if self.app.theme.startswith("ansi"):
            self.theme = "clear"

    def render(self) -> RenderResult:
        """Every render (a resize, a theme change) draws the figure afresh: plotext's
        build takes the log of a log-scaled plot's data *in place*, so a second build of
        the same figure took log10 of negative numbers and ended the app."""
        self._plot = Plot()
        draw(self._plot, self.figure, colour=not no_colour())
        return super().render()


class Legend(Widget):
    """The series' names, each after a mark in its line's colour, packed into lines as
    wide as the pane at every render (an entry is never split across lines)."""

    DEFAULT_CSS = "Legend { height: auto; }"

    def __init__(self, figure: dict) -> None:
        super().__init__(classes="legend")
        self.entries = [
            Content.from_markup(
                f"[{'ansi_' + colour if colour else ''}]$mark[/] $name", mark=mark, name=name
            )
            for mark, colour, name in legend(figure, colour=not no_colour())
        ]

    def _lines(self, width: int) -> list[list[int]]:
        return legend_lines([entry.cell_length for entry in self.entries], max(1, width))

    def render(self) -> Content:
        gap = Content(" " * LEGEND_GAP)
        lines = self._lines(self.content_region.width)
        return Content("\n").join(gap.join(self.entries[i] for i in line) for line in lines)

    def get_content_height(self, container: Size, viewport: Size, width: int) -> int:
        return len(self._lines(width))


class PlotBlock(Vertical):
    """A plot and its legend."""

    def __init__(self, figure: dict) -> None:
        super().__init__(classes="plot-block")
        self.figure = figure

    def compose(self) -> ComposeResult:
        yield Figure(self.figure)
        yield Legend(self.figure)
