"""The grading child: one fresh interpreter per attempt, with limits set before any
learner code runs.

It reads its job (JSON) from stdin, so nothing about it sits in argv for learner
code to find, and writes JSON-lines events to the report file. Learner output is
kept in a bounded buffer: a print loop can neither flood the terminal nor fill the
disk. sys.exit and os._exit become ordinary exceptions, so a learner's exit is
graded like any other mistake.
"""

from __future__ import annotations

import importlib.util
import io
import json
import os
import sys
from pathlib import Path
from typing import Any

OUTPUT_LIMIT = 8_000


class BoundedOutput(io.TextIOBase):
    """Keeps the first OUTPUT_LIMIT characters written and counts the rest.

    What is kept also goes straight to `copy` (a file the parent reads), so that when
    an endless loop is killed at the time limit, its first prints, the best clue to
    the loop, are still shown."""

    def __init__(self, copy: str | None = None) -> None:
        self.parts: list[str] = []
        self.kept = 0
        self.dropped = 0
        self._copy = open(copy, "w", encoding="utf-8") if copy else None  # noqa: SIM115

    def writable(self) -> bool:
        return True

    def write(self, text: str) -> int:
        room = OUTPUT_LIMIT - self.kept
        if room > 0:
            kept = text[:room]
            self.parts.append(kept)
            self.kept += len(kept)
            if self._copy is not None:
                self._copy.write(kept)
                self._copy.flush()
        self.dropped += max(0, len(text) - max(room, 0))
        return len(text)

    def getvalue(self) -> str:
        return "".join(self.parts)


class LearnerExit(SystemExit):
    pass


def _forbid_hard_exit(code: int = 0) -> None:
    raise LearnerExit(code)


def apply_limits(memory_mb: int, cpu_s: float) -> None:
    try:
        import resource
    except ImportError:  # not on Windows: the parent's wall-clock limit still holds
        return
    data = memory_mb * 1024 * 1024
    resource.setrlimit(resource.RLIMIT_DATA, (data, data))
    cpu = int(cpu_s) + 2  # a backstop: the parent's wall-clock limit comes first
    resource.setrlimit(resource.RLIMIT_CPU, (cpu, cpu + 1))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))


class Report:
    def __init__(self, path: str) -> None:
        self._file = open(path, "a", encoding="utf-8")  # noqa: SIM115
        # The C encoder, bound before learner code runs: json.dumps goes through
        # Python-level code that a patched `builtins.isinstance` would break.
        self._encode = json.JSONEncoder().iterencode

    def __call__(self, event: dict[str, Any]) -> None:
        self._file.write("".join(self._encode(event, True)) + "\n")
        self._file.flush()


def load_learner(path: str, emit: Report, shown_as: str):
    from workbook.grading.learner_trace import describe

    source = Path(path).read_text(encoding="utf-8", errors="replace")
    try:
        code = compile(source, path, "exec")
    except SyntaxError as exc:
        emit(
            {
                "event": "error",
                "kind": "syntax",
                "message": f"syntax error at {shown_as}:{exc.lineno}: {exc.msg}",
                "file": shown_as,
                "line": exc.lineno,
                "code": (exc.text or "").rstrip("\n"),
                "traceback": "",
            }
        )
        return None
    spec = importlib.util.spec_from_file_location("learner_exercise", path)
    module = importlib.util.module_from_spec(spec)
    sys.modules["learner_exercise"] = module
    try:
        exec(code, module.__dict__)
    except BaseException as exc:
        trace = describe(exc, path, shown_as)
        emit(
            {
                "event": "error",
                "kind": "import",
                "message": f"your file failed while being loaded: {trace.message}",
                "file": shown_as,
                "line": trace.line,
                "code": trace.code,
                "traceback": trace.traceback,
            }
        )
        return None
    return module


