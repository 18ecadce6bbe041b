"""Command palette (ctrl+p): the footer's actions, plus "go to lesson N" and glossary terms.

One provider yields Textual's own commands too (theme, keys, screenshot), after the
workbook's and at a lower score: the palette sorts hits by score and lists equal ones
as they arrive, so with two providers Textual's generic commands often came first."""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import TYPE_CHECKING, Any, Protocol

from textual.command import DiscoveryHit, Hit, Hits, Provider

if TYPE_CHECKING:
    from workbook.session import Session


class CommandHost(Protocol):
    """What the palette needs of the app: the app imports this module, never the
    reverse (ARCHITECTURE.md: no import circles)."""

    session: Session

    def run_action(self, action: str) -> Any: ...

    def go_to_lesson(self, lesson_id: str) -> Any: ...

    def open_glossary(self, key: str | None = None) -> Any: ...


# (title, action, help): the same actions the footer keys run.
ACTIONS = [
    ("Check the lesson", "check", "Grade the selected lesson now (c)"),
    ("Next lesson", "next_lesson", "Select the next lesson (n)"),
    ("Previous lesson", "previous_lesson", "Select the previous lesson (p)"),
    ("Reveal the next hint", "hint", "One more hint for this lesson (h)"),
    ("Show the plots", "show_tab('plot')", "Your own numbers, drawn by the last check (o)"),
    ("Open the glossary", "glossary", "Terms unlocked so far, searchable (g)"),
    ("Edit the exercise", "edit", "Open the file in $VISUAL / $EDITOR (e)"),
    ("Reset the exercise", "reset", "Restore the stub; your file is backed up (r)"),
    ("Show the reference solution", "solution", "Opens once you have passed the lesson (s)"),
    ("Quit", "quit", "Leave the workbook (q)"),
]


class WorkbookCommands(Provider):
    """Actions, lessons and glossary terms, fuzzy-matched as you type."""

    @property
    def workbook(self) -> CommandHost:
        return self.app  # type: ignore[return-value]

    def _commands(self) -> list[tuple[str, Callable[[], object], str]]:
        app = self.workbook
        commands: list[tuple[str, Callable[[], object], str]] = [
            (title, partial(app.run_action, action), help_text)
            for title, action, help_text in ACTIONS
        ]
        for lesson in app.session.course.lessons:
            commands.append(
                (
                    f"Go to lesson {lesson.number}: {lesson.title}",
                    partial(app.go_to_lesson, lesson.id),
                    lesson.exercise,
                )
            )
        unlocked = app.session.unlocked_terms()
        for term in app.session.workspace.glossary.values():
            if term.key in unlocked:
                commands.append(
                    (
                        f"Glossary: {term.name}",
                        partial(app.open_glossary, term.key),
                        term.definition[:80],
                    )
                )
        return commands

    def _textual_commands(self) -> list[tuple[str, Callable[[], object], str]]:
        ours = {title.lower() for title, _, _ in ACTIONS}
        return [
            (command.title, command.callback, command.help)
            for command in self.app.get_system_commands(self.screen)
            if command.title.lower() not in ours and command.title != "Quit the application"
        ]

    async def discover(self) -> Hits:
        for title, callback, help_text in (
            self._commands()[: len(ACTIONS)] + self._textual_commands()
        ):
            yield DiscoveryHit(title, callback, help=help_text)

    async def search(self, query: str) -> Hits:
        matcher = self.matcher(query)
        for ranked, commands in ((1.0, self._commands()), (0.5, self._textual_commands())):
            for title, callback, help_text in commands:
                score = matcher.match(title)
                if score > 0:
                    yield Hit(score * ranked, matcher.highlight(title), callback, help=help_text)
