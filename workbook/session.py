"""The learner's session over one workspace: the single core both faces use.

It joins the catalog, the grader and the progress store into the operations a
learner performs (check, hint, reset, glossary, solution), so the CLI and the TUI
are only different ways of showing the same answers.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

from workbook.catalog import Course, Lesson
from workbook.errors import WorkbookError
from workbook.glossary import Term
from workbook.grading.results import GradeResult, Verdict
from workbook.progress import LessonProgress, ProgressStore
from workbook.workspace import Workspace, find_workspace

# `runner.grade`'s shape: (workspace, lesson, *, cancel=None) -> GradeResult.
Grader = Callable[..., GradeResult]


@dataclass(frozen=True)
class LessonStatus:
    lesson: Lesson
    status: str  # "passed" | "failed" | "not-started"
    attempts: int
    hints_revealed: int
    current: bool
    broken: bool = False  # passed once, but the latest attempt did not pass
    # Passed only by attempts merged with `progress --import`: it counts as passed, but
    # its reference solution stays closed until it passes here.
    imported: bool = False
    hints_auto: int = 0  # of hints_revealed, shown without being asked for (the first one)

    @property
    def shown(self) -> str:
        """What the faces show: a passed lesson whose latest attempt fails is "broken",
        so it is not mistaken for a finished one (it still counts as passed)."""
        return "broken" if self.broken else self.status

    def to_json(self, root: Path) -> dict:
        lesson = self.lesson
        return {
            "id": lesson.id,
            "number": lesson.number,
            "title": lesson.title,
            "topic": lesson.topic,
            "exercise": str(root / lesson.exercise),
            "status": self.status,
            "broken_since_pass": self.broken,
            "imported": self.imported,
            "current": self.current,
            "attempts": self.attempts,
            "hints_revealed": self.hints_revealed,
            "hints_auto": self.hints_auto,
            "hints_asked": self.hints_revealed - self.hints_auto,
            "hints_total": len(lesson.hints),
        }


@dataclass(frozen=True)
class AttemptHint:
    """The hint shown beside a failed verdict, and which failing check it concerns.

    `about_check` is the learner-facing name of the first failing check that the lesson's
    `check_hints` maps to a hint, and `about_hint` that hint's number. When
    `number == about_hint` the shown hint is about that check; otherwise the one about it
    is not revealed yet, and the faces say how to reach it (`pointer`).
    """

    number: int
    text: str
    revealed: int  # hints revealed so far: `workbook hint` shows number `revealed + 1` next
    about_check: str | None = None
    about_hint: int | None = None

    @property
    def is_about_check(self) -> bool:
        return self.about_check is not None and self.number == self.about_hint

    def pointer(self, ask: str) -> str | None:
        """How to reach the hint about the failing check when it is not shown yet; `ask`
        is how this face reveals the next hint ("press h (or run `workbook hint 8`)").

        One sentence for both faces, and a plain one: "hint 2" and the lesson number
        in `workbook hint 8` must not read as two numbers for the same thing."""
        if self.about_check is None or self.about_hint is None or self.is_about_check:
            return None
        times = self.about_hint - self.revealed
        again = f" {times} times" if times > 1 else ""
        return (
            f"{ask[:1].upper()}{ask[1:]}{again} to see hint {self.about_hint}, which is about "
            f"the failing check “{self.about_check}”."
        )

    def to_json(self) -> dict:
        return {
            "number": self.number,
            "text": self.text,
            "about_check": self.about_check,
            "about_hint": self.about_hint,
        }


def is_missing(result: GradeResult) -> bool:
    """The grader found no file to grade: the exercise was deleted."""
    return result.error is not None and result.error.kind == "missing"


class Session:
    def __init__(self, workspace: Workspace, grader: Grader | None = None) -> None:
        self.workspace = workspace
        self.course: Course = workspace.course
        self.progress = ProgressStore(workspace.progress_path)
        # None grades cold (a fresh interpreter per attempt); the faces plug in the
        # grading service's (`ServiceGrader.grade`): the same signature and verdicts.
        self.grader = grader

    @classmethod
    def open(cls, start: Path | None = None, *, exact: bool = False) -> Session:
        """Open the workspace at `start` (exactly, for --workspace) or above the cwd."""
        if exact and start is not None:
            if not (start / "course" / "course.toml").is_file():
                raise WorkbookError(f"{start} is not a workbook workspace (no course/course.toml)")
            return cls(Workspace(start.resolve()))
        return cls(find_workspace(start))

    def close(self) -> None:
        self.progress.close()

    # -- status ---------------------------------------------------------------------

    def statuses(self) -> list[LessonStatus]:
        """Every lesson's status. The current lesson is the first unpassed one from the
        "continue at" lesson on; once those are done, the first unpassed one skipped
        on the way there: the course is complete only when every lesson has passed."""
        summary = self.progress.summary()
        progress = [(s, summary.get(s.id, LessonProgress(s.id))) for s in self.course.lessons]
        start = self._continue_number()
        unpassed = [lesson for lesson, p in progress if not p.passed]
        current = next((lesson for lesson in unpassed if lesson.number >= start), None)
        current = current or next(iter(unpassed), None)
        rows = []
        for lesson, p in progress:
            status = "passed" if p.passed else ("failed" if p.attempts else "not-started")
            broken = p.passed and p.last_verdict not in (None, "passed")
            imported = p.passed and not p.passed_here
            rows.append(
                LessonStatus(
                    lesson,
                    status,
                    p.attempts,
                    p.hints_revealed,
                    lesson is current,
                    broken,
                    imported,
                    p.hints_auto,
                )
            )
        return rows

    def _continue_number(self) -> int:
        """Lessons before the 'continue at' lesson are skipped when finding the current one."""
        chosen = self.progress.get_setting("continue_at")
        known = {lesson.id: lesson.number for lesson in self.course.lessons}
        return known.get(chosen, 0) if chosen else 0

    def continue_at(self, lesson: Lesson | None) -> None:
        """Make `lesson` the place to continue (None: back to the first unpassed lesson)."""
        self.progress.set_setting("continue_at", lesson.id if lesson else None)

    def why_current(self, chosen: Lesson | None) -> str:
        """After `continue_at(chosen)`: which lesson is current, and why it is not the
        one asked for when it is not ("Current lesson: 21" after `continue-at 20` read
        as a mistake when 20 had passed)."""
        statuses = self.statuses()
        current = next((s.lesson for s in statuses if s.current), None)
        if current is None:
            return "Every lesson has passed: the course is complete (no current lesson)."
        where = f"{current.number}. {current.title}"
        if chosen is None:
            return f"Current lesson: {where} (the first one not passed yet)."
        if current is chosen:
            return f"Current lesson: {where}"
        passed = {s.lesson.id for s in statuses if s.status == "passed"}
        skipped = [
            lesson
            for lesson in self.course.lessons
            if chosen.number <= lesson.number < current.number and lesson.id in passed
        ]
        if current.number > chosen.number:
            if len(skipped) == 1:
                done = f"lesson {chosen.number} has passed"
            else:
                done = f"lessons {chosen.number}–{skipped[-1].number} have passed"
            return (
                f"Current lesson: {where}. ({done}; the current lesson is the first "
                f"unpassed one from {chosen.number} on.)"
            )
        return (
            f"Current lesson: {where}. (Every lesson from {chosen.number} on has passed; "
            f"the current lesson is the first unpassed one before it.)"
        )

    def current_lesson(self) -> Lesson | None:
        """The first lesson not yet passed; None once the course is complete."""
        return next((s.lesson for s in self.statuses() if s.current), None)

    def lesson(self, ref: str | int | None) -> Lesson:
        if ref is None:
            current = self.current_lesson()
            if current is None:
                raise WorkbookError("every lesson has passed; name one to check it again")
            return current
        return self.course.lesson(ref)

    def has_passed(self, lesson: Lesson) -> bool:
        """Passed by an attempt graded here: what opens the reference solution. A pass
        merged from another machine's export is the learner's word, not a grade."""
        summary = self.progress.summary().get(lesson.id)
        return bool(summary and summary.passed_here)

    # -- grading --------------------------------------------------------------------

    def check(self, lesson: Lesson, cancel: threading.Event | None = None) -> GradeResult:
        """Grade and record. An untouched stub is reported but not counted as an attempt."""
        result = self.grade(lesson, cancel=cancel)
        self.record(lesson, result)
        return result

    def grade(self, lesson: Lesson, cancel: threading.Event | None = None) -> GradeResult:
        """Grade without recording. It touches no database, so a face may run it in a
        worker thread and call `record` back on the thread that owns the session."""
        grader = self.grader
        if grader is None:
            from workbook.grading.runner import grade as grader
        return grader(self.workspace, lesson, cancel=cancel)

    def record(self, lesson: Lesson, result: GradeResult) -> None:
        """Store an attempt's outcome; an untouched stub is not an attempt, and neither
        is a check of a file that does not exist (nothing of the learner's was graded)."""
        if result.verdict is not Verdict.NOT_STARTED and not is_missing(result):
            self.progress.record_attempt(
                lesson.id,
                str(result.verdict),
                result.duration_s,
                [c.id for c in result.failing],
                result.summary(),
            )

    # -- hints ----------------------------------------------------------------------

    def revealed_hints(self, lesson: Lesson) -> list[str]:
        return list(lesson.hints[: self.progress.hints_revealed(lesson.id)])

    def reveal_hint(self, lesson: Lesson, *, auto: bool = False) -> tuple[int, str]:
        """Reveal the next hint; returns (its 1-based number, text). Repeats the last one
        once all are shown, so asking again is never an error. `auto`: the learner did
        not ask for it (the first hint, beside the first failure); recorded apart."""
        if not lesson.hints:
            raise WorkbookError(f"lesson {lesson.id} has no hints")
        count = self.progress.reveal_hint(lesson.id, len(lesson.hints), auto=auto)
        return count, lesson.hints[count - 1]

    def hint_after_attempt(self, lesson: Lesson, result: GradeResult) -> AttemptHint | None:
        """The hint to show beside a failed verdict: the first one is revealed for free,
        later ones stay a deliberate request (`workbook hint`, or the TUI's key).

        When a failing check has its own hint (`check_hints`) and it is already revealed,
        that hint is shown rather than the latest one, so a learner failing the Adam check
        is not shown the hint about LSTM units again."""
        if result.verdict not in (Verdict.FAILED, Verdict.TIMEOUT) or not lesson.hints:
            return None  # a syntax error or a crash is not what the hints are about
        revealed = self.progress.hints_revealed(lesson.id)
        if revealed == 0:
            revealed, _ = self.reveal_hint(lesson, auto=True)
        number = revealed
        about = self._failing_check_hint(lesson, result)
        if about is None:
            return AttemptHint(number, lesson.hints[number - 1], revealed)
        name, wanted = about
        if wanted <= revealed:
            number = wanted
        return AttemptHint(number, lesson.hints[number - 1], revealed, name, wanted)

    @staticmethod
    def _failing_check_hint(lesson: Lesson, result: GradeResult) -> tuple[str, int] | None:
        """(name, hint number) of the first failing check, when it has a hint of its own.

        Only the first one counts: checks run from the simplest case on, and a later
        check usually fails for the same reason as the first (a transposed h fails every
        lesson 8 check), so its hint would be about some other mistake. A check failing
        with the same words as another (one exception failing them all) says nothing
        about its own topic either, so its hint would mislead."""
        repeats = result.repeated_from()  # id → name of the check it repeats
        repeated = set(repeats.values())
        for check in result.failing:
            if check.id in repeats or check.name in repeated:
                continue
            wanted = lesson.check_hints.get(check.id)
            if wanted is not None and 1 <= wanted <= len(lesson.hints):
                return check.name, wanted
            return None
        return None

    # -- glossary -------------------------------------------------------------------

    def term_lessons(self, term: Term) -> list[Lesson]:
        return [lesson for lesson in self.course.lessons if term.key in lesson.glossary]

    def unlocked_terms(self) -> set[str]:
        """Terms of every lesson up to the current one, and of any lesson attempted."""
        unlocked: set[str] = set()
        for status in self.statuses():
            reached = status.status != "not-started" or status.current
            if reached:
                unlocked.update(status.lesson.glossary)
        if self.current_lesson() is None:
            unlocked.update(self.workspace.glossary)
        return unlocked

    def lesson_terms(self, lesson: Lesson) -> list[Term]:
        glossary = self.workspace.glossary
        return [glossary[key] for key in lesson.glossary if key in glossary]

    # -- files ----------------------------------------------------------------------

    def solution(self, lesson: Lesson) -> str:
        if not self.has_passed(lesson):
            summary = self.progress.summary().get(lesson.id)
            where = (
                " here (it passed only in imported progress)" if summary and summary.passed else ""
            )
            raise WorkbookError(
                f"the reference solution of lesson {lesson.number} opens once you have passed "
                f"it{where}: `workbook check {lesson.number}`"
            )
        with contextlib.suppress(OSError):  # a read-only workspace still shows it
            self.workspace.reveal_solution(lesson)
        return self.workspace.solution_for(lesson)

    def reset(self, lesson: Lesson) -> Path | None:
        return self.workspace.reset(lesson)

    def exercise_missing(self, lesson: Lesson) -> bool:
        return not self.workspace.path(lesson.exercise).is_file()

    def missing_exercises(self) -> list[Lesson]:
        """The lessons whose exercise file is gone (deleted, or exercises/ itself)."""
        return [lesson for lesson in self.course.lessons if self.exercise_missing(lesson)]

    def reset_all(self) -> list[Path]:
        """Restore every stub; returns the backups made (untouched files need none)."""
        return [backup for lesson in self.course.lessons if (backup := self.reset(lesson))]

    def solution_diff(self, lesson: Lesson) -> str:
        """Unified diff from the learner's file to the reference (after a pass)."""
        import difflib

        reference = self.solution(lesson)
        mine = self.workspace.read_exercise(lesson)
        return "".join(
            difflib.unified_diff(
                mine.splitlines(keepends=True),
                reference.splitlines(keepends=True),
                fromfile=f"yours: {lesson.exercise}",
                tofile="reference solution",
            )
        )

    def last_passed_lesson(self) -> Lesson | None:
        """The lesson passed here most recently: what a learner asking for "the solution"
        without naming a lesson has just finished (imported passes open no solution)."""
        queue = self._passed_oldest_first(here_only=True)
        return queue[-1] if queue else None

    def review_queue(self) -> list[Lesson]:
        """Passed lessons, the one passed longest ago first: what is most likely to rot.
        Imported passes are included: re-checking them here is how they become local."""
        return self._passed_oldest_first(here_only=False)

    def _passed_oldest_first(self, *, here_only: bool) -> list[Lesson]:
        last = self.progress.last_passed(here_only=here_only)
        passed = [lesson for lesson in self.course.lessons if lesson.id in last]
        return sorted(passed, key=lambda lesson: last[lesson.id])

    def check_each(self, lessons: list[Lesson]) -> Iterator[tuple[Lesson, GradeResult]]:
        """Check (and record) lessons one after the other, as they finish. Cold grading
        children are started one attempt ahead, so the run takes less than the sum."""
        from workbook.grading.spare import pipelined

        with pipelined():
            for lesson in lessons:
                yield lesson, self.check(lesson)

    def recheck(self, lessons: list[Lesson]) -> list[tuple[Lesson, GradeResult]]:
        """Grade (and record) each lesson again; returns those that no longer pass."""
        return [
            (lesson, result) for lesson, result in self.check_each(lessons) if not result.passed
        ]
