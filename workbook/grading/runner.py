"""Parent side of grading: start the child, enforce the wall-clock limit, read events.

Every attempt runs in its own process group, so a timeout or a cancel (a new save in
the TUI) kills the learner's code and anything it spawned, in milliseconds.
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import select
import signal
import subprocess
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from workbook.catalog import Lesson
from workbook.errors import WorkbookError
from workbook.grading import spare
from workbook.grading.child import OUTPUT_LIMIT
from workbook.grading.results import CheckResult, ErrorInfo, GradeResult, Verdict
from workbook.grading.spare import child_env  # noqa: F401 - part of this module's API
from workbook.manifest import relevant_to, tampered_files
from workbook.workspace import Workspace, bundled_root

PLOT_KEYS = ("title", "x_label", "y_label", "log_y", "series")


class GradingCancelled(Exception):
    """A newer attempt superseded this one."""


def _read_events(path: Path) -> list[dict]:
    events = []
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except FileNotFoundError:
        return events
    for line in text.splitlines():
        try:
            events.append(json.loads(line))
        except json.JSONDecodeError:
            break  # the last line was cut short when the process died
    return events


def _assemble(
    lesson: Lesson,
    events: list[dict],
    duration: float,
    *,
    timed_out: bool,
    returncode: int | None,
    stderr_tail: str,
    timeout_s: float,
) -> GradeResult:
    result = GradeResult(lesson=lesson.id, verdict=Verdict.FAILED, duration_s=duration)
    running: str | None = None
    done = False
    for event in events:
        match event.get("event"):
            case "start":
                running = event.get("name") or event["id"]
            case "check":
                running = None
                fields = {k: event.get(k) for k in ("expected", "got", "location")}
                result.checks.append(
                    CheckResult(
                        event["id"], event["name"], event["outcome"], event["message"], **fields
                    )
                )
            case "error":
                result.error = ErrorInfo(
                    **{k: event.get(k) for k in ("kind", "message", "file", "line", "code")},
                    traceback=event.get("traceback", ""),
                )
            case "check-error":
                result.error = ErrorInfo(
                    "check-error",
                    "the hidden checks for this lesson could not be loaded; this is a bug "
                    "in the workbook, not in your code",
                    traceback=event["message"],
                )
            case "plot":
                result.plots.append({k: event.get(k) for k in PLOT_KEYS})
            case "done":
                done = True
                result.output = event.get("output", "")
                result.output_truncated = bool(event.get("output_dropped"))
            case "output":  # added by the parent when the attempt was cut short
                result.output = event["output"]
                result.output_truncated = len(event["output"]) >= OUTPUT_LIMIT
    if returncode is not None and returncode == -signal.SIGXCPU:
        timed_out = True  # the CPU limit, the backstop of the wall-clock limit
    if timed_out:
        where = f" while running the check {running!r}" if running else ""
        result.verdict = Verdict.TIMEOUT
        result.error = ErrorInfo(
            "timeout",
            f"your code did not finish within {timeout_s:g} s{where}: look for an endless "
            "loop or a far too large computation",
        )
    elif result.error is not None:
        result.verdict = Verdict.ERROR
    elif not done:
        result.verdict = Verdict.ERROR
        if returncode is not None and returncode < 0:
            how = f"was killed by signal {signal.Signals(-returncode).name}"
        else:
            how = f"exited early with code {returncode}"
        result.error = ErrorInfo(
            "crash",
            f"the grading process {how} before finishing; if your code exits the "
            "interpreter or kills its own process, remove that",
            traceback=stderr_tail,
        )
    elif not result.checks:
        result.verdict = Verdict.ERROR
        result.error = ErrorInfo("check-error", "no checks ran for this lesson")
    elif all(c.outcome == "passed" for c in result.checks):
        result.verdict = Verdict.PASSED
    return result


@dataclass(frozen=True)
class RunOutcome:
    """How the process that ran one attempt ended (its events are in the report file)."""

    timed_out: bool
    returncode: int | None
    stderr_tail: str


# Runs one job (the child's input) and waits for it: (job, tmp dir, cwd, cancel,
# deadline on the perf_counter clock) -> RunOutcome. `run_cold` starts a fresh
# interpreter; `workbook.grading.warm` forks one from a warm server. Raises
# GradingCancelled once the attempt is killed after `cancel` was set.
Executor = Callable[[dict, Path, Path, "threading.Event | None", float], RunOutcome]


def stderr_tail(path: Path, limit: int = 4000) -> str:
    """The end of what the attempt wrote to stderr (crash messages, faulthandler)."""
    try:
        with open(path, "rb") as stream:
            stream.seek(max(0, stream.seek(0, os.SEEK_END) - limit))
            return stream.read().decode(errors="replace")
    except FileNotFoundError:
        return ""


class _ExitWaiter:
    """Sleeps until a process exits or a timeout passes, and wakes the moment it exits.

    Popen.wait(timeout) polls with growing sleeps of up to 50 ms, a delay a learner
    would see on every verdict; a pidfd (Linux) makes the wait exact. Elsewhere the
    polling wait remains."""

    def __init__(self, proc: subprocess.Popen) -> None:
        self.proc = proc
        try:
            self.fd: int | None = os.pidfd_open(proc.pid)
        except (AttributeError, OSError):
            self.fd = None

    def wait(self, timeout: float) -> None:
        if self.fd is None:
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.proc.wait(timeout=timeout)
        else:
            select.select([self.fd], [], [], timeout)

    def close(self) -> None:
        if self.fd is not None:
            os.close(self.fd)


def run_cold(
    job: dict, tmp: Path, cwd: Path, cancel: threading.Event | None, deadline: float
) -> RunOutcome:
    """Run the job in a fresh grading child (a spare one if `spare.prestart` made one)."""
    stderr_path = tmp / "stderr"
    proc = spare.take()
    waiter = _ExitWaiter(proc)
    timed_out = False
    try:
        request = {"job": job, "stderr": str(stderr_path), "cwd": str(cwd)}
        proc.stdin.write(json.dumps(request).encode())
        proc.stdin.close()
        while proc.poll() is None:
            if cancel is not None and cancel.is_set():
                raise GradingCancelled
            left = deadline - time.perf_counter()
            if left <= 0:
                timed_out = True
                break
            waiter.wait(min(left, 0.01 if cancel is not None else 0.5))
    except BrokenPipeError:
        pass
    finally:
        waiter.close()
        spare.kill_group(proc)
    return RunOutcome(
        timed_out, proc.returncode if not timed_out else None, stderr_tail(stderr_path)
    )


def _sealed_folders(workspace: Workspace, lesson: Lesson) -> list[str]:
    """The reference solutions, in this workspace and in the installed course: graded
    code may not open them (see `workbook.grading.seal`)."""
    folders = {str(workspace.path(lesson.solution).parent)}
    with contextlib.suppress(WorkbookError):  # an installation without a course
        folders.add(str((bundled_root() / lesson.solution).parent))
    return sorted(folders)


def grade(
    workspace: Workspace,
    lesson: Lesson,
    *,
    detect_untouched: bool = True,
    cancel: threading.Event | None = None,
    timeout_s: float | None = None,
    exercise: Path | None = None,
    execute: Executor | None = None,
) -> GradeResult:
    """Grade the learner's file for `lesson` (or `exercise`, a file standing in for it).
    Never raises for anything the learner wrote.

    `execute` runs the child (default: `run_cold`); whatever runs it, the job, the
    limits, the report format and the verdict assembly are the same."""
    started = time.perf_counter()
    exercise = exercise or workspace.path(lesson.exercise)
    if not exercise.is_file():
        return GradeResult(
            lesson.id,
            Verdict.ERROR,
            0.0,
            error=ErrorInfo(
                "missing",
                f"{lesson.exercise} does not exist; `workbook reset {lesson.number}` restores it",
            ),
        )
    if detect_untouched and workspace.is_untouched(lesson):
        return GradeResult(lesson.id, Verdict.NOT_STARTED, time.perf_counter() - started)
    limit = timeout_s if timeout_s is not None else lesson.timeout_s
    with tempfile.TemporaryDirectory(prefix="workbook-grade-") as tmp:
        token = secrets.token_hex(12)
        report, printed = Path(tmp) / f"{token}.jsonl", Path(tmp) / f"{token}.out"
        job = {
            "report": str(report),
            "output": str(printed),
            "exercise": str(exercise.resolve()),
            "check": str(workspace.path(lesson.check).resolve()),
            "shown_as": lesson.exercise,
            "sealed": _sealed_folders(workspace, lesson),
            "memory_mb": lesson.memory_mb,
            "timeout_s": limit,
        }
        deadline = started + limit + 0.5  # + start-up of the interpreter
        outcome = (execute or run_cold)(job, Path(tmp), workspace.root, cancel, deadline)
        events = _read_events(report)
        if not any(event.get("event") == "done" for event in events):
            # Killed before it could report its output (a timeout, a crash).
            text = printed.read_text(encoding="utf-8", errors="replace") if printed.exists() else ""
            events.append({"event": "output", "output": text})
    result = _assemble(
        lesson,
        events,
        time.perf_counter() - started,
        timed_out=outcome.timed_out,
        returncode=outcome.returncode,
        stderr_tail=outcome.stderr_tail,
        timeout_s=limit,
    )
    result.tampered = relevant_to(tampered_files(workspace.root), lesson, workspace.course)
    return result


def grade_source(workspace: Workspace, lesson: Lesson, source: str) -> GradeResult:
    """Grade `source` as if it were the learner's file, without touching that file."""
    with tempfile.TemporaryDirectory(prefix="workbook-source-") as tmp:
        path = Path(tmp) / Path(lesson.exercise).name
        path.write_text(source, encoding="utf-8")
        return grade(workspace, lesson, exercise=path, detect_untouched=False)
