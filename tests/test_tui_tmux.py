"""The real `workbook` in a real terminal (tmux): start, hint, glossary, edit, save, quit.

Every wait polls `tmux capture-pane` for the expected text; nothing sleeps blindly.
"""

from __future__ import annotations

import os
import re
import shlex
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
TMUX = shutil.which("tmux")

pytestmark = pytest.mark.skipif(
    TMUX is None, reason="tmux is not installed: no real terminal to drive"
)


class Terminal:
    def __init__(self, name: str) -> None:
        self.name = name

    def text(self) -> str:
        return subprocess.run(
            [TMUX, "capture-pane", "-p", "-t", self.name], capture_output=True, text=True
        ).stdout

    def wait_for(self, needle: str, timeout: float = 20.0) -> str:
        return self.wait_until(lambda screen: needle in screen, repr(needle), timeout)

    def wait_until(self, condition, what: str, timeout: float = 20.0) -> str:
        deadline = time.monotonic() + timeout
        while True:
            screen = self.text()
            if condition(screen):
                return screen
            if time.monotonic() > deadline:
                raise AssertionError(f"never saw {what}; the screen shows:\n{screen}")
            time.sleep(0.05)

    def keys(self, *keys: str) -> None:
        subprocess.run([TMUX, "send-keys", "-t", self.name, *keys], check=True)

    def alive(self) -> bool:
        return (
            subprocess.run([TMUX, "has-session", "-t", self.name], capture_output=True).returncode
            == 0
        )


@pytest.fixture
def fresh(tmp_path):
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    subprocess.run(
        [sys.executable, "-m", "workbook", "init", str(tmp_path / "ws")],
        check=True,
        env=env,
        capture_output=True,
    )
    return tmp_path / "ws"


@pytest.fixture
def terminal(fresh, tmp_path):
    name = f"workbook-test-{os.getpid()}-{time.monotonic_ns()}"
    solution = REPO / "course" / "solutions" / "01-activations.py"
    passing = tmp_path / "passing.py"
    passing.write_text(
        "".join(line for line in solution.read_text().splitlines(True) if "SOLUTION" not in line)
    )
    # A stand-in editor: "editing" copies the passing version over the exercise.
    editor = f"cp {shlex.quote(str(passing))}"
    command = f"cd {shlex.quote(str(fresh))} && exec {shlex.quote(sys.executable)} -m workbook"
    subprocess.run(
        [
            TMUX, "new-session", "-d", "-s", name, "-x", "80", "-y", "24",
            "-e", f"PYTHONPATH={REPO}", "-e", "TERM=xterm-256color", "-e", f"EDITOR={editor}",
            "-e", "VISUAL=",
            # Exported sizes (a shell's, or a tmux server's global environment) pinned
            # Textual's terminal size: the app must follow resizes all the same.
            "-e", "COLUMNS=80", "-e", "LINES=24",
            command,
        ],
        check=True,
    )  # fmt: skip
    term = Terminal(name)
    yield term
    subprocess.run([TMUX, "kill-session", "-t", name], capture_output=True)


def test_workbook_in_a_real_terminal(terminal, fresh):
    terminal.wait_for("lessons passed")
    screen = terminal.wait_for("q Quit")  # the footer comes with the first full frame
    assert re.search(r"\b0/\d+ lessons passed", screen) and "Sigmoid and tanh" in screen

    terminal.keys("h")
    screen = terminal.wait_for("Hint 1/")
    assert "Hint 2/" not in screen

    terminal.keys("g")
    terminal.wait_for("Glossary —")
    terminal.keys(*"tanh")
    terminal.wait_until(
        lambda screen: "used for the candidate values" in screen and "Sigmoid  (σ)" not in screen,
        "the glossary filtered to tanh",
    )
    terminal.keys("Escape")
    terminal.wait_for("lessons passed")

    # A save from outside is graded on its own: a wrong sigmoid.
    exercise = fresh / "exercises" / "01-activations.py"
    passing = (fresh.parent / "passing.py").read_text()
    exercise.write_text(passing.replace("return np.tanh(x)", "return np.tanh(x) * 2"))
    screen = terminal.wait_for("✗ Failed")
    assert "tanh(x)" in screen

    # The edit key runs $EDITOR (here: a copy of the passing file), then grades.
    terminal.keys("e")
    terminal.wait_for("✓ Passed")
    terminal.wait_for("1 / ")

    terminal.keys("q")
    deadline = time.monotonic() + 10
    while terminal.alive():
        assert time.monotonic() < deadline, "q did not quit"
        time.sleep(0.05)


def test_a_plot_appears_after_saving_lesson_11(terminal, fresh):
    """Saving lesson 11's reference grades it; its check plots the learner's gradient
    norms, and the Plot tab draws them in the real terminal."""
    terminal.wait_for("q Quit")
    terminal.keys("C-p")
    terminal.wait_for("Check the lesson")
    terminal.keys(*"lesson 11", "Enter")
    terminal.wait_for("Lesson 11 ·")
    solution = REPO / "course" / "solutions" / "11-vanishing-gradient.py"
    reference = "".join(
        line for line in solution.read_text().splitlines(True) if "SOLUTION" not in line
    )
    (fresh / "exercises" / "11-vanishing-gradient.py").write_text(reference)
    terminal.wait_for("✓ Passed", timeout=30)
    terminal.keys("o")
    # The title can reach the terminal a frame before the plot under it: wait for the
    # whole figure (title, legend below the plot, decade ticks on the log axis).
    terminal.wait_until(
        lambda screen: (
            "Gradient reaching step 0" in screen
            and "LSTM cell, f = 0.999" in screen
            and re.search(r"1e-\d+┤", screen) is not None
        ),
        "the plot with its title, legend and log-axis ticks",
    )

    # Resizing with the log-scale plot shown ended the app (plotext's math domain error).
    def legend_on_one_line(screen: str) -> bool:  # 120 columns: both RNN entries on a line
        return any("0.5·N(0, 1)" in line and "1.0·N(0, 1)" in line for line in screen.splitlines())

    for _ in range(3):
        for width, height in ((120, 40), (80, 24)):
            subprocess.run(
                [TMUX, "resize-window", "-t", terminal.name, "-x", str(width), "-y", str(height)],
                check=True,
            )
            terminal.wait_until(
                lambda screen, wide=width > 80: (
                    "LSTM cell, f = 0.999" in screen and legend_on_one_line(screen) == wide
                ),
                f"the plot redrawn at {width}×{height}",
            )
    assert terminal.alive() and "Traceback" not in terminal.text()
