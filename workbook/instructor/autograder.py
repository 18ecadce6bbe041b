"""Course platforms: a Gradescope autograder and a PrairieLearn external grader.

Both platforms already grade at scale, each submission in a container of its own on
their workers; the workbook plugs into them rather than growing a cluster. Two halves:

* **Bundles** an instructor builds once and uploads: `gradescope_bundle` writes the
  autograder zip (`setup.sh`, `run_autograder`, a README with the resources to set, and
  this very workbook as a wheel, so the image gets exactly this version and needs the
  package registry only for the dependencies); `prairielearn_bundle` writes a folder
  with the grader image's build context (Dockerfile, wheel, entry point) and one
  question per lesson (`info.json`, `question.html`, `server.py`, the stub) that a
  course drops into its `questions/`.
* **Runs**, one per submission, inside the platform's container (`python -m
  workbook.instructor.autograder gradescope-run | prairielearn-run`): the submitted files are graded
  afresh in a private workspace with the shipped checks (`workbook.instructor.classroom.prepare`, as
  `grade-class` does), and results.json is built from those `GradeResult`s alone. Nothing
  is read from a progress store, which the graded code could write.

How many lessons a run grades at once comes from the container's CPU quota and memory
limit (`workbook.instructor.platform_limits`), not from the host's core count. What a lesson is
worth comes from the course's `[grading]` table in course.toml (a weight and a Gradescope
visibility per lesson, partial credit on or off), which the bundle commands' flags
override (`GradingPolicy`); the flags are written into the bundle's run script, the
table travels in the wheel.

Submissions may hold the exercise files at their top level (`01-activations.py`) or
under `exercises/`. The platform roots (`/autograder`, `/grade`) can be moved with
`AUTOGRADER_ROOT` and `GRADE_ROOT`, so tests run both entry points in temporary folders.
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import html
import io
import json
import math
import os
import re
import shlex
import stat
import sys
import time
import tomllib
import traceback
import uuid
import zipfile
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from workbook import __version__
from workbook.catalog import Course, Lesson
from workbook.errors import WorkbookError
from workbook.grading.results import GradeResult
from workbook.instructor.platform_limits import (
    NUMPY_LESSON_MIB,
    RESERVED_MIB,
    TENSORFLOW_LESSON_MIB,
    Limits,
    read_limits,
    required_memory_mib,
)

DIST_NAME = "lstm-workbook"
WHEEL_NAME = f"lstm_workbook-{__version__}-py3-none-any.whl"
GRADESCOPE_VISIBILITY = ("hidden", "after_due_date", "after_published", "visible")
OUTPUT_FORMATS = ("md", "text")  # Gradescope's "md" (Markdown), or plain "text"
SUBMISSION_HINT = "put the exercise files at the top level of the submission or under exercises/"
PRAIRIELEARN_IMAGE = "YOUR-DOCKERHUB-USER/lstm-workbook-grader"
PRAIRIELEARN_ENTRYPOINT = "/opt/workbook/grade"
PRAIRIELEARN_MAX_TIMEOUT_S = 600  # PrairieLearn refuses more
PRAIRIELEARN_QUESTIONS = "lstm-workbook"  # the folder of questions, under questions/
# PrairieGrader's defaults for a grading container (apps/grader-host config):
# 2 GiB of memory without swap and a CPU quota of 0.9 of a core.
PRAIRIELEARN_CPUS, PRAIRIELEARN_MEMORY_MIB = 0.9, 2048
# Zip entries get a fixed time, so the same workbook always gives the same bundle.
_EPOCH = (1980, 1, 1, 0, 0, 0)
# Questions keep their uuid across workbook versions: PrairieLearn keys a question's
# history on it. Derived from this namespace and the lesson id.
_QUESTION_NAMESPACE = uuid.UUID("4c1b6f0e-5a47-4c55-9d0e-7f3b2a8e1c9d")


# --- what a lesson is worth ---------------------------------------------------------


@dataclass(frozen=True)
class LessonPolicy:
    """A lesson's points (`weight`) and when Gradescope shows its result."""

    weight: float = 1.0
    visibility: str = "visible"


@dataclass(frozen=True)
class GradingPolicy:
    """What each lesson is worth and how results are written, for both platforms.

    A lesson earns its `weight` if it passes; with `partial_credit`, a lesson that
    does not pass earns checks passed / checks total × weight (0 when no check ran:
    a stub, a syntax error, a crash before the checks). `visibility` is Gradescope's,
    for the whole result (each lesson has its own too); `output_format` is how the
    Gradescope outputs are written ("md": Markdown, "text")."""

    visibility: str = "visible"
    partial_credit: bool = False
    output_format: str = "md"
    lessons: Mapping[str, LessonPolicy] = field(default_factory=dict)

    def of(self, lesson: Lesson) -> LessonPolicy:
        return self.lessons.get(lesson.id, LessonPolicy(1.0, self.visibility))

    def points(self, lesson: Lesson, result: GradeResult) -> float:
        """What `result` earns for `lesson` under this policy."""
        weight = self.of(lesson).weight
        if result.passed:
            return weight
        if not self.partial_credit or not result.checks:
            return 0.0
        passed = sum(check.outcome == "passed" for check in result.checks)
        return round(weight * passed / len(result.checks), 4)


_GRADING_KEYS = {"weight", "visibility", "partial_credit", "lessons"}
_LESSON_KEYS = {"weight", "visibility"}


def course_grading(course: Course) -> dict[str, Any]:
    """The course's `[grading]` table (course.toml), checked: `weight`, `visibility`,
    `partial_credit`, and `lessons`, a table of lesson id → {weight, visibility}."""
    source = course.root / "course.toml"
    try:
        data = tomllib.loads(source.read_text(encoding="utf-8")).get("grading", {})
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise WorkbookError(f"{source}: {exc}") from exc
    where = f"{source} [grading]"
    if not isinstance(data, dict):
        raise WorkbookError(f"{where} must be a table")
    if unknown := set(data) - _GRADING_KEYS:
        raise WorkbookError(
            f"{where}: unknown keys {sorted(unknown)} (known: {sorted(_GRADING_KEYS)})"
        )
    table: dict[str, Any] = {}
    if "weight" in data:
        table["weight"] = _weight(data["weight"], where)
    if "visibility" in data:
        table["visibility"] = _visibility(data["visibility"], where)
    if "partial_credit" in data:
        if not isinstance(data["partial_credit"], bool):
            raise WorkbookError(f"{where}: partial_credit is true or false")
        table["partial_credit"] = data["partial_credit"]
    lessons = data.get("lessons", {})
    if not isinstance(lessons, dict):
        raise WorkbookError(f"{where}: lessons is a table of lesson id = {{ weight, visibility }}")
    table["lessons"] = {}
    for ref, values in lessons.items():
        lesson = _lesson(course, ref, f"{where}.lessons")
        here = f"{where}.lessons.{ref}"
        if not isinstance(values, dict) or set(values) - _LESSON_KEYS:
            raise WorkbookError(f"{here}: a table with weight and/or visibility")
        entry = {}
        if "weight" in values:
            entry["weight"] = _weight(values["weight"], here)
        if "visibility" in values:
            entry["visibility"] = _visibility(values["visibility"], here)
        table["lessons"][lesson.id] = entry
    return table


