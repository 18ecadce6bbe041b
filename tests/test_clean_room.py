"""The subject is born clean and powerless, and no attempt changes a later one.

Each family of the clean-room issue (issue 14) has tests here, run through the real
grader both cold (`runner.grade`) and warm (`ServiceGrader`, the workspace's grading
service every face grades on, where subjects are forks of a zygote): the subject's memory
holds no judge code, its environment block names nothing of the grader, it cannot
reach the processes that grade it, its replies are bounded, and the time it spends
waiting is summed over the attempt. CI runs them as root, where it matters most.
"""

from __future__ import annotations

import os
import re
import resource
import threading
import time
from pathlib import Path

import psutil
import pytest

from tests.conftest import write_solution
from tests.service_support import service_status
from workbook.grading import service
from workbook.grading.results import GradeResult, Verdict
from workbook.grading.runner import grade
from workbook.grading.subject.zygote import FORKED_FROM, SUBJECT_MODULES

LESSON = "01-activations"
ROOT = hasattr(os, "geteuid") and os.geteuid() == 0


@pytest.fixture(params=["cold", "warm"])
def grader(request, workspace):
    """Grades a lesson the CLI's way (a fresh judge and subject) or the TUI's way."""
    if request.param == "cold":
        yield lambda lesson, **options: grade(workspace, lesson, **options)
        return
    warm = request.getfixturevalue("warm")
    yield lambda lesson, **options: warm.grade(workspace, lesson, **options)


def _words(result: GradeResult) -> str:
    parts = [f"verdict={result.verdict.value}"]
    parts += [f"{c.id}: {c.outcome}: {c.message}" for c in result.checks]
    if result.error is not None:
        parts.append(f"error {result.error.kind}: {result.error.message}")
    parts.append(f"output: {result.output[:3000]}")
    return "\n".join(parts)


def _attempt(workspace, grader, prelude: str, **options) -> GradeResult:
    """Grade lesson 1's reference with `prelude` run at the top of the file."""
    lesson = workspace.course.lesson(LESSON)
    write_solution(workspace, lesson, prelude + "\n" + workspace.solution_for(lesson))
    return grader(lesson, **options)


def _reported(result: GradeResult, tag: str) -> str:
    found = re.search(rf"^{tag}: (.*)$", result.output, re.MULTILINE)
    assert found, _words(result)
    return found.group(1)


# -- 1. born clean ------------------------------------------------------------------------

HEAP_SCAN = f"""
import gc, sys, types
allowed = {sorted(SUBJECT_MODULES)!r}
forked_from = {sorted(FORKED_FROM)!r}  # functions only: see FORKED_FROM
def foreign(module):
    return module.split(".")[0] in ("workbook", "checks") and module not in allowed
judge = set()
for obj in gc.get_objects():
    if isinstance(obj, (types.FunctionType, type)):
        module = getattr(obj, "__module__", None)
        if isinstance(module, str) and foreign(module) and module not in forked_from:
            judge.add(module)
judge |= {{name for name in sys.modules if foreign(name)}}
judge |= {{name for name in sys.modules if "expect" in name or "_gates" in name}}
print("JUDGE:", sorted(judge))
"""


def test_the_subject_holds_no_judge_code(workspace, grader):
    """`gc.get_objects()` and `sys.modules` in learner code find nothing of the judge
    (a lesson-12 file once re-laid its weights and called the judge's own GRU)."""
    result = _attempt(workspace, grader, HEAP_SCAN)
    assert result.verdict is Verdict.PASSED, _words(result)
    assert _reported(result, "JUDGE") == "[]", _words(result)


def test_the_environment_block_names_nothing_of_the_grader(workspace, grader):
    prelude = (
        "with open('/proc/self/environ', 'rb') as f:\n"
        "    print('ENVIRON:', f.read().replace(b'\\0', b' ').decode())\n"
    )
    result = _attempt(workspace, grader, prelude)
    environ = _reported(result, "ENVIRON")
    for word in ("WORKBOOK", "PYTEST", "PYTHONPATH", str(workspace.root)):
        assert word not in environ, environ


