"""A `workbook` that dies mid-attempt (closed terminal, kill, crash) leaves no learner
code running: not from a cold child, not from the TUI's warm server."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import psutil
import pytest

from tests.conftest import write_solution

pytestmark = pytest.mark.skipif(
    not sys.platform.startswith("linux"), reason="relies on Linux's parent-death signal"
)

LESSON = "01-activations"


def _lingering(workspace) -> None:
    """Learner code that sleeps (no CPU limit to hit) in its top level."""
    lesson = workspace.course.lesson(LESSON)
    reference = workspace.solution_for(lesson)
    linger = "\nimport time as _time\nwhile True:\n    _time.sleep(0.05)\n"
    write_solution(workspace, lesson, reference + linger)


def _confined(pid: int) -> bool:
    """Whether `pid` runs under a seccomp filter: the subject, once confined."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return False
    return "\nSeccomp:\t2\n" in status


def _wait_for_subject(proc: subprocess.Popen) -> int:
    """The subject process under `proc` (it cannot write a pid file anywhere we can
    read: its only writable folder is its private scratch)."""
    deadline = time.monotonic() + 60
    while True:
        assert proc.poll() is None, proc.communicate()
        assert time.monotonic() < deadline, "the learner code never started"
        with contextlib.suppress(psutil.NoSuchProcess):
            for child in psutil.Process(proc.pid).children(recursive=True):
                if _confined(child.pid):
                    time.sleep(0.3)  # let it load the learner's file and start sleeping
                    return child.pid
        time.sleep(0.02)


def _gone(pid: int, within: float = 10.0) -> bool:
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        try:
            if psutil.Process(pid).status() == psutil.STATUS_ZOMBIE:
                return True
        except psutil.NoSuchProcess:
            return True
        time.sleep(0.02)
    return False


@pytest.mark.parametrize(
    "how", [signal.SIGKILL, signal.SIGTERM, signal.SIGHUP], ids=["KILL", "TERM", "HUP"]
)
def test_a_killed_check_takes_its_attempt_with_it(workspace, how):
    _lingering(workspace)
    cli = subprocess.Popen(
        [sys.executable, "-m", "workbook", "--workspace", str(workspace.root), "check", "1"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    learner = _wait_for_subject(cli)
    cli.send_signal(how)
    cli.wait(timeout=30)
    if how != signal.SIGKILL:
        assert cli.returncode == 128 + how  # unwound, not killed outright
    assert _gone(learner), f"learner code (pid {learner}) outlived `workbook check`"


WARM_APP = """
import json, sys
from pathlib import Path
from workbook.grading.warm import WarmGrader
from workbook.workspace import Workspace

workspace = Workspace(Path(sys.argv[1]))
grader = WarmGrader(workspace.root)
grader.start()
assert grader.wait_until_ready(60)
print(json.dumps({"server": grader._server.proc.pid}), flush=True)
grader.grade(workspace, workspace.course.lesson(sys.argv[2]))
"""


def test_a_killed_app_takes_its_warm_server_and_attempt_with_it(workspace):
    _lingering(workspace)
    app = subprocess.Popen(
        [sys.executable, "-c", WARM_APP, str(workspace.root), LESSON],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    server = json.loads(app.stdout.readline())["server"]
    learner = _wait_for_subject(app)
    assert learner != server
    os.kill(app.pid, signal.SIGKILL)
    app.wait(timeout=30)
    assert _gone(learner), "learner code outlived the app"
    assert _gone(server), "the warm server outlived the app"
