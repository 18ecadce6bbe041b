"""Human-readable output for the CLI, with rich (plain text when not on a terminal)."""

from __future__ import annotations

import functools
import io
from pathlib import Path

from rich.cells import cell_len
from rich.console import Console, Group
from rich.markup import escape
from rich.panel import Panel
from rich.progress_bar import ProgressBar
from rich.table import Table
from rich.text import Text

from workbook.catalog import Lesson
from workbook.glossary import Term
from workbook.grading.results import GradeResult, Verdict
from workbook.present.fitting import fit_value, output_note
from workbook.session import AttemptHint, LessonStatus

STATUS_STYLE = {
    "passed": ("✓ passed", "green"),
    "imported": ("✓ passed (imported)", "green"),
    "broken": ("! passed, now failing", "yellow"),
    "failed": ("✗ failed", "red"),
    "not-started": ("· not started", "dim"),
}
VERDICT_STYLE = {
    Verdict.PASSED: "bold green",
    Verdict.FAILED: "bold red",
    Verdict.ERROR: "bold red",
    Verdict.TIMEOUT: "bold yellow",
    Verdict.NOT_STARTED: "bold yellow",
}
OUTCOME_MARK = {"passed": ("✓", "green"), "failed": ("✗", "red"), "error": ("!", "red")}


def console() -> Console:
    return Console(highlight=False, soft_wrap=False)


@functools.cache
def warm_up() -> None:
    """Load what rich loads on its first print (its emoji table, its character-width
    tables: ~6 ms of a ~7.5 ms verdict), printing to nowhere: a cold check calls it
    while its judge is still starting, not after the verdict, while the learner waits."""
    scratch = Console(file=io.StringIO(), width=80, highlight=False, soft_wrap=False)
    scratch.print("[bold]✓ warm-up[/bold] — `check`", Text(" ✗ 漢字 → done", style="dim"))


def progress_line(passed: int, total: int) -> Table:
    """The sentence and the bar. A grid, not a Group: rich ends a Group whose last
    item is a ProgressBar without a newline, and the shell prompt lands on the bar."""
    pct = 100 * passed // total if total else 0
    grid = Table.grid()
    grid.add_row(Text(f"{passed} / {total} lessons passed ({pct}%)", style="bold"))
    grid.add_row(ProgressBar(total=total, completed=passed, width=40))
    return grid


def lessons_table(statuses: list[LessonStatus], missing: set[str] = frozenset()) -> Table:
    """One topic's lessons (the topic is the heading above the table); `missing`: the
    ids of lessons whose exercise file is gone, marked so."""
    table = Table(show_edge=False, pad_edge=False, expand=False)
    table.add_column("#", justify="right")
    table.add_column("lesson")
    table.add_column("status")
    table.add_column("attempts", justify="right")
    for s in statuses:
        label, style = STATUS_STYLE["imported" if s.imported and not s.broken else s.shown]
        title = f"{s.lesson.title}{'  ← current' if s.current else ''}"
        status = Text(label, style=style)
        if s.lesson.id in missing:
            status.append(", file missing", style="bold yellow")
        table.add_row(
            str(s.lesson.number),
            Text(title, style="bold" if s.current else ""),
            status,
            str(s.attempts),
        )
    return table


BACKUPS = ".workbook/backups/"


def missing_note(out: Console, missing: list[Lesson], *, folder_gone: bool) -> None:
    """Under `list`: which exercise files are gone and how to get them back (it used
    to list the lessons as if nothing were wrong)."""
    if folder_gone:
        text = (
            "exercises/ is missing, with every exercise file in it. `workbook reset --all` "
            f"restores the stubs; your earlier versions, if any, are in {BACKUPS}"
        )
    else:
        files = ", ".join(lesson.exercise for lesson in missing)
        numbers = " ".join(str(lesson.number) for lesson in missing)
        how = (
            f"`workbook reset {numbers}` restores its stub"
            if len(missing) == 1
            else f"`workbook reset N` restores each stub (N: {numbers})"
        )
        text = f"Missing: {files}. {how}; your earlier versions, if any, are in {BACKUPS}"
    out.print()
    indented(out, Text(text, style="bold yellow"), 0)


def missing_file(out: Console, lesson: Lesson, folder: Path) -> None:
    """`check N` when N's file is gone: said, not graded, not recorded."""
    if folder.is_dir():
        how = f"`workbook reset {lesson.number}` restores its stub"
    else:
        how = (
            "the whole exercises/ folder is gone: `workbook reset --all` restores every "
            f"stub (or `workbook reset {lesson.number}` this one)"
        )
    text = Text(
        f"{lesson.exercise} is missing, so lesson {lesson.number} was not checked and "
        f"nothing was recorded. {how[0].upper()}{how[1:]}; your earlier versions, if "
        f"any, are in {BACKUPS}",
        style="yellow",
    )
    indented(out, text, 0)


