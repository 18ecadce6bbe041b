"""Benchmark the TUI: time to first frame, save → verdict latency, memory.

    python benchmarks/bench_tui.py [--saves 20] [--starts 5] [--json]

* first frame: the real `workbook` in a real terminal (tmux, 80×24) on a fresh
  `workbook init` workspace, from launch until the lesson list is on screen
  (capture-pane polled every 5 ms);
* memory: RSS of that running app and of its warm grading server, once idle;
* save → verdict: the app in-process (headless, warm grader, watcher on), measured
  inside the app from writing the exercise file to the verdict being on screen
  (after the refresh that shows it), over N saves alternating a failing and a passing
  file of lesson 1 (a NumPy lesson).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

LESSON = "01-activations"


def fresh_workspace(parent: Path) -> Path:
    from workbook.workspace import init_workspace

    return init_workspace(parent / "ws").root


def _capture(session: str) -> str:
    return subprocess.run(
        ["tmux", "capture-pane", "-p", "-t", session], capture_output=True, text=True
    ).stdout


def first_frame(starts: int) -> tuple[list[float], dict[str, float]]:
    """Seconds from launch to the first screen with the lesson list; RSS of the last run."""
    if shutil.which("tmux") is None:
        raise SystemExit("tmux is needed for the first-frame benchmark")
    times: list[float] = []
    memory: dict[str, float] = {}
    for run in range(starts):
        with tempfile.TemporaryDirectory() as tmp:
            root = fresh_workspace(Path(tmp))
            name = f"wb-bench-{os.getpid()}-{run}"
            command = f"cd {root} && exec {sys.executable} -m workbook"
            env = ["-e", f"PYTHONPATH={REPO}", "-e", "TERM=xterm-256color"]
            started = time.perf_counter()
            subprocess.run(
                ["tmux", "new-session", "-d", "-s", name, "-x", "80", "-y", "24", *env, command],
                check=True,
            )
            try:
                while "lessons passed" not in _capture(name):
                    if time.perf_counter() - started > 20:
                        raise SystemExit("the workbook did not show its first frame in 20 s")
                    time.sleep(0.005)
                times.append(time.perf_counter() - started)
                if run == starts - 1:
                    memory = _memory(name)
            finally:
                subprocess.run(["tmux", "kill-session", "-t", name], capture_output=True)
    return times, memory


def _memory(session: str) -> dict[str, float]:
    import psutil

    pane_pid = int(
        subprocess.run(
            ["tmux", "display-message", "-p", "-t", session, "#{pane_pid}"],
            capture_output=True,
            text=True,
        ).stdout.strip()
    )
    app = psutil.Process(pane_pid)
    deadline = time.perf_counter() + 10
    while time.perf_counter() < deadline:  # the warm server starts in the background
        if any("workbook.grading.warm" in " ".join(c.cmdline()) for c in app.children()):
            break
        time.sleep(0.05)
    time.sleep(1.0)  # let the server finish its imports
    mib = 1024 * 1024
    figures = {"app_rss_mib": app.memory_info().rss / mib, "warm_server_rss_mib": 0.0}
    for child in app.children(recursive=True):
        if "workbook.grading.warm" in " ".join(child.cmdline()):
            figures["warm_server_rss_mib"] += child.memory_info().rss / mib
    return figures


async def save_to_verdict(saves: int) -> tuple[list[float], list[float]]:
    from workbook.session import Session
    from workbook.tui.app import WorkbookApp
    from workbook.workspace import Workspace

    with tempfile.TemporaryDirectory() as tmp:
        root = fresh_workspace(Path(tmp))
        workspace = Workspace(root)
        lesson = workspace.course.lesson(LESSON)
        reference = workspace.solution_for(lesson)
        wrong = reference.replace("np.tanh(x)", "np.tanh(x) * 1.0001")
        versions = [wrong, reference]
        target = workspace.path(lesson.exercise)
        session = Session(workspace)
        app = WorkbookApp(session)
        latencies: list[float] = []
        grading: list[float] = []  # of which the attempt itself (GradeResult.duration_s)
        async with app.run_test(size=(80, 24)) as pilot:
            assert app.warm is not None and await asyncio.to_thread(app.warm.wait_until_ready)
            await pilot.pause(0.5)  # the watcher is running
            for index in range(saves + 2):  # two warm-up saves
                shown = len(app.results_shown)
                text = versions[index % 2] + f"\n# save {index}\n"
                written = time.perf_counter()
                target.write_text(text, encoding="utf-8")
                while len(app.results_shown) == shown:
                    if time.perf_counter() - written > 10:
                        raise SystemExit("no verdict within 10 s of a save")
                    await asyncio.sleep(0.001)
                if index >= 2:
                    latencies.append(app.results_shown[-1][2] - written)
                    grading.append(app.results[LESSON][0].duration_s)
                await pilot.pause(0.3)  # a learner does not save 20 times a second
        session.close()
    return latencies, grading


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--saves", type=int, default=20)
    parser.add_argument("--starts", type=int, default=5)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()

    frames, memory = first_frame(args.starts)
    latencies, grading = asyncio.run(save_to_verdict(args.saves))
    figures = {
        "first_frame_s_median": statistics.median(frames),
        "first_frame_s_all": [round(t, 3) for t in frames],
        "save_to_verdict_s_median": statistics.median(latencies),
        "save_to_verdict_s_p90": statistics.quantiles(latencies, n=10)[-1],
        "save_to_verdict_s_min": min(latencies),
        "save_to_verdict_s_max": max(latencies),
        "saves": len(latencies),
        "grading_s_median": statistics.median(grading),
        **memory,
    }
    if args.json:
        print(json.dumps(figures, indent=2))
        return
    ms = {
        k.removeprefix("save_to_verdict_s_"): v * 1000
        for k, v in figures.items()
        if k.startswith("save_to_verdict_s_")
    }
    print(
        f"first frame (tmux, 80×24): median {figures['first_frame_s_median']:.3f} s  "
        f"{figures['first_frame_s_all']}"
    )
    print(
        f"save → verdict (warm, {len(latencies)} saves): "
        f"median {ms['median']:.0f} ms, p90 {ms['p90']:.0f} ms, "
        f"min {ms['min']:.0f} ms, max {ms['max']:.0f} ms; the attempt itself "
        f"{figures['grading_s_median'] * 1000:.0f} ms"
    )
    if memory:
        print(
            f"memory (RSS): app {memory['app_rss_mib']:.0f} MiB + warm server "
            f"{memory['warm_server_rss_mib']:.0f} MiB"
        )


if __name__ == "__main__":
    main()
