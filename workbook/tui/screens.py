"""Screens: the main workbook screen, the glossary, the solution and the reset confirmation."""

from __future__ import annotations

from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.content import Content
from textual.screen import ModalScreen, Screen
from textual.widgets import Button, Footer, Input, Label, Static, TabbedContent, TabPane

from workbook.glossary import Term, term_rank
from workbook.session import Session
from workbook.tui.widgets import (
    HintPane,
    LessonList,
    LessonPane,
    PlotPane,
    ProgressSummary,
    ResultPane,
    VerdictBar,
    with_code,
)

MOVE = Binding.Group("Next/prev")
# Every mark the lesson list uses, and the keys the footer has no room for at 80 columns.
LEGEND = Content.from_markup(
    "[$text-success]✓[/] passed [$text-error]✗[/] failed [$text-muted]·[/] new\n"
    "[$text-warning]![/] fails since its pass\n"
    "[$accent]▶[/] current  [b]↑↓ PgDn[/b] scroll\n"
    "[b]Tab[/b] list  [b]ctrl+p[/b] commands"
)


class MainScreen(Screen):
    """Lesson list on the left; the selected lesson, its last result and hints on the right."""

    # Actions live on the app, so the command palette can run them from any screen.
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("c", "app.check", "Check"),
        Binding("n", "app.next_lesson", "Next lesson", group=MOVE),
        Binding("p", "app.previous_lesson", "Previous lesson", group=MOVE),
        Binding("h", "app.hint", "Hint"),
        Binding("g", "app.glossary", "Glossary"),
        Binding("e", "app.edit", "Edit"),
        Binding("r", "app.reset", "Reset"),
        Binding("s", "app.solution", "Solution"),
        Binding("l", "app.show_tab('lesson')", "Lesson", show=False),
        Binding("v", "app.show_tab('result')", "Result", show=False),
        Binding("o", "app.show_tab('plot')", "Plot"),
    ]
    HORIZONTAL_BREAKPOINTS: ClassVar[list[tuple[int, str]]] = [
        (0, "-narrow"),
        (64, "-normal"),
        (120, "-wide"),
    ]

    def compose(self) -> ComposeResult:
        with Vertical(id="sidebar"):
            yield ProgressSummary(id="progress")
            yield LessonList(id="lessons")
            yield Static(LEGEND, id="legend")
        with Vertical(id="main"):
            yield VerdictBar(id="verdict")
            with TabbedContent(id="tabs", initial="lesson"):
                with TabPane("Lesson", id="lesson"):
                    yield LessonPane(id="lesson-pane")
                with TabPane("Result", id="result"):
                    yield ResultPane(id="result-pane")
                with TabPane("Hints", id="hints"):
                    yield HintPane(id="hint-pane")
                with TabPane("Plot", id="plot"):
                    yield PlotPane(id="plot-pane")
        # ctrl+p is in the legend: the footer needs its width for the lesson keys at 80 columns.
        yield Footer(compact=True, show_command_palette=False)

    async def on_mount(self) -> None:
        await self.app.start()  # type: ignore[attr-defined]

    def on_tabbed_content_tab_activated(self, event: TabbedContent.TabActivated) -> None:
        """The shown tab's pane takes the focus, so the arrows and PageUp/PageDown scroll
        what is on screen; unless the learner is moving through the list."""
        if not isinstance(self.focused, LessonList):
            event.pane.query_one(VerticalScroll).focus()


