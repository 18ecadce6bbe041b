"""CLI start-up and cold grading latency, on a fresh workspace.

Run: .venv/bin/python benchmarks/bench_cli.py [--repeat N]
Prints medians; figures go into issue notes, never into assertions.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from workbook.workspace import init_workspace


def _time(cmd: list[str], repeat: int) -> float:
    samples = []
    for _ in range(repeat):
        started = time.perf_counter()
        subprocess.run(cmd, capture_output=True, check=False)
        samples.append(time.perf_counter() - started)
    return statistics.median(samples)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeat", type=int, default=10)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        ws = init_workspace(Path(tmp) / "ws")
        lesson = ws.course.lessons[0]
        ws.path(lesson.exercise).write_text(ws.solution_for(lesson))
        base = [sys.executable, "-m", "workbook", "--workspace", str(ws.root)]
        rows = {
            "python -c pass (interpreter floor)": _time(
                [sys.executable, "-c", "pass"], args.repeat
            ),
            "workbook list": _time([*base, "list"], args.repeat),
            "workbook list --json": _time([*base, "list", "--json"], args.repeat),
            "workbook progress": _time([*base, "progress"], args.repeat),
            "workbook glossary": _time([*base, "glossary"], args.repeat),
            f"workbook check {lesson.number} (cold grade, passing)": _time(
                [*base, "check", str(lesson.number)], args.repeat
            ),
        }
        from workbook.grading.runner import grade

        grades = []
        for _ in range(args.repeat):
            grades.append(grade(ws, lesson).duration_s)
        rows["grade() in-process call, cold child"] = statistics.median(grades)
    width = max(map(len, rows))
    for name, seconds in rows.items():
        print(f"{name:<{width}}  {seconds * 1000:7.0f} ms (median of {args.repeat})")


if __name__ == "__main__":
    main()
