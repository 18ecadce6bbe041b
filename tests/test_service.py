"""The grading service: one warm grader per user and workspace, shared by every face.

Started on demand, reused by the CLI, `watch` and the TUI, refused to other users
and other installations, gone when idle, replaced (and the attempt graded cold)
when killed, and right for two faces grading at once.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from tests.conftest import run_cli, write_solution
from tests.service_support import service_ready, service_status, stop_service
from workbook.grading import service
from workbook.grading.results import Verdict

LESSON = "01-activations"
ROOT = hasattr(os, "geteuid") and os.geteuid() == 0


@pytest.fixture
def served(workspace, monkeypatch):
    """The workspace, with grading through its service enabled; the service is
    stopped afterwards."""
    monkeypatch.delenv("WORKBOOK_WARM", raising=False)
    monkeypatch.setenv("WORKBOOK_SERVICE_IDLE", "60")
    yield workspace
    stop_service(workspace)


def test_the_first_check_starts_the_service_and_the_next_one_uses_it(served):
    lesson = served.course.lesson(LESSON)
    write_solution(served, lesson)
    assert not service.running(served.root)
    first = run_cli(served, "check", "1")
    assert first.exit_code == 0, first.output
    before = service_ready(served)
    assert before["attempts"] == 0  # the first check ran cold, then started it
    second = run_cli(served, "check", "1", "--json")
    assert second.exit_code == 0 and '"verdict": "passed"' in second.output
    after = service_status(served)
    assert after["pid"] == before["pid"] and after["attempts"] == 1


def test_every_face_shares_one_service(served):
    """CLI, `watch` and the TUI all grade through the same ServiceGrader socket."""
    lesson = served.course.lesson(LESSON)
    write_solution(served, lesson)
    pid = service_ready(served)["pid"]
    faces = [service.ServiceGrader(served.root) for _ in range(3)]
    for face in faces:
        assert face.grade(served, lesson).verdict is Verdict.PASSED
        assert face.fallbacks == 0
    status = service_status(served)
    assert status["pid"] == pid and status["attempts"] == 3
    status_cli = run_cli(served, "service", "status", "--json")
    assert status_cli.exit_code == 0 and f'"pid": {pid}' in status_cli.output
    said = run_cli(served, "service", "status").output
    assert f"Grading service {pid}" in said and "graded 3 attempt(s) since it started" in said


def test_two_faces_grading_at_once_both_get_their_own_verdict(served):
    lesson = served.course.lesson(LESSON)
    service_ready(served)
    reference = served.solution_for(lesson)
    wrong = reference.replace("return np.tanh(x)", "return np.tanh(x) * 2")
    good_file = served.root / "good.py"
    bad_file = served.root / "bad.py"
    good_file.write_text(reference, encoding="utf-8")
    bad_file.write_text(wrong, encoding="utf-8")
    from workbook.grading.runner import grade

    results = {}

    def attempt(name, path):
        grader = service.ServiceGrader(served.root)

        def execute(*args):
            return service._run_on_socket(service.socket_path(served.root), *args, ())

        results[name] = grade(
            served, lesson, exercise=path, detect_untouched=False, execute=execute
        )
        assert grader.fallbacks == 0

    threads = [threading.Thread(target=attempt, args=item) for item in
               (("good", good_file), ("bad", bad_file))]  # fmt: skip
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    assert results["good"].verdict is Verdict.PASSED
    assert results["bad"].verdict is Verdict.FAILED
    assert service_status(served)["attempts"] == 2


def test_another_installation_is_refused(served):
    service_ready(served)
    path = service.socket_path(served.root)
    with pytest.raises(service.ServiceUnavailable, match="another installation"):
        service._connect(path, "a-different-install")
    # Another installation looks elsewhere, so it never meets this service.
    assert service.socket_path(served.root, "a-different-install") != path


@pytest.mark.skipif(not ROOT, reason="needs root to become another user")
def test_another_user_is_refused(served):
    service_ready(served)
    path = service.socket_path(served.root)
    code = (
        "import os, socket, sys\n"
        "os.setgid(65534); os.setuid(65534)\n"
        "s = socket.socket(socket.AF_UNIX)\n"
        "try:\n"
        f"    s.connect({str(path)!r}); s.sendall(b'{{}}\\n'); print('GOT', s.recv(100))\n"
        "except OSError as exc:\n"
        "    print('REFUSED', exc.errno)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=30)
    assert out.stdout.startswith("REFUSED") or "GOT b''" in out.stdout, out
    folder = path.parent
    assert (folder.stat().st_mode & 0o777) == 0o700


def test_a_foreign_uid_on_the_socket_is_closed_unheard():
    """The peer-credential check itself: a connection from another uid is closed."""
    left, right = socket.socketpair()
    try:
        assert service._peer_uid(left) == os.getuid()
    finally:
        left.close()
        right.close()


def test_an_idle_service_exits_and_removes_its_socket(served, monkeypatch):
    monkeypatch.setenv("WORKBOOK_SERVICE_IDLE", "1")
    service_ready(served)
    path = service.socket_path(served.root)
    deadline = time.monotonic() + 30
    while path.exists() and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not path.exists()
    assert not service.running(served.root)


def test_a_service_killed_mid_attempt_is_replaced_and_the_attempt_graded_cold(served):
    lesson = served.course.lesson(LESSON)
    reference = served.solution_for(lesson)
    write_solution(
        served, lesson, reference.replace("return np.tanh(x)", "while True:\n        pass")
    )
    pid = service_ready(served)["pid"]
    grader = service.ServiceGrader(served.root)
    killer = threading.Timer(1.0, lambda: os.kill(pid, 9))
    killer.start()
    result = grader.grade(served, lesson, timeout_s=2.0)
    killer.join()
    assert result.verdict is Verdict.TIMEOUT, result.error
    assert grader.fallbacks == 1
    # A stale socket is cleaned and a new service started for the next attempt.
    assert grader.wait_until_ready(60)
    assert service_status(served)["pid"] != pid
    write_solution(served, lesson)
    assert grader.grade(served, lesson).verdict is Verdict.PASSED


def test_warm_off_grades_cold_and_starts_nothing(workspace, monkeypatch):
    monkeypatch.setenv("WORKBOOK_WARM", "0")
    lesson = workspace.course.lesson(LESSON)
    write_solution(workspace, lesson)
    assert run_cli(workspace, "check", "1").exit_code == 0
    time.sleep(0.5)
    assert not service.running(workspace.root)


def test_a_keras_lesson_is_graded_warm_by_the_service(served):
    """TensorFlow is imported once, into the service's zygote: the Keras attempt is
    served warm (a zygote started from a short-lived thread once died with it, and
    every Keras attempt fell back cold)."""
    lesson = served.course.lesson("17-keras-model-edits")
    write_solution(served, lesson)
    grader = service.ServiceGrader(served.root)
    grader.preload_tensorflow()
    assert grader.wait_until_ready(300)
    for _ in range(2):
        result = grader.grade(served, lesson)
        assert result.verdict is Verdict.PASSED, result.error
        assert result.notes == [] and grader.fallbacks == 0
    assert service_status(served)["attempts"] == 2


# -- a face's command run in the service ----------------------------------------------


def _workbook(workspace, *args: str, warm: bool = True) -> subprocess.Popen:
    """The real `workbook` command (through `workbook.launch`, as the console script
    runs it), in the workspace's folder; `warm=False`: with the service left alone,
    run here and graded cold."""
    import workbook

    here = str(Path(workbook.__file__).resolve().parents[1])  # this package, not another copy
    env = {**os.environ, "NO_COLOR": "1", "COLUMNS": "100", "WORKBOOK_WARM": "0"}
    env["PYTHONPATH"] = os.pathsep.join([here, *filter(None, [env.get("PYTHONPATH")])])
    if warm:
        env.pop("WORKBOOK_WARM")
    return subprocess.Popen(
        [sys.executable, "-m", "workbook", *args],
        cwd=workspace.root,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _done(proc: subprocess.Popen) -> tuple[int, str, str]:
    out, err = proc.communicate(timeout=120)
    return proc.returncode, out, err


def _without_durations(text: str) -> str:
    import re

    text = re.sub(r"\(\d+\.\d+ s\)", "(… s)", text)
    return re.sub(r'("duration_s": )[\d.e-]+', r"\1…", text)


def test_check_runs_in_the_service_as_it_would_here(served):
    """With a service up, `workbook check` runs in a fork of it, on this process's
    stdout, stderr, folder and environment: the same words and exit status as the
    command run here, for a pass, a failure and a usage error."""
    lesson = served.course.lesson(LESSON)
    write_solution(served, lesson)
    service_ready(served)
    cases = [("check", "1"), ("check", "2"), ("check", "99"), ("check", "1", "--json")]
    for args in cases:
        attempts = service_status(served)["attempts"]
        there = _done(_workbook(served, *args))
        assert service_status(served)["attempts"] > attempts, args  # the service ran it
        here = _done(_workbook(served, *args, warm=False))
        assert there[0] == here[0], (args, there, here)
        assert _without_durations(there[1]) == _without_durations(here[1]), args
        assert there[2] == here[2], args
    assert _done(_workbook(served, "check", "1"))[0] == 0


def test_a_check_run_in_the_service_leaves_a_judge_for_the_next(served):
    """`workbook check 1` twice from the shell: once the first (and the command that
    ran it) ended, a judge waits for lesson 1, and the second check is graded by it."""
    lesson = served.course.lesson(LESSON)
    write_solution(served, lesson)
    service_ready(served)
    assert _done(_workbook(served, "check", "1"))[0] == 0
    _wait_prepared(served)
    assert _done(_workbook(served, "check", "1"))[0] == 0
    assert service_status(served)["graded_by_prepared"] == 1


def test_ctrl_c_on_a_check_run_in_the_service_stops_it_there(served):
    lesson = served.course.lesson(LESSON)
    reference = served.solution_for(lesson)
    # Waiting, not computing: the attempt lasts its 20 s idle budget, not a few CPU
    # seconds a loaded machine may spend before the test gets to press Ctrl-C.
    waits = "import time\n\n    while True:\n        time.sleep(0.5)"
    write_solution(served, lesson, reference.replace("return np.tanh(x)", waits))
    service_ready(served)
    proc = _workbook(served, "check", "1")
    end = time.monotonic() + 30
    while service_status(served)["running"] < 2 and time.monotonic() < end:  # command, judge
        time.sleep(0.1)
    assert service_status(served)["running"] == 2
    proc.send_signal(2)  # SIGINT, as Ctrl-C in its terminal
    code, out, err = _done(proc)
    assert code == 130, (out, err)
    end = time.monotonic() + 30
    while service_status(served)["running"] and time.monotonic() < end:
        time.sleep(0.1)
    assert service_status(served)["running"] == 0  # nothing of it runs on in the service


def test_the_service_runs_only_the_clis_own_commands(served):
    service_ready(served)
    for entry in ("os:system", "workbook.grading.judge.main:run", "workbook.cli:"):
        assert service.run_face(served.root, entry, ["list"]) is None, entry
    assert service_status(served)["running"] == 0


def _wait_prepared(where, count: int = 1, timeout: float = 60.0) -> dict:
    deadline = time.monotonic() + timeout
    while True:
        status = service_status(where)
        if status["prepared"] >= count:
            return status
        assert time.monotonic() < deadline, f"no judge was prepared: {status}"
        time.sleep(0.05)


def test_a_judge_prepared_ahead_grades_one_save_as_a_fresh_one_would(served):
    """A face on a lesson asks for a judge ready for its next save, and each attempt
    leaves one ready for the one after: checks copied and collected, a subject
    confined, waiting. Each grades one attempt, with the verdict and diagnosis a fresh
    judge gives, and nothing of an attempt reaches the next (a file its code left in
    its scratch folder). A job it was not prepared for (other limits) is not its."""
    lesson = served.course.lesson(LESSON)
    reference = served.solution_for(lesson)
    service_ready(served)
    grader = service.ServiceGrader(served.root)
    grader.prepare(served, lesson)
    _wait_prepared(served)
    leave = "\nopen('left-behind.txt', 'w').write('from the last attempt')\n"
    find = "\nimport os\nassert not os.path.exists('left-behind.txt'), 'a file carried over'\n"
    cases = [
        (reference, Verdict.PASSED),
        (reference.replace("return np.tanh(x)", "return np.tanh(x) * 2"), Verdict.FAILED),
        ("def sigmoid(x:\n", Verdict.ERROR),
        (reference + leave, Verdict.PASSED),
        (reference + find, Verdict.PASSED),
    ]
    for number, (source, verdict) in enumerate(cases, 1):
        write_solution(served, lesson, source)
        result = grader.grade(served, lesson)
        assert result.verdict is verdict, (number, result.summary())
        assert grader.fallbacks == 0
        assert service_status(served)["graded_by_prepared"] == number
        if verdict is Verdict.FAILED:
            assert any("tanh" in check.message for check in result.failing), result.summary()
        if verdict is Verdict.ERROR:
            assert result.error is not None and result.error.kind == "syntax"
        _wait_prepared(served)  # the next save's judge

    looping = reference.replace("return np.tanh(x)", "while True:\n        pass")
    write_solution(served, lesson, looping)
    result = grader.grade(served, lesson, timeout_s=2.0)
    assert result.verdict is Verdict.TIMEOUT, result.summary()
    assert service_status(served)["graded_by_prepared"] == len(cases)  # a fresh judge's


def test_a_prepared_judge_is_not_used_once_a_check_changed(tmp_path, monkeypatch):
    """What the service compares before it hands a save to a judge prepared earlier:
    the check and its helpers, as files (a course author edits a check). Files just
    written have no stamp to trust (`filestamp.RACY_S`), so none is used then."""
    from workbook import filestamp

    check = tmp_path / "01-lesson.py"
    check.write_text("def test_a():\n    pass\n")
    helper = tmp_path / "_shared.py"
    helper.write_text("X = 1\n")
    assert service._check_stamps(str(check)) is None  # too recent to tell
    monkeypatch.setattr(filestamp, "RACY_S", 0.0)
    before = service._check_stamps(str(check))
    assert before is not None and service._check_stamps(str(check)) == before
    helper.write_text("X = 22\n")
    assert service._check_stamps(str(check)) != before