def grading_policy(
    course: Course,
    *,
    visibility: Sequence[str] = (),
    weight: Sequence[str] = (),
    partial_credit: bool | None = None,
    output_format: str = "md",
) -> GradingPolicy:
    """The course's `[grading]` defaults with the flags' overrides on top.

    `visibility` and `weight` are flag values: `V` for every lesson, `LESSON=V` for
    one (a number or an id); later ones win, and a per-lesson value beats a
    course-wide one whichever comes first."""
    table = course_grading(course)
    if output_format not in OUTPUT_FORMATS:
        raise WorkbookError(f"output format must be one of {', '.join(OUTPUT_FORMATS)}")
    course_visibility = table.get("visibility", "visible")
    course_weight = table.get("weight", 1.0)
    per_lesson: dict[str, dict[str, Any]] = {k: dict(v) for k, v in table["lessons"].items()}
    flags: dict[str, dict[str, Any]] = {}
    for kind, values, check in (
        ("visibility", visibility, _visibility),
        ("weight", weight, _weight),
    ):
        for value in values:
            ref, sep, setting = str(value).rpartition("=")
            where = f"--{kind} {value}"
            if not sep:
                if kind == "visibility":
                    course_visibility = check(setting, where)
                else:
                    course_weight = check(setting, where)
                continue
            lesson = _lesson(course, ref, where)
            flags.setdefault(lesson.id, {})[kind] = check(setting, where)
    lessons = {}
    for lesson in course.lessons:
        merged = {**per_lesson.get(lesson.id, {}), **flags.get(lesson.id, {})}
        lessons[lesson.id] = LessonPolicy(
            weight=merged.get("weight", course_weight),
            visibility=merged.get("visibility", course_visibility),
        )
    return GradingPolicy(
        visibility=course_visibility,
        partial_credit=table.get("partial_credit", False)
        if partial_credit is None
        else partial_credit,
        output_format=output_format,
        lessons=lessons,
    )


def policy_flags(
    course: Course,
    *,
    visibility: Sequence[str] = (),
    weight: Sequence[str] = (),
    partial_credit: bool | None = None,
    output_format: str = "md",
) -> list[str]:
    """The flags as a run command takes them, checked, with lessons named by id."""
    grading_policy(  # raises on a bad value
        course,
        visibility=visibility,
        weight=weight,
        partial_credit=partial_credit,
        output_format=output_format,
    )
    flags: list[str] = []
    for kind, values in (("visibility", visibility), ("weight", weight)):
        for value in values:
            ref, sep, setting = str(value).rpartition("=")
            named = f"{course.lesson(ref).id}={setting}" if sep else setting
            flags += [f"--{kind}", named]
    if partial_credit is not None:
        flags.append("--partial-credit" if partial_credit else "--no-partial-credit")
    flags += ["--output-format", output_format]
    return flags


def _lesson(course: Course, ref: Any, where: str) -> Lesson:
    try:
        return course.lesson(str(ref))
    except WorkbookError as exc:
        raise WorkbookError(f"{where}: {exc}") from exc


def _weight(value: Any, where: str) -> float:
    try:
        number = float(value) if not isinstance(value, bool) else math.nan
    except (TypeError, ValueError):
        number = math.nan
    if not math.isfinite(number) or number < 0:
        raise WorkbookError(f"{where}: a weight is a number of points, 0 or more ({value!r})")
    return number


def _visibility(value: Any, where: str) -> str:
    if value not in GRADESCOPE_VISIBILITY:
        raise WorkbookError(
            f"{where}: visibility is one of {', '.join(GRADESCOPE_VISIBILITY)} ({value!r})"
        )
    return value


# --- grading one submission ------------------------------------------------------------


@dataclass
class SubmissionGrade:
    """One submission graded by this run's judge: the results, and what was refused."""

    course: Course
    results: list[tuple[Lesson, GradeResult]]
    refused: dict[str, str]
    wall_s: float
    # How many lessons were graded at once, per memory budget, and why.
    jobs: dict[str, int] = field(default_factory=dict)
    limits: str = ""

    @property
    def passed(self) -> int:
        return sum(result.passed for _, result in self.results)

    @property
    def nothing_submitted(self) -> bool:
        """No lesson had a file to grade: a wrong upload rather than an answer."""
        return all(
            result.error is not None and result.error.kind == "missing"
            for _, result in self.results
        )

    def earned(self, policy: GradingPolicy) -> tuple[float, float]:
        """(points earned, points possible) under `policy`."""
        earned = sum(policy.points(lesson, result) for lesson, result in self.results)
        possible = sum(policy.of(lesson).weight for lesson, _ in self.results)
        return round(earned, 4), round(possible, 4)

    def summary(self, policy: GradingPolicy | None = None) -> str:
        text = f"{self.course.title}: {self.passed} of {len(self.results)} lessons passed"
        if policy is not None:
            earned, possible = self.earned(policy)
            text += f", {_number(earned)} of {_number(possible)} points"
        text += "."
        if self.refused:
            listed = "; ".join(self.refused.values())
            text += f" Not graded, and never opened: {listed} (only plain files are graded)."
        if self.nothing_submitted:
            text += f" No exercise file was found: {SUBMISSION_HINT}."
        return text

    def protection(self) -> dict:
        return next((r.protection for _, r in self.results if r.protection), {})


def _number(value: float) -> str:
    return f"{value:g}"


def lesson_filter(course: Course, refs: Iterable[str]) -> Callable[[Lesson], bool] | None:
    """Only the lessons named (numbers, ranges such as 3-7, or ids; see
    `Course.select`); None (all of them) if none is named."""
    refs = [str(ref) for ref in refs if str(ref).strip()]
    if not refs:
        return None
    wanted = {lesson.id for lesson in course.select(refs)}
    return lambda lesson: lesson.id in wanted


def job_plan(
    lessons: Sequence[Lesson],
    jobs: int | None = None,
    limits: Limits | None = None,
    *,
    heavy: Callable[[Lesson], bool] | None = None,
) -> list[tuple[str, int, list[Lesson]]]:
    """The lessons in pools of one memory budget each: [(name, lessons at once, lessons)].

    The pool of lessons without TensorFlow ("numpy") comes first and may run wider than
    the TensorFlow lessons' ("tensorflow"). `heavy` says which lessons need TensorFlow's
    budget (default: those that import it; the grading leaves out those with no code to
    run, so that a stub does not start TensorFlow). `jobs` (a flag) caps both pools;
    memory caps both whatever `jobs` says, since a lesson killed for memory would read
    as the learner's crash."""
    limits = read_limits() if limits is None else limits
    heavy = (lambda lesson: lesson.uses_tensorflow) if heavy is None else heavy
    plan = []
    for name, budget in (("numpy", NUMPY_LESSON_MIB), ("tensorflow", TENSORFLOW_LESSON_MIB)):
        wanted = name == "tensorflow"
        group = [lesson for lesson in lessons if bool(heavy(lesson)) == wanted]
        if not group:
            continue
        if jobs is None:
            width = limits.jobs(budget)
        else:
            fits = limits.memory_jobs(budget)
            width = max(1, jobs if fits is None else min(jobs, fits))
        plan.append((name, min(width, len(group)), group))
    return plan


