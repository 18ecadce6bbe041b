"""The grader turns every kind of bad learner code into a clean verdict."""

from __future__ import annotations

import os

import pytest

from tests.conftest import write_solution
from workbook.grading.results import Verdict
from workbook.grading.runner import grade

LESSON = "01-activations"
BAD_TANH = "    return np.tanh(x)\n"


@pytest.fixture
def lesson(workspace):
    return workspace.course.lesson(LESSON)


def _grade_with(workspace, lesson, old: str, new: str, **kwargs):
    reference = workspace.solution_for(lesson)
    assert old in reference
    write_solution(workspace, lesson, reference.replace(old, new))
    return grade(workspace, lesson, **kwargs)


def test_syntax_error_names_file_and_line(workspace, lesson):
    result = _grade_with(workspace, lesson, BAD_TANH, "    return np.tanh(x\n")
    assert result.verdict is Verdict.ERROR
    assert result.error.kind == "syntax"
    assert result.error.file == lesson.exercise
    reference_lines = workspace.solution_for(lesson).splitlines()
    assert result.error.line >= reference_lines.index(BAD_TANH.rstrip("\n")) + 1
    assert f"{lesson.exercise}:" in result.error.message


def test_exception_at_import_shows_only_learner_frames(workspace, lesson):
    result = _grade_with(workspace, lesson, "import numpy as np\n", "import numpy as np\n1 / 0\n")
    assert result.verdict is Verdict.ERROR
    assert result.error.kind == "import"
    assert "ZeroDivisionError" in result.error.message
    assert result.error.code == "1 / 0"
    assert "_pytest" not in result.error.traceback
    assert "workbook/grading" not in result.error.traceback


def test_endless_loop_at_import_times_out(workspace, lesson):
    result = _grade_with(
        workspace, lesson, "import numpy as np\n", "import numpy as np\nwhile True:\n    pass\n",
        timeout_s=1.5,
    )  # fmt: skip
    assert result.verdict is Verdict.TIMEOUT
    assert "used more than 1.5 CPU seconds in the top level of your file" in result.error.message


def test_endless_loop_in_a_function_names_the_running_check(workspace, lesson):
    result = _grade_with(
        workspace, lesson, BAD_TANH, "    while True:\n        pass\n", timeout_s=2.0
    )
    assert result.verdict is Verdict.TIMEOUT
    assert "while running the check 'tanh(x) matches the hyperbolic tangent" in result.error.message
    assert any(c.outcome == "passed" for c in result.checks)  # sigmoid checks finished


def test_a_timeout_keeps_what_the_code_printed_before_it(workspace, lesson):
    code = "    print('about to loop', x.shape)\n    while True:\n        pass\n"
    result = _grade_with(workspace, lesson, BAD_TANH, code, timeout_s=2.0)
    assert result.verdict is Verdict.TIMEOUT
    assert result.output.startswith("about to loop")
    assert not result.output_truncated


def test_a_printing_endless_loop_keeps_a_bounded_output(workspace, lesson):
    code = "    i = 0\n    while i < 10:\n        print('debug', i)\n"
    result = _grade_with(workspace, lesson, BAD_TANH, code, timeout_s=2.0)
    assert result.verdict is Verdict.TIMEOUT
    assert result.output.startswith("debug 0\ndebug 0\n")
    assert len(result.output) == 8_000 and result.output_truncated


def test_unbounded_allocation_is_a_clean_failure(workspace, lesson):
    hog = "    hog = []\n    while True:\n        hog.append(np.ones(10_000_000))\n"
    result = _grade_with(workspace, lesson, BAD_TANH, hog, timeout_s=20.0)
    assert result.verdict is Verdict.FAILED
    assert any("ran out of memory" in c.message for c in result.failing)


@pytest.mark.parametrize(
    ("code", "verdict", "words"),
    [
        ("import sys\nsys.exit(0)\n", Verdict.ERROR, "sys.exit()"),
        ("import os\nos._exit(0)\n", Verdict.ERROR, "sys.exit()"),
        ("raise KeyboardInterrupt\n", Verdict.ERROR, "KeyboardInterrupt"),
    ],
)
def test_leaving_the_interpreter_at_import_is_an_error(workspace, lesson, code, verdict, words):
    result = _grade_with(workspace, lesson, "import numpy as np\n", f"import numpy as np\n{code}")
    assert result.verdict is verdict
    assert words in result.error.message


