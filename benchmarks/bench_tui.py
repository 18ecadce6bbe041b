"""Benchmark the TUI: time to first frame, save → verdict latency, lesson switch, memory.

    python benchmarks/bench_tui.py [--lesson 1] [--saves 20] [--starts 5] [--switches 20]
                                   [--busy 2] [--only start|save|switch] [--json]

* first frame: the real `workbook` in a real terminal (tmux, 80×24) on a fresh
  `workbook init` workspace, from launch until the lesson list is on screen
  (capture-pane polled every 5 ms);
* memory: RSS of that running app and of the grading service it started (with its
  subject zygote), once idle;
* save → verdict: the app in-process (headless, grading service, watcher on), measured
  inside the app from writing the exercise file to the verdict being on screen
  (after the refresh that shows it), over N saves alternating a failing and a passing
  file of the lesson (`--lesson`, default 1; lessons other than 1 save the reference
  each time, with a new comment);
* switch: the app in-process (headless, 80×24), from a key press (`n` or `p`, between
  the lesson and the one before it) to that lesson drawn on screen (after the refresh
  that shows it); measured on a quiet machine and again with `--busy` processes
  spinning (default 2: one per core of the reference machine).
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
# A wrong version of a reference (named by the check), per lesson; others save the reference.
WRONG = {LESSON: lambda text: text.replace("np.tanh(x)", "np.tanh(x) * 1.0001")}


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
                _stop_service(root)
    return times, memory


def _stop_service(root: Path) -> None:
    """The app's grading service would outlive it until idle (10 minutes)."""
    from workbook.grading import service

    service.stop(root)


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
    served: list[psutil.Process] = []
    while not served and time.perf_counter() < deadline:  # started in the background
        served = [c for c in app.children() if "workbook.grading.service" in c.cmdline()]
        time.sleep(0.05)
    time.sleep(1.0)  # let the service finish its imports
    mib = 1024 * 1024
    figures = {"app_rss_mib": app.memory_info().rss / mib, "service_rss_mib": 0.0}
    for process in [*served, *(c for s in served for c in s.children())]:
        figures["service_rss_mib"] += process.memory_info().rss / mib
    return figures


async def save_to_verdict(saves: int, lesson_ref: str) -> tuple[list[float], list[float]]:
    from workbook.session import Session
    from workbook.tui.app import WorkbookApp
    from workbook.workspace import Workspace

    with tempfile.TemporaryDirectory() as tmp:
        root = fresh_workspace(Path(tmp))
        workspace = Workspace(root)
        lesson = workspace.course.lesson(lesson_ref)
        reference = workspace.solution_for(lesson)
        versions = [WRONG.get(lesson.id, str)(reference), reference]
        target = workspace.path(lesson.exercise)
        session = Session(workspace)
        app = WorkbookApp(session)
        app.lesson = lesson
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
                    grading.append(app.results[lesson.id][0].duration_s)
                await pilot.pause(0.3)  # a learner does not save 20 times a second
        session.close()
        _stop_service(root)
    return latencies, grading


def _lesson(ref: str):
    from workbook.workspace import Workspace, bundled_root

    return Workspace(bundled_root()).course.lesson(int(ref) if ref.isdigit() else ref)


async def switch_render(switches: int, lesson_ref: str) -> list[float]:
    """Seconds from an `n`/`p` press to the lesson drawn, alternating between the
    lesson and the one before it (the first of each is drawn for the first time)."""
    from workbook.session import Session
    from workbook.tui.app import WorkbookApp
    from workbook.workspace import Workspace

    os.environ["WORKBOOK_WARM"] = "0"  # a grading server would only compete for the CPU
    with tempfile.TemporaryDirectory() as tmp:
        workspace = Workspace(fresh_workspace(Path(tmp)))
        lessons = workspace.course.lessons
        target = workspace.course.lesson(lesson_ref)
        before = lessons[max(0, lessons.index(target) - 1)]
        if before is target:
            target = lessons[1]
        session = Session(workspace)
        app = WorkbookApp(session, watch=False)
        times: list[float] = []
        async with app.run_test(size=(80, 24)) as pilot:
            await app.go_to_lesson(before.id)
            await pilot.pause(0.3)
            for index in range(switches):
                key, wanted = ("n", target) if index % 2 == 0 else ("p", before)
                shown = len(app.lessons_shown)
                pressed = time.perf_counter()
                await pilot.press(key)
                while len(app.lessons_shown) == shown:
                    if time.perf_counter() - pressed > 10:
                        raise SystemExit("no lesson drawn within 10 s of a key")
                    await asyncio.sleep(0.0005)
                assert app.lessons_shown[-1][0] == wanted.id
                times.append(app.lessons_shown[-1][1] - pressed)
                await pilot.pause(0.1)  # a learner reads a moment before the next key
        session.close()
    return times


