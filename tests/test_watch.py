"""`workbook watch` re-grades when the learner saves, in a real subprocess."""

from __future__ import annotations

import os
import subprocess
import sys
import time

from tests.conftest import write_solution


def _wait_for(proc_output: list[str], text: str, timeout: float = 30.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if text in "".join(proc_output):
            return True
        time.sleep(0.05)
    return False


def test_watch_regrades_on_save(workspace):
    import threading

    env = dict(os.environ, WORKBOOK_POLL="1")  # polling works on every file system
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
        assert "not started" in "".join(output)
        lesson = workspace.course.lessons[0]
        # The watcher starts just after printing "Watching": save until it is listening.
        for _ in range(20):
            write_solution(workspace, lesson, workspace.solution_for(lesson) + f"# {_}\n")
            if _wait_for(output, "passed: all", timeout=1.5):
                break
        assert "passed: all" in "".join(output), "".join(output)
    finally:
        proc.terminate()
        proc.wait(10)
        reader.join(10)
