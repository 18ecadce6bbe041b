"""`workbook watch` re-grades when the learner saves, in a real subprocess."""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
import threading
import time

from click.testing import CliRunner

from tests.conftest import write_solution
from workbook.cli import cli


def _wait_for(proc_output: list[str], text: str, timeout: float = 30.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if text in "".join(proc_output):
            return True
        time.sleep(0.05)
    return False


@contextlib.contextmanager
def watching(workspace, **environ: str):
    """A running `workbook watch` and the list its output lines are collected in."""
    env = {**os.environ, "WORKBOOK_POLL": "1", **environ}  # polling works on every file system
    proc = subprocess.Popen(
        [sys.executable, "-m", "workbook", "--workspace", str(workspace.root), "watch"],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env=env,
    )
    output: list[str] = []
    reader = threading.Thread(target=lambda: output.extend(iter(proc.stdout.readline, "")))
    reader.start()
    try:
        assert _wait_for(output, "Watching"), "".join(output)
        yield output
    finally:
        proc.terminate()
        proc.wait(10)
        reader.join(10)


def _save_until(workspace, lesson, output: list[str], text: str, body: str) -> None:
    """The watcher starts just after printing "Watching": save until it reacts."""
    for attempt in range(20):
        write_solution(workspace, lesson, body + f"# {attempt}\n")
        if _wait_for(output, text, timeout=1.5):
            return
    raise AssertionError("".join(output))


def test_watch_regrades_on_save(workspace):
    with watching(workspace) as output:
        assert "not started" in "".join(output)
        lesson = workspace.course.lessons[0]
        _save_until(workspace, lesson, output, "passed: all", workspace.solution_for(lesson))
        assert _wait_for(output, f"Now watching {workspace.course.lessons[1].exercise}")


def test_watch_follows_continue_at_and_notices_a_deleted_file(workspace):
    with watching(workspace) as output:
        jump = workspace.course.lesson(4)
        moved = CliRunner().invoke(
            cli, ["--workspace", str(workspace.root), "continue-at", "4"], obj={}
        )
        assert moved.exit_code == 0, moved.output
        _save_until(workspace, jump, output, "passed: all", workspace.solution_for(jump))
        text = "".join(output)
        assert "The current lesson is now 4." in text
        assert text.index("The current lesson is now 4.") < text.index("passed: all")

        following = workspace.course.lesson(5)
        assert _wait_for(output, f"Now watching {following.exercise}")
        workspace.path(following.exercise).unlink()
        assert _wait_for(output, f"{following.exercise} was deleted"), "".join(output)


def test_watch_survives_the_exercises_folder_being_deleted_and_restored(workspace):
    """A watch on a deleted folder hears nothing more (with file events); after
    `workbook reset --all` brings exercises/ back, a save is graded again."""
    import shutil

    first, second = workspace.course.lessons[:2]
    with watching(workspace, WORKBOOK_POLL="0") as output:
        _save_until(workspace, first, output, "passed: all", workspace.solution_for(first))
        assert _wait_for(output, f"Now watching {second.exercise}"), "".join(output)
        shutil.rmtree(workspace.path("exercises"))
        assert _wait_for(output, f"{second.exercise} was deleted"), "".join(output)
        restored = CliRunner().invoke(
            cli, ["--workspace", str(workspace.root), "reset", "--all", "-y"], obj={}
        )
        assert restored.exit_code == 0, restored.output
        before = "".join(output).count("passed: all")
        for attempt in range(20):
            write_solution(workspace, second, workspace.solution_for(second) + f"# {attempt}\n")
            deadline = time.monotonic() + 1.5
            while time.monotonic() < deadline and "".join(output).count("passed: all") == before:
                time.sleep(0.05)
            if "".join(output).count("passed: all") > before:
                break
        assert "".join(output).count("passed: all") > before, "".join(output)


def test_watch_never_splits_a_path_across_lines(workspace):
    """At 80 columns (here 40) the terminal broke "now watching exercises/…" inside the
    path; the lines are wrapped between words instead."""
    import shutil

    first, second = workspace.course.lessons[:2]
    with watching(workspace, COLUMNS="40") as output:
        _save_until(workspace, first, output, "passed: all", workspace.solution_for(first))
        assert _wait_for(output, f"Now watching {second.exercise}"), "".join(output)
        shutil.rmtree(workspace.path("exercises"))
        assert _wait_for(output, "was deleted"), "".join(output)
    lines = "".join(output).splitlines()
    for line in lines:
        for word in line.split():
            if "exercises/" in word:  # every path on the screen is whole
                assert word.strip("`.,:;()").endswith(".py"), line
    assert any(f"{second.exercise} was deleted" in line for line in lines)
