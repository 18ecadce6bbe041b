"""Spare grading children: started before the job is known, used once, never leaked."""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import sys
import time

import pytest

from tests.conftest import write_solution
from workbook.grading import spare
from workbook.grading.results import Verdict
from workbook.grading.runner import grade
from workbook.launch import command_of
from workbook.session import Session


@pytest.fixture(autouse=True)
def no_spare_left():
    spare.discard()
    yield
    spare.discard()
    assert spare._spare is None


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def test_a_prestarted_child_grades_the_attempt(workspace):
    lesson = workspace.course.lesson(8)
    write_solution(workspace, lesson)
    spare.prestart()
    waiting = spare._spare
    assert waiting is not None and waiting.poll() is None
    result = grade(workspace, lesson)
    assert result.verdict is Verdict.PASSED, result.headline
    assert spare._spare is None  # taken by the attempt, not left running
    assert waiting.poll() is not None


def test_a_spare_is_a_clean_slate_for_a_failing_attempt(workspace):
    lesson = workspace.course.lesson(1)
    reference = workspace.solution_for(lesson)
    write_solution(workspace, lesson, reference.replace("np.tanh(x)", "1 / 0"))
    spare.prestart()
    result = grade(workspace, lesson)
    assert result.verdict is Verdict.FAILED
    assert any("ZeroDivisionError" in c.message for c in result.failing)


def test_a_dead_spare_is_replaced_by_a_fresh_child(workspace):
    lesson = workspace.course.lesson(1)
    write_solution(workspace, lesson)
    spare.prestart()
    spare._spare.kill()
    spare._spare.wait()
    assert grade(workspace, lesson).verdict is Verdict.PASSED


def test_an_unused_spare_exits_quietly_when_its_parent_goes():
    child = spare.spawn_child()
    child.stdin.close()  # what the child sees when its parent exits without a job
    assert child.wait(timeout=30) == 0


def test_a_run_of_checks_keeps_one_spare_ahead_and_none_after(workspace):
    lessons = [workspace.course.lesson(n) for n in (1, 2)]
    for lesson in lessons:
        write_solution(workspace, lesson)
    session = Session(workspace)
    try:
        ahead = []
        for _lesson, result in session.check_each(lessons):
            assert result.passed, result.headline
            ahead.append(spare._spare is not None and spare._spare.poll() is None)
        assert ahead == [True, True]
        assert spare._spare is None
    finally:
        session.close()


def test_grading_leaves_no_bytecode_cache_in_the_workspace(workspace, monkeypatch):
    monkeypatch.delenv("PYTHONDONTWRITEBYTECODE", raising=False)
    for number in (3, 8):  # lesson 3's check imports the checks/_gates.py helper
        lesson = workspace.course.lesson(number)
        write_solution(workspace, lesson)
        assert grade(workspace, lesson).verdict is Verdict.PASSED
    assert not list(workspace.root.rglob("__pycache__"))


@pytest.mark.parametrize(
    ("argv", "command"),
    [
        (["check", "8"], "check"),
        (["--workspace", "check", "list"], "list"),  # a folder named "check"
        (["-w", "/tmp/ws", "review"], "review"),
        (["--version"], None),
        ([], None),
    ],
)
def test_the_launcher_reads_the_command_past_group_options(argv, command):
    assert command_of(argv) == command


def test_the_console_script_leaves_no_child_behind(workspace):
    """`workbook check` on an untouched stub never uses its spare; it must not linger."""
    script = (
        "import sys, json\n"
        "from workbook.grading import spare\n"
        "from workbook import launch\n"
        "sys.argv = ['workbook', '--workspace', sys.argv[1], 'check', '1', '--json']\n"
        "spare.prestart()\n"
        "print(json.dumps({'spare': spare._spare.pid}), flush=True)\n"
        "launch.main()\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script, str(workspace.root)], capture_output=True, text=True
    )
    assert done.returncode == 1, done.stderr
    first, _, rest = done.stdout.partition("\n")
    assert json.loads(rest)["verdict"] == "not-started"
    pid = json.loads(first)["spare"]
    deadline = time.monotonic() + 10
    while _alive(pid) and time.monotonic() < deadline:
        time.sleep(0.01)
    assert not _alive(pid)