# -- 2. no powers over other processes ------------------------------------------------------

REACH = """
import os, resource, signal
targets = [int(p) for p in {pids!r}]
reached = []
for pid in targets:
    for name, act in (
        ("prlimit", lambda: resource.prlimit(pid, resource.RLIMIT_NOFILE, (3, 3))),
        ("fsize", lambda: resource.prlimit(pid, resource.RLIMIT_FSIZE, (0, 0))),
        ("nice", lambda: os.setpriority(os.PRIO_PROCESS, pid, 19)),
        ("signal", lambda: os.kill(pid, signal.SIGSTOP)),
        ("environ", lambda: open(f"/proc/{{pid}}/environ", "rb").read()),
    ):
        try:
            act()
        except BaseException:
            continue
        reached.append(f"{{name}} {{pid}}")
for name, act in (
    ("parent", lambda: resource.prlimit(os.getppid(), resource.RLIMIT_NOFILE, (3, 3))),
    ("mknod", lambda: os.mknod("console", 0o600 | 0o020000, os.makedev(5, 1))),
    ("shadow", lambda: open("/etc/shadow").read()),
):
    try:
        act()
    except BaseException:
        continue
    reached.append(name)
print("REACHED:", reached)
"""


def _graders_pids(warm: service.ServiceGrader | None) -> list[int]:
    """This process (the faces' side of grading), and the grading service and its zygote."""
    pids = [os.getpid()]
    if warm is not None:
        server = psutil.Process(service_status(warm.root)["pid"])
        pids += [server.pid, *(p.pid for p in server.children())]
    return pids


@pytest.mark.parametrize("how", ["cold", "warm"])
def test_the_subject_cannot_touch_the_processes_that_grade(workspace, how, request):
    """prlimit on the grading parent once made a classmate's lessons fail in
    grade-class; lowering the warm server's limits broke every later attempt."""
    warm = request.getfixturevalue("warm") if how == "warm" else None
    pids = _graders_pids(warm)
    before = {pid: psutil.Process(pid).rlimit(psutil.RLIMIT_NOFILE) for pid in pids}
    own = resource.getrlimit(resource.RLIMIT_FSIZE)

    def run(lesson, **options):
        return (warm.grade if warm is not None else grade)(workspace, lesson, **options)

    result = _attempt(workspace, run, REACH.format(pids=pids))
    assert _reported(result, "REACHED") == "[]", _words(result)
    after = {pid: psutil.Process(pid).rlimit(psutil.RLIMIT_NOFILE) for pid in pids}
    assert after == before
    assert resource.getrlimit(resource.RLIMIT_FSIZE) == own
    for pid in pids:
        assert psutil.Process(pid).status() != psutil.STATUS_STOPPED
    # The next, correct attempt is graded as if nothing had happened.
    lesson = workspace.course.lesson(LESSON)
    write_solution(workspace, lesson)
    again = run(lesson)
    assert again.verdict is Verdict.PASSED, _words(again)


@pytest.mark.skipif(not ROOT, reason="root's capabilities only matter when grading as root")
def test_the_subject_holds_no_capabilities_as_root(workspace, grader):
    prelude = (
        "caps = [l.split()[1] for l in open('/proc/self/status') if l.startswith('Cap')]\n"
        "print('CAPS:', sorted(set(caps)))\n"
    )
    result = _attempt(workspace, grader, prelude)
    assert _reported(result, "CAPS") == "['0000000000000000']", _words(result)


# -- 3. no attempt outlives itself ------------------------------------------------------------


