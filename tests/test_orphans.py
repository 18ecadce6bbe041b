"""A `workbook` that dies mid-attempt (closed terminal, kill, crash) leaves no learner
code running: not from a cold child, not on the grading service the TUI grades on."""

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
from tests.service_support import service_status, stop_service

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
from workbook.grading.service import ServiceGrader, request
from workbook.workspace import Workspace

workspace = Workspace(Path(sys.argv[1]))
grader = ServiceGrader(workspace.root)
grader.start()
assert grader.wait_until_ready(60)
print(json.dumps({"service": request(workspace.root, {"op": "status"})["pid"]}), flush=True)
grader.grade(workspace, workspace.course.lesson(sys.argv[2]))
"""


def test_a_killed_app_takes_its_attempt_with_it_and_the_service_idles_out(workspace):
    """The app's attempt is cancelled when its connection to the service closes: its
    judge and learner code end. The service outlives the app by design, running
    nothing, until it has been idle WORKBOOK_SERVICE_IDLE seconds."""
    _lingering(workspace)
    app = subprocess.Popen(
        [sys.executable, "-c", WARM_APP, str(workspace.root), LESSON],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "WORKBOOK_SERVICE_IDLE": "3"},
    )
    try:
        server = json.loads(app.stdout.readline())["service"]
        learner = _wait_for_subject(app)
        assert learner in [p.pid for p in psutil.Process(server).children(recursive=True)]
        os.kill(app.pid, signal.SIGKILL)
        app.wait(timeout=30)
        assert _gone(learner), "learner code outlived the app"
        status = service_status(workspace)
        assert status["pid"] == server and status["running"] == 0  # serves on, runs nothing
        assert _gone(server, within=30), "the service did not exit once idle"
    finally:
        app.kill()
        app.wait()
        stop_service(workspace)


RUN_APP = """
import json, sys, time
from pathlib import Path
from workbook.grading.service import RunService

service = RunService(Path(sys.argv[1]), keras=False)
assert service.wait_until_ready(60)
print(json.dumps({"service": service.proc.pid}), flush=True)
time.sleep(600)
"""


def test_a_killed_class_run_takes_its_private_service_with_it(tmp_path):
    """`grade-class` or an autograder killed outright (a platform's timeout, kill -9)
    leaves no grading service behind: the run's private service and its zygote die
    with the process that started them, not after an idle timeout."""
    folder = tmp_path / "run"
    folder.mkdir()
    app = subprocess.Popen(
        [sys.executable, "-c", RUN_APP, str(folder)], stdout=subprocess.PIPE, text=True
    )
    try:
        service = json.loads(app.stdout.readline())["service"]
        zygotes = [child.pid for child in psutil.Process(service).children()]
        assert zygotes, "the service has its NumPy zygote"
        app.send_signal(signal.SIGKILL)
        app.wait(timeout=10)
        assert _gone(service), f"the run's service (pid {service}) outlived it"
        assert all(_gone(pid) for pid in zygotes)
    finally:
        with contextlib.suppress(ProcessLookupError):
            app.kill()