def test_exit_inside_a_checked_function_fails_that_check(workspace, lesson):
    result = _grade_with(workspace, lesson, BAD_TANH, "    import os\n    os._exit(3)\n")
    assert result.verdict is Verdict.FAILED
    tanh_check = next(c for c in result.checks if c.id == "test_tanh_values")
    assert "sys.exit()" in tanh_check.message
    text = workspace.path(lesson.exercise).read_text(encoding="utf-8")
    line = next(n for n, code in enumerate(text.splitlines(), 1) if "os._exit(3)" in code)
    assert f"at {lesson.exercise}:{line} (`os._exit(3)`)" in tanh_check.message  # where


def test_killing_its_own_process_is_a_crash_verdict(workspace, lesson):
    code = "    import os, signal\n    os.kill(os.getpid(), signal.SIGKILL)\n"
    result = _grade_with(workspace, lesson, BAD_TANH, code)
    assert result.verdict is Verdict.ERROR
    assert result.error.kind == "crash"
    assert "SIGKILL" in result.error.message


def test_flooding_stdout_is_bounded_and_still_graded(workspace, lesson):
    flood = "    print('x' * 1_000_000)\n    return np.tanh(x)\n"
    result = _grade_with(workspace, lesson, BAD_TANH, flood)
    assert result.verdict is Verdict.PASSED
    assert result.output_truncated
    assert len(result.output) <= 8_000


def test_missing_exercise_file_is_reported(workspace, lesson):
    workspace.path(lesson.exercise).unlink()
    result = grade(workspace, lesson)
    assert result.verdict is Verdict.ERROR
    assert result.error.kind == "missing"
    assert f"workbook reset {lesson.number}" in result.error.message


def test_cancel_kills_the_attempt_quickly(workspace, lesson):
    import threading
    import time

    from workbook.grading.runner import GradingCancelled

    reference = workspace.solution_for(lesson)
    write_solution(
        workspace, lesson, reference.replace(BAD_TANH, "    while True:\n        pass\n")
    )
    cancel = threading.Event()
    threading.Timer(0.8, cancel.set).start()
    started = time.perf_counter()
    with pytest.raises(GradingCancelled):
        grade(workspace, lesson, cancel=cancel)
    assert time.perf_counter() - started < 5


def test_one_exception_failing_every_check_is_shown_once(workspace):
    """A NameError fails every check with the same words: both faces show it once."""
    from rich.console import Console

    from workbook.cli.render import grade_result
    from workbook.tui.widgets import render_result

    lesson = workspace.course.lesson(3)
    gate = "    return sigmoid(np.dot(W_f, z) + b_f)\n"
    result = _grade_with(workspace, lesson, gate, "    return undefined_name\n")
    assert result.verdict is Verdict.FAILED
    same = [c for c in result.failing if "undefined_name" in c.message]
    assert len(same) >= 2
    repeats = result.repeated_from()
    assert set(repeats) == {c.id for c in same[1:]}
    assert set(repeats.values()) == {same[0].name}

    tui = "\n".join(str(content) for content, _ in render_result(result, lesson, None, "x.py"))
    assert tui.count(same[0].message) == 1
    assert tui.count("the same error as") == len(same) - 1

    console = Console(width=1000, record=True, file=open(os.devnull, "w"))  # noqa: SIM115
    grade_result(console, result, "3. Forget gate", lesson.exercise, None, 4, [], 3)
    cli = console.export_text()
    assert cli.count(same[0].message) == 1
    assert cli.count("the same error as") == len(same) - 1


def test_input_is_explained_not_just_an_eof_error(workspace, lesson):
    code = "    scale = float(input('scale? '))\n    return np.tanh(x) * scale\n"
    result = _grade_with(workspace, lesson, BAD_TANH, code)
    assert result.verdict is Verdict.FAILED
    tanh_check = next(c for c in result.failing if c.id == "test_tanh_values")
    assert "asks for input()" in tanh_check.message
    assert "gets no input" in tanh_check.message