def _runs_code(prepared: Any, lesson: Lesson) -> bool:
    """Will grading this lesson run the learner's code? Not for a missing or refused
    file, nor for the untouched stub (graded "not started" without a process)."""
    from workbook.instructor import classroom

    if lesson.id in prepared.problems:
        return False
    try:
        return not classroom._untouched(prepared.workspace, lesson)
    except Exception:  # the grading will say what is wrong with it
        return True


def grade_submission(
    folder: Path,
    *,
    lessons: Iterable[str] = (),
    jobs: int | None = None,
    limits: Limits | None = None,
) -> SubmissionGrade:
    """Grade the exercise files in `folder` (at its top level or under exercises/) in a
    fresh private workspace of the shipped course; `folder` is only read. At most
    `jobs` lessons at once (default: what the container's CPU and memory allow)."""
    from workbook.instructor.classroom import (
        Submission,
        WarmPool,
        grade_all,
        is_plain_dir,
        prepare,
    )

    started = time.perf_counter()
    if not is_plain_dir(folder):
        raise WorkbookError(f"{folder} is not a folder (the submission to grade)")
    folder = _unwrapped(folder)
    kind = "exercises" if is_plain_dir(folder / "exercises") else "files"
    limits = read_limits() if limits is None else limits
    only = lesson_filter(_shipped_course(), lessons)
    prepared = prepare(Submission("submission", folder, kind), only=only)
    pool = None
    try:
        course = prepared.workspace.course
        chosen = [lesson for lesson in course.lessons if only is None or only(lesson)]
        graded: dict[str, tuple[Lesson, GradeResult]] = {}
        widths: dict[str, int] = {}
        heavy = [lesson for lesson in chosen if lesson.uses_tensorflow]
        tensorflow = {lesson.id for lesson in heavy if _runs_code(prepared, lesson)}
        plan = job_plan(chosen, jobs, limits, heavy=lambda lesson: lesson.id in tensorflow)
        # One warm grading for both groups: the judge is imported once, and TensorFlow
        # loads while the NumPy lessons are graded.
        pool = WarmPool(keras=bool(tensorflow))
        for name, width, group in plan:
            done = grade_all([prepared], jobs=width, only=_only(group), pool=pool)
            graded.update({lesson.id: (lesson, r) for lesson, r in done.get("submission", [])})
            widths[name] = width
    finally:
        if pool is not None:
            pool.close()
        prepared.discard()
    return SubmissionGrade(
        course,
        [graded[lesson.id] for lesson in chosen],
        prepared.refused,
        time.perf_counter() - started,
        jobs=widths,
        limits=limits.describe(),
    )


def _only(group: Sequence[Lesson]) -> Callable[[Lesson], bool]:
    ids = {lesson.id for lesson in group}
    return lambda lesson: lesson.id in ids


def _unwrapped(folder: Path) -> Path:
    """A zip uploaded as one folder (`lstm-main/exercises/…`): the folder inside, when
    the submission holds no exercise file and nothing but that one folder (macOS's
    `__MACOSX` and dot-files aside). Links are never followed."""
    from workbook.instructor.classroom import is_plain_dir

    entries = [p for p in folder.iterdir() if not p.name.startswith((".", "__MACOSX"))]
    if is_plain_dir(folder / "exercises") or any(p.suffix == ".py" for p in entries):
        return folder
    if len(entries) == 1 and is_plain_dir(entries[0]):
        return entries[0]
    return folder


# --- what the learner reads --------------------------------------------------------------


def lesson_output(result: GradeResult, lesson: Lesson) -> str:
    """What the learner reads under a lesson, as plain text: the verdict, then each
    diagnosis."""
    if result.error is not None and result.error.kind == "missing":
        return f"Not submitted: {result.error.message} ({SUBMISSION_HINT})."
    if result.error is not None and result.error.kind == "refused":
        return f"Not graded: {result.error.message}."
    details = result.summary()
    head = result.headline
    return f"{head}\n{details}" if details and details not in head else head


_MD_ESCAPED = re.compile(r"([\\`*_\[\]<>#|~])")
_MD_BULLET = re.compile(r"^(\s*)([-+=])", re.MULTILINE)
_MD_NUMBERED = re.compile(r"^(\s*\d+)([.)])", re.MULTILINE)


def md_text(text: str) -> str:
    """`text` as Markdown that reads exactly as written: emphasis, code, links, HTML,
    headings and list markers escaped (CommonMark's backslash escapes)."""
    text = _MD_ESCAPED.sub(r"\\\1", text)
    text = _MD_BULLET.sub(r"\1\\\2", text)
    return _MD_NUMBERED.sub(r"\1\\\2", text)


def md_code(text: str) -> str:
    """`text` in a fenced block, with a fence longer than any run of backticks in it."""
    longest = max((len(run) for run in re.findall(r"`+", text)), default=0)
    fence = "`" * max(3, longest + 1)
    return f"{fence}text\n{text.rstrip()}\n{fence}"


def lesson_markdown(result: GradeResult, lesson: Lesson, points: float, weight: float) -> str:
    """What the learner reads under a lesson, as Markdown: the verdict in bold, the
    points when partial, then each diagnosis in a code block (arrays keep their
    columns; nothing in them is taken for Markdown)."""
    if result.error is not None and result.error.kind == "missing":
        return f"**Not submitted**: {md_text(result.error.message)} ({md_text(SUBMISSION_HINT)})."
    if result.error is not None and result.error.kind == "refused":
        return f"**Not graded**: {md_text(result.error.message)}."
    verdict, _, rest = result.headline.partition(": ")
    parts = [f"**{md_text(verdict)}**: {md_text(rest)}" if rest else f"**{md_text(verdict)}**"]
    if 0 < points < weight:
        parts.append(f"Partial credit: {_number(points)} of {_number(weight)} points.")
    if result.error is not None:
        where = ""
        if result.error.file:
            where = f" (`{Path(result.error.file).name}`"
            where += f", line {result.error.line})" if result.error.line else ")"
        parts.append(f"**{md_text(result.error.kind)}**{where}:\n\n{md_code(result.error.message)}")
    else:
        repeats = result.repeated_from()
        for check in result.failing:
            if check.id in repeats:
                parts.append(
                    f"**{md_text(check.name)}**: the same as *{md_text(repeats[check.id])}*."
                )
            elif check.message:
                parts.append(f"**{md_text(check.name)}**:\n\n{md_code(check.message)}")
            else:
                parts.append(f"**{md_text(check.name)}**: {md_text(check.outcome)}.")
    return "\n\n".join(parts)


