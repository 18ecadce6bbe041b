"""Time grading of the reference solutions: one fresh grading child per attempt.

    python benchmarks/bench_checks.py 9 12 -n 5
    python benchmarks/bench_checks.py 12 --memory-mb 512 -n 3   # try a tighter cap

For each lesson (number or id) it writes the reference solution into a throw-away
workspace, calls `grade()` N times and prints the median, min and max wall time and
the verdicts, so a lesson's `timeout_s` / `memory_mb` can be set from measurements.
It imports the `workbook` package of the checkout it lives in, not an installed one.
"""

from __future__ import annotations

import argparse
import dataclasses
import statistics
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from workbook.grading.runner import grade
from workbook.workspace import init_workspace


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("lessons", nargs="*", help="lesson numbers or ids (default: all)")
    parser.add_argument("-n", "--repeats", type=int, default=5)
    parser.add_argument("--memory-mb", type=int, help="override the lessons' memory_mb")
    parser.add_argument("--timeout-s", type=float, help="override the lessons' timeout_s")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="workbook-bench-") as tmp:
        workspace = init_workspace(Path(tmp) / "ws")
        course = workspace.course
        lessons = [course.lesson(ref) for ref in args.lessons] or list(course.lessons)
        print(f"{'lesson':<26} {'median':>8} {'min':>8} {'max':>8}  limits        verdicts")
        for lesson in lessons:
            if args.memory_mb:
                lesson = dataclasses.replace(lesson, memory_mb=args.memory_mb)
            exercise = workspace.path(lesson.exercise)
            exercise.write_text(workspace.solution_for(lesson), encoding="utf-8")
            times, verdicts = [], Counter()
            for _ in range(args.repeats):
                started = time.perf_counter()
                result = grade(workspace, lesson, timeout_s=args.timeout_s)
                times.append(time.perf_counter() - started)
                verdicts[str(result.verdict)] += 1
            limits = f"{lesson.timeout_s:g}s/{lesson.memory_mb}MB"
            print(
                f"{lesson.id:<26} {statistics.median(times):8.2f} {min(times):8.2f} "
                f"{max(times):8.2f}  {limits:<13} "
                + ", ".join(f"{v} ×{n}" for v, n in sorted(verdicts.items()))
            )


if __name__ == "__main__":
    main()