def test_checks_after_a_stop_say_briefly_where_it_stopped(workspace, lesson):
    result = _grade_with(
        workspace, lesson, BAD_TANH, "    while True:\n        pass\n", timeout_s=1.0
    )
    assert result.verdict is Verdict.TIMEOUT
    later = [c for c in result.checks if c.outcome == "not-run"]
    assert later, result.checks
    for check in later:  # one sentence pointing back, not the whole diagnosis again
        assert check.message.startswith("not run: your code was stopped earlier in the check")
        assert "CPU seconds" not in check.message


def test_the_faces_say_once_why_the_checks_after_a_stop_did_not_run(workspace, lesson):
    """Each later check keeps its sentence (for --json and exports); the CLI and the TUI
    print it under the first and list the others by name."""
    from rich.console import Console

    from workbook.cli.render import grade_result
    from workbook.tui.widgets import render_result

    loop = "def sigmoid(x):\n    while True:\n        pass\n"
    result = _grade_with(workspace, lesson, "def sigmoid(x):\n", loop, timeout_s=1.0)
    later = [c for c in result.checks if c.outcome == "not-run"]
    assert len(later) >= 2, result.checks
    assert result.not_run_as_above() == {c.id for c in later[1:]}
    sentence = later[0].message

    tui = "\n".join(str(content) for content, _ in render_result(result, lesson, None, "x.py"))
    assert tui.count(sentence) == 1
    console = Console(width=1000, record=True, file=open(os.devnull, "w"))  # noqa: SIM115
    grade_result(console, result, "1. Activations", lesson.exercise, None, 4, [], 1)
    cli = console.export_text()
    assert cli.count(sentence) == 1
    for check in later:
        assert tui.count(check.name) == cli.count(check.name) == 1


def test_not_run_checks_are_said_once_per_reason():
    from workbook.grading.results import CheckResult, GradeResult

    checks = [
        CheckResult("a", "A", "not-run", "not run: stopped in X"),
        CheckResult("b", "B", "not-run", "not run: stopped in X"),
        CheckResult("c", "C", "failed", "wrong"),
        CheckResult("d", "D", "not-run", "not run: stopped in X"),
        CheckResult("e", "E", "not-run", "not run: stopped in Y"),
        CheckResult("f", "F", "not-run", "not run: stopped in Y"),
    ]
    result = GradeResult("01", Verdict.TIMEOUT, 1.0, checks)
    assert result.not_run_as_above() == {"b", "f"}


def test_a_matrix_product_in_the_cell_update_shows_the_real_expected_value(workspace):
    lesson = workspace.course.lesson("06-cell-update")
    reference = workspace.solution_for(lesson)
    right = "f_t * C_prev + i_t * C_tilde"
    assert right in reference
    wrong = "np.dot(f_t.T, C_prev) + np.dot(i_t.T, C_tilde)"
    write_solution(workspace, lesson, reference.replace(right, wrong))
    result = grade(workspace, lesson)
    values = next(c for c in result.failing if c.id == "test_cell_update_values")
    assert "matrix product" in values.message
    # the expected value shown is C_t, not the C_prev argument the shape was taken from
    assert values.expected is not None and values.expected.startswith("[ 1.85")  # 0.9·2 + 0.1·0.5


def test_a_check_explaining_a_learner_error_gives_its_file_and_line(workspace):
    """A check's own diagnosis of an exception raised in learner code (here a shape
    error) names the place in words; `location` carries it for --json and exports."""
    lesson = workspace.course.lesson(3)
    result = _grade_with(workspace, lesson, "np.dot(W_f, z)", "W_f * z")
    assert result.verdict is Verdict.FAILED
    text = workspace.path(lesson.exercise).read_text(encoding="utf-8")
    line = next(n for n, code in enumerate(text.splitlines(), 1) if "W_f * z" in code)
    place = f"{lesson.exercise}:{line}"
    located = [c for c in result.failing if c.location is not None]
    assert located, result.failing
    for check in located:
        assert check.location == place and place in check.message, check
    assert all("ValueError" not in c.message for c in result.failing if c.location is None)
    assert not any(" ." in c.message for c in result.failing)  # NumPy's trailing space
    from workbook.tui.widgets import render_result

    lines = [str(content) for content, _ in render_result(result, lesson, None, "x.py")]
    assert f"at {place}" not in lines  # the message says where already: not twice