def run(job: dict[str, Any]) -> None:
    emit = Report(job["report"])
    apply_limits(job["memory_mb"], job["timeout_s"])
    output = BoundedOutput(job.get("output"))
    sys.stdout = sys.stderr = output
    os._exit = _forbid_hard_exit
    try:
        import pytest

        from workbook.grading import seal
        from workbook.grading.guard import Guard
        from workbook.grading.plugin import GradingPlugin

        guard = Guard(emit, job["shown_as"])  # snapshot the judge before learner code runs
        seal.install(job.get("sealed", ()), (job["report"], job.get("output")))
        module = load_learner(job["exercise"], emit, job["shown_as"])
        if module is not None and guard.intact():
            plugin = GradingPlugin(module, job["exercise"], job["shown_as"], emit)
            args = [
                job["check"],
                "-s",
                "-c", os.devnull,
                "--rootdir", str(Path(job["check"]).parent),
                "--import-mode=importlib",
                "-p", "no:cacheprovider",
                "-p", "no:stepwise",
                "-p", "no:terminal",
                # Plugins the checks never use. unraisableexception alone costs a few
                # full garbage collections per run (≈ 50 ms on a warm fork).
                "-p", "no:unraisableexception",
                "-p", "no:threadexception",
                "-p", "no:doctest",
                "-p", "no:junitxml",
                "-p", "no:pastebin",
                "-p", "no:setuponly",
                "-p", "no:setupplan",
                "-p", "no:unittest",
                "-p", "no:legacypath",
                "-p", "no:tmpdir",
                "-p", "no:monkeypatch",
                "-p", "no:recwarn",
                "-p", "no:logging",
                "-p", "no:debugging",
                "--assert=plain",
                "-W", "ignore::DeprecationWarning",
            ]  # fmt: skip
            pytest.main(args, plugins=[plugin, guard])
            guard.intact()
    finally:
        emit(
            {
                "event": "done",
                "output": output.getvalue(),
                "output_dropped": output.dropped,
            }
        )


def die_with_parent(parent: int) -> None:
    """Linux: have the kernel kill this process when `parent` dies, so a `workbook`
    killed mid-attempt (closed terminal, SIGKILL) never leaves learner code running.
    The signal comes when the parent's spawning *thread* ends: callers wait for the
    attempt in the thread that started it. Elsewhere the parent's own kill does it."""
    if not sys.platform.startswith("linux"):
        return
    try:
        import ctypes

        ctypes.CDLL(None, use_errno=True).prctl(1, 9)  # PR_SET_PDEATHSIG, SIGKILL
    except (OSError, AttributeError):
        return
    if os.getppid() != parent:  # it died before prctl took effect
        os._exit(1)


def preload_judge() -> None:
    """Import everything the judge needs before the job arrives: a spare child does
    this while its parent is still starting up, and the warm server does it once."""
    import numpy
    import numpy.random
    import numpy.testing  # noqa: F401 - the guard snapshots it in every attempt
    import pytest  # noqa: F401
    from _pytest.config import get_config

    import workbook.expect
    import workbook.grading.guard
    import workbook.grading.learner_trace
    import workbook.grading.plugin
    import workbook.grading.seal  # noqa: F401

    get_config()  # imports pytest's built-in plugins, which pytest.main loads lazily
    # From here on only learner and check files are imported: no __pycache__ in the
    # workspace. The judge's own modules above keep their bytecode cache.
    sys.dont_write_bytecode = True


def enter(request: dict[str, Any]) -> None:
    """Take up the attempt's place: its stderr file, its working directory (also first
    on sys.path, as for `python -m` started there), and no stdin or stdout."""
    devnull = os.open(os.devnull, os.O_RDWR)
    err = os.open(request["stderr"], os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    os.dup2(devnull, 0)
    os.dup2(devnull, 1)
    os.dup2(err, 2)
    os.close(devnull)
    os.close(err)
    os.chdir(request["cwd"])
    sys.path.insert(0, request["cwd"])


def main() -> None:
    real_exit = os._exit
    die_with_parent(int(os.environ.get("WORKBOOK_GRADER_PARENT", os.getppid())))
    try:
        preload_judge()
        from workbook.grading.guard import take_baseline

        take_baseline()
        failure = None
    except BaseException as exc:  # reported once the attempt's stderr file is known
        failure = exc
    data = sys.stdin.read()
    if not data:  # an unused spare: its parent is gone or never needed it
        real_exit(0)
    request = json.loads(data)
    enter(request)
    if failure is not None:
        raise failure
    run(request["job"])
    # Skip interpreter shutdown: learner threads or atexit hooks must not delay the verdict.
    real_exit(0)


if __name__ == "__main__":
    main()
