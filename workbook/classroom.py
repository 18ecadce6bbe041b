"""Grade a whole class: many learners' submissions, in parallel, into one CSV.

SUBMISSIONS_DIR holds one folder per learner (the folder name is the learner). A
folder is either a full workspace (`course/course.toml`, `checks/`, `exercises/`) or
just an `exercises/` folder. Either way only the learner's exercise files are taken:
they are copied into a fresh temporary workspace made from the shipped course
(`init_workspace`), so results cannot be changed by edited checks, nothing is ever
written into a submission, and learner code runs with the temporary folder as its
working directory. For full workspaces, the `tampered` column lists the grading
files that differ from the shipped manifest (on a lesson's row, those that can
affect that lesson; on the TOTAL row, all): evidence worth a look, not a grade.
With `own_checks=True` a full workspace is graded as it is (its own course and
checks, e.g. a course variant), still in a temporary copy.

Each (learner, lesson) attempt is one `workbook.grading.runner.grade` call, which
already runs in its own child process with time and memory limits; a thread pool
bounds how many run at once (default: one per core).
"""

from __future__ import annotations

import csv
import os
import re
import shutil
import tempfile
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from workbook.catalog import Lesson
from workbook.errors import WorkbookError
from workbook.grading.results import ErrorInfo, GradeResult, Verdict
from workbook.manifest import relevant_to, tampered_files
from workbook.workspace import COURSE_DIR, Workspace, init_workspace

TOTAL_ROW = "TOTAL"
CLASS_CSV_FIELDS = (
    "learner",
    "lesson_id",
    "number",
    "title",
    "verdict",
    "score",
    "max_score",
    "checks_passed",
    "checks_total",
    "failing_checks",
    "duration_s",
    "message",
    "tampered",
)


@dataclass(frozen=True)
class Submission:
    learner: str
    path: Path
    kind: str  # "workspace" | "exercises"


@dataclass
class ClassResult:
    rows: list[dict] = field(default_factory=list)
    skipped: dict[str, str] = field(default_factory=dict)  # folder name → why
    wall_s: float = 0.0
    attempts: int = 0

    def totals(self) -> dict[str, tuple[int, int]]:
        """learner → (lessons passed, lessons)."""
        return {
            row["learner"]: (row["score"], row["max_score"])
            for row in self.rows
            if row["lesson_id"] == TOTAL_ROW
        }


def discover(submissions: Path) -> tuple[list[Submission], dict[str, str]]:
    """The learners' folders under `submissions`, and the folders that are neither form."""
    if not submissions.is_dir():
        raise WorkbookError(f"{submissions} is not a folder of submissions")
    found, skipped = [], {}
    for folder in sorted(p for p in submissions.iterdir() if not p.name.startswith(".")):
        if not folder.is_dir():
            continue
        kind = _form(folder)
        if kind is None:  # an archive unpacked into a folder of its own, say
            inner = [d for d in folder.iterdir() if d.is_dir() and _form(d) is not None]
            if len(inner) == 1:
                found.append(Submission(folder.name, inner[0], _form(inner[0]) or ""))
            else:
                skipped[folder.name] = "neither a workspace nor a folder with exercises/"
        else:
            found.append(Submission(folder.name, folder, kind))
    return found, skipped


def _form(folder: Path) -> str | None:
    if (folder / COURSE_DIR / "course.toml").is_file():
        return "workspace"
    if (folder / "exercises").is_dir():
        return "exercises"
    return None


def _prepare(sub: Submission, dest: Path, own_checks: bool) -> tuple[Workspace, set[str]]:
    """A private copy to grade, at `dest` (the submission itself is only ever read),
    and the ids of the lessons whose exercise file the submission lacks."""
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc", ".workbook")
    if own_checks and sub.kind == "workspace":
        for name in (COURSE_DIR, "checks", "exercises"):
            if (sub.path / name).is_dir():
                shutil.copytree(sub.path / name, dest / name, ignore=ignore)
        workspace = Workspace(dest)
    else:
        workspace = init_workspace(dest)
        for lesson in workspace.course.lessons:
            source = sub.path / lesson.exercise
            if source.is_file():
                shutil.copyfile(source, workspace.path(lesson.exercise))
    absent = {
        lesson.id
        for lesson in workspace.course.lessons
        if not (sub.path / lesson.exercise).is_file()
    }
    return workspace, absent


def _missing(lesson: Lesson) -> GradeResult:
    return GradeResult(
        lesson.id,
        Verdict.ERROR,
        0.0,
        error=ErrorInfo("missing", f"the submission has no {lesson.exercise}"),
    )


def _declared_checks(workspace: Workspace, lesson: Lesson) -> int:
    """How many checks the lesson has, for rows where none ran (an error, a timeout)."""
    try:
        text = workspace.path(lesson.check).read_text(encoding="utf-8")
    except OSError:
        return 0
    return len(re.findall(r"^def test_", text, flags=re.MULTILINE))


