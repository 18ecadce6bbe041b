"""One figure of `GradeResult.plots` as a Textual widget; imported only when a result
with plots is shown, so the workbook starts without plotext (tests/test_tui_imports.py)."""

from __future__ import annotations

from textual_plotext import PlotextPlot

from workbook.tui.plotting import draw, no_colour


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
        draw(self.plt, self.figure, colour=not no_colour())
