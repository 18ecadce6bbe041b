"""The widgets of the main screen, each showing one part of the session's state.

They only *show* what `Session` and the grader computed; none decides anything about
the course. Text is built as Textual `Content` with theme variables ($text-success, …)
so colours follow the theme, and the terminal's own palette under the ANSI themes.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable

from rich.cells import cell_len
from textual.app import ComposeResult
from textual.containers import Vertical, VerticalScroll
from textual.content import Content
from textual.geometry import Region
from textual.strip import Strip
from textual.widgets import Label, OptionList, ProgressBar, Static
from textual.widgets.option_list import Option

from workbook.catalog import Course, Lesson
from workbook.glossary import Term
from workbook.grading.results import CheckResult, GradeResult, Verdict
from workbook.present.fitting import fit_value, output_note
from workbook.session import AttemptHint, LessonStatus
from workbook.tui.lesson_text import LessonMarkdown, LessonText

# How a lesson's status reads in the list: (mark, theme style, words).
STATUS = {
    "passed": ("✓", "$text-success", "passed"),
    "broken": ("!", "$text-warning", "passed, but your last attempt fails"),
    "failed": ("✗", "$text-error", "failed last time"),
    "not-started": ("·", "$text-muted", "not started"),
}
VERDICT = {
    Verdict.PASSED: ("✓", "$text-success", "Passed"),
    Verdict.FAILED: ("✗", "$text-error", "Failed"),
    Verdict.ERROR: ("!", "$text-error", "Error"),
    Verdict.TIMEOUT: ("⏱", "$text-warning", "Timeout"),
    Verdict.NOT_STARTED: ("·", "$text-warning", "Not started"),
}
OUTCOME = {
    "passed": ("✓", "$text-success"),
    "failed": ("✗", "$text-error"),
    "error": ("!", "$text-error"),
}
OUTPUT_LINES = 30  # learner output shown in the result pane (the grader bounds it too)
TOPIC_PREFIX = "topic:"


def with_code(text: str, style: str = "") -> Content:
    """Plain text whose `code spans` are highlighted and whose **words** are bold
    (hints and messages are written with both, as in the lesson's Markdown)."""
    parts: list[tuple[str, str] | str] = []
    for piece in _INLINE.split(text):
        if piece.startswith("`") and piece.endswith("`") and len(piece) > 1:
            parts.append((piece[1:-1], "b $text-primary"))
        elif piece.startswith("**") and piece.endswith("**") and len(piece) > 4:
            parts.append((piece[2:-2], f"b {style}".strip()))
        elif piece:
            parts.append((piece, style))
    return Content.assemble(*parts)


_INLINE = re.compile(r"(`[^`]+`|\*\*[^*]+\*\*)")


def format_duration(seconds: float) -> str:
    """How long an attempt took; one function so snapshot tests can freeze it."""
    return f"{seconds:.2f} s"


def progress_text(passed: int, total: int) -> str:
    pct = 100 * passed // total if total else 0
    return f"{passed}/{total} lessons passed ({pct}%)"  # fits the 80-column sidebar


class ProgressSummary(Vertical):
    """Overall progress: a sentence and a bar (no ETA: it means nothing here)."""

    def compose(self) -> ComposeResult:
        yield Label(id="progress-label")
        yield ProgressBar(show_eta=False, show_percentage=False, id="progress-bar")

    _shown: tuple[int, int] | None = None

    def update(self, passed: int, total: int) -> None:
        """Unchanged figures touch nothing: most attempts change no count, and a
        redrawn bar costs the screen a layout pass after every save."""
        if (passed, total) == self._shown:
            return
        self._shown = (passed, total)
        self.query_one("#progress-label", Label).update(progress_text(passed, total))
        self.query_one("#progress-bar", ProgressBar).update(total=total, progress=passed)


def lesson_prompt(status: LessonStatus) -> Content:
    return _lesson_prompt(status.shown, status.current, status.lesson.number, status.lesson.title)


@functools.lru_cache(maxsize=512)
def _lesson_prompt(shown: str, current: bool, number: int, title: str) -> Content:
    """Parsing markup is most of a row's cost; a row's look depends on these alone."""
    mark, style, _ = STATUS[shown]
    return Content.from_markup(
        f"[$accent]$current[/][{style}]$mark[/] $number $title",
        current="▶" if current else " ",
        mark=mark,
        number=f"{number:>2}",
        title=title,
    )


def topic_prompt(title: str, passed: int, total: int) -> Content:
    """The count comes first: a long topic title is cut short at 80 columns, its count
    must not be."""
    return Content.from_markup(
        "[$text-muted]$count[/] [b]$title[/b]", title=title, count=f"{passed}/{total}"
    )


class LessonList(OptionList):
    """Lessons grouped by topic; topic rows are disabled headers with their counts."""

    _drawn_width = 0  # the width the option list's cached lines were drawn at

    def render_lines(self, crop: Region) -> list[Strip]:
        """Redraw the rows when the list's width changed since they were drawn. The
        option list forgets its drawn rows on a Resize event, but a resize while the
        app starts (a terminal window opening at 80 columns, then maximised) could
        leave rows drawn at the first width: at 120×40 the list kept 28 columns,
        titles cut, until a key redrew it."""
        width = self.scrollable_content_region.width
        if width != self._drawn_width:
            self._drawn_width = width
            self._option_render_cache.clear()
            self._line_cache.clear()
        return super().render_lines(crop)

    def populate(self, course: Course, statuses: list[LessonStatus]) -> None:
        options: list[Option | None] = []
        for topic, rows in _by_topic(course, statuses):
            if options:
                options.append(None)  # a separator line between topics
            passed = sum(s.status == "passed" for s in rows)
            options.append(
                Option(
                    topic_prompt(topic, passed, len(rows)), id=TOPIC_PREFIX + topic, disabled=True
                )
            )
            options.extend(Option(lesson_prompt(s), id=s.lesson.id) for s in rows)
        self.clear_options()
        self.add_options(options)

    def refresh_statuses(self, course: Course, statuses: list[LessonStatus]) -> None:
        """Re-label rows in place, so the highlight and scroll position stay put. Only
        rows whose label changed are replaced: each replacement makes the list draw
        every row again, and an attempt changes one row at most (and its topic's)."""
        for topic, rows in _by_topic(course, statuses):
            passed = sum(s.status == "passed" for s in rows)
            self._relabel(TOPIC_PREFIX + topic, topic_prompt(topic, passed, len(rows)))
            for s in rows:
                self._relabel(s.lesson.id, lesson_prompt(s))

    def _relabel(self, option_id: str, prompt: Content) -> None:
        """A row whose new label is as wide as the old one (a status mark, the ▶ of
        the current lesson, a count of the same digits) keeps its height: only its
        own drawn lines are forgotten. `replace_option_prompt` forgets every row's."""
        option = self.get_option(option_id)
        old = option.prompt
        if old == prompt:
            return
        if not isinstance(old, Content) or old.cell_length != prompt.cell_length:
            self.replace_option_prompt(option_id, prompt)
            return
        option._set_prompt(prompt)
        cache = self._option_render_cache
        for key in [key for key in cache.keys() if key[0] is option]:  # noqa: SIM118 - no __iter__
            cache.discard(key)
        self.refresh()

    def highlight_lesson(self, lesson_id: str) -> None:
        """Move the highlight without a message: the app chose this lesson already."""
        with self.prevent(OptionList.OptionHighlighted):
            self.highlighted = self.get_option_index(lesson_id)


def _by_topic(
    course: Course, statuses: list[LessonStatus]
) -> Iterable[tuple[str, list[LessonStatus]]]:
    for topic in course.topics:
        rows = [s for s in statuses if s.lesson.topic == topic.id]
        if rows:
            yield topic.title, rows
    known = {t.id for t in course.topics}
    stray = [s for s in statuses if s.lesson.topic not in known]
    if stray:
        yield "Other", stray


def terms_line(terms: list[Term]) -> Content:
    """The lesson's glossary terms as links that open the glossary at that term: one
    line of text, not a row of buttons (mounting those cost a lesson switch ≈ 30 ms)."""
    if not terms:
        return Content("")
    links = [
        Content.from_markup(f"[@click=app.term({term.key!r})]$name[/]", name=term.name).stylize(
            "underline $text-primary"
        )
        for term in terms
    ]
    return Content.from_markup("[$text-muted]Glossary:[/] ") + Content("  ").join(links)


class LessonPane(VerticalScroll):
    """The lesson: where it sits, its file, its text, its glossary terms.

    It has the focus from the start, so PageUp/PageDown and the arrows scroll the text
    at once; `n`/`p` (or the list, after a click or Tab) change the lesson."""

    def compose(self) -> ComposeResult:
        yield Static(id="lesson-header")
        yield LessonText(id="lesson-text")
        yield Static(id="lesson-terms")

    def show(
        self,
        lesson: Lesson,
        status: LessonStatus,
        topic: str,
        path: str,
        terms: list[Term],
        *,
        missing: bool = False,
    ) -> None:
        self.show_header(lesson, status, topic, path, missing=missing)
        text = lesson.text
        if status.status == "passed" and lesson.explanation:
            text = f"{text}\n\n{lesson.explanation}\n"
        self.source = lesson_markdown(text, lesson.title)
        drawn = self._drawn.get(self.source)
        if drawn is None:  # kept: coming back to a lesson redraws nothing
            drawn = self._drawn[self.source] = LessonMarkdown(self.source)
        self.query_one(LessonText).show(drawn)
        self.query_one("#lesson-terms", Static).update(terms_line(terms))
        self.scroll_home(animate=False)

    source = ""  # the Markdown shown, for tests

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self._drawn: dict[str, LessonMarkdown] = {}

    def show_header(
        self, lesson: Lesson, status: LessonStatus, topic: str, path: str, *, missing: bool = False
    ) -> None:
        """Only the header: after an attempt the status changes, the text does not.
        `missing`: the exercise file is gone, which the header says, with the way back."""
        _, style, words = STATUS[status.shown]
        gone = " [$text-warning b]is missing:[/] [$text-warning]press [b]r[/b] to restore it[/]"
        header = Content.from_markup(
            f"[b]Lesson $number · $title[/b]\n[$text-muted]$topic:[/] [{style}]$words[/]"
            "\n[$text-muted]File:[/] [b]$path[/b]" + (gone if missing else ""),
            number=str(lesson.number),
            title=lesson.title,
            topic=topic,
            words=words + (", current" if status.current else ""),
            path=path,
        )
        widget = self.query_one("#lesson-header", Static)
        if header != widget.visual:  # an unchanged header costs no layout after a save
            widget.update(header)


def lesson_markdown(text: str, title: str) -> str:
    """The lesson text as the pane shows it: without a leading `# Title` that repeats
    the header, and with untagged code fences marked as plain text. Equations sit in
    such fences; left untagged, Textual asks Pygments to guess their language, which
    loads every lexer (≈ 0.3 s) and may colour an equation as some odd language."""
    first, _, rest = text.lstrip().partition("\n")
    if first.startswith("# ") and first[2:].strip() == title.strip():
        text = rest.lstrip("\n")
    lines = text.splitlines()
    fence: str | None = None
    for index, line in enumerate(lines):
        stripped = line.strip()
        if fence is None:
            marker = stripped[:3]
            if marker in ("```", "~~~"):
                fence = marker
                if stripped == marker:
                    lines[index] = line + "text"
        elif stripped == fence:
            fence = None
    return "\n".join(lines) + "\n"


def hint_line(number: int, total: int, text: str) -> Content:
    label = Content.from_markup(
        "[b $text-accent]Hint $n/$total[/] ", n=str(number), total=str(total)
    )
    return label + with_code(text)


class HintPane(VerticalScroll):
    """Hints revealed so far, oldest first; the next one comes only on request."""

    def compose(self) -> ComposeResult:
        yield Static(id="hints-body")

    def show(self, revealed: list[str], total: int) -> None:
        if not total:
            body = Content("This lesson has no hints.")
        else:
            parts = [hint_line(i, total, text) + "\n" for i, text in enumerate(revealed, start=1)]
            if len(revealed) < total:
                more = (
                    "Press [b]h[/b] for a hint."
                    if not revealed
                    else "Press [b]h[/b] for the next hint."
                )
                parts.append(Content.from_markup(f"[$text-muted]{more}[/]"))
            else:
                parts.append(Content.from_markup("[$text-muted]That was the last hint.[/]"))
            body = Content("\n").join(parts)
        self.query_one("#hints-body", Static).update(body)
        self.scroll_end(animate=False)


class VerdictBar(Static):
    """Always visible: the last verdict of the selected lesson, on at most two lines.
    A verdict too long for them (an error's message at 80 columns) ends in "…" on the
    second line rather than being cut mid-word on the first; the Result tab has it all."""

    LINES = 2
    _full: Content = Content("")

    def _show(self, content: Content) -> None:
        self._full = content
        self._fit()

    def on_resize(self) -> None:
        self._fit()

    def _fit(self) -> None:
        width = self.content_region.width
        content = self._full
        if width > 0:
            lines = content.wrap(width)
            if len(lines) > self.LINES:
                last = lines[self.LINES - 1]
                if last.cell_length > width - 1:
                    last = last.truncate(width - 1)
                kept = [*lines[: self.LINES - 1], last.rstrip() + Content("…")]
                content = Content("\n").join(kept)
        if content != self.visual:
            self.update(content)

    @property
    def text(self) -> str:
        """The whole verdict, as shown when there is room (for tests)."""
        return self._full.plain

    def show_result(self, result: GradeResult) -> None:
        mark, style, _ = VERDICT[result.verdict]
        self._show(
            Content.from_markup(
                f"[{style} b]$mark $headline[/]  [$text-muted]($took)[/]",
                mark=mark,
                headline=result.headline,
                took=format_duration(result.duration_s),
            )
        )

    def show_attempt(self, attempt: dict) -> None:
        """The latest attempt as the progress store has it (made by another process)."""
        mark, style, word = VERDICT[Verdict(attempt["verdict"])]
        self._show(
            Content.from_markup(
                f"[{style} b]$mark $word[/]  [$text-muted](latest attempt, $when)[/]",
                mark=mark,
                word=word,
                when=when_text(attempt["at"]),
            )
        )

    def show_text(self, text: str, style: str = "$text-muted") -> None:
        self._show(Content.from_markup(f"[{style}]$text[/]", text=text))


class ResultPane(VerticalScroll):
    """The last attempt in full: verdict, each check, errors, output, next steps.

    Each line is its own Static, so a long message wraps under itself (CSS indents
    details) instead of under the check's mark."""

    def _set(self, lines: list[Line]) -> None:
        # Reuse the Statics already mounted (a save shows a new result in a few ms;
        # mounting fresh widgets each time costs more than the update itself).
        existing = list(self.query_children(Static))
        for widget, (content, classes) in zip(existing, lines, strict=False):
            if widget.visual != content:  # an unchanged line costs no layout
                widget.update(content)
            widget.set_classes(classes)
            widget.display = True
        for widget in existing[len(lines) :]:
            widget.display = False
        extra = lines[len(existing) :]
        if extra:
            self.mount_all(Static(content, classes=classes) for content, classes in extra)
        self.scroll_home(animate=False)

    def show_idle(self, status: LessonStatus, path: str) -> None:
        self._result = None
        if status.status == "passed":
            text = "You passed this lesson before. Press [b]c[/b] to check it again."
        elif status.status == "failed":
            text = "Your last attempt did not pass. Save the file or press [b]c[/b] to check again."
        else:
            text = (
                "Not checked yet. Write your code in [b]$path[/b] and save: "
                "it is graded on every save."
            )
        self._set([(Content.from_markup(text, path=path), "")])

    def show_result(
        self,
        result: GradeResult,
        lesson: Lesson,
        hint: AttemptHint | None,
        path: str,
        *,
        changed: bool = False,
    ) -> None:
        self._result = (result, lesson, hint, path, changed)
        self._fitted_to = self.scrollable_content_region.width
        lines = render_result(result, lesson, hint, path, width=self._fitted_to)
        if changed:
            lines.insert(1, CHANGED_SINCE)
        self._set(lines)

    _result: tuple | None = None  # what show_result shows, to fit again on a resize
    _fitted_to = 0  # the text width (the scrollbar's room is kept) it was fitted to

    def on_resize(self) -> None:
        if self._result is not None and self.scrollable_content_region.width != self._fitted_to:
            result, lesson, hint, path, changed = self._result
            scroll = self.scroll_y
            self.show_result(result, lesson, hint, path, changed=changed)
            self.scroll_to(y=scroll, animate=False)

    def show_attempt(self, attempt: dict, lesson: Lesson, *, changed: bool) -> None:
        """An attempt made elsewhere (`workbook check`, `watch`, another window): the
        store keeps its verdict and diagnosis in words, not each check."""
        self._result = None
        mark, style, word = VERDICT[Verdict(attempt["verdict"])]
        lines: list[Line] = [
            (
                Content.from_markup(
                    f"[{style} b]$mark $word[/] [$text-muted]— lesson $n · latest attempt, "
                    "$when · $took[/]",
                    mark=mark,
                    word=word,
                    n=str(lesson.number),
                    when=when_text(attempt["at"]),
                    took=format_duration(attempt["duration_s"]),
                ),
                "verdict",
            )
        ]
        if changed:
            lines.append(CHANGED_SINCE)
        if attempt.get("summary"):
            lines.append((with_code(attempt["summary"]), "gap"))
        lines.append(
            (
                Content.from_markup(
                    "[$text-muted]Graded outside this window (the CLI, [b]workbook watch[/b] "
                    "or another workbook). Press [b]c[/b] to see every check here.[/]"
                ),
                "gap",
            )
        )
        self._set(lines)


Line = tuple[Content, str]  # one block of the result pane and its CSS classes
CHANGED_SINCE: Line = (
    Content.from_markup(
        "[$text-warning b]Your file changed since this attempt:[/] "
        "[$text-warning]save it or press [b]c[/b] to check it again.[/]"
    ),
    "gap",
)


def when_text(at: str) -> str:
    """An attempt's time (ISO, UTC) as the learner's local clock reads it."""
    from datetime import datetime

    try:
        moment = datetime.fromisoformat(at).astimezone()
    except ValueError:
        return at
    today = datetime.now().astimezone().date()
    return moment.strftime("%H:%M" if moment.date() == today else "%Y-%m-%d %H:%M")


def render_result(
    result: GradeResult,
    lesson: Lesson,
    hint: AttemptHint | None,
    path: str,
    *,
    width: int = 0,
) -> list[Line]:
    """The result pane's blocks; a function so that it can be tested without an app.
    `width`: the pane's text width, to which check names and expected/got values are
    fitted (0: unknown, left to the pane)."""
    mark, style, word = VERDICT[result.verdict]
    lines: list[Line] = [
        (
            Content.from_markup(
                f"[{style} b]$mark $word[/] [$text-muted]— lesson $n · $took[/]",
                mark=mark,
                word=word,
                n=str(lesson.number),
                took=format_duration(result.duration_s),
            ),
            "verdict",
        ),
        (Content(result.headline), ""),
    ]
    if result.verdict is Verdict.NOT_STARTED:
        lines.append(
            (
                Content.from_markup("Open [b]$path[/b], replace the TODOs, and save.", path=path),
                "gap",
            )
        )
    if result.error is not None and result.error.kind == "missing":
        lines.append(
            (
                Content.from_markup(
                    "Press [b]r[/b] to restore its stub (your earlier versions are in "
                    "[b].workbook/backups/[/b]). Nothing was recorded: a missing file is "
                    "not an attempt."
                ),
                "gap",
            )
        )
    elif result.error is not None:
        lines.extend(_error_lines(result))
    repeats = result.repeated_from()
    as_above = result.not_run_as_above()
    for index, check in enumerate(result.checks):
        lines.extend(
            _check_lines(
                check,
                first=index == 0,
                same_as=repeats.get(check.id),
                width=width,
                named_only=check.id in as_above,
            )
        )
    if result.output.strip():
        lines.extend(_output_lines(result))
    if result.passed:
        lines.append(
            (
                Content.from_markup(
                    "[$text-success b]Well done![/] Press [b]s[/b] for the reference solution, "
                    "[b]n[/b] for the next lesson."
                ),
                "gap",
            )
        )
    elif hint is not None:
        lines.append((_hint_block(hint, len(lesson.hints), lesson.number), "gap"))
    return lines


def _hint_block(hint: AttemptHint, total: int, lesson_number: int) -> Content:
    """The hint beside a failure, saying which failing check it (or a later one) is about."""
    block = hint_line(hint.number, total, hint.text)
    more = " Press [b]h[/b] for the next hint." if hint.revealed < total else ""
    if hint.is_about_check:
        about = f"[$text-muted]About the failing check “$name”.{more}[/]"
    elif hint.about_check is not None:
        about = "[$text-muted]$pointer[/]"
    elif hint.revealed < total:
        about = "[$text-muted]Press [b]h[/b] for the next hint.[/]"
    else:
        return block
    return (
        block
        + Content("\n")
        + Content.from_markup(
            about,
            name=hint.about_check or "",
            pointer=hint.pointer(f"press h (or run `workbook hint {lesson_number}`)") or "",
        )
    )


def _error_lines(result: GradeResult) -> list[Line]:
    err = result.error
    assert err is not None
    lines: list[Line] = []
    if result.verdict is not Verdict.TIMEOUT and err.file and err.line:
        lines.append((Content.from_markup("[b]$where[/b]", where=f"{err.file}:{err.line}"), "gap"))
        if err.code:
            lines.append(
                (
                    Content.from_markup(
                        "[$text-warning]$line │ $code[/]", line=str(err.line), code=err.code
                    ),
                    "code",
                )
            )
    if err.traceback and err.kind not in ("syntax", "timeout"):
        tail = err.traceback.rstrip().splitlines()[-12:]
        lines.append((Content.from_markup("[$text-muted]$tb[/]", tb="\n".join(tail)), "gap code"))
    return lines


def _check_lines(
    check: CheckResult,
    *,
    first: bool,
    same_as: str | None = None,
    width: int = 0,
    named_only: bool = False,
) -> list[Line]:
    mark, style = OUTCOME.get(check.outcome, ("-", "$text-muted"))
    name = Content(check.name)
    if width > 2:  # wrapped lines under the name, not under the mark
        name = Content("\n  ").join(line.rstrip() for line in name.wrap(width - 2))
    lines: list[Line] = [
        (
            Content.from_markup(f"[{style}]$mark[/] ", mark=mark) + name,
            "check gap" if first else "check",
        )
    ]
    if named_only:
        return lines
    if same_as is not None:
        lines.append(
            (
                Content.from_markup(
                    "[$text-muted]the same error as “$name” above[/]", name=same_as
                ),
                "detail",
            )
        )
    elif check.outcome != "passed" and check.message:
        lines.append(
            (Content.from_markup(f"[{style}]$message[/]", message=check.message), "detail")
        )
        if check.location and check.location not in check.message:  # else said above
            lines.append(
                (Content.from_markup("[$text-muted]at $loc[/]", loc=check.location), "detail")
            )
        for label, value in zip(VALUE_LABELS, (check.expected, check.got), strict=True):
            if value is not None:
                room = width - DETAIL_INDENT - len(label) if width else 0
                lines.append((value_block(label, value, room), "detail values"))
    return lines


DETAIL_INDENT = 4  # ResultPane .detail's padding-left
VALUE_LABELS = ("expected ", "got      ")


def value_block(label: str, value: str, width: int) -> Content:
    """`expected [0.39, 0.73] (shape (2, 1))`, its lines broken only between entries
    and before the shape, each under the first (at 80 columns a number or the shape
    was split across two lines, and the next line started under the label)."""
    lines = fit_value(value, width, cell_len) if width > 0 else [value]
    indent = " " * len(label)
    body = Content("\n").join(
        Content(line if row == 0 else indent + line) for row, line in enumerate(lines)
    )
    return Content.from_markup("[$text-muted]$label[/]", label=label) + body


def _output_lines(result: GradeResult) -> list[Line]:
    text = result.output.rstrip().splitlines()
    shown = text[:OUTPUT_LINES]
    more = len(text) - len(shown)
    note = " (cut short)" if result.output_truncated or more else ""
    lines: list[Line] = [
        (Content.from_markup("[b]Your output$note[/b]", note=note), "gap"),
        (Content.from_markup("[$text-muted]$out[/]", out="\n".join(shown)), "code"),
    ]
    said = output_note(more, result.output_truncated)
    if said is not None:
        lines.append((Content.from_markup("[$text-muted]$said[/]", said=said), "code"))
    return lines


class PlotPane(VerticalScroll):
    """The plots of the selected lesson's latest attempt: the learner's own numbers."""

    EMPTY = (
        "No plot yet. Lessons 1, 9, 11, 15, 18 and 21 draw your own numbers here when "
        "they are checked in this window: press [b]c[/b] (in a terminal: "
        "[b]workbook check N --plot[/b])."
    )

    def compose(self) -> ComposeResult:
        yield Static(Content.from_markup(self.EMPTY), id="plot-empty")

    _plots: list[dict] | None = None  # what the pane shows, or will once it is seen
    _drawn: list[dict] | None = None  # what its widgets show

    def show(self, plots: list[dict]) -> None:
        """Plots are drawn when the tab is seen: a save in another tab must not pay
        for building widgets nobody looks at (10-15 ms of every save of lesson 1)."""
        if plots == self._plots:
            return
        self._plots = plots
        if self.is_on_screen:
            self._draw()

    def on_show(self) -> None:
        self._draw()

    def _draw(self) -> None:
        plots = self._plots or []
        if plots == self._drawn:
            return
        self._drawn = plots
        self.query(".plot-block").remove()
        self.query_one("#plot-empty").display = not plots
        if plots:
            from workbook.tui.figure import PlotBlock  # plotext only once there is a plot

            self.mount_all(PlotBlock(figure) for figure in plots)
