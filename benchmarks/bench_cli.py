"""CLI start-up and cold grading latency, on a fresh workspace.

Run: .venv/bin/python benchmarks/bench_cli.py [--repeat N] [--lesson 8]
Prints medians; figures go into issue notes, never into assertions.

The floor is `python -c "import numpy, pytest"`: no grader can check a NumPy
lesson with pytest faster than it takes to import both, so a cold
`workbook check` is reported as a ratio of that floor (target: at most 1.5x).
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from workbook.workspace import init_workspace


def _time(cmd: list[str], repeat: int) -> float:
    subprocess.run(cmd, capture_output=True, check=False)
    samples = []
    for _ in range(repeat):
        started = time.perf_counter()
        subprocess.run(cmd, capture_output=True, check=False)
        samples.append(time.perf_counter() - started)
    return statistics.median(samples)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeat", type=int, default=10)
    parser.add_argument("--lesson", default="8", help="lesson graded cold (number or id)")
    args = parser.parse_args()
    # As on a learner's machine: bytecode caches are written (by an untimed first run)
    # and read, even if this shell sets PYTHONDONTWRITEBYTECODE.
    os.environ.pop("PYTHONDONTWRITEBYTECODE", None)
    with tempfile.TemporaryDirectory() as tmp:
        ws = init_workspace(Path(tmp) / "ws")
        lesson = ws.course.lesson(args.lesson)
        ws.path(lesson.exercise).write_text(ws.solution_for(lesson))
        base = [sys.executable, "-m", "workbook", "--workspace", str(ws.root)]
        floor_name = 'python -c "import numpy, pytest" (floor)'
        rows = {
            "python -c pass (interpreter only)": _time([sys.executable, "-c", "pass"], args.repeat),
            floor_name: _time([sys.executable, "-c", "import numpy, pytest"], args.repeat),
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
        check_name = f"workbook check {lesson.number} (cold grade, passing)"
        ratio = rows[check_name] / rows[floor_name]
    width = max(map(len, rows))
    for name, seconds in rows.items():
        print(f"{name:<{width}}  {seconds * 1000:7.0f} ms (median of {args.repeat})")
    print(f"cold check / floor: {ratio:.2f}x (target <= 1.5x)")


if __name__ == "__main__":
    main()
