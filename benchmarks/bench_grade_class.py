"""Wall time of `grade-class` for a synthetic class, at several --jobs settings.

Run: .venv/bin/python benchmarks/bench_grade_class.py [--learners 6] [--jobs 1 2]
     [--course DIR]

Each fake learner is a full workspace of the course at DIR (default: the shipped
one) whose exercises are the reference solutions, except that every second learner
leaves every third lesson as the untouched stub; it is graded with `own_checks`, so
any course (e.g. another branch's, exported with `git archive`) can be measured.
Prints the wall time and the throughput (learners × lessons graded per minute,
stubs included). Figures go into issue notes, never into assertions.
"""

from __future__ import annotations

import argparse
import shutil
import tempfile
from pathlib import Path

from workbook.instructor.classroom import grade_class
from workbook.workspace import Workspace, bundled_root


def make_class(course_root: Path, dest: Path, learners: int) -> int:
    """Write `learners` workspaces under dest; return the number of lessons."""
    source = Workspace(course_root)
    for index in range(learners):
        root = dest / f"learner{index:02d}"
        for name in ("course", "checks", "exercises"):
            shutil.copytree(course_root / name, root / name)
        for number, lesson in enumerate(source.course.lessons):
            if index % 2 and number % 3 == 2:
                continue  # left as the stub: graded "not-started" without a process
            (root / lesson.exercise).write_text(source.solution_for(lesson), encoding="utf-8")
    return len(source.course.lessons)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--learners", type=int, default=6)
    parser.add_argument("--jobs", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--course", type=Path, default=None)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        subs = Path(tmp) / "submissions"
        lessons = make_class((args.course or bundled_root()).resolve(), subs, args.learners)
        print(f"{args.learners} learners × {lessons} lessons")
        for jobs in args.jobs:
            result = grade_class(subs, jobs=jobs, own_checks=True)
            verdicts: dict[str, int] = {}
            for row in result.rows:
                if row["lesson_id"] != "TOTAL":
                    verdicts[row["verdict"]] = verdicts.get(row["verdict"], 0) + 1
            graded = sum(verdicts.values())
            rate = graded / result.wall_s * 60
            print(
                f"--jobs {jobs}: {result.wall_s:6.1f} s wall, "
                f"{rate:5.1f} learner-lessons per minute  {verdicts}"
            )


if __name__ == "__main__":
    main()
