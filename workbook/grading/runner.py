"""Parent side of grading: start the child, enforce the wall-clock limit, read events.

Every attempt runs in its own process group, so a timeout or a cancel (a new save in
the TUI) kills the learner's code and anything it spawned, in milliseconds.
"""

from __future__ import annotations

import contextlib
import functools
import json
import os
import secrets
import select
import shutil
import signal
import subprocess
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from workbook import tmpclean
from workbook.catalog import Lesson
from workbook.errors import WorkbookError
from workbook.grading import spare
from workbook.grading.output import OUTPUT_FILE, printed
from workbook.grading.results import CheckResult, ErrorInfo, GradeResult, Verdict
from workbook.grading.spare import child_env  # noqa: F401 - part of this module's API
from workbook.manifest import relevant_to, workspace_tampered
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


@dataclass
class _Events:
    """What the judge reported, read back in order."""

    collected: list[str] | None = None
    phase: str = "starting"
    stopped: dict | None = None
    done: bool = False


def _stop_error(stopped: dict) -> tuple[Verdict, ErrorInfo]:
    """The judge stopped learner code: the learner's limit (timeout), a crash of the
    learner's process (error), or the grader's own start-up (error, not their fault)."""
    kind, message = stopped.get("kind"), str(stopped.get("message", ""))
    if kind in ("cpu", "idle"):
        return Verdict.TIMEOUT, ErrorInfo("timeout", message)
    if kind == "startup":
        return Verdict.ERROR, ErrorInfo("startup", message)
    return Verdict.ERROR, ErrorInfo("crash", message)


def _wall_timeout(phase: str, wall_s: float) -> ErrorInfo:
    """The safety net fired: say truthfully what was going on."""
    if phase in ("starting", "startup"):
        return ErrorInfo(
            "startup",
            f"the grader was still starting after {wall_s:.0f} s (loading numpy, pytest or "
            "TensorFlow): the machine is very busy; your code had not run yet, try again",
        )
    return ErrorInfo(
        "timeout",
        f"grading did not finish within {wall_s:.0f} s of wall-clock time, far beyond the "
        "CPU time your code may use: the machine is very busy, or your code waits on "
        "something; try again",
    )


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
    """The verdict, earned: `passed` only when the judge collected the checks, every
    one of them reported `passed`, nothing stopped learner code, and the judge itself
    finished and exited cleanly."""
    result = GradeResult(lesson=lesson.id, verdict=Verdict.FAILED, duration_s=duration)
    seen = _Events()
    for event in events:
        match event.get("event"):
            case "collected":
                ids = event.get("ids")
                seen.collected = [str(i) for i in ids] if isinstance(ids, list) else []
            case "phase":
                seen.phase = str(event.get("phase"))
            case "subject":
                protection = event.get("protection")
                result.protection = protection if isinstance(protection, dict) else {}
            case "check":
                fields = {k: event.get(k) for k in ("expected", "got", "location")}
                result.checks.append(
                    CheckResult(
                        event["id"], event["name"], event["outcome"], event["message"], **fields
                    )
                )
            case "stopped":
                seen.stopped = event
            case "error":
                result.error = ErrorInfo(
                    **{k: event.get(k) for k in ("kind", "message", "file", "line", "code")},
                    traceback=event.get("traceback", ""),
                )
            case "check-error":
                tampered = bool(event.get("tampered"))
                result.error = ErrorInfo(
                    "check-error",
                    event["message"]
                    if tampered
                    else "the hidden checks for this lesson could not be loaded; this is a "
                    "bug in the workbook, not in your code",
                    traceback="" if tampered else event["message"],
                )
            case "plot":
                result.plots.append({k: event.get(k) for k in PLOT_KEYS})
            case "done":
                seen.done = True
                result.output = event.get("output", "")
                result.output_truncated = bool(event.get("output_dropped"))
            case "output":  # added by the parent when the attempt was cut short
                result.output = event["output"]
                result.output_truncated = bool(event.get("output_dropped"))
    reported = {c.id for c in result.checks}
    if timed_out:
        result.verdict = Verdict.TIMEOUT
        result.error = _wall_timeout(seen.phase, timeout_s)
        if result.error.kind == "startup":
            result.verdict = Verdict.ERROR
    elif seen.stopped is not None:
        result.verdict, result.error = _stop_error(seen.stopped)
    elif result.error is not None:
        result.verdict = Verdict.ERROR
    elif not seen.done or returncode != 0:
        result.verdict = Verdict.ERROR
        if returncode is not None and returncode < 0:
            how = f"was killed by signal {signal.Signals(-returncode).name}"
        else:
            how = f"exited with code {returncode}"
        result.error = ErrorInfo(
            "crash",
            f"the grader {how} before finishing; this is not your code's doing (it runs "
            "in a separate process): please report it with `workbook doctor`",
            traceback=stderr_tail,
        )
    elif not seen.collected or not result.checks:
        result.verdict = Verdict.ERROR
        result.error = ErrorInfo("check-error", "no checks ran for this lesson")
    elif set(seen.collected) - reported:
        result.verdict = Verdict.ERROR
        missing = ", ".join(sorted(set(seen.collected) - reported))
        result.error = ErrorInfo("check-error", f"some checks did not report: {missing}")
    elif all(c.outcome == "passed" for c in result.checks):
        result.verdict = Verdict.PASSED
    if result.verdict is Verdict.ERROR and result.error is not None:
        result.grader_fault = result.error.kind == "startup" or (
            result.error.kind == "crash" and seen.stopped is None
        )
    return result.clean()  # learner code's words drive no terminal, nor an export


