"""The workbook's Textual app: a thin face over `Session`.

Grading runs in a worker (group "grade", exclusive: a new save cancels the running
attempt, whose process group is killed); the exercises folder is watched in another
worker group ("watch") so that cancelling a grade never stops the watcher. The
progress store is only touched on the event loop's thread: the worker thread only
grades (`Session.grade`), and the result is recorded back here (`Session.record`).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import shlex
import subprocess
import threading
import time
from pathlib import Path
from typing import TYPE_CHECKING, ClassVar

from textual import work
from textual.app import App, SuspendNotSupported
from textual.binding import Binding, BindingType
from textual.widgets import OptionList, Tab, TabbedContent

from workbook.catalog import Lesson
from workbook.grading.results import GradeResult
from workbook.session import AttemptHint, LessonStatus, Session
from workbook.tui.commands import WorkbookCommands
from workbook.tui.screens import (
    ConfirmScreen,
    Dialog,
    GlossaryScreen,
    MainScreen,
    SolutionScreen,
)
from workbook.tui.widgets import (
    VERDICT,
    HintPane,
    LessonList,
    LessonPane,
    PlotPane,
    ProgressSummary,
    ResultPane,
    VerdictBar,
)
from workbook.watching import should_poll

if TYPE_CHECKING:
    from workbook.grading.service import ServiceGrader


def pick_theme() -> str:
    """Follow the terminal: the ANSI themes use its own palette and background.
    `WORKBOOK_THEME` picks any Textual theme; `COLORFGBG` (set by many terminals)
    tells a light background from a dark one."""
    chosen = os.environ.get("WORKBOOK_THEME")
    if chosen:
        return chosen
    background = os.environ.get("COLORFGBG", "").rsplit(";", 1)[-1]
    return "ansi-light" if background in {"7", "15"} else "ansi-dark"


FOLDER_POLL_S = 0.25  # how often a missing exercises/ folder is looked for


def _stamp(path: Path) -> tuple[int, int] | None:
    try:
        st = path.stat()
    except OSError:
        return None
    return st.st_mtime_ns, st.st_size


def _changed_since(path: Path, at: str) -> bool:
    """Whether `path` was modified after an attempt recorded at `at` (ISO time, UTC)."""
    from datetime import datetime

    try:
        return path.stat().st_mtime > datetime.fromisoformat(at).timestamp()
    except (OSError, ValueError):
        return False


PREPARE_AFTER_S = 0.5  # on a lesson this long, its first save is near
CHECKING_AFTER_S = 0.15  # an attempt still running this long says so


def _relabel(tab: Tab, label: str) -> None:
    """A tab's new label makes its bar lay out again: after a save it rarely changes."""
    if tab.label.plain != label:
        tab.label = label


def _attempt_counts(statuses: list[LessonStatus]) -> dict[str, int]:
    return {s.lesson.id: s.attempts for s in statuses}


