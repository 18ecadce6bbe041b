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
    """Keeps the first OUTPUT_LIMIT characters written and counts the rest."""

    def __init__(self) -> None:
        self.parts: list[str] = []
        self.kept = 0
        self.dropped = 0

    def writable(self) -> bool:
        return True

    def write(self, text: str) -> int:
        room = OUTPUT_LIMIT - self.kept
        if room > 0:
            self.parts.append(text[:room])
            self.kept += min(room, len(text))
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
    output = BoundedOutput()
    sys.stdout = sys.stderr = output
    os._exit = _forbid_hard_exit
    try:
        import pytest

        from workbook.grading.guard import Guard
        from workbook.grading.plugin import GradingPlugin

        guard = Guard(emit, job["shown_as"])  # snapshot the judge before learner code runs
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


def main() -> None:
    job = json.loads(sys.stdin.read())
    sys.stdin.close()
    real_exit = os._exit
    run(job)
    # Skip interpreter shutdown: learner threads or atexit hooks must not delay the verdict.
    real_exit(0)


if __name__ == "__main__":
    main()