def grade_result(
    out: Console,
    result: GradeResult,
    title: str,
    exercise: str,
    hint: AttemptHint | None,
    hints_total: int,
    terms: list[Term],
    lesson_number: int,
) -> None:
    style = VERDICT_STYLE[result.verdict]
    out.print(
        Text(f"{title} — {result.headline}", style=style)
        + Text(f"  ({result.duration_s:.2f} s)", style="dim")
    )
    if result.tamper_warning:
        out.print(Text(result.tamper_warning, style="bold yellow"))
    for note in result.notes:
        out.print(Text(f"note: {note}", style="yellow"))
    if result.verdict is Verdict.NOT_STARTED:
        out.print(
            f"Open {escape(exercise)} in your editor, replace the TODOs, save, and check again."
        )
    err = result.error
    if err is not None and result.verdict is not Verdict.TIMEOUT:
        if err.file and err.line:
            out.print(Text(f"  {err.file}:{err.line}", style="bold"))
        if err.code:
            out.print(Text(f"    {err.code}", style="yellow"))
        if err.traceback and err.kind != "syntax":
            out.print(Text(err.traceback, style="dim"))
    repeats = result.repeated_from()
    as_above = result.not_run_as_above()
    for check in result.checks:
        mark, mstyle = OUTCOME_MARK.get(check.outcome, ("-", "dim"))
        indented(out, Text(check.name), 3, lead=Text(f" {mark} ", style=mstyle))
        if check.id in as_above:
            continue
        if check.id in repeats:
            same = f"the same error as “{repeats[check.id]}” above"
            indented(out, Text(same, style="dim"))
        elif check.outcome != "passed" and check.message:
            indented(out, Text(check.message, style=mstyle))
            for label, value in (("expected ", check.expected), ("got      ", check.got)):
                if value is not None:
                    indented(out, value_block(label, value, out.width - DETAIL - len(label)))
    if result.output.strip():
        out.print(output_panel(result.output, result.output_truncated))
    if hint is not None:
        number = hint.number
        label = f"Hint {number}/{hints_total}"
        if hint.is_about_check:
            label += f" — about the failing check '{hint.about_check}'"
        out.print(Text(f"{label}: ", style="bold cyan") + Text(hint.text))
        pointer = hint.pointer(f"run `workbook hint {lesson_number}`")
        if pointer is not None:
            out.print(Text(pointer, style="cyan"))
        elif hint.revealed < hints_total:
            out.print(
                Text(
                    f"Stuck? `workbook hint {lesson_number}` reveals hint {hint.revealed + 1} of "
                    f"{hints_total} for this lesson.",
                    style="dim",
                )
            )
    if terms and not result.passed:
        names = ", ".join(t.name for t in terms)
        out.print(Text(f"Glossary: {names}  (workbook glossary TERM)", style="dim"))
    if result.passed:
        out.print(
            f"Well done. See the reference with `workbook solution {lesson_number}`; "
            "`workbook list` shows what comes next."
        )


DETAIL = 5  # the indent of a check's diagnosis and values, under its name


def indented(out: Console, text: Text, indent: int = DETAIL, lead: Text | None = None) -> None:
    """Print `text` with every line, wrapped ones too, `indent` columns in (after
    `lead`, if given, on the first): a diagnosis wrapped at 80 columns used to continue
    at the left edge, under the check marks."""
    width = max(20, out.width - indent)
    for row, line in enumerate(text.wrap(out, width)):
        line.rstrip()
        first = lead if row == 0 and lead is not None else Text(" " * indent)
        out.print(first + line)


def value_block(label: str, value: str, width: int) -> Text:
    """`expected [0.39, 0.73] (shape (2, 1))` broken only between entries and before
    the shape, each line under the first: not in the middle of a number."""
    lines = fit_value(value, width, cell_len) if width > 0 else [value]
    pad = " " * len(label)
    body = "\n".join(line if row == 0 else pad + line for row, line in enumerate(lines))
    return Text(label + body, style="dim")


OUTPUT_LINES = 20


def output_panel(output: str, truncated: bool) -> Panel:
    """What the learner's code printed: the first lines only (as in the TUI: the first
    prints of a loop are the clue to it), and a count of what was left out."""
    lines = output.rstrip().splitlines()
    shown = lines[:OUTPUT_LINES]
    body = Text("\n".join(shown))
    note = output_note(len(lines) - len(shown), truncated)
    if note is not None:
        body.append("\n" + note, style="dim")
    return Panel(body, title="your output", title_align="left", expand=False)


def term_panel(term: Term, lessons: list[str]) -> Panel:
    parts = [Text(term.definition)]
    if term.equation:
        parts.append(Text(term.equation, style="cyan"))
    if lessons:
        parts.append(Text("Lessons: " + ", ".join(lessons), style="dim"))
    title = term.name + (f"  ({term.symbol})" if term.symbol else "")
    return Panel(Group(*parts), title=Text(title), title_align="left", expand=False)


def shorten(path: Path) -> str:
    try:
        return str(path.relative_to(Path.cwd()))
    except ValueError:
        return str(path)


def plots(out: Console, figures: list[dict]) -> None:
    """`check --plot`: each plot of the learner's numbers as text, as wide as the
    terminal allows (plotext; ANSI colours only on a colour terminal without NO_COLOR)."""
    if not figures:
        out.print("[dim]This check draws no plot.[/dim]")
        return
    from workbook.present.plotting import as_text

    width = max(40, min(out.width, 120))
    for figure in figures:
        text = as_text(figure, width, 24, colour=out.color_system is not None)
        out.print(Text.from_ansi(text), soft_wrap=True)
