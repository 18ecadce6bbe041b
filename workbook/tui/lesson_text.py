"""The lesson text as one renderable: Markdown drawn by rich, preformatted lines wrapped.

Why not Textual's `Markdown` widget: it mounts a widget per block (a lesson switch cost
100–260 ms, most of it layout), and its code fences clip long lines silently, so at
80×24 an equation lost its key words. One `Static` holding this renderable draws a
lesson in a few milliseconds, and a preformatted line wider than the pane continues on
the next line behind a visible `↪`, indented, so nothing is cut and nothing reads as a
new line of the equation.
"""

from __future__ import annotations

from typing import ClassVar

from rich.console import Console, ConsoleOptions, RenderResult
from rich.markdown import CodeBlock, Heading, Markdown
from rich.segment import Segment
from rich.style import Style
from rich.text import Text
from rich.theme import Theme
from textual.geometry import Size
from textual.strip import Strip
from textual.widget import Widget

GUTTER = "▏ "  # marks a preformatted block (equations, code) down its left edge
CONTINUED = "↪ "  # starts the rest of a preformatted line that did not fit

# ANSI colour names only, never a background: the ANSI themes draw them with the
# terminal's own palette, light or dark; under NO_COLOR bold and underline remain.
THEME = Theme(
    {
        "markdown.code": Style(bold=True, color="cyan"),
        "markdown.code_block": Style(color="cyan"),
        "markdown.block_quote": Style(italic=True),
        "markdown.h1": Style(bold=True, underline=True),
        "markdown.h2": Style(bold=True, underline=True),
        "markdown.h3": Style(bold=True),
        "markdown.h4": Style(bold=True, italic=True),
        "markdown.link": Style(underline=True),
        "markdown.table.border": Style(dim=True),
        "markdown.table.header": Style(bold=True),
        "markdown.list": Style(),
        "markdown.item.number": Style(bold=True),
        "lesson.gutter": Style(dim=True),
        "lesson.continued": Style(bold=True, color="yellow"),
    }
)


class LeftHeading(Heading):
    """Headings flush left, like the rest of the pane (rich centres h1 and h2)."""

    LEVEL_ALIGN: ClassVar = {}


class WrappedBlock(CodeBlock):
    """A preformatted block: every character kept, long lines continued behind `↪`."""

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        style = console.get_style("markdown.code_block")
        gutter = Segment(GUTTER, console.get_style("lesson.gutter"))
        continued = Segment(CONTINUED, console.get_style("lesson.continued"))
        width = max(8, options.max_width - len(GUTTER))
        for line in str(self.text).rstrip().splitlines() or [""]:
            for index, piece in enumerate(wrap_preformatted(line, width)):
                yield gutter
                if index:
                    yield continued
                yield Segment(piece, style)
                yield Segment.line()


def wrap_preformatted(line: str, width: int) -> list[str]:
    """`line` cut into pieces that fit `width` cells, the continuations leaving room for
    `↪`; cut at a space when one is near, so a symbol such as h_{t-1} stays whole."""
    line = line.rstrip()
    pieces: list[str] = []
    room = width
    while Text(line).cell_len > room:
        cut = _fit(line, room)
        space = line.rfind(" ", room // 2, cut + 1)
        if space > 0:
            cut = space
        pieces.append(line[:cut].rstrip())
        line = line[cut:].lstrip()
        room = width - len(CONTINUED)
    pieces.append(line)
    return pieces


def _fit(line: str, cells: int) -> int:
    """How many characters of `line` fit in `cells` terminal cells (σ is one, 漢 two)."""
    total = 0
    for index, char in enumerate(line):
        total += Text(char).cell_len
        if total > cells:
            return max(1, index)
    return len(line)


class LessonMarkdown(Markdown):
    """The lesson's Markdown with the workbook's elements and theme."""

    elements: ClassVar = {
        **Markdown.elements,
        "heading_open": LeftHeading,
        "fence": WrappedBlock,
        "code_block": WrappedBlock,
    }

    def __init__(self, text: str) -> None:
        super().__init__(text, hyperlinks=False)
        # Drawn once per width and base style: coming back to a lesson costs nothing.
        self._strips: dict[tuple[int, Style], list[Strip]] = {}

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        with console.use_theme(THEME):
            drawn = list(console.render(_Unthemed(self), options))
        yield from drawn

    def strips(self, console: Console, width: int, base: Style) -> list[Strip]:
        """The lines at `width` cells, over the widget's own style (its colours)."""
        key = (width, base)
        strips = self._strips.get(key)
        if strips is None:
            lines = console.render_lines(self, console.options.update_width(width), pad=False)
            strips = [Strip(line).apply_style(base) for line in lines]
            self._strips[key] = strips
        return strips


class LessonText(Widget):
    """The lesson text drawn line by line (Textual's line API) from cached strips: no
    widget per block and no re-measuring, so a lesson switch costs a few milliseconds."""

    DEFAULT_CSS = "LessonText { height: auto; }"

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.markdown: LessonMarkdown | None = None

    def show(self, markdown: LessonMarkdown) -> None:
        if markdown is not self.markdown:
            self.markdown = markdown
            self.refresh(layout=True)

    def _lines(self, width: int) -> list[Strip]:
        if self.markdown is None or width <= 0:
            return []
        return self.markdown.strips(self.app.console, width, self.rich_style)

    def get_content_width(self, container: Size, viewport: Size) -> int:
        return container.width

    def get_content_height(self, container: Size, viewport: Size, width: int) -> int:
        return len(self._lines(width))

    def render_line(self, y: int) -> Strip:
        width = self.content_size.width
        lines = self._lines(width)
        return lines[y].extend_cell_length(width) if y < len(lines) else Strip.blank(width)


class _Unthemed:
    """Renders the Markdown itself (inside `LessonMarkdown`'s theme)."""

    def __init__(self, markdown: LessonMarkdown) -> None:
        self.markdown = markdown

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        yield from Markdown.__rich_console__(self.markdown, console, options)