def to_gradescope(grade: SubmissionGrade, policy: GradingPolicy | None = None) -> dict[str, Any]:
    """Gradescope's results.json: one test per lesson, worth its weight."""
    policy = GradingPolicy() if policy is None else policy
    markdown = policy.output_format == "md"
    tests = []
    for lesson, result in grade.results:
        own = policy.of(lesson)
        points = policy.points(lesson, result)
        output = (
            lesson_markdown(result, lesson, points, own.weight)
            if markdown
            else lesson_output(result, lesson)
        )
        tests.append(
            {
                "name": f"{lesson.number}. {lesson.title}",
                "number": str(lesson.number),
                "score": float(points),
                "max_score": float(own.weight),
                "status": "passed" if result.passed else "failed",
                "output": output,
                "output_format": policy.output_format,
                "visibility": own.visibility,
                "tags": [lesson.topic],
            }
        )
    earned, _ = grade.earned(policy)
    summary = grade.summary(policy)
    return {
        "score": float(earned),
        "execution_time": round(grade.wall_s, 2),
        "output": md_text(summary) if markdown else summary,
        "output_format": policy.output_format,
        "visibility": policy.visibility,
        "stdout_visibility": "hidden",
        "extra_data": {
            "workbook_version": __version__,
            "protection": grade.protection(),
            "jobs": grade.jobs,
            "limits": grade.limits,
            "partial_credit": policy.partial_credit,
        },
        "tests": tests,
    }


def format_errors(grade: SubmissionGrade) -> list[str]:
    """Why nothing of the submission can be graded, one sentence per file, or [] if
    something can: every lesson asked for is missing, refused, or not Python (a syntax
    error). PrairieLearn then marks the submission "invalid, not gradable" and takes
    no attempt for it."""
    problems = []
    for lesson, result in grade.results:
        name = Path(lesson.exercise).name
        kind = result.error.kind if result.error is not None else None
        if kind == "missing":
            problems.append(f"{name}: not submitted ({SUBMISSION_HINT})")
        elif kind == "refused":
            problems.append(f"{name}: not graded, {result.error.message}")
        elif kind == "syntax":
            line = f", line {result.error.line}" if result.error.line else ""
            problems.append(f"{name}{line}: {result.error.message}")
        else:
            return []
    return problems


def to_prairielearn(grade: SubmissionGrade, policy: GradingPolicy | None = None) -> dict[str, Any]:
    """PrairieLearn's results.json: `score` in [0, 1] (points earned over points
    possible), one test per lesson worth its weight; `gradable: false` with
    `format_errors` when nothing of the submission could be graded."""
    policy = GradingPolicy() if policy is None else policy
    earned, possible = grade.earned(policy)
    errors = format_errors(grade)
    data: dict[str, Any] = {
        "gradable": not errors,
        "score": earned / possible if possible else 0.0,
        "message": grade.summary(policy),
        "output": "\n".join(
            f"{lesson.number}. {lesson.title}: {result.verdict}" for lesson, result in grade.results
        ),
        "tests": [
            {
                "name": f"{lesson.number}. {lesson.title}",
                "description": f"{lesson.exercise} ({lesson.topic})",
                "points": policy.points(lesson, result),
                "max_points": policy.of(lesson).weight,
                "message": result.headline,
                "output": lesson_output(result, lesson),
            }
            for lesson, result in grade.results
        ],
    }
    if errors:
        data["format_errors"] = errors
    return data


