"""A learner's results for teachers: Gradescope `results.json`, CSV, or a full JSON dump.

Everything comes from the progress store (every recorded attempt: time, lesson,
verdict, failing check ids, duration, hints shown) joined with the catalog, so an
export never re-grades and never writes into the workspace.

Verdict per lesson ("best", the `verdict` column): `passed` once any attempt has
passed, as in `workbook list` (a pass stays a pass); otherwise the last attempt's
verdict (`failed`, `error`, `timeout`); `not-started` when there was no attempt.
`last_verdict` is the most recent attempt's verdict, whatever it was.

Attempts merged from another machine (`workbook progress --import`) count like the
others, but are never graded here: `imported_attempts` counts them, `passed_here` says
whether an attempt graded in this workspace passed, and each attempt in the JSON log
carries `imported`.
"""

from __future__ import annotations

import csv
import io
import json
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from typing import Any

from workbook import __version__
from workbook.manifest import workspace_tampered
from workbook.progress import ProgressStore
from workbook.workspace import Workspace

FORMATS = ("gradescope", "csv", "json")
JSON_FORMAT = 1

# Gradescope's autograder results.json, per https://gradescope-autograders.readthedocs.io
# /en/latest/specs/ ("Output format"): every key it accepts at the top level and per test.
GRADESCOPE_FIELDS = (
    "score",
    "execution_time",
    "output",
    "output_format",
    "test_output_format",
    "test_name_format",
    "visibility",
    "stdout_visibility",
    "extra_data",
    "tests",
    "leaderboard",
)
GRADESCOPE_TEST_FIELDS = (
    "score",
    "max_score",
    "status",
    "name",
    "name_format",
    "number",
    "output",
    "output_format",
    "tags",
    "visibility",
    "extra_data",
)
GRADESCOPE_VISIBILITY = ("hidden", "after_due_date", "after_published", "visible")
GRADESCOPE_STATUS = ("passed", "failed")

CSV_FIELDS = (
    "lesson_id",
    "number",
    "title",
    "topic",
    "verdict",
    "last_verdict",
    "attempts",
    "hints_used",
    "hints_asked",
    "hints_total",
    "first_passed_at",
    "last_attempt_at",
    "time_grading_s",
    "last_failing_checks",
    "last_message",
    "imported_attempts",
    "passed_here",
)


@dataclass
class LessonRecord:
    """One lesson's results, derived from its attempts (see the module docstring)."""

    lesson_id: str
    number: int
    title: str
    topic: str
    verdict: str
    last_verdict: str | None
    attempts: int
    hints_used: int  # every hint shown
    hints_total: int
    first_passed_at: str | None
    last_attempt_at: str | None
    time_grading_s: float
    last_failing_checks: list[str]
    last_message: str = ""  # the last attempt's diagnosis in words
    imported_attempts: int = 0  # merged from another machine's export, not graded here
    passed_here: bool = False  # an attempt graded in this workspace passed
    # Of hints_used, those the learner asked for; the others (the first hint) came by
    # themselves with the first failure.
    hints_asked: int = 0
    log: list[dict[str, Any]] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        return self.verdict == "passed"

    @property
    def imported_only(self) -> bool:
        """Passed, but only by attempts imported from elsewhere."""
        return self.passed and not self.passed_here


@dataclass
class LearnerReport:
    workspace: str
    course_title: str
    generated_at: str
    lessons: list[LessonRecord]
    tampered: list[str]

    @property
    def passed(self) -> int:
        return sum(r.passed for r in self.lessons)


def _record(lesson, attempts: list[dict], hints: tuple[int, int]) -> LessonRecord:
    """`hints`: (shown in all, asked for)."""
    last = attempts[-1] if attempts else None
    first_pass = next((a["at"] for a in attempts if a["verdict"] == "passed"), None)
    # A pass stays a pass; otherwise the latest verdict; no attempt is "not-started".
    verdict = "passed" if first_pass else (last["verdict"] if last else "not-started")
    return LessonRecord(
        lesson_id=lesson.id,
        number=lesson.number,
        title=lesson.title,
        topic=lesson.topic,
        verdict=verdict,
        last_verdict=last["verdict"] if last else None,
        attempts=len(attempts),
        hints_used=hints[0],
        hints_asked=hints[1],
        hints_total=len(lesson.hints),
        first_passed_at=first_pass,
        last_attempt_at=last["at"] if last else None,
        time_grading_s=round(sum(a["duration_s"] for a in attempts), 3),
        last_failing_checks=list(last["failing"]) if last else [],
        last_message=last.get("summary", "") if last else "",
        imported_attempts=sum(bool(a.get("imported")) for a in attempts),
        passed_here=any(a["verdict"] == "passed" and not a.get("imported") for a in attempts),
        log=attempts,
    )