def _row(
    learner: str, lesson: Lesson, result: GradeResult, tampered: list[str], declared: int
) -> dict:
    passed = result.verdict is Verdict.PASSED
    if result.error is not None:
        message = result.error.message
    else:
        message = "; ".join(c.message for c in result.failing) or result.headline
    missing = result.error is not None and result.error.kind == "missing"
    return {
        "learner": learner,
        "lesson_id": lesson.id,
        "number": lesson.number,
        "title": lesson.title,
        "verdict": "missing" if missing else str(result.verdict),
        "score": int(passed),
        "max_score": 1,
        "checks_passed": sum(c.outcome == "passed" for c in result.checks),
        # None ran after an error or a timeout: count the lesson's checks, so that a
        # total of checks passed is not inflated by lessons that crashed.
        "checks_total": len(result.checks) or declared,
        "failing_checks": ";".join(c.id for c in result.failing),
        "duration_s": round(result.duration_s, 3),
        "message": message,
        "tampered": ";".join(tampered),
    }


def _total_row(learner: str, rows: list[dict], tampered: list[str]) -> dict:
    passed = sum(r["score"] for r in rows)
    return {
        "learner": learner,
        "lesson_id": TOTAL_ROW,
        "number": "",
        "title": "",
        "verdict": "",
        "score": passed,
        "max_score": len(rows),
        "checks_passed": sum(r["checks_passed"] for r in rows),
        "checks_total": sum(r["checks_total"] for r in rows),
        "failing_checks": "",
        "duration_s": round(sum(r["duration_s"] for r in rows), 3),
        "message": f"{passed} of {len(rows)} lessons passed",
        "tampered": ";".join(tampered),
    }


def _skipped_row(learner: str, why: str, lessons: int) -> dict:
    """A folder that could not be graded still gets a line in the gradebook: 0 points."""
    return {
        **_total_row(learner, [], []),
        "verdict": "missing",
        "max_score": lessons,
        "message": f"not graded: {why}",
    }


def grade_class(
    submissions: Path,
    *,
    jobs: int | None = None,
    own_checks: bool = False,
    progress: Callable[[str, Lesson, GradeResult], None] | None = None,
) -> ClassResult:
    """Grade every submission's every lesson, at most `jobs` attempts at a time."""
    started = time.perf_counter()
    subs, skipped = discover(submissions)
    result = ClassResult(skipped=skipped)
    workers = max(1, jobs or os.cpu_count() or 1)
    with tempfile.TemporaryDirectory(prefix="workbook-class-") as tmp:
        scratch = Path(tmp)
        prepared = []
        absent: dict[str, set[str]] = {}
        for index, sub in enumerate(subs):
            workspace, absent[sub.learner] = _prepare(sub, scratch / f"{index:04d}", own_checks)
            evidence = tampered_files(sub.path) if sub.kind == "workspace" else []
            prepared.append((sub, workspace, evidence))

        def run(item: tuple[Submission, Workspace, list[str], Lesson]) -> dict:
            from workbook.grading.runner import grade

            sub, workspace, evidence, lesson = item
            if lesson.id in absent[sub.learner]:
                graded = _missing(lesson)
            else:
                graded = grade(workspace, lesson)
            if progress is not None:
                progress(sub.learner, lesson, graded)
            mine = relevant_to(evidence, lesson, workspace.course) if evidence else []
            declared = 0 if graded.checks else _declared_checks(workspace, lesson)
            return _row(sub.learner, lesson, graded, mine or graded.tampered, declared)

        work = [
            (sub, ws, evidence, lesson)
            for sub, ws, evidence in prepared
            for lesson in ws.course.lessons
        ]
        shipped = len(prepared[0][1].course.lessons) if prepared else _shipped_lessons()
        with ThreadPoolExecutor(max_workers=workers) as pool:
            rows = list(pool.map(run, work))
    for sub, _, evidence in prepared:
        mine = [r for r in rows if r["learner"] == sub.learner]
        result.rows.extend(mine)
        result.rows.append(_total_row(sub.learner, mine, evidence))
    for learner, why in skipped.items():
        result.rows.append(_skipped_row(learner, why, shipped))
    result.attempts = len(rows)
    result.wall_s = time.perf_counter() - started
    return result


def _shipped_lessons() -> int:
    from workbook.workspace import bundled_root

    return len(Workspace(bundled_root()).course.lessons)


def write_csv(result: ClassResult, path: Path) -> None:
    with open(path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=CLASS_CSV_FIELDS, lineterminator="\n")
        writer.writeheader()
        writer.writerows(result.rows)


def check_output_path(output: Path, submissions: Path) -> None:
    """Refuse to write the results inside the submissions (they are read-only input)."""
    out, subs = output.resolve(), submissions.resolve()
    if out == subs or subs in out.parents:
        raise WorkbookError(
            f"{output} is inside the submissions folder {submissions}; grade-class never "
            "writes there. Choose another --output."
        )