@dataclass(frozen=True)
class RunOutcome:
    """How the process that ran one attempt ended (its events are in the report file)."""

    timed_out: bool
    returncode: int | None
    stderr_tail: str


# Runs one job (the child's input) and waits for it: (job, tmp dir, cwd, cancel,
# deadline on the perf_counter clock) -> RunOutcome. `run_cold` starts a fresh
# interpreter; `workbook.grading.service` forks one from the grading service. Raises
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
        request = {"job": planned(job), "stderr": str(stderr_path), "cwd": str(cwd)}
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


STARTUP_CPU_S = {"numpy": 30.0, "tensorflow": 120.0}  # generous: not the learner's budget


def limits_for(lesson: Lesson, timeout_s: float | None = None) -> dict[str, float]:
    """CPU seconds: per call of learner code (the lesson's `timeout_s`), for the whole
    attempt, and for the subject's start-up (importing TensorFlow), kept apart."""
    call = timeout_s if timeout_s is not None else lesson.timeout_s
    startup = STARTUP_CPU_S["tensorflow" if lesson.uses_tensorflow else "numpy"]
    return {"call_s": call, "total_s": 2 * call, "startup_s": startup}


def wall_net(limits: dict[str, float]) -> float:
    """The wall-clock safety net: every budget five times over (a machine where the
    attempt gets a fifth of a core still finishes), plus interpreter start-up."""
    return 5 * (limits["startup_s"] + limits["total_s"]) + 30


def bytecode_folder() -> Path:
    """Where the judge keeps the checks' compiled code for this user (see
    `judge.bytecode`): hidden from the subject like the workspace."""
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "lstm-workbook" / "check-bytecode"


def hidden_paths(workspace: Workspace) -> list[str]:
    """What the subject must not read: the workspace (exercises, checks, course,
    progress store), the installed course, the workbook package itself, and the
    judge's compiled checks."""
    paths = {
        str(workspace.root.resolve()),
        str(Path(__file__).resolve().parents[1]),
        str(bytecode_folder()),
    }
    with contextlib.suppress(WorkbookError):  # an installation without a course
        paths.add(str(bundled_root().resolve()))
    return sorted(paths)


@functools.cache
def _sweep_once() -> None:
    """Folders of a `workbook` killed mid-attempt (kill -9): swept once a process."""
    tmpclean.sweep_stale()


@functools.lru_cache(maxsize=4)
def _sandbox_plan(hidden: tuple[str, ...]) -> dict | None:
    try:
        from workbook.grading.subject import sandbox
    except ImportError:
        return None
    return sandbox.static_plan(hidden)