def test_a_failed_grading_service_is_replaced_and_the_attempt_graded_again(workspace, warm):
    """A zygote the service lost (killed here) is replaced before the next attempt, which
    the service serves. A judge that dies mid-attempt (killed here) fails the attempt as
    a grader: the service is stopped, the attempt runs again cold, passes and says so,
    and the next attempt is served by a new service."""
    server = psutil.Process(service_status(workspace)["pid"])
    (zygote,) = [p for p in server.children() if "zygote" in p.cmdline()]
    zygote.kill()
    deadline = time.monotonic() + 5
    while zygote.is_running() and zygote.status() != psutil.STATUS_ZOMBIE:
        assert time.monotonic() < deadline, "the zygote did not die"
        time.sleep(0.01)
    lesson = workspace.course.lesson(LESSON)
    write_solution(workspace, lesson)
    result = warm.grade(workspace, lesson)
    assert result.verdict is Verdict.PASSED, _words(result)
    assert result.notes == [] and warm.fallbacks == 0

    killed: list[int] = []

    def kill_the_judge() -> None:  # once its subject is born, while it loads the file
        end = time.monotonic() + 30
        while time.monotonic() < end:
            # A judge prepared for the next save waits beside its subject before the
            # attempt is handed to it: only a judge at work on the attempt counts.
            if service_status(workspace)["running"] != 1:
                time.sleep(0.01)
                continue
            zygotes = [p for p in server.children() if "zygote" in p.cmdline()]
            judges = [p for p in server.children() if "zygote" not in p.cmdline()]
            if judges and any(z.children() for z in zygotes):
                judges[0].kill()
                killed.append(judges[0].pid)
                return
            time.sleep(0.01)

    slow = "import time\ntime.sleep(1)\n" + workspace.solution_for(lesson)
    write_solution(workspace, lesson, slow)
    killer = threading.Thread(target=kill_the_judge)
    killer.start()
    result = warm.grade(workspace, lesson)
    killer.join()
    assert killed, "no judge was seen running"
    assert result.verdict is Verdict.PASSED, _words(result)
    assert warm.fallbacks == 1
    assert any("graded again" in note for note in result.notes), result.notes
    assert "graded again" in str(result.to_json()["notes"])
    assert not service.running(workspace.root)  # stopped: the next attempt starts anew
    assert warm.wait_until_ready(60)
    assert service_status(workspace)["pid"] != server.pid
    assert warm.grade(workspace, lesson).notes == []
    assert warm.fallbacks == 1 and service_status(workspace)["attempts"] == 1


# -- 4. every reply bounded ---------------------------------------------------------------------


def test_a_huge_return_value_is_the_learners_failure(workspace, grader):
    lesson = workspace.course.lesson(LESSON)
    reference = workspace.solution_for(lesson)
    text = reference.replace("return np.tanh(x)", "return np.zeros(9_000_000) + np.tanh(0)")
    write_solution(workspace, lesson, text)
    result = grader(lesson)
    assert result.verdict is Verdict.FAILED, _words(result)
    assert "64 MiB" in _words(result)
    assert not result.grader_fault


def test_a_result_too_large_to_send_is_not_blamed_on_sizes(workspace):
    """The two-size lessons name a size written into the code when only the second size
    fails; a result the grader cannot receive says that instead."""
    lesson = workspace.course.lesson("12-gru-cell")
    reference = workspace.solution_for(lesson)
    text = reference.replace(
        "    concat = np.vstack((h_prev, x_t))",
        "    if h_prev.shape[1] == 1:\n        return [0.0] * 1_000_001\n"
        "    concat = np.vstack((h_prev, x_t))",
    )
    write_solution(workspace, lesson, text)
    words = _words(grade(workspace, lesson))
    assert "more than 1,000,000 items" in words, words
    assert "size seems written into the code" not in words, words