def busy_loops(count: int) -> list[subprocess.Popen]:
    """`count` processes spinning on the CPU, as other work on the learner's machine."""
    return [subprocess.Popen([sys.executable, "-c", "while True: pass"]) for _ in range(count)]


def switch_figures(switches: int, lesson: str, busy: int) -> dict[str, float]:
    quiet = asyncio.run(switch_render(switches, lesson))
    spinning = busy_loops(busy)
    try:
        loaded = asyncio.run(switch_render(switches, lesson))
    finally:
        for process in spinning:
            process.kill()
            process.wait()
    return {
        "switch_s_median_quiet": statistics.median(quiet),
        "switch_s_max_quiet": max(quiet),
        "switch_s_median_busy": statistics.median(loaded),
        "switch_s_max_busy": max(loaded),
        "busy_loops": busy,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lesson", default="1", help="number or id (default 1)")
    parser.add_argument("--saves", type=int, default=20)
    parser.add_argument("--starts", type=int, default=5)
    parser.add_argument("--switches", type=int, default=20)
    parser.add_argument("--busy", type=int, default=2, help="busy loops for the switch")
    parser.add_argument("--only", choices=["start", "save", "switch"])
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    lesson = _lesson(args.lesson).id

    figures: dict = {"lesson": lesson}
    if args.only in (None, "start"):
        frames, memory = first_frame(args.starts)
        figures |= {
            "first_frame_s_median": statistics.median(frames),
            "first_frame_s_all": [round(t, 3) for t in frames],
            **memory,
        }
    if args.only in (None, "save"):
        latencies, grading = asyncio.run(save_to_verdict(args.saves, lesson))
        figures |= {
            "save_to_verdict_s_median": statistics.median(latencies),
            "save_to_verdict_s_p90": statistics.quantiles(latencies, n=10)[-1],
            "save_to_verdict_s_min": min(latencies),
            "save_to_verdict_s_max": max(latencies),
            "saves": len(latencies),
            "grading_s_median": statistics.median(grading),
        }
    if args.only in (None, "switch"):
        figures |= switch_figures(args.switches, lesson, args.busy)
    if args.json:
        print(json.dumps(figures, indent=2))
        return
    _print(figures)


def _print(figures: dict) -> None:
    print(f"lesson {figures['lesson']}")
    if "first_frame_s_median" in figures:
        print(
            f"first frame (tmux, 80×24): median {figures['first_frame_s_median']:.3f} s  "
            f"{figures['first_frame_s_all']}"
        )
    if "save_to_verdict_s_median" in figures:
        ms = {
            k.removeprefix("save_to_verdict_s_"): v * 1000
            for k, v in figures.items()
            if k.startswith("save_to_verdict_s_")
        }
        print(
            f"save → verdict (warm, {figures['saves']} saves): "
            f"median {ms['median']:.0f} ms, p90 {ms['p90']:.0f} ms, "
            f"min {ms['min']:.0f} ms, max {ms['max']:.0f} ms; the attempt itself "
            f"{figures['grading_s_median'] * 1000:.0f} ms"
        )
    if "switch_s_median_quiet" in figures:
        print(
            f"switch (n/p → drawn, 80×24): quiet median "
            f"{figures['switch_s_median_quiet'] * 1000:.0f} ms "
            f"(max {figures['switch_s_max_quiet'] * 1000:.0f}); with "
            f"{figures['busy_loops']} busy loops median "
            f"{figures['switch_s_median_busy'] * 1000:.0f} ms "
            f"(max {figures['switch_s_max_busy'] * 1000:.0f})"
        )
    if "app_rss_mib" in figures:
        print(
            f"memory (RSS): app {figures['app_rss_mib']:.0f} MiB + grading service "
            f"and its zygote {figures['service_rss_mib']:.0f} MiB"
        )


if __name__ == "__main__":
    main()