class WorkbookApp(App[None]):
    CSS_PATH = Path(__file__).with_name("workbook.tcss")  # absolute: subclasses live elsewhere
    TITLE = "LSTM Workbook"
    COMMANDS: ClassVar = {WorkbookCommands}  # which also yields Textual's own, after ours
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("q", "quit", "Quit"),
        Binding("ctrl+q", "quit", "Quit", show=False, priority=True),
    ]

    def __init__(self, session: Session, *, watch: bool = True) -> None:
        super().__init__()
        self.session = session
        self.watch_saves = watch
        self.lesson: Lesson = session.current_lesson() or session.course.lessons[-1]
        # The last attempt per lesson in this run, and the hint shown beside it.
        self.results: dict[str, tuple[GradeResult, AttemptHint | None]] = {}
        self._store_seen: tuple[int, dict[str, int]] = (0, {})  # data_version, attempts
        self.grading: Lesson | None = None
        self._held_toasts: list[tuple[str, dict]] = []  # while a dialog is open
        self._waiting: list[Lesson] = []  # saved lessons to grade after the running attempt
        self._graded_stamp: dict[str, tuple[int, int] | None] = {}
        self._stop_watch = threading.Event()
        self._cancel_grading = threading.Event()
        self.warm: ServiceGrader | None = None
        # When results reached the screen (perf_counter): tests and the benchmark wait on it.
        self.results_shown: list[tuple[str, str, float]] = []
        # When lessons reached the screen (perf_counter), for the switch benchmark.
        self.lessons_shown: list[tuple[str, float]] = []
        self._render_pending = False  # a render of the selected lesson is scheduled
        self._drawn: Lesson | None = None  # the lesson the panes show
        self.theme = pick_theme()

    # -- set-up ---------------------------------------------------------------------

    def get_default_screen(self) -> MainScreen:
        return MainScreen(id="main-screen")

    async def start(self) -> None:
        """Fill the main screen (called by its on_mount, once its widgets exist)."""
        version = self.session.progress.data_version()  # before reading: miss nothing
        statuses = self.session.statuses()
        lessons = self.main_screen.query_one(LessonList)
        lessons.populate(self.session.course, statuses)
        lessons.highlight_lesson(self.lesson.id)
        self.main_screen.query_one(LessonPane).focus()  # the arrows scroll the text
        self._update_progress(statuses)
        self.show_lesson(self.lesson)
        if not any(s.current for s in statuses):
            self.notify("Every lesson has passed: the course is complete!", title="Well done")
        if self.watch_saves:
            self.watch_exercises()
        self._store_seen = (version, _attempt_counts(statuses))
        self.set_interval(1.0, self.follow_the_store)

    async def follow_the_store(self) -> None:
        """Follow progress made in another process (`workbook watch` or `check` in a
        second terminal, `workbook hint`): the list, the header and the hints update.
        A result shown here for a lesson graded elsewhere since is no longer its last."""
        version = self.session.progress.data_version()
        if version == self._store_seen[0]:
            return
        statuses = self.session.statuses()
        counts = _attempt_counts(statuses)
        before = self._store_seen[1]
        self._store_seen = (version, counts)
        for lesson_id, attempts in counts.items():
            if attempts != before.get(lesson_id, 0):
                self.results.pop(lesson_id, None)
        self._update_progress(statuses)
        lesson = self.lesson
        status = self._status(lesson, statuses)
        self.main_screen.query_one(LessonPane).show_header(
            *self._lesson_header(lesson, status), missing=self.session.exercise_missing(lesson)
        )
        self._show_hints(lesson)
        self._show_last_result(lesson, status)

    def on_ready(self) -> None:
        # After the first frame: the server's imports would compete with it for the CPU.
        self._start_warm_grader()
        if self.lesson.uses_tensorflow and self.warm is not None:
            self.warm.preload_tensorflow()

    def _start_warm_grader(self) -> None:
        """Grade on this workspace's grading service (started if none runs), shared
        with `workbook check` and `watch`: an attempt then costs a fork instead of a
        new interpreter, and a TensorFlow import is paid once for every face.
        WORKBOOK_WARM=0 grades cold."""
        if os.environ.get("WORKBOOK_WARM") == "0" or self.session.grader is not None:
            return
        from workbook.grading.service import ServiceGrader

        self.warm = ServiceGrader(self.session.workspace.root)
        self.warm.start()
        self.session.grader = self.warm.grade
        lesson = self.lesson
        self.set_timer(PREPARE_AFTER_S, lambda: self._prepare_judge(lesson))

    def _stop_background(self) -> None:
        self._stop_watch.set()
        # Set the attempt's cancel event directly too: the worker may never run its
        # CancelledError handler once the app is exiting, and the grading thread
        # must not keep the interpreter alive until the attempt times out.
        self._cancel_grading.set()
        self.workers.cancel_group(self, "grade")
        if self.warm is not None:
            self.warm.close()
            if self.session.grader == self.warm.grade:
                self.session.grader = None
            self.warm = None

    def on_unmount(self) -> None:
        self._stop_background()

    @property
    def crash_log(self) -> Path:
        return self.session.workspace.state_dir / "crash.log"

    def _handle_exception(self, error: Exception) -> None:
        """Textual's hook for an unhandled error, which ends the app. Its traceback is
        printed after the screen is restored, where a closing terminal window (tmux, an
        IDE pane) loses it: keep a copy for the bug report."""
        import traceback
        from datetime import datetime

        with contextlib.suppress(OSError):
            self.crash_log.parent.mkdir(parents=True, exist_ok=True)
            with self.crash_log.open("a", encoding="utf-8") as log:
                log.write(f"--- {datetime.now().isoformat(timespec='seconds')}\n")
                log.write("".join(traceback.format_exception(error)))
        super()._handle_exception(error)

    @property
    def main_screen(self) -> MainScreen:
        """The workbook screen, even while the glossary or a dialog is on top of it."""
        return self.screen_stack[0]  # type: ignore[return-value]

    # -- showing state --------------------------------------------------------------

    def _status(self, lesson: Lesson, statuses: list[LessonStatus] | None = None) -> LessonStatus:
        rows = statuses if statuses is not None else self.session.statuses()
        return next(s for s in rows if s.lesson.id == lesson.id)

    def display_path(self, lesson: Lesson) -> str:
        """The exercise as the learner would type it: relative to the cwd when inside
        it, else "exercises/NN-name.py in ~/lstm-workbook". Two paths with a space
        between, not one long one: at 80 columns the pane wraps there, never inside a
        path (`workbook -w ~/lstm-workbook`, the quick start's command, split it)."""
        root = self.session.workspace.root
        try:
            return str((root / lesson.exercise).relative_to(Path.cwd()))
        except ValueError:
            pass
        home = Path.home()
        shown = str(root)
        if root.is_relative_to(home):
            shown = "~" if root == home else f"~/{root.relative_to(home)}"
        return f"{lesson.exercise} in {shown}"

    def _update_progress(self, statuses: list[LessonStatus] | None = None) -> list[LessonStatus]:
        statuses = statuses if statuses is not None else self.session.statuses()
        passed = sum(s.status == "passed" for s in statuses)
        main = self.main_screen
        main.query_one(ProgressSummary).update(passed, len(statuses))
        main.query_one(LessonList).refresh_statuses(self.session.course, statuses)
        return statuses

    def show_lesson(self, lesson: Lesson) -> None:
        """Draw `lesson` in every pane now (a few milliseconds: one renderable per pane)."""
        self.lesson = self._drawn = lesson
        status = self._status(lesson)
        self.main_screen.query_one(LessonPane).show(
            *self._lesson_header(lesson, status),
            self.session.lesson_terms(lesson),
            missing=self.session.exercise_missing(lesson),
        )
        self._show_hints(lesson)
        self._show_last_result(lesson, status)
        if lesson.uses_tensorflow and self.warm is not None:
            self.warm.preload_tensorflow()  # in the background, in the grading process
        if self.warm is not None:
            self.set_timer(PREPARE_AFTER_S, lambda: self._prepare_judge(lesson))
        self.call_after_refresh(self._lesson_shown, lesson.id)

    def _prepare_judge(self, lesson: Lesson) -> None:
        """The learner stayed on `lesson`: have a judge ready for its first save (each
        later save leaves one ready for the next). Not for lessons passed by on the way."""
        if lesson is self.lesson and self.warm is not None:
            self.warm.prepare(self.session.workspace, lesson)

    def _lesson_shown(self, lesson_id: str) -> None:
        self.lessons_shown.append((lesson_id, time.perf_counter()))

    def select_lesson(self, lesson: Lesson) -> None:
        """Make `lesson` the selected one at once, and draw it once the keys already
        waiting are handled: ten quick presses of `n` move exactly ten lessons and draw
        only where they land, whatever the machine's load (never a queue of renders)."""
        if lesson is not self.lesson:
            self.lesson = lesson
            self.main_screen.query_one(TabbedContent).active = "lesson"
        self.main_screen.query_one(LessonList).highlight_lesson(lesson.id)
        if not self._render_pending:
            self._render_pending = True
            self.call_later(self._render_selected)

    def _render_selected(self) -> None:
        self._render_pending = False
        if self._drawn is not self.lesson:
            self.show_lesson(self.lesson)

    def _lesson_header(self, lesson: Lesson, status: LessonStatus) -> tuple:
        return (
            lesson,
            status,
            self.session.course.topic_title(lesson.topic),
            self.display_path(lesson),
        )

    def _show_hints(self, lesson: Lesson) -> None:
        revealed = self.session.revealed_hints(lesson)
        main = self.main_screen
        main.query_one(HintPane).show(revealed, len(lesson.hints))
        _relabel(main.query_one(TabbedContent).get_tab("hints"),
                 f"Hints {len(revealed)}/{len(lesson.hints)}")  # fmt: skip

    def _show_last_result(self, lesson: Lesson, status: LessonStatus) -> None:
        """The latest attempt of `lesson`, whoever made it: in full when this app graded
        it, else as the progress store has it (`workbook check`, `watch`, another
        window); and whether the file changed since."""
        main = self.main_screen
        pane, bar = main.query_one(ResultPane), main.query_one(VerdictBar)
        path = self.session.workspace.path(lesson.exercise)
        plots = self.results[lesson.id][0].plots if lesson.id in self.results else []
        main.query_one(PlotPane).show(plots)
        _relabel(main.query_one(TabbedContent).get_tab("plot"),
                 f"Plot {len(plots)}" if plots else "Plot")  # fmt: skip
        if lesson.id in self.results:
            result, hint = self.results[lesson.id]
            changed = _stamp(path) != self._graded_stamp.get(lesson.id)
            pane.show_result(result, lesson, hint, self.display_path(lesson), changed=changed)
            bar.show_result(result)
        elif attempts := self.session.progress.attempts(lesson.id):
            latest = attempts[-1]
            pane.show_attempt(latest, lesson, changed=_changed_since(path, latest["at"]))
            bar.show_attempt(latest)
        else:
            pane.show_idle(status, self.display_path(lesson))
            bar.show_text("Save the exercise file to check it, or press c.")
        if self.grading is lesson:
            bar.show_text(f"⋯ checking lesson {lesson.number}…", "$text-warning")

    # -- events from widgets --------------------------------------------------------

    def on_option_list_option_highlighted(self, event: OptionList.OptionHighlighted) -> None:
        """The learner moved the list's highlight (arrows, click). A message from a
        highlight already moved on is stale and ignored: obeying it sent quick `n`/`p`
        presses back and forth."""
        lesson_id = event.option.id
        current = event.option_list.highlighted_option
        if current is None or current.id != lesson_id:
            return
        if lesson_id and lesson_id != self.lesson.id and not lesson_id.startswith("topic:"):
            self.select_lesson(self.session.course.lesson(lesson_id))

    # -- grading --------------------------------------------------------------------

    @work(exclusive=True, group="grade")
    async def grade(self, lesson: Lesson) -> GradeResult:
        """Grade `lesson` off the event loop; a newer call cancels this one."""
        self.grading = lesson
        self._graded_stamp[lesson.id] = _stamp(self.session.workspace.path(lesson.exercise))
        # Said only if the verdict is not there first: drawing it took the CPU (and
        # the GIL) from the attempt's start, and a NumPy verdict comes in under 0.1 s.
        self.set_timer(CHECKING_AFTER_S, lambda: self._say_checking(lesson))
        cancel = self._cancel_grading = threading.Event()
        try:
            result = await asyncio.to_thread(self.session.grade, lesson, cancel)
        except asyncio.CancelledError:
            cancel.set()  # the grader kills the attempt's process group
            raise
        finally:
            if self.grading is lesson:
                self.grading = None
        passed_before = self.session.has_passed(lesson)
        self.session.record(lesson, result)
        hint = self.session.hint_after_attempt(lesson, result)
        self.results[lesson.id] = (result, hint)
        statuses = self.session.statuses()
        # The list and the progress bar follow a frame after the verdict: drawn with
        # it, the frame spanned the whole screen (the sidebar and the result pane).
        self.call_after_refresh(self._update_progress, statuses)
        status = self._status(lesson, statuses)
        self._store_seen[1][lesson.id] = status.attempts  # ours, not news from elsewhere
        if lesson is self.lesson:
            pane = self.main_screen.query_one(LessonPane)
            if result.passed and not passed_before and lesson.explanation:
                pane.show(  # the explanation that opens with the first pass
                    *self._lesson_header(lesson, status), self.session.lesson_terms(lesson)
                )
            else:
                pane.show_header(
                    *self._lesson_header(lesson, status),
                    missing=self.session.exercise_missing(lesson),
                )
            self._show_last_result(lesson, status)
            if hint is not None:
                self._show_hints(lesson)
            tabs = self.main_screen.query_one(TabbedContent)
            if tabs.active != "result":
                tabs.active = "result"
        else:
            self._tell_background_result(lesson, result)
        self.call_after_refresh(self._result_shown, lesson.id, str(result.verdict))
        if self._waiting:
            self.grade(self._waiting.pop(0))
        return result

    def _say_checking(self, lesson: Lesson) -> None:
        if self.grading is lesson and lesson is self.lesson:
            self.main_screen.query_one(VerdictBar).show_text(
                f"⋯ checking lesson {lesson.number}…", "$text-warning"
            )

    def _tell_background_result(self, lesson: Lesson, result: GradeResult) -> None:
        """A save to a lesson that is not on screen was graded: say so, and how it went."""
        mark, _, word = VERDICT[result.verdict]
        self.notify(
            f"{lesson.exercise} was saved, so lesson {lesson.number} was checked in the "
            f"background: {mark} {word}. Select it to see the result.",
            title=f"Lesson {lesson.number}",
            severity="information" if result.passed else "warning",
            timeout=8,
        )

    def _result_shown(self, lesson_id: str, verdict: str) -> None:
        self.results_shown.append((lesson_id, verdict, time.perf_counter()))

    def exercise_saved(self, lesson: Lesson) -> None:
        """A lesson's file changed on disk: grade it, unless this content was graded.
        Another lesson's file waits while an attempt runs (a new attempt would cancel
        it); the selected lesson's save goes first."""
        if _stamp(self.session.workspace.path(lesson.exercise)) == self._graded_stamp.get(
            lesson.id
        ):
            return
        if self.grading is None or self.grading is lesson or lesson is self.lesson:
            self.grade(lesson)
        elif lesson not in self._waiting:
            self._waiting.append(lesson)

    @work(exclusive=True, group="watch")
    async def watch_exercises(self) -> None:
        """Grade on save. Watches the folder (editors that save by rename replace the
        file), and grades whichever lesson's file was saved.

        A missing exercises/ folder is waited for and then watched afresh: a watch on a
        deleted folder hears nothing more, so after `workbook reset --all` recreated it
        a save went ungraded for as long as the app ran."""
        from watchfiles import Change, awatch

        folder = self.session.workspace.path("exercises")
        gone = False
        while not self._stop_watch.is_set():
            if not folder.is_dir():
                if not gone:
                    gone = True
                    self._exercises_folder_gone()
                await asyncio.sleep(FOLDER_POLL_S)
                continue
            if gone:
                gone = False
                self._exercises_folder_back()
            try:
                async for changes in awatch(
                    folder,
                    force_polling=should_poll(),
                    poll_delay_ms=250,
                    debounce=400,
                    step=1,  # ms of quiet after a change before it is reported
                    stop_event=self._stop_watch,
                ):
                    by_path = {
                        self.session.workspace.path(lesson.exercise).resolve(): lesson
                        for lesson in self.session.course.lessons
                    }
                    touched = {(kind, by_path.get(Path(p).resolve())) for kind, p in changes}
                    saved = {lesson for kind, lesson in touched if kind != Change.deleted}
                    for lesson in sorted(saved - {None}, key=lambda item: item is not self.lesson):
                        self.exercise_saved(lesson)
                    if not folder.is_dir():
                        break  # watch the folder that takes its place
                    if (Change.deleted, self.lesson) in touched and self.session.exercise_missing(
                        self.lesson
                    ):
                        self._exercise_deleted(self.lesson)
                else:
                    return  # the app is stopping
            except FileNotFoundError:  # deleted as the watch began
                continue
            except Exception as exc:  # a broken watcher must not end the app
                self.notify(
                    f"Cannot watch {folder} ({exc}). Press c to check after each save, or "
                    "start with WORKBOOK_POLL=1.",
                    severity="warning",
                    timeout=15,
                )
                return

    def _exercises_folder_gone(self) -> None:
        self.notify(
            "The exercises/ folder is missing, so nothing can be graded. Press r to "
            "restore this lesson's stub, or run `workbook reset --all` for every stub "
            "(your earlier versions are in .workbook/backups/). Saves are graded again as "
            "soon as the folder is back.",
            title="exercises/ is missing",
            severity="warning",
            timeout=15,
        )
        self._redraw_header()

    def _exercises_folder_back(self) -> None:
        self.notify("The exercises/ folder is back: every save is graded again.", timeout=6)
        self._redraw_header()
        self._show_last_result(self.lesson, self._status(self.lesson))

    def _exercise_deleted(self, lesson: Lesson) -> None:
        self.notify(
            f"{lesson.exercise} was deleted: press r to restore its stub (your earlier "
            "versions are in .workbook/backups/).",
            severity="warning",
            timeout=10,
        )
        self._redraw_header()

    def _redraw_header(self) -> None:
        lesson = self.lesson
        header = self._lesson_header(lesson, self._status(lesson))
        missing = self.session.exercise_missing(lesson)
        self.main_screen.query_one(LessonPane).show_header(*header, missing=missing)

    # -- actions (footer keys and command palette) ----------------------------------

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """Every key stays live: `s` before a pass explains when the solution opens,
        rather than doing nothing at all."""
        return True

    def _back_to_main(self) -> None:
        while len(self.screen_stack) > 1:
            self.pop_screen()

    def action_check(self) -> None:
        self._back_to_main()
        self.grade(self.lesson)

    async def go_to_lesson(self, lesson_id: str) -> None:
        """Select and draw a lesson (the palette, tests); a new lesson opens on its text."""
        self._back_to_main()
        self.select_lesson(self.session.course.lesson(lesson_id))
        self._render_selected()

    def _step(self, offset: int) -> None:
        lessons = self.session.course.lessons
        index = lessons.index(self.lesson) + offset
        if 0 <= index < len(lessons):
            self._back_to_main()
            self.select_lesson(lessons[index])
        else:
            self.notify("That was the last lesson." if offset > 0 else "This is the first lesson.")

    def action_next_lesson(self) -> None:
        self._step(1)

    def action_previous_lesson(self) -> None:
        self._step(-1)

    def action_show_tab(self, tab: str) -> None:
        self.main_screen.query_one(TabbedContent).active = tab

    def action_hint(self) -> None:
        self._back_to_main()
        lesson = self.lesson
        if not lesson.hints:
            self.notify("This lesson has no hints.")
            return
        if len(self.session.revealed_hints(lesson)) >= len(lesson.hints):
            self.notify("Every hint of this lesson is already shown.")
        else:
            self.session.reveal_hint(lesson)
        self._show_hints(lesson)
        self.main_screen.query_one(TabbedContent).active = "hints"

    def action_glossary(self) -> None:
        self.open_glossary(None)

    def notify(self, message: str, **options) -> None:  # type: ignore[override]
        """Toasts wait while a dialog is open: at 80×24 one covered the reset buttons."""
        if isinstance(self.screen, Dialog):
            self._held_toasts.append((message, options))
        else:
            super().notify(message, **options)

    def release_toasts(self) -> None:
        """Show the toasts held while a dialog was open."""
        held, self._held_toasts = self._held_toasts, []
        for message, options in held:
            self.notify(message, **options)

    def action_term(self, key: str) -> None:
        """A glossary term of the lesson was clicked."""
        self.open_glossary(key)

    def open_glossary(self, key: str | None) -> None:
        self._back_to_main()
        self.push_screen(GlossaryScreen(self.session, focus=key))

    def action_edit(self) -> None:
        self._back_to_main()
        lesson = self.lesson
        path = self.session.workspace.path(lesson.exercise)
        editor = os.environ.get("VISUAL") or os.environ.get("EDITOR")
        if not editor:
            self.notify(
                f"Open {path} in your editor: every save is graded. "
                "(Set $EDITOR to open it from here.)",
                title="No editor set",
                timeout=12,
            )
            return
        try:
            with self.suspend():
                subprocess.call([*shlex.split(editor), str(path)])
        except SuspendNotSupported:
            self.notify(f"Cannot open an editor here; open {path} yourself.", severity="warning")
            return
        except OSError as exc:
            self.notify(f"Could not run {editor!r}: {exc}", severity="error")
            return
        self.grade(lesson)

    def action_reset(self) -> None:
        self._back_to_main()
        lesson = self.lesson
        question = (
            f"Reset {lesson.exercise} to its original stub?\n\n"
            "Your current file is kept as a backup in .workbook/backups/."
        )

        async def answered(yes: bool | None) -> None:
            if not yes:
                return
            if self.grading is lesson:
                self.workers.cancel_group(self, "grade")
            missing = not self.session.workspace.path(lesson.exercise).exists()
            backup = self.session.reset(lesson)
            self.results.pop(lesson.id, None)
            self._graded_stamp.pop(lesson.id, None)
            if missing:
                self.notify(f"{lesson.exercise} was missing: restored its original stub.")
            elif backup is None:
                self.notify(f"{lesson.exercise} was already the original stub.")
            else:
                self.notify(f"Restored {lesson.exercise}; your file is in {backup}", timeout=10)
            self.show_lesson(lesson)

        self.push_screen(ConfirmScreen(question), answered)

    def action_solution(self) -> None:
        self._back_to_main()
        lesson = self.lesson
        if not self.session.has_passed(lesson):
            self.notify("The reference solution opens once you have passed this lesson.")
            return
        title = f"Reference solution — lesson {lesson.number}: {lesson.title}"
        self.push_screen(SolutionScreen(title, self.session.solution(lesson)))

    async def action_quit(self) -> None:
        self._stop_background()
        self.exit()