def collect(workspace: Workspace) -> LearnerReport:
    """Read the workspace's progress (without creating it) and join it to the catalog."""
    attempts: list[dict] = []
    hints: dict[str, tuple[int, int]] = {}
    if workspace.progress_path.is_file():
        store = ProgressStore(workspace.progress_path)
        try:
            attempts = store.attempts()
            hints = {k: (p.hints_revealed, p.hints_asked) for k, p in store.summary().items()}
        finally:
            store.close()
    by_lesson: dict[str, list[dict]] = {}
    for attempt in attempts:  # ordered by insertion, so oldest first
        by_lesson.setdefault(attempt["lesson"], []).append(attempt)
    course = workspace.course
    return LearnerReport(
        workspace=str(workspace.root),
        course_title=course.title,
        generated_at=datetime.now(UTC).isoformat(timespec="seconds"),
        lessons=[
            _record(lesson, by_lesson.get(lesson.id, []), hints.get(lesson.id, (0, 0)))
            for lesson in course.lessons
        ],
        tampered=workspace_tampered(workspace),
    )


def _test_output(record: LessonRecord) -> str:
    hints = (
        f"{record.hints_used} of {record.hints_total} hints used, "
        f"{record.hints_asked} of them asked for"
    )
    if record.imported_attempts:
        hints += f"; {record.imported_attempts} imported from another machine, not graded here"
    if record.passed:
        tries = "attempt" if record.attempts == 1 else "attempts"
        only = " (imported only)" if record.imported_only else ""
        return f"Passed{only} after {record.attempts} {tries} ({hints})."
    if record.attempts == 0:
        return "Not attempted."
    failing = ", ".join(record.last_failing_checks)
    why = f"; failing checks: {failing}" if failing else ""
    head = f"Not passed: last attempt {record.last_verdict}{why} ({hints})."
    return f"{head}\n{record.last_message}" if record.last_message else head


def to_gradescope(report: LearnerReport, visibility: str = "visible") -> dict[str, Any]:
    """Gradescope results.json: one test per lesson, 1 point if it has passed."""
    if visibility not in GRADESCOPE_VISIBILITY:
        raise ValueError(f"visibility must be one of {GRADESCOPE_VISIBILITY}")
    total = len(report.lessons)
    output = f"{report.course_title}: {report.passed} of {total} lessons passed."
    if report.tampered:
        output += (
            " Warning: the checks or catalog in this workspace differ from the shipped "
            f"course ({', '.join(report.tampered)})."
        )
    return {
        "score": float(report.passed),
        "execution_time": round(sum(r.time_grading_s for r in report.lessons), 3),
        "output": output,
        "visibility": visibility,
        "extra_data": {
            "tampered": report.tampered,
            "workbook_version": __version__,
            "passed_only_by_import": [r.lesson_id for r in report.lessons if r.imported_only],
        },
        "tests": [
            gradescope_test(r.number, r.title, r.topic, r.passed, _test_output(r), visibility)
            for r in report.lessons
        ],
    }


def gradescope_test(
    number: int, title: str, topic: str, passed: bool, output: str, visibility: str
) -> dict[str, Any]:
    """One lesson as a Gradescope test: 1 point, all or nothing."""
    return {
        "name": f"{number}. {title}",
        "number": str(number),
        "score": 1.0 if passed else 0.0,
        "max_score": 1.0,
        "status": "passed" if passed else "failed",
        "output": output,
        "visibility": visibility,
        "tags": [topic],
    }


def csv_rows(report: LearnerReport) -> list[dict[str, Any]]:
    rows = []
    for record in report.lessons:
        row = {key: getattr(record, key) for key in CSV_FIELDS}
        row["last_failing_checks"] = ";".join(record.last_failing_checks)
        rows.append(row)
    return rows


def to_csv(report: LearnerReport) -> str:
    """One row per lesson (see CSV_FIELDS); times are ISO 8601 in UTC."""
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=CSV_FIELDS, lineterminator="\n")
    writer.writeheader()
    writer.writerows(csv_rows(report))
    return buffer.getvalue()


def to_json(report: LearnerReport) -> dict[str, Any]:
    """Everything: per lesson the derived totals and the full attempt log."""
    lessons = []
    for record in report.lessons:
        data = asdict(record)
        data["attempt_log"] = data.pop("log")
        lessons.append(data)
    return {
        "format": JSON_FORMAT,
        "workbook_version": __version__,
        "generated_at": report.generated_at,
        "workspace": report.workspace,
        "course": report.course_title,
        "passed": report.passed,
        "total": len(report.lessons),
        "tampered": report.tampered,
        "lessons": lessons,
    }


def render(report: LearnerReport, fmt: str) -> str:
    """The export as text, in `fmt` (one of FORMATS)."""
    if fmt == "csv":
        return to_csv(report)
    if fmt == "gradescope":
        return json.dumps(to_gradescope(report), indent=2, ensure_ascii=False) + "\n"
    if fmt == "json":
        return json.dumps(to_json(report), indent=2, ensure_ascii=False) + "\n"
    raise ValueError(f"unknown export format {fmt!r}; use one of {', '.join(FORMATS)}")
