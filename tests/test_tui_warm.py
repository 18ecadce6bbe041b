"""The warm fork server grades exactly like a fresh interpreter, and fails over to it."""

from __future__ import annotations

import threading
import time

import pytest

from tests.conftest import write_solution
from workbook.grading.results import GradeResult
from workbook.grading.runner import GradingCancelled, grade
from workbook.grading.warm import WarmGrader

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


def test_a_dead_server_falls_back_to_cold_and_is_replaced(workspace, warm):
    lesson = workspace.course.lesson(LESSON)
    write_solution(workspace, lesson)
    warm._server.kill()
    warm._server.proc.wait()
    result = warm.grade(workspace, lesson)
    assert result.passed
    assert warm.wait_until_ready(30)
    assert warm.grade(workspace, lesson).passed


def test_cancel_kills_the_running_attempt(workspace, warm):
    import psutil

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
    server = psutil.Process(warm._server.proc.pid)
    # The server's children: its subject zygote, and the attempt's judge once it runs;
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
    time.sleep(0.2)  # the zygote kills the subject once its judge's socket closes
    for process in (looping, judge):
        assert not process.is_running() or process.status() == psutil.STATUS_ZOMBIE
    assert zygote.is_running()
    write_solution(workspace, lesson, reference)
    assert warm.grade(workspace, lesson).passed  # the server still serves


def test_asking_for_tensorflow_never_waits_for_a_running_attempt(workspace, warm, monkeypatch):
    """The TUI calls preload_tensorflow on the event loop when a Keras lesson opens."""
    booted: list[tuple[str, ...]] = []
    monkeypatch.setattr(WarmGrader, "_boot", lambda self, preload: booted.append(preload))
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
    assert booted == [("tensorflow",)]