def test_the_subjects_own_output_object_cannot_inflate_the_output(workspace, grader):
    """Output reaches the judge only through a file it reads with a bound: whatever
    learner code does to `sys.stdout`'s attributes changes nothing."""
    prelude = (
        "import sys\n"
        "sys.stdout.parts = ['A' * 50_000_000]\n"
        "sys.stdout.dropped = 'x'\n"
        "sys.stdout.kept = -10**9\n"
        "print('B' * 20_000)\n"
    )
    result = _attempt(workspace, grader, prelude)
    assert result.verdict is Verdict.PASSED, _words(result)
    assert len(result.output) <= 8_000 and result.output_truncated


FORGED_LOAD_REPLY = """
import gc, json, struct
server = next(o for o in gc.get_objects() if type(o).__name__ == "Server")
head = json.dumps({forged}).encode()
server.sock.sendall(struct.pack("<II", len(head), 0) + head)  # wire's framing
"""
FORGED = {  # made in the subject: the file's own lines stay short
    "syntax": '{"syntax": {"line": {"evil": [1, 2]}, "message": "S" * 3_000_000, '
              '"code": ["not", "a", "str"] * 1000}}',
    "error": '{"error": {"type": "X", "builtin": ["ValueError"] * 1000, "text": "t", '
             '"trace": {"message": "M" * 3_000_000, "line": {"evil": [1, 2, 3]}, '
             '"code": ["not", "a", "str"], "location": 7, "traceback": "T" * 3_000_000}}}',
}  # fmt: skip


@pytest.mark.parametrize("reply", sorted(FORGED))
def test_a_forged_load_reply_is_bounded_and_typed(workspace, grader, reply):
    """Learner code can find its server object and answer the load itself: every field
    of the reply is bounded and of its type before it reaches the result."""
    result = _attempt(workspace, grader, FORGED_LOAD_REPLY.format(forged=FORGED[reply]))
    error = result.error
    summary = f"{result.verdict}: {error and error.message[:300]!r}"
    assert result.verdict is Verdict.ERROR, summary
    assert error is not None and error.kind == {"syntax": "syntax", "error": "import"}[reply]
    assert ("SSS" if reply == "syntax" else "MMM") in error.message, summary
    assert len(error.message) <= 4_200, len(error.message)
    assert error.line is None or type(error.line) is int, str(error.line)[:100]
    assert isinstance(error.code, str) and len(error.code) <= 400, str(error.code)[:100]
    assert isinstance(error.traceback, str) and len(error.traceback) <= 8_000, len(error.traceback)


def test_waiting_in_short_bursts_is_summed_over_the_attempt(workspace, grader):
    """Sleeping 2 s then computing 30 ms, in a loop, once ran each attempt to the
    280 s safety net; the waiting is now summed and stops it after about 20 s."""
    lesson = workspace.course.lesson(LESSON)
    reference = workspace.solution_for(lesson)
    loop = (
        "import time\n"
        "    while True:\n"
        "        time.sleep(2)\n"
        "        end = time.process_time() + 0.03\n"
        "        while time.process_time() < end:\n"
        "            pass\n"
        "    return np.tanh(x)"
    )
    write_solution(workspace, lesson, reference.replace("return np.tanh(x)", loop, 1))
    started = time.perf_counter()
    result = grader(lesson)
    assert result.verdict is Verdict.TIMEOUT, _words(result)
    assert "without computing" in result.error.message
    assert re.search(r"waited (19|2\d) s", result.error.message), result.error.message
    assert time.perf_counter() - started < 90


def test_the_subjects_modules_import_nothing_of_the_judge():
    """The static side of the heap scan: every `workbook` import in the subject's own
    modules (anywhere in them, lazy ones included) names another subject module."""
    import ast
    import importlib.util

    for name in sorted(SUBJECT_MODULES):
        origin = importlib.util.find_spec(name).origin
        tree = ast.parse(Path(origin).read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module] + [f"{node.module}.{a.name}" for a in node.names]
                names = [n for n in names if n in SUBJECT_MODULES or n == node.module]
            else:
                continue
            for imported in names:
                if imported.split(".")[0] == "workbook":
                    assert imported in SUBJECT_MODULES, f"{name} imports {imported}"