def planned(job: dict) -> dict:
    """`job` with the subject's static sandbox rules planned, once per process, by
    whatever runs the judge: the cold path while its spare judge starts, the
    grading service once for all its attempts (a CLI check on the service plans
    nothing: the service already has). Planned in a long-lived
    process, the subject only applies them."""
    if job.get("sandbox_plan") is None:
        job["sandbox_plan"] = _sandbox_plan(tuple(job.get("hidden", ())))
    return job


def clear_attempt(tmp: Path) -> None:
    """Empty an attempt's folder for a second run of the same attempt (the grading
    service died mid-way and its judge was killed): no report, output or judge files of the
    first run, an empty scratch folder."""
    for entry in tmp.iterdir():
        if entry.is_dir() and not entry.is_symlink():
            shutil.rmtree(entry, ignore_errors=True)
        else:
            entry.unlink(missing_ok=True)
    (tmp / "scratch").mkdir(mode=0o700)


def job_for(
    workspace: Workspace,
    lesson: Lesson,
    *,
    timeout_s: float | None = None,
    verify_checks: bool = True,
) -> dict:
    """What a judge needs to know of `lesson` before any attempt: its check, limits and
    what its subject must not read. An attempt adds its report, file and scratch folder
    (a judge prepared ahead of a save is given this much, see `judge.main.Pending`)."""
    return {
        "check": str(workspace.answer_path(lesson.check).resolve()),
        "shown_as": lesson.exercise,
        "memory_mb": lesson.memory_mb,
        "requires": list(lesson.requires),
        "limits": limits_for(lesson, timeout_s),
        "hidden": hidden_paths(workspace),
        "verify_checks": verify_checks,
        "bytecode_cache": str(bytecode_folder()),
    }


def attempt_folder() -> Path:
    """The attempt's private folder (report, judge's copies of the checks) with the
    subject's scratch folder inside; when root, the subject runs as another user and
    must be able to pass through (not list) the outer folder."""
    _sweep_once()
    tmp = tmpclean.make_attempt_dir()
    (tmp / "scratch").mkdir(mode=0o700)
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        os.chmod(tmp, 0o711)
    return tmp


def grade(
    workspace: Workspace,
    lesson: Lesson,
    *,
    detect_untouched: bool = True,
    cancel: threading.Event | None = None,
    timeout_s: float | None = None,
    exercise: Path | None = None,
    execute: Executor | None = None,
    verify_checks: bool = True,
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
    tmp = attempt_folder()
    try:
        token = secrets.token_hex(12)
        report = tmp / f"{token}.jsonl"
        job = job_for(workspace, lesson, timeout_s=timeout_s, verify_checks=verify_checks)
        job.update(
            report=str(report), exercise=str(exercise.resolve()), scratch=str(tmp / "scratch")
        )
        deadline = started + wall_net(job["limits"])
        # Scanned before the attempt: a cold judge is still starting up (pytest) when
        # the job is ready, while after the verdict the learner would wait for the
        # scan. Scanned again after it where learner code could write the workspace.
        tampered = workspace_tampered(workspace)
        outcome = (execute or run_cold)(job, tmp, tmp, cancel, deadline)
        events = _read_events(report)
        if not any(event.get("event") == "done" for event in events):
            # Killed before it could report its output (the safety net, a crash).
            text, dropped = printed(tmp / OUTPUT_FILE)
            events.append({"event": "output", "output": text, "output_dropped": dropped})
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    result = _assemble(
        lesson,
        events,
        time.perf_counter() - started,
        timed_out=outcome.timed_out,
        returncode=outcome.returncode,
        stderr_tail=outcome.stderr_tail,
        timeout_s=wall_net(job["limits"]),
    )
    if result.protection.get("files_confined") is not True:
        tampered = workspace_tampered(workspace)  # learner code could have written it
    result.tampered = relevant_to(tampered, lesson, workspace.course)
    return result


def grade_source(workspace: Workspace, lesson: Lesson, source: str) -> GradeResult:
    """Grade `source` as if it were the learner's file, without touching that file."""
    with tempfile.TemporaryDirectory(prefix="workbook-source-") as tmp:
        path = Path(tmp) / Path(lesson.exercise).name
        path.write_text(source, encoding="utf-8")
        return grade(workspace, lesson, exercise=path, detect_untouched=False)
