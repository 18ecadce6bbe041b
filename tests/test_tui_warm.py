"""The faces' warm grading (the TUI's, `watch`'s and `check`'s: the workspace's grading
service, through `ServiceGrader`) grades exactly like a fresh interpreter, and fails
over to it."""

from __future__ import annotations

import threading
import time

import psutil
import pytest

from tests.conftest import write_solution
from tests.service_support import service_status
from workbook.grading import service
from workbook.grading.results import GradeResult
from workbook.grading.runner import GradingCancelled, grade

LESSON = "01-activations"


def _essence(result: GradeResult) -> tuple:
    """What a learner sees, without timings."""
    error = result.error
    return (
        str(result.verdict),
        [(c.id, c.outcome, c.message, c.expected, c.got) for c in result.checks],
        (error.kind, error.message, error.file, error.line, error.code) if error else None,
        result.output,
    )


def _variants(reference: str) -> dict[str, str]:
    return {
        "passing": reference,
        "failing": reference.replace("np.tanh(x)", "np.tanh(x) * 2"),
        "syntax-error": reference.replace("def tanh(x):", "def tanh(x)"),
        "infinite-loop": reference.replace("return np.tanh(x)", "while True:\n        pass"),
        "sys-exit": reference + "\nimport sys\nsys.exit(3)\n",
        "os-exit": reference + "\nimport os\nos._exit(4)\n",
        "prints": reference.replace(
            "return np.tanh(x)", "print('tanh of', x.shape)\n    return np.tanh(x)"
        ),
        "killed": reference + "\nimport os, signal\nos.kill(os.getpid(), signal.SIGKILL)\n",
    }


@pytest.mark.parametrize("variant", list(_variants("")))
def test_warm_and_cold_give_the_same_verdict(workspace, warm, variant):
    lesson = workspace.course.lesson(LESSON)
    text = _variants(workspace.solution_for(lesson))[variant]
    write_solution(workspace, lesson, text)
    timeout = 1.5 if variant == "infinite-loop" else None
    cold = grade(workspace, lesson, timeout_s=timeout)
    hot = warm.grade(workspace, lesson, timeout_s=timeout)
    assert _essence(hot) == _essence(cold)
    assert warm.fallbacks == 0
    expected = {
        "passing": "passed",
        "failing": "failed",
        "syntax-error": "error",
        "infinite-loop": "timeout",
        "sys-exit": "error",
        "os-exit": "error",
        "prints": "passed",
        "killed": "error",
    }[variant]
    assert str(hot.verdict) == expected
    # The next save of the lesson goes to the judge the service prepared for it.
    deadline = time.monotonic() + 60
    while service_status(workspace)["prepared"] < 1:
        assert time.monotonic() < deadline, "no judge was prepared for the next save"
        time.sleep(0.05)
    again = warm.grade(workspace, lesson, timeout_s=timeout)
    assert _essence(again) == _essence(cold)
    assert service_status(workspace)["graded_by_prepared"] == 1 and warm.fallbacks == 0


def test_attempts_are_isolated_from_each_other(workspace, warm):
    """State a learner's file leaves in a preloaded module never reaches the next attempt."""
    lesson = workspace.course.lesson(LESSON)
    reference = workspace.solution_for(lesson)
    write_solution(workspace, lesson, reference + "\nnp.LEAKED = True\n")
    assert warm.grade(workspace, lesson).passed
    probe = reference.replace(
        "return np.tanh(x)", "assert not hasattr(np, 'LEAKED'), 'leak'\n    return np.tanh(x)"
    )
    write_solution(workspace, lesson, probe)
    assert warm.grade(workspace, lesson).passed


def test_a_dead_service_falls_back_to_cold_and_is_replaced(workspace, warm):
    """A service killed between attempts (its socket left behind): the next attempt
    runs cold and starts a new service, which serves the one after."""
    lesson = workspace.course.lesson(LESSON)
    write_solution(workspace, lesson)
    server = psutil.Process(service_status(workspace)["pid"])
    server.kill()
    server.wait(10)
    result = warm.grade(workspace, lesson)
    assert result.passed and result.notes == []
    assert warm.fallbacks == 1  # graded cold
    assert warm.wait_until_ready(60)
    assert service_status(workspace)["pid"] != server.pid
    assert warm.grade(workspace, lesson).passed
    assert warm.fallbacks == 1 and service_status(workspace)["attempts"] == 1  # served


def test_cancel_kills_the_running_attempt(workspace, warm):
    lesson = workspace.course.lesson(LESSON)
    reference = workspace.solution_for(lesson)
    write_solution(
        workspace, lesson, reference.replace("return np.tanh(x)", "while True:\n        pass")
    )
    cancel = threading.Event()
    outcome: list[BaseException | GradeResult] = []

    def attempt() -> None:
        try:
            outcome.append(warm.grade(workspace, lesson, cancel=cancel))
        except GradingCancelled as exc:
            outcome.append(exc)

    thread = threading.Thread(target=attempt)
    thread.start()
    server = psutil.Process(service_status(workspace)["pid"])
    # The service's children: its subject zygote, and the attempt's judge once it runs;
    # the zygote's child is the subject, which runs the endless loop.
    (zygote,) = [p for p in server.children() if "zygote" in p.cmdline()]
    deadline = time.monotonic() + 10
    while not zygote.children() and time.monotonic() < deadline:
        time.sleep(0.01)
    (looping,) = zygote.children()
    (judge,) = [p for p in server.children() if p.pid != zygote.pid]
    cancel.set()
    thread.join(2)
    assert not thread.is_alive()
    assert isinstance(outcome[0], GradingCancelled)
    # The service kills the judge once its client's connection closes, and the zygote
    # the subject once its judge's socket closes.
    deadline = time.monotonic() + 5
    for process in (looping, judge):
        while process.is_running() and process.status() != psutil.STATUS_ZOMBIE:
            assert time.monotonic() < deadline, f"{process} outlived its cancelled attempt"
            time.sleep(0.01)
    assert zygote.is_running() and server.is_running()
    write_solution(workspace, lesson, reference)
    assert warm.grade(workspace, lesson).passed  # the service still serves
    assert warm.fallbacks == 0


def test_asking_for_tensorflow_never_waits_for_a_running_attempt(workspace, warm, monkeypatch):
    """The TUI calls preload_tensorflow on the event loop when a Keras lesson opens: the
    request goes to the service from another thread (recorded here, not sent: a Keras
    lesson graded on the service is test_service.py's)."""
    asked: list[dict] = []
    real = service.request

    def recorded(root, payload, timeout=120.0):
        if payload.get("op") != "preload":
            return real(root, payload, timeout)
        asked.append(payload)
        return {"ok": True}

    monkeypatch.setattr(service, "request", recorded)
    lesson = workspace.course.lesson(LESSON)
    reference = workspace.solution_for(lesson)
    write_solution(
        workspace, lesson, reference.replace("return np.tanh(x)", "while True:\n        pass")
    )
    thread = threading.Thread(
        target=warm.grade, args=(workspace, lesson), kwargs={"timeout_s": 2.0}
    )
    thread.start()
    time.sleep(0.3)
    started = time.perf_counter()
    warm.preload_tensorflow()
    assert time.perf_counter() - started < 0.1
    thread.join()
    assert asked == [{"op": "preload", "preload": ["tensorflow"]}]
    assert warm.fallbacks == 0  # the attempt was the service's