def _write_json(path: Path, data: dict[str, Any]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(json.dumps(data, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    tmp.replace(path)


def _shipped_course() -> Course:
    from workbook.workspace import Workspace, bundled_root

    return Workspace(bundled_root()).course


def run_gradescope(
    root: Path,
    *,
    policy: GradingPolicy | Callable[[], GradingPolicy] | None = None,
    lessons: Iterable[str] = (),
    jobs: int | None = None,
) -> dict[str, Any]:
    """Grade root/submission; write root/results/results.json. If grading itself
    fails, the results still say so (0 points, the reason), so the learner is not
    left with Gradescope's bare "autograder failed" and the instructor can regrade.
    `policy` may be a function, so that a bad course.toml is reported that way too."""
    results_path = root / "results" / "results.json"
    started = time.perf_counter()
    visibility = "visible"
    try:
        chosen = policy() if callable(policy) else policy
        chosen = GradingPolicy() if chosen is None else chosen
        visibility = chosen.visibility
        grade = grade_submission(root / "submission", lessons=lessons, jobs=jobs)
        print(f"graded in {grade.wall_s:.1f} s, lessons at once: {grade.jobs} ({grade.limits})")
        data = to_gradescope(grade, chosen)
    except Exception as exc:
        traceback.print_exc()
        data = {
            "score": 0.0,
            "execution_time": round(time.perf_counter() - started, 2),
            "output": f"The autograder could not grade this submission ({exc}). "
            "Please tell your instructor; the submission can be regraded.",
            "visibility": visibility,
            "tests": [],
        }
    _write_json(results_path, data)
    return data


def run_prairielearn(
    root: Path,
    *,
    policy: GradingPolicy | Callable[[], GradingPolicy] | None = None,
    lessons: Iterable[str] = (),
    jobs: int | None = None,
) -> dict[str, Any]:
    """Grade root/student; write root/results/results.json. The lessons to grade come
    from `lessons`, else from the question's `params.lessons` in root/data/data.json
    (so one image serves a question per lesson), else all of them."""
    results_path = root / "results" / "results.json"
    chosen = list(lessons) or _question_lessons(root / "data" / "data.json")
    try:
        rules = policy() if callable(policy) else policy
        grade = grade_submission(root / "student", lessons=chosen, jobs=jobs)
        print(f"graded in {grade.wall_s:.1f} s, lessons at once: {grade.jobs} ({grade.limits})")
        data = to_prairielearn(grade, rules)
    except Exception as exc:
        traceback.print_exc()
        reason = f"The external grader could not grade this submission ({exc})."
        data = {
            "gradable": False,
            "score": 0.0,
            "message": reason + " Please tell your instructor.",
            "format_errors": [reason],
            "tests": [],
        }
    _write_json(results_path, data)
    return data


def _question_lessons(data_json: Path) -> list[str]:
    try:
        params = json.loads(data_json.read_text(encoding="utf-8")).get("params", {})
    except (OSError, ValueError, AttributeError):
        return []
    chosen = params.get("lessons", []) if isinstance(params, dict) else []
    return [str(item) for item in (chosen if isinstance(chosen, list) else [chosen])]


# --- the wheel ---------------------------------------------------------------------


def _package_files() -> Iterable[tuple[str, bytes]]:
    """(path inside the wheel, bytes) of this workbook: the package, and the course and
    checks under workbook/_bundled, where a pip-installed workbook finds them."""
    from workbook.workspace import bundled_root

    package = Path(__file__).resolve().parents[1]
    course = bundled_root()
    trees = [(package, "workbook", ("_bundled",))]
    trees += [(course / name, f"workbook/_bundled/{name}", ()) for name in ("course", "checks")]
    for base, prefix, skipped in trees:
        for path in sorted(base.rglob("*")):
            relative = path.relative_to(base)
            if (
                not path.is_file()
                or relative.parts[0] in skipped
                or "__pycache__" in relative.parts
                or path.suffix in (".pyc", ".tmp")
            ):
                continue
            yield f"{prefix}/{relative.as_posix()}", path.read_bytes()


def _metadata() -> tuple[str, str]:
    """The wheel's METADATA and entry_points.txt: from pyproject.toml in a checkout
    (the truth, even if the editable install is older), else from the installed one."""
    from workbook.workspace import bundled_root

    pyproject = bundled_root() / "pyproject.toml"
    if pyproject.is_file():
        project = tomllib.loads(pyproject.read_text(encoding="utf-8"))["project"]
        if project["version"] != __version__:
            raise WorkbookError(
                f"pyproject.toml says {project['version']}, the package {__version__}"
            )
        lines = [
            "Metadata-Version: 2.1",
            f"Name: {project['name']}",
            f"Version: {project['version']}",
            f"Summary: {project.get('description', '')}",
            f"Requires-Python: {project.get('requires-python', '>=3.11')}",
            *(f"Requires-Dist: {dep}" for dep in project.get("dependencies", [])),
        ]
        scripts = project.get("scripts", {})
        entry = "[console_scripts]\n" + "".join(f"{k} = {v}\n" for k, v in scripts.items())
        return "\n".join(lines) + "\n", entry
    from importlib.metadata import distribution

    dist = distribution(DIST_NAME)
    if dist.version != __version__:
        raise WorkbookError(f"installed metadata says {dist.version}, the package {__version__}")
    return str(dist.metadata), dist.read_text("entry_points.txt") or ""


def _zip_entry(archive: zipfile.ZipFile, name: str, data: bytes, executable: bool = False) -> None:
    info = zipfile.ZipInfo(name, date_time=_EPOCH)
    info.compress_type = zipfile.ZIP_DEFLATED
    info.external_attr = ((0o755 if executable else 0o644) | stat.S_IFREG) << 16
    archive.writestr(info, data)


def build_wheel(dest_dir: Path) -> Path:
    """Write this workbook as a wheel into dest_dir.

    Built from the files of the running workbook, so it works offline from a checkout
    or a pip-installed copy alike, with no build backend to fetch; the platform image
    then installs exactly this version (and gets only the dependencies from the index)."""
    metadata, entry_points = _metadata()
    dist_info = f"lstm_workbook-{__version__}.dist-info"
    files = list(_package_files())
    files += [
        (f"{dist_info}/METADATA", metadata.encode()),
        (
            f"{dist_info}/WHEEL",
            b"Wheel-Version: 1.0\nGenerator: workbook.instructor.autograder\n"
            b"Root-Is-Purelib: true\nTag: py3-none-any\n",
        ),
        (f"{dist_info}/entry_points.txt", entry_points.encode()),
    ]
    record = io.StringIO()
    for name, data in files:
        digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
        record.write(f"{name},sha256={digest},{len(data)}\n")
    record.write(f"{dist_info}/RECORD,,\n")
    files.append((f"{dist_info}/RECORD", record.getvalue().encode()))
    dest_dir.mkdir(parents=True, exist_ok=True)
    wheel = dest_dir / WHEEL_NAME
    with zipfile.ZipFile(wheel, "w") as archive:
        for name, data in files:
            _zip_entry(archive, name, data)
    return wheel


# --- what a platform needs ----------------------------------------------------------------

# Measured with `benchmarks/bench_platform.py`: a submission of every lesson's reference
# solution graded by `gradescope-run` (`--jobs auto`) in a cgroup with each setting's CPU
# quota and memory limit, on a 2-core x86-64 Linux VM (Python 3.11, TensorFlow 2.21)
# with a load average under 1.1 (2026-12-03; the same code graded a submission in 7.1 to
# 8.1 s of CPU): the slower runs are quoted. On an idle host a submission takes about its
# CPU time over the quota. The cgroup peaks are with TensorFlow's libraries already in
# the page cache; the first run after the machine booted was charged for reading them
# too (2 CPU: 708 MiB; one run at 0.5 CPU reached its 768 MiB limit, which the kernel
# meets by dropping cache: nothing failed). The PSS peak counts them either way.
# (cpus, memory MB): (lessons at once, wall s, CPU s, peak cgroup MiB, peak PSS MiB)
MEASURED_FULL_SUBMISSION = {
    (0.5, 768): (1, 16, 8, 368, 656),
    (1.0, 1024): (1, 7, 7, 366, 653),
    (2.0, 2048): (2, 6, 7, 423, 740),
}
MEASURED_LOAD = "under 1.1"
# The same under PrairieGrader's limits (0.9 CPU, 2 GiB): (wall s, CPU s) for a question
# of the slowest TensorFlow lesson (18), of a NumPy lesson (8), and of every lesson.
MEASURED_PRAIRIELEARN = {"tensorflow": (4.4, 4.0), "numpy": (0.6, 0.4), "all": (8.5, 7.4)}


def resource_lines() -> list[str]:
    """What a Gradescope container needs, in lines for setup.sh's comments and the
    bundle's README: the memory rule, the settings, the measurements."""
    lines = [
        "The autograder grades as many lessons at once as the container's CPU quota allows",
        "and its memory holds, never more: each TensorFlow lesson graded at once needs",
        f"{TENSORFLOW_LESSON_MIB} MiB, any other lesson {NUMPY_LESSON_MIB} MiB, "
        f"and the run itself {RESERVED_MIB} MiB.",
        "Set CPU and memory in the assignment's Settings, under Autograder Settings:",
        "  0.5 CPU, 768 MB (Gradescope's default): 1 lesson at a time "
        f"({required_memory_mib(1)} MB needed)",
        f"  1 CPU: 1 lesson at a time, with {required_memory_mib(1)} MB or more",
        f"  2 CPU: 2 lessons at a time with {required_memory_mib(2)} MB or more (else 1)",
        f"  4 CPU: 4 lessons at a time with {required_memory_mib(4)} MB or more (else fewer)",
    ]
    lines.append(
        f"Measured (a 2-core VM, load average {MEASURED_LOAD}), a submission with every lesson:"
    )
    for (cpus, memory), (jobs, wall, cpu, peak, _) in MEASURED_FULL_SUBMISSION.items():
        lines.append(
            f"  {cpus:g} CPU, {memory} MB: {jobs} at a time, {wall} s ({cpu} s of CPU), "
            f"peak {peak} MiB"
        )
    lines.append("On an idle host it takes about its CPU time over the CPU quota.")
    lines.append("Gradescope's default timeout (10 minutes) is enough at every setting.")
    return lines


# --- the bundles ----------------------------------------------------------------------


def _gradescope_setup() -> str:
    notes = "".join(f"# {line}\n" for line in resource_lines())
    return f"""#!/usr/bin/env bash
# Gradescope runs this once, as root, when it builds the autograder image.
# Made by `workbook autograder gradescope` (lstm-workbook {__version__}).
#
{notes}set -euo pipefail
cd "$(dirname "$0")"
PY=python3
if ! python3 -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null; then
    apt-get update
    DEBIAN_FRONTEND=noninteractive apt-get install -y python3.11 python3.11-venv
    PY=python3.11
fi
"$PY" -m venv /autograder/workbook-venv
/autograder/workbook-venv/bin/pip install --upgrade pip
# This exact workbook, from the wheel in this zip; the index supplies its dependencies.
/autograder/workbook-venv/bin/pip install --no-cache-dir "./{WHEEL_NAME}"
# The wheel carries the reference solutions and the checks: once it is installed, delete
# it, so that they exist only inside the venv's site-packages/workbook, which the grading
# sandbox hides from the learner's code.
rm -f "./{WHEEL_NAME}"
/autograder/workbook-venv/bin/python -c \\
    "import workbook, sys; sys.exit(workbook.__version__ != '{__version__}')"
"""


def _gradescope_run(flags: Sequence[str]) -> str:
    options = " ".join(shlex.quote(flag) for flag in flags)
    return f"""#!/usr/bin/env bash
# Gradescope runs this once per submission: grade /autograder/submission afresh and
# write /autograder/results/results.json (AUTOGRADER_ROOT moves the root, for tests).
# The options are those `workbook autograder gradescope` was given; what they leave
# out comes from the [grading] table of the course.toml the wheel carries.
# --jobs auto: as many lessons at once as the container's CPU quota and memory allow.
PY="${{WORKBOOK_PYTHON:-/autograder/workbook-venv/bin/python}}"
exec "$PY" -m workbook.instructor.autograder gradescope-run {options}
"""


def _policy_table(
    lessons: Sequence[Lesson], policy: GradingPolicy, *, visibility: bool
) -> list[str]:
    head = "| lesson | points | visibility |" if visibility else "| lesson | points |"
    rule = "|---|---|---|" if visibility else "|---|---|"
    rows = [head, rule]
    for lesson in lessons:
        own = policy.of(lesson)
        row = f"| {lesson.number}. {lesson.title} | {_number(own.weight)} |"
        rows.append(row + (f" {own.visibility} |" if visibility else ""))
    return rows


def _gradescope_readme(
    course: Course, lessons: Sequence[Lesson], policy: GradingPolicy, flags: Sequence[str]
) -> str:
    total = sum(policy.of(lesson).weight for lesson in lessons)
    which = (
        f"every lesson of the course ({len(lessons)})"
        if len(lessons) == len(course.lessons)
        else f"{len(lessons)} of the course's {len(course.lessons)} lessons (--lessons): "
        "the others are not graded, nor reported"
    )
    credit = (
        "partial credit: a lesson that does not pass earns checks passed / checks total "
        "of its points"
        if policy.partial_credit
        else "all or nothing: a lesson earns its points only if every check passes"
    )
    lines = [
        f"# Gradescope autograder: {course.title} (lstm-workbook {__version__})",
        "",
        "Made by `workbook autograder gradescope " + " ".join(map(shlex.quote, flags)) + "`.",
        "Upload this zip as a programming assignment's autograder (Ubuntu 22.04 or later).",
        "",
        "## Resources",
        "",
        *resource_lines(),
        "",
        "## Points",
        "",
        f"It grades {which}. Set the assignment's total to {_number(total)} points; "
        f"{credit}. Results are "
        f"written as {'Markdown' if policy.output_format == 'md' else 'plain text'}; "
        f"the submission's overall visibility is `{policy.visibility}`.",
        "",
        *_policy_table(lessons, policy, visibility=True),
        "",
        "To change them, rebuild with `--lessons`, `--weight`, `--visibility`,",
        "`--partial-credit`, or edit the `[grading]` table of course/course.toml.",
        "",
    ]
    return "\n".join(lines)


PRAIRIELEARN_DOCKERFILE = f"""# PrairieLearn external grader for lstm-workbook {__version__}.
# Made by `workbook autograder prairielearn`. PrairieLearn runs linux/amd64 images only:
# build with `docker build --platform linux/amd64 -t IMAGE:{__version__} grader/` (see
# build-image.sh next to this folder), push, and name IMAGE:{__version__} in info.json.
FROM python:3.11-slim
LABEL org.opencontainers.image.title="lstm-workbook-grader" \\
      org.opencontainers.image.version="{__version__}"
# The wheel carries the reference solutions and the checks: it is installed from /tmp and
# deleted in the same step, so that in the container they exist only inside
# site-packages/workbook, which the grading sandbox hides from the learner's code.
# (Whoever can pull the image can still read them there.)
COPY {WHEEL_NAME} /tmp/{WHEEL_NAME}
RUN pip install --no-cache-dir /tmp/{WHEEL_NAME} \\
 && rm /tmp/{WHEEL_NAME} \\
 && python -c "import workbook, sys; sys.exit(workbook.__version__ != '{__version__}')"
COPY grade {PRAIRIELEARN_ENTRYPOINT}
RUN chmod 755 {PRAIRIELEARN_ENTRYPOINT}
"""

PRAIRIELEARN_ENTRY = """#!/bin/sh
# PrairieLearn runs this once per submission: grade /grade/student afresh and write
# /grade/results/results.json (GRADE_ROOT moves the root, for tests). The lessons come
# from the question's server.py (params.lessons in /grade/data/data.json).
exec "${WORKBOOK_PYTHON:-python3}" -m workbook.instructor.autograder prairielearn-run "$@"
"""


def _prairielearn_server(lesson: Lesson) -> str:
    return f"""# Made by `workbook autograder prairielearn` (lstm-workbook {__version__}).
# The lessons this question grades (numbers or ids): the external grader reads them
# from /grade/data/data.json, as params.lessons. List several to grade several files.
LESSONS = [{lesson.id!r}]


def generate(data):
    data["params"]["lessons"] = LESSONS
"""


def _mustache_safe(text: str) -> str:
    """HTML with no `{{` left for PrairieLearn's Mustache pass to take."""
    return text.replace("{", "&#123;").replace("}", "&#125;")


def _lesson_html(lesson: Lesson) -> str:
    """The lesson's text (not its hints, not what it shows after passing) as HTML."""
    from markdown_it import MarkdownIt

    rendered = MarkdownIt("commonmark", {"html": False}).enable("table").render(lesson.text)
    return _mustache_safe(rendered)


def _prairielearn_question_html(course: Course, lesson: Lesson, policy: GradingPolicy) -> str:
    name = Path(lesson.exercise).name
    number = f"Lesson {lesson.number} of {len(course.lessons)}"
    credit = (
        "checks passed / checks total of its points"
        if policy.partial_credit
        else "its points only when every check passes"
    )
    return f"""<!-- Made by `workbook autograder prairielearn` (lstm-workbook {__version__}). -->
<pl-question-panel>
  <p><strong>{html.escape(course.title)}</strong>, {number}:
  <strong>{html.escape(lesson.title)}</strong>.</p>
  <div class="mathjax_ignore tex2jax_ignore">
{_lesson_html(lesson)}  </div>
  <p>Complete <code>{html.escape(name)}</code> below and submit it: the workbook's own
  checks grade it, as <code>workbook check {lesson.number}</code> does (the lesson earns
  {credit}).</p>
  <pl-file-editor file-name="{html.escape(name)}" ace-mode="ace/mode/python"
    source-file-name="{html.escape(name)}"></pl-file-editor>
</pl-question-panel>

<pl-submission-panel>
  <pl-external-grader-results></pl-external-grader-results>
  <pl-file-preview></pl-file-preview>
</pl-submission-panel>
"""


def question_timeout(lessons: Iterable[Lesson]) -> int:
    """Seconds PrairieLearn waits for a question's grading: the lessons' worst cases
    under the grader's own CPU limits (the subject's start-up and every call of learner
    code), at PrairieGrader's 0.9 CPU, plus 30 s for the container and the run to
    start; rounded up to 10 s, at most PrairieLearn's 600. The grader's limits then
    stop slow code first, and the learner reads why."""
    from workbook.grading.runner import limits_for

    cpu = sum(limits_for(lesson)["startup_s"] + limits_for(lesson)["total_s"] for lesson in lessons)
    seconds = math.ceil((cpu / PRAIRIELEARN_CPUS + 30) / 10) * 10
    return min(PRAIRIELEARN_MAX_TIMEOUT_S, seconds)


def question_uuid(lesson: Lesson) -> str:
    """The same for a lesson whatever the workbook's version (a UUID v4 in form)."""
    digest = hashlib.sha256(f"{_QUESTION_NAMESPACE}:{lesson.id}".encode()).digest()
    return str(uuid.UUID(bytes=digest[:16], version=4))


def prairielearn_info(course: Course, lesson: Lesson, image: str, timeout_s: int) -> dict:
    """A question's info.json (format v3, externally graded)."""
    return {
        "uuid": question_uuid(lesson),
        "title": f"{course.title} {lesson.number}: {lesson.title}",
        "topic": course.topic_title(lesson.topic),
        "tags": ["lstm-workbook", f"lstm-workbook-{__version__}"],
        "type": "v3",
        "singleVariant": True,
        "partialCredit": True,
        "gradingMethod": "External",
        "externalGradingOptions": {
            "enabled": True,
            "image": image,
            "entrypoint": PRAIRIELEARN_ENTRYPOINT,
            "timeout": timeout_s,
        },
    }


def image_name(repository: str = PRAIRIELEARN_IMAGE) -> str:
    """`repository:VERSION`: the grader image is always tagged with the workbook's
    version, so a question names exactly the workbook that grades it."""
    last = repository.rsplit("/", 1)[-1]
    if not repository or ":" in last or "@" in repository or repository != repository.strip():
        raise WorkbookError(
            f"--image takes a repository without a tag (e.g. myorg/lstm-workbook-grader); "
            f"the tag is always the workbook's version, {__version__}"
        )
    return f"{repository}:{__version__}"


def _build_script(image: str) -> str:
    return f"""#!/bin/sh
# Build the PrairieLearn grader image for lstm-workbook {__version__} and push it.
# PrairieLearn runs linux/amd64 images only, whatever machine builds them.
set -eu
cd "$(dirname "$0")"
docker build --platform linux/amd64 -t {shlex.quote(image)} grader
docker push {shlex.quote(image)}
"""


def _prairielearn_readme(
    course: Course, lessons: Sequence[Lesson], image: str, policy: GradingPolicy, timeouts: dict
) -> str:
    measured = MEASURED_PRAIRIELEARN
    topics = sorted({course.topic_title(lesson.topic) for lesson in lessons})
    lines = [
        f"# PrairieLearn external grader: {course.title} (lstm-workbook {__version__})",
        "",
        "1. Build and push the grader image (PrairieLearn runs linux/amd64 images only):",
        "",
        f"       docker build --platform linux/amd64 -t {image} grader",
        f"       docker push {image}",
        "",
        "   (`sh build-image.sh` does both.)",
        f"2. Copy `questions/{PRAIRIELEARN_QUESTIONS}/` into your course's `questions/`",
        "   and add the questions to an assessment. Each question is one lesson: a file",
        "   editor holding the lesson's stub, graded externally by the image above.",
        f"   The questions use the topics {', '.join(topics)}",
        f"   and the tags `lstm-workbook` and `lstm-workbook-{__version__}`: declare them in",
        "   infoCourse.json, or PrairieLearn adds them with a warning.",
        "",
        "## Resources",
        "",
        f"PrairieLearn's grading containers get {PRAIRIELEARN_CPUS:g} CPU and "
        f"{PRAIRIELEARN_MEMORY_MIB} MiB: enough for one lesson at a time, which is what",
        "a question of one lesson grades. Measured at those limits (a 2-core VM, load "
        f"average {MEASURED_LOAD}): {measured['tensorflow'][0]} s "
        f"({measured['tensorflow'][1]} s of CPU) for the slowest TensorFlow lesson, "
        f"{measured['numpy'][0]} s ({measured['numpy'][1]} s of CPU) for a NumPy lesson, "
        f"{measured['all'][0]} s ({measured['all'][1]} s of CPU) for a question of every lesson.",
        "Each question's timeout (info.json) covers its lessons' worst case under the",
        "grader's own CPU limits, so that slow code is stopped, and explained, by the",
        "grader rather than by PrairieLearn:",
        "",
        "| question | points | timeout (s) |",
        "|---|---|---|",
        *(
            f"| {lesson.id} | {_number(policy.of(lesson).weight)} | {timeouts[lesson.id]} |"
            for lesson in lessons
        ),
        "",
        "A question's score is its points earned over its points possible; a submission",
        "whose file is missing or is not Python (a syntax error) is returned as not",
        "gradable, with the reason, and costs the learner no attempt.",
        "",
    ]
    return "\n".join(lines)


def gradescope_bundle(
    output: Path,
    *,
    visibility: Sequence[str] = (),
    weight: Sequence[str] = (),
    partial_credit: bool | None = None,
    output_format: str = "md",
    jobs: int | None = None,
    lessons: Iterable[str] = (),
) -> Path:
    """Write the Gradescope autograder zip to `output`. The grading flags (see
    `grading_policy`) are checked here and written into `run_autograder`. `lessons`
    (numbers, ranges, ids): grade only those; the assignment's maximum is theirs."""
    import tempfile

    if isinstance(visibility, str):
        visibility = [visibility]
    course = _shipped_course()
    options = dict(
        visibility=visibility,
        weight=weight,
        partial_credit=partial_credit,
        output_format=output_format,
    )
    policy = grading_policy(course, **options)
    only = lesson_filter(course, lessons)
    chosen = [lesson for lesson in course.lessons if only is None or only(lesson)]
    flags = [*policy_flags(course, **options), "--jobs", "auto" if jobs is None else str(jobs)]
    if only is not None:
        flags += ["--lessons", ",".join(lesson.id for lesson in chosen)]
    with tempfile.TemporaryDirectory() as tmp:
        wheel = build_wheel(Path(tmp))
        output.parent.mkdir(parents=True, exist_ok=True)
        with zipfile.ZipFile(output, "w") as archive:
            _zip_entry(archive, "setup.sh", _gradescope_setup().encode(), executable=True)
            run = _gradescope_run(flags)
            _zip_entry(archive, "run_autograder", run.encode(), executable=True)
            readme = _gradescope_readme(course, chosen, policy, flags)
            _zip_entry(archive, "README.md", readme.encode())
            _zip_entry(archive, WHEEL_NAME, wheel.read_bytes())
    return output


def prairielearn_bundle(
    folder: Path,
    *,
    image: str = PRAIRIELEARN_IMAGE,
    lessons: Iterable[str] = (),
    timeout_s: int | None = None,
    weight: Sequence[str] = (),
    partial_credit: bool | None = None,
) -> list[Path]:
    """Write the PrairieLearn grader: `grader/` (the image's build context),
    `questions/lstm-workbook/<lesson>/` (one question per lesson, or per lesson named),
    `build-image.sh` and a README; return the files written.

    Points: a question's tests are worth their lessons' weights (course.toml, `weight`
    flags); PrairieLearn scales the score to the question's points in the assessment."""
    course = _shipped_course()
    tagged = image_name(image)
    policy = grading_policy(course, weight=weight, partial_credit=partial_credit)
    only = lesson_filter(course, lessons)
    chosen = [lesson for lesson in course.lessons if only is None or only(lesson)]
    if timeout_s is not None and not 10 <= timeout_s <= PRAIRIELEARN_MAX_TIMEOUT_S:
        raise WorkbookError(f"a timeout is 10 to {PRAIRIELEARN_MAX_TIMEOUT_S} seconds")
    written: list[Path] = []

    def write(path: Path, text: str, mode: int = 0o644) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        path.chmod(mode)
        written.append(path)

    grader = folder / "grader"
    grader.mkdir(parents=True, exist_ok=True)
    written.append(build_wheel(grader))
    write(grader / "Dockerfile", PRAIRIELEARN_DOCKERFILE)
    write(grader / "grade", _prairielearn_entry(policy, course), 0o755)
    write(folder / "build-image.sh", _build_script(tagged), 0o755)
    from workbook.workspace import Workspace, bundled_root

    shipped = Workspace(bundled_root())
    timeouts = {}
    for lesson in chosen:
        place = folder / "questions" / PRAIRIELEARN_QUESTIONS / lesson.id
        timeouts[lesson.id] = timeout_s or question_timeout([lesson])
        info = prairielearn_info(course, lesson, tagged, timeouts[lesson.id])
        write(place / "info.json", json.dumps(info, indent=2) + "\n")
        write(place / "question.html", _prairielearn_question_html(course, lesson, policy))
        write(place / "server.py", _prairielearn_server(lesson))
        write(place / Path(lesson.exercise).name, shipped.stub_for(lesson))
    write(folder / "README.md", _prairielearn_readme(course, chosen, tagged, policy, timeouts))
    return written


def _prairielearn_entry(policy: GradingPolicy, course: Course) -> str:
    """The entry point, with the weight and partial-credit flags the bundle was made with
    (the course.toml in the wheel gives the rest)."""
    flags: list[str] = []
    for lesson in course.lessons:
        own = policy.of(lesson).weight
        if own != 1.0:
            flags += ["--weight", f"{lesson.id}={_number(own)}"]
    flags.append("--partial-credit" if policy.partial_credit else "--no-partial-credit")
    options = " ".join(shlex.quote(flag) for flag in flags)
    return PRAIRIELEARN_ENTRY.replace('prairielearn-run "$@"', f'prairielearn-run {options} "$@"')


def _jobs(value: str) -> int | None:
    if value == "auto":
        return None
    try:
        number = int(value)
    except ValueError:
        number = 0
    if number < 1:
        raise argparse.ArgumentTypeError("a number of lessons at once (1 or more), or auto")
    return number


def main(argv: list[str] | None = None) -> int:
    """`python -m workbook.instructor.autograder gradescope-run | prairielearn-run`: what the
    platform's container runs per submission. Exit 0 once results.json is written."""
    parser = argparse.ArgumentParser(prog="python -m workbook.instructor.autograder")
    commands = parser.add_subparsers(dest="command", required=True)
    gradescope = commands.add_parser("gradescope-run", help="grade $AUTOGRADER_ROOT/submission")
    gradescope.add_argument(
        "--visibility", action="append", default=[], help="V, or LESSON=V (repeatable)"
    )
    gradescope.add_argument("--output-format", choices=OUTPUT_FORMATS, default="md")
    prairielearn = commands.add_parser("prairielearn-run", help="grade $GRADE_ROOT/student")
    for command in (gradescope, prairielearn):
        command.add_argument("--lessons", default="", help="comma-separated numbers or ids")
        command.add_argument("--jobs", type=_jobs, default=None, help="N, or auto (default)")
        command.add_argument(
            "--weight", action="append", default=[], help="W, or LESSON=W (repeatable)"
        )
        command.add_argument(
            "--partial-credit", action=argparse.BooleanOptionalAction, default=None
        )
    args = parser.parse_args(argv)
    lessons = [part for part in args.lessons.split(",") if part.strip()]

    def policy() -> GradingPolicy:
        return grading_policy(
            _shipped_course(),
            visibility=getattr(args, "visibility", ()),
            weight=args.weight,
            partial_credit=args.partial_credit,
            output_format=getattr(args, "output_format", "md"),
        )

    if args.command == "gradescope-run":
        root = Path(os.environ.get("AUTOGRADER_ROOT", "/autograder"))
        data = run_gradescope(root, policy=policy, lessons=lessons, jobs=args.jobs)
        print(data["output"])
    else:
        root = Path(os.environ.get("GRADE_ROOT", "/grade"))
        data = run_prairielearn(root, policy=policy, lessons=lessons, jobs=args.jobs)
        print(data["message"])
    return 0


if __name__ == "__main__":
    sys.exit(main())