def test_a_spare_from_another_thread_is_not_used(workspace):
    """A child dies with the thread that started it: a spare from a thread that is still
    alive now but may end mid-attempt must not grade."""
    import signal
    import threading

    lesson = workspace.course.lesson(1)
    write_solution(workspace, lesson)
    started, release = threading.Event(), threading.Event()

    def other_thread():
        spare.prestart()
        started.set()
        release.wait(60)

    thread = threading.Thread(target=other_thread)
    thread.start()
    try:
        started.wait(30)
        foreign = spare._spare
        assert foreign is not None and foreign.poll() is None
        assert grade(workspace, lesson).verdict is Verdict.PASSED
        assert foreign.wait(10) == -signal.SIGKILL  # killed unused, not exited after grading
    finally:
        release.set()
        thread.join()


def test_a_spare_holds_no_descriptor_of_its_parent_but_its_stdin(tmp_path):
    """Started with posix_spawn, not Popen: an inheritable descriptor this process
    was handed (a make jobserver's, say) does not reach the judge, and the judge's
    stdin is the job's pipe, its stdout and stderr /dev/null, in a session of its own."""
    handed = os.open(tmp_path / "handed", os.O_CREAT | os.O_RDWR)
    os.set_inheritable(handed, True)
    child = spare.spawn_child()
    try:
        fds = {}
        for fd in os.listdir(f"/proc/{child.pid}/fd"):
            with contextlib.suppress(FileNotFoundError):  # a file the interpreter closed
                fds[int(fd)] = os.readlink(f"/proc/{child.pid}/fd/{fd}")
        assert str(tmp_path / "handed") not in fds.values()
        assert fds[0].startswith("pipe:")
        assert fds[1] == fds[2] == os.devnull
        assert os.getsid(child.pid) == child.pid != os.getsid(0)
        assert child.poll() is None
    finally:
        os.close(handed)
        child.kill()
        assert child.wait(timeout=30) == -9


def _in_a_child(body: str, *args: str, **run) -> subprocess.CompletedProcess:
    """Run `body` in a fresh interpreter (the package importable), for settings a test
    worker must not take on itself (an ignored SIGCHLD, a closed stdin)."""
    script = "import json, os, signal, sys, time\nfrom workbook.grading import spare\n" + body
    return subprocess.run(
        [sys.executable, "-c", script, *args], capture_output=True, text=True, timeout=120, **run
    )


def test_a_spare_reaped_by_someone_else_is_seen_to_end():
    """With SIGCHLD ignored (a parent's setting that exec keeps), the kernel reaps the
    child itself: the spare must still be seen to end (subprocess says 0), not be
    polled as running until the attempt's wall-clock net ran out."""
    done = _in_a_child(
        "signal.signal(signal.SIGCHLD, signal.SIG_IGN)\n"
        "child = spare.spawn_child()\n"
        "child.stdin.close()  # no job: it exits\n"
        "deadline = time.monotonic() + 60\n"
        "while child.poll() is None and time.monotonic() < deadline:\n"
        "    time.sleep(0.01)\n"
        "other = spare.spawn_child()\n"
        "other.stdin.close()\n"
        "print(json.dumps([child.poll(), other.wait(timeout=60)]))\n"
    )
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == [0, 0]


def test_a_spare_gets_its_job_pipe_when_the_parent_has_no_stdin():
    """The job's pipe can be made on descriptor 0 when this process has none: it must
    still reach the child as its stdin."""
    done = _in_a_child(
        "os.close(0)\n"
        "child = spare.spawn_child()\n"
        "link = os.readlink(f'/proc/{child.pid}/fd/0')\n"
        "child.stdin.close()\n"
        "print(json.dumps([link, child.wait(timeout=60)]))\n"
    )
    assert done.returncode == 0, done.stderr
    link, code = json.loads(done.stdout)
    assert link.startswith("pipe:") and code == 0