class GlossaryScreen(Screen):
    """Every term: unlocked ones with definition and equation, locked ones by name only."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "app.pop_screen", "Back"),
        Binding("ctrl+q", "app.quit", "Quit"),
    ]

    def __init__(self, session: Session, focus: str | None = None) -> None:
        super().__init__()
        self.session = session
        self.focus_key = focus
        self.unlocked = session.unlocked_terms()
        terms = list(session.workspace.glossary.values())
        # Unlocked terms first (in glossary order), then the locked ones.
        self.terms: list[Term] = sorted(terms, key=lambda t: t.key not in self.unlocked)

    def compose(self) -> ComposeResult:
        total = len(self.terms)
        opened = sum(t.key in self.unlocked for t in self.terms)
        yield Label(f"Glossary — {opened} of {total} terms unlocked", id="glossary-title")
        yield Input(
            placeholder="Search: a name, a symbol, words of a definition…",
            id="glossary-search",
        )
        with VerticalScroll(id="glossary-list"):
            for term in self.terms:
                yield Static(self._describe(term), id=f"term-{term.key}", classes="term-entry")
            yield Label("No term matches.", id="glossary-empty")
        yield Footer()

    def on_mount(self) -> None:
        search = self.query_one(Input)
        search.cursor_blink = not self.app.is_headless  # stable snapshots
        self.query_one("#glossary-empty").display = False
        if self.focus_key:
            self.call_after_refresh(self._jump, self.focus_key)

    def _jump(self, key: str) -> None:
        entry = self.query_one(f"#term-{key}", Static)
        entry.add_class("-chosen")
        self.query_one("#glossary-list", VerticalScroll).scroll_to_widget(
            entry, top=True, animate=False
        )

    def _describe(self, term: Term) -> Content:
        shown_symbol = term.symbol and term.symbol.lower() != term.name.lower()
        title = term.name + (f"  ({term.symbol})" if shown_symbol else "")
        lessons = self.session.term_lessons(term)
        if term.key not in self.unlocked:
            first = f"lesson {lessons[0].number}" if lessons else "a later lesson"
            return Content.from_markup(
                "[$text-muted]🔒 $title — unlocks with $first[/]", title=title, first=first
            )
        parts = [
            Content.from_markup("[b $text-accent]$title[/]", title=title),
            with_code(term.definition),
        ]
        if term.equation:
            parts.append(Content.from_markup("[$text-primary]$eq[/]", eq=term.equation))
        if lessons:
            names = ", ".join(f"{lesson.number}. {lesson.title}" for lesson in lessons)
            parts.append(Content.from_markup("[$text-muted]Lessons: $names[/]", names=names))
        return Content("\n").join(parts)

    def on_input_changed(self, event: Input.Changed) -> None:
        """Show the matching terms, the best first: an exact name, symbol or alias, then
        names that start with the query, then the rest (each in glossary order)."""
        ranks = {
            term.key: term_rank(term, event.value, names_only=term.key not in self.unlocked)
            for term in self.terms
        }
        listing = self.query_one("#glossary-list", VerticalScroll)
        order = sorted(
            range(len(self.terms)),
            key=lambda i: (ranks[self.terms[i].key] is None, ranks[self.terms[i].key] or 0, i),
        )
        for position, index in enumerate(order):
            entry = self.query_one(f"#term-{self.terms[index].key}")
            entry.display = ranks[self.terms[index].key] is not None
            if listing.children[position] is not entry:
                listing.move_child(entry, before=position)
        shown = sum(rank is not None for rank in ranks.values())
        self.query_one("#glossary-empty").display = shown == 0
        listing.scroll_home(animate=False)


class Dialog(ModalScreen):
    """A dialog clears the toasts, which at 80×24 covered its buttons; the app holds
    new ones until it closes (`WorkbookApp.notify`)."""

    def on_mount(self) -> None:
        self.app.clear_notifications()

    def on_unmount(self) -> None:
        self.app.call_later(self.app.release_toasts)  # type: ignore[attr-defined]


class ConfirmScreen(Dialog):
    """A yes/no question that a stray key cannot answer by accident (default: no)."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("y", "answer(True)", "Yes"),
        Binding("n,escape", "answer(False)", "No"),
    ]

    def __init__(self, question: str) -> None:
        super().__init__()
        self.question = question

    def compose(self) -> ComposeResult:
        with Vertical(id="confirm-box"):
            yield Static(self.question, id="confirm-question")
            with Horizontal(id="confirm-buttons"):
                yield Button("Yes, reset (y)", variant="error", id="yes")
                yield Button("No (n)", variant="primary", id="no")

    def on_mount(self) -> None:
        self.query_one("#no", Button).focus()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        self.dismiss(event.button.id == "yes")

    def action_answer(self, yes: bool) -> None:
        self.dismiss(yes)


class SolutionScreen(Dialog):
    """The annotated reference solution, shown only after a pass."""

    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape,s,q", "app.pop_screen", "Close")]

    def __init__(self, title: str, code: str) -> None:
        super().__init__()
        self.title_text = title
        self.code = code

    def compose(self) -> ComposeResult:
        from rich.syntax import Syntax

        theme = "ansi_dark" if self.app.current_theme.dark else "ansi_light"
        with Vertical(id="solution-box"):
            yield Label(self.title_text, id="solution-title")
            with VerticalScroll(id="solution-code"):
                yield Static(
                    Syntax(self.code, "python", theme=theme, line_numbers=True, word_wrap=True)
                )
            yield Footer()
