"""Grade a whole class: many learners' submissions, in parallel, into one CSV.

SUBMISSIONS_DIR holds one folder per learner (the folder name is the learner). A
folder is either a full workspace (`course/course.toml`, `checks/`, `exercises/`) or
just an `exercises/` folder. Either way only the learner's exercise files are taken,
as bytes (any encoding Python accepts is graded; nothing is decoded here), and only
if they are plain files: a symbolic link, a named pipe or a device is refused and
reported, never followed or opened. They go into a private workspace of that learner
alone, made from the shipped course (`init_workspace`) in a folder of its own
(`mkdtemp`, mode 0o700), so no learner's code shares a parent folder with another's,
edited checks cannot change a result, and nothing is ever written into a submission.

Grades come from this run's judge only: every row is built from the `GradeResult` of
an attempt made here, never from a learner's `.workbook/progress.db`, which learner
code can write. For full workspaces, the `tampered` column lists the grading files
that differ from the shipped manifest (on a lesson's row, those that can affect that
lesson; on the TOTAL row, all): evidence worth a look, not a grade. With
`own_checks=True` a full workspace is graded with its own course and checks (e.g. a
course variant), from the same private copy.

Each (learner, lesson) attempt is one `workbook.grading.runner.grade` call, which runs
the learner's code in its own limited (and, with the grading core's subject sandbox,
confined) process; a thread pool bounds how many run at once (default: one per core).
An attempt that fails in an unforeseen way becomes an `error` row: one learner's file
never stops the class, and every folder gets its TOTAL row.

`prepare`, `grade_prepared` and `grade_all` are shared with the course-platform
autograders (`workbook.instructor.autograder`), which grade one submission the same way.
"""

from __future__ import annotations

import csv
import importlib.util
import os
import re
import shutil
import stat
import tempfile
import threading
import time
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING

from workbook.catalog import Lesson
from workbook.errors import WorkbookError
from workbook.grading.results import ErrorInfo, GradeResult, Verdict
from workbook.manifest import relevant_to, tampered_files
from workbook.stubgen import same_code
from workbook.workspace import COURSE_DIR, Workspace, init_workspace

if TYPE_CHECKING:
    from workbook.grading.service import RunService

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
# An exercise is a few kB; a bigger file is refused rather than read into memory.
MAX_FILE_BYTES = 1_000_000
_SKIPPED_NAMES = {"__pycache__", ".workbook", ".pytest_cache"}
Progress = Callable[[str, Lesson, GradeResult], None]
# (learner, learners done so far, learners in all): a learner's lessons are all graded.
LearnerDone = Callable[[str, int, int], None]


class Refused(Exception):
    """A submitted path that is not a plain file or folder: never followed or opened."""


@dataclass(frozen=True)
class Submission:
    learner: str
    path: Path
    # "workspace" | "exercises" (files under exercises/) | "files" (at the top level)
    kind: str

    def source(self, lesson: Lesson) -> str:
        """Where the learner's file for `lesson` is, relative to the submission."""
        name = PurePosixPath(lesson.exercise)
        return name.name if self.kind == "files" else name.as_posix()


@dataclass
class Prepared:
    """One learner's private grading workspace and what was found in the submission."""

    sub: Submission
    private: Path  # mkdtemp folder (0o700) holding the intake copy and the workspace
    workspace: Workspace
    problems: dict[str, ErrorInfo]  # lesson id → why it is not graded (missing, refused)
    refused: dict[str, str]  # submission-relative path → what it is, for every refusal
    evidence: list[str]  # grading files of a full workspace unlike the shipped ones
    own_checks: bool = False  # graded with its own course and checks, on purpose

    def discard(self) -> None:
        shutil.rmtree(self.private, ignore_errors=True)


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
        if folder.is_symlink():
            skipped[folder.name] = "a symbolic link: refused, not followed"
            continue
        if not folder.is_dir():
            continue
        kind = _form(folder)
        if kind is None:  # an archive unpacked into a folder of its own, say
            inner = [d for d in _plain_subdirs(folder) if _form(d) is not None]
            if len(inner) == 1:
                found.append(Submission(folder.name, inner[0], _form(inner[0]) or ""))
            else:
                skipped[folder.name] = "neither a workspace nor a folder with exercises/"
        else:
            found.append(Submission(folder.name, folder, kind))
    return found, skipped


def _plain_subdirs(folder: Path) -> list[Path]:
    return [d for d in folder.iterdir() if is_plain_dir(d)]


def is_plain_dir(path: Path) -> bool:
    """A folder, and not a link to one: submissions are walked without following links."""
    try:
        return stat.S_ISDIR(path.lstat().st_mode)
    except OSError:
        return False


def _form(folder: Path) -> str | None:
    if is_plain_dir(folder / COURSE_DIR) and (folder / COURSE_DIR / "course.toml").is_file():
        return "workspace"
    if is_plain_dir(folder / "exercises"):
        return "exercises"
    return None


def _what(mode: int) -> str:
    """A file type in words, for the reason a path was refused."""
    for test, words in (
        (stat.S_ISLNK, "a symbolic link"),
        (stat.S_ISFIFO, "a named pipe"),
        (stat.S_ISCHR, "a device"),
        (stat.S_ISBLK, "a device"),
        (stat.S_ISSOCK, "a socket"),
        (stat.S_ISDIR, "a folder"),
    ):
        if test(mode):
            return words
    return "not a plain file"


def read_plain_file(path: Path) -> bytes:
    """The bytes of `path` if it is a plain file; `Refused` otherwise.

    lstat first, so that a pipe or device is never opened (opening one can block or
    act); then O_NOFOLLOW and fstat on what was opened, so that swapping the file for
    a link in between gains nothing."""
    mode = path.lstat().st_mode
    if not stat.S_ISREG(mode):
        raise Refused(_what(mode))
    fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
    with os.fdopen(fd, "rb") as handle:
        opened = os.fstat(fd)
        if not stat.S_ISREG(opened.st_mode):
            raise Refused(_what(opened.st_mode))
        if opened.st_size > MAX_FILE_BYTES:
            raise Refused(f"larger than {MAX_FILE_BYTES // 1000} kB ({opened.st_size} bytes)")
        return handle.read(MAX_FILE_BYTES + 1)


def _take(root: Path, relative: str, dest: Path, refused: dict[str, str]) -> bool:
    """Copy the plain file at root/relative to dest (bytes, never decoded), if every
    folder on the way is a plain folder too. False if it is absent or refused."""
    parts = PurePosixPath(relative).parts
    here = root
    for part in parts[:-1]:
        here = here / part
        if here.is_symlink() or (here.exists() and not here.is_dir()):
            folder = here.relative_to(root).as_posix()
            refused[folder] = f"{folder} is {_what(here.lstat().st_mode)}"
            return False
    source = root / relative
    if not source.exists() and not source.is_symlink():
        return False
    try:
        data = read_plain_file(source)
    except Refused as why:
        refused[relative] = f"{relative} is {why}"
        return False
    dest.parent.mkdir(parents=True, exist_ok=True)
    dest.write_bytes(data)
    return True


def _take_tree(root: Path, relative: str, dest_root: Path, refused: dict[str, str]) -> None:
    """Copy every plain file under root/relative (a full workspace's course, checks or
    exercises) to the same place under dest_root; refuse links and special files."""
    source = root / relative
    if not is_plain_dir(source):
        if source.is_symlink():
            refused[relative] = f"{relative} is a symbolic link"
        return
    with os.scandir(source) as entries:
        for entry in sorted(entries, key=lambda e: e.name):
            if entry.name in _SKIPPED_NAMES or entry.name.endswith(".pyc"):
                continue
            inner = f"{relative}/{entry.name}"
            if entry.is_dir(follow_symlinks=False):
                _take_tree(root, inner, dest_root, refused)
            else:
                _take(root, inner, dest_root / inner, refused)


def prepare(
    sub: Submission,
    *,
    own_checks: bool = False,
    only: Callable[[Lesson], bool] | None = None,
) -> Prepared:
    """Copy what will be graded from `sub` into a private workspace (the submission is
    only ever read). `only`: the lessons to be graded (default: all), the only ones
    whose files are taken, or reported missing. The caller must `discard()` it."""
    private = Path(tempfile.mkdtemp(prefix="workbook-learner-"))  # mode 0o700
    try:
        intake = private / "intake"
        refused: dict[str, str] = {}
        from workbook.workspace import bundled_root

        lessons = _chosen(Workspace(bundled_root()).course.lessons, only)
        if sub.kind == "workspace":
            for name in (COURSE_DIR, "checks", "exercises"):
                _take_tree(sub.path, name, intake, refused)
            evidence = tampered_files(intake)
        else:
            for lesson in lessons:
                _take(sub.path, sub.source(lesson), intake / lesson.exercise, refused)
            evidence = []
        own = own_checks and sub.kind == "workspace"
        if own:
            workspace = Workspace(intake)
            lessons = _chosen(workspace.course.lessons, only)
        else:
            # The learner's code runs with the workspace as its working folder: one
            # level below the private folder, so `..` is still this learner's own.
            workspace = init_workspace(private / "ws")
            for lesson in lessons:
                taken = intake / lesson.exercise
                if taken.is_file():
                    shutil.copyfile(taken, workspace.path(lesson.exercise))
        problems = {}
        for lesson in lessons:
            where = sub.source(lesson)
            why = _why_refused(refused, where)
            if why is not None:
                problems[lesson.id] = ErrorInfo("refused", f"{why}: refused, not followed")
            elif not (intake / lesson.exercise).is_file():
                problems[lesson.id] = ErrorInfo("missing", f"the submission has no {where}")
        return Prepared(sub, private, workspace, problems, refused, evidence, own)
    except BaseException:
        shutil.rmtree(private, ignore_errors=True)
        raise


def _chosen(lessons: Iterable[Lesson], only: Callable[[Lesson], bool] | None) -> list[Lesson]:
    return [lesson for lesson in lessons if only is None or only(lesson)]


def _why_refused(refused: dict[str, str], where: str) -> str | None:
    """Why `where` was not taken, if it or a folder it lies in was refused."""
    path = PurePosixPath(where)
    for candidate in (path, *path.parents):
        if candidate.as_posix() in refused:
            return refused[candidate.as_posix()]
    return None


def _untouched(workspace: Workspace, lesson: Lesson) -> bool:
    """Still the stub? Decoded by Python's own rules (a `coding:` line, a BOM), as the
    grader will load it; a file Python cannot decode is left for the grader to report."""
    try:
        text = importlib.util.decode_source(workspace.path(lesson.exercise).read_bytes())
    except (SyntaxError, UnicodeDecodeError, LookupError):
        return False
    return same_code(text, workspace.stub_for(lesson))


def grade_prepared(
    prepared: Prepared, lesson: Lesson, warm: RunService | None = None
) -> GradeResult:
    """Grade one lesson of a prepared submission (on `warm`, the run's grading
    service, if given). Never raises: anything unforeseen becomes an `error` result,
    so one file cannot stop a class."""
    from workbook.grading.runner import grade as grade_cold

    grade = warm.grade if warm is not None else grade_cold
    problem = prepared.problems.get(lesson.id)
    if problem is not None:
        return GradeResult(lesson.id, Verdict.ERROR, 0.0, error=problem)
    started = time.perf_counter()
    try:
        if _untouched(prepared.workspace, lesson):
            return GradeResult(lesson.id, Verdict.NOT_STARTED, time.perf_counter() - started)
        # The judge refuses checks unlike the shipped ones, unless the instructor
        # asked for the workspace's own (a course variant).
        return grade(
            prepared.workspace,
            lesson,
            detect_untouched=False,
            verify_checks=not prepared.own_checks,
        )
    except Exception as exc:  # the grader's fault, not the learner's: say so, go on
        return GradeResult(
            lesson.id,
            Verdict.ERROR,
            time.perf_counter() - started,
            error=ErrorInfo("grader", f"could not grade: {type(exc).__name__}: {exc}"),
        )


def grade_all(
    prepared: Iterable[Prepared],
    *,
    jobs: int | None = None,
    progress: Progress | None = None,
    only: Callable[[Lesson], bool] | None = None,
    pool: WarmPool | None = None,
) -> dict[str, list[tuple[Lesson, GradeResult]]]:
    """Every lesson (or those `only` accepts) of every prepared submission, at most
    `jobs` attempts at a time; learner → [(lesson, result)] in course order. `pool`:
    the run's warm grading, when the caller grades several groups on it (made and
    closed here otherwise)."""
    work = [
        (p, lesson)
        for p in prepared
        for lesson in p.workspace.course.lessons
        if only is None or only(lesson)
    ]
    own = pool is None
    pool = pool or WarmPool(keras=any(lesson.uses_tensorflow for _, lesson in work))
    grader = pool.grader()  # started in this thread, which outlives the workers

    def run(item: tuple[Prepared, Lesson]) -> GradeResult:
        one, lesson = item
        graded = grade_prepared(one, lesson, grader)
        if progress is not None:
            progress(one.sub.learner, lesson, graded)
        return graded

    workers = max(1, jobs or os.cpu_count() or 1)
    try:
        with ThreadPoolExecutor(max_workers=workers) as executor:
            results = list(executor.map(run, work))
    finally:
        if own:
            pool.close()
    graded: dict[str, list[tuple[Lesson, GradeResult]]] = {}
    for (one, lesson), result in zip(work, results, strict=True):
        graded.setdefault(one.sub.learner, []).append((lesson, result))
    return graded


class WarmPool:
    """The warm grading of a whole run: one private grading service (see
    `service.RunService`) that every worker's attempts fork from, so numpy, pytest and
    (when a Keras lesson is graded) TensorFlow are imported once per run, not once per
    attempt or per worker. Every attempt is still born clean and isolated (see
    `grading.subject.zygote`). `WORKBOOK_WARM=0` grades every attempt cold."""

    READY_S = 30.0  # the service answers once the judge is imported; TensorFlow loads later

    def __init__(self, *, keras: bool) -> None:
        self.keras = keras
        self.enabled = os.environ.get("WORKBOOK_WARM", "1") != "0"
        self._service: RunService | None = None
        self._folder: Path | None = None

    def grader(self) -> RunService | None:
        """The run's service, started and answering (None: grade cold). Call it from
        the thread that lives longest: the service dies with the thread that made it."""
        if not self.enabled:
            return None
        if self._service is None:
            from workbook.grading.service import RunService

            self._folder = Path(tempfile.mkdtemp(prefix="workbook-pool-"))
            service = RunService(self._folder, keras=self.keras)
            if not service.wait_until_ready(self.READY_S):
                service.close()
                self.enabled = False  # its attempts run cold
                return None
            self._service = service
        return self._service

    def close(self) -> None:
        service, self._service = self._service, None
        if service is not None:
            service.close()
        if self._folder is not None:
            shutil.rmtree(self._folder, ignore_errors=True)


def _declared_checks(workspace: Workspace, lesson: Lesson) -> int:
    """How many checks the lesson has, for rows where none ran (an error, a timeout)."""
    try:
        text = workspace.answer_path(lesson.check).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
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
    kind = result.error.kind if result.error is not None else ""
    return {
        "learner": learner,
        "lesson_id": lesson.id,
        "number": lesson.number,
        "title": lesson.title,
        "verdict": kind if kind in ("missing", "refused") else str(result.verdict),
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


def _total_row(learner: str, rows: list[dict], tampered: list[str], refused: dict) -> dict:
    passed = sum(r["score"] for r in rows)
    message = f"{passed} of {len(rows)} lessons passed"
    if refused:
        message += "; refused (not followed): " + "; ".join(refused.values())
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
        "message": message,
        "tampered": ";".join(tampered),
    }


def _skipped_row(learner: str, why: str, lessons: int) -> dict:
    """A folder that could not be graded still gets a line in the gradebook: 0 points."""
    return {
        **_total_row(learner, [], [], {}),
        "verdict": "missing",
        "max_score": lessons,
        "message": f"not graded: {why}",
    }


def grade_class(
    submissions: Path,
    *,
    jobs: int | None = None,
    own_checks: bool = False,
    progress: Progress | None = None,
    lessons: Iterable[str] = (),
    learner_done: LearnerDone | None = None,
) -> ClassResult:
    """Grade every submission's every lesson (or only the `lessons` named: numbers,
    ranges such as 3-7, ids), at most `jobs` attempts at a time. A lesson not named is
    neither graded nor reported, and the totals count only the lessons named.
    `progress` is called after each attempt, `learner_done` once a learner's lessons
    are all graded (with how many learners are done)."""
    started = time.perf_counter()
    only = _lesson_filter(lessons)
    subs, skipped = discover(submissions)
    result = ClassResult(skipped=dict(skipped))
    prepared: list[Prepared] = []
    try:
        for sub in subs:
            try:
                prepared.append(prepare(sub, own_checks=own_checks, only=only))
            except Exception as exc:  # unreadable, or an own course that does not load
                result.skipped[sub.learner] = f"could not be copied for grading: {exc}"
        tick = _ticker(prepared, only, progress, learner_done)
        graded = grade_all(prepared, jobs=jobs, progress=tick, only=only)
        for one in prepared:
            ws = one.workspace
            rows = [
                _row(
                    one.sub.learner,
                    lesson,
                    res,
                    relevant_to(one.evidence, lesson, ws.course) if one.evidence else res.tampered,
                    0 if res.checks else _declared_checks(ws, lesson),
                )
                for lesson, res in graded.get(one.sub.learner, [])
            ]
            result.rows.extend(rows)
            result.rows.append(_total_row(one.sub.learner, rows, one.evidence, one.refused))
            result.attempts += len(rows)
    finally:
        for one in prepared:
            one.discard()
    shipped = _shipped_lessons(only)
    for learner, why in result.skipped.items():
        result.rows.append(_skipped_row(learner, why, shipped))
    result.wall_s = time.perf_counter() - started
    return result


def _shipped_lessons(only: Callable[[Lesson], bool] | None = None) -> int:
    from workbook.workspace import bundled_root

    return len(_chosen(Workspace(bundled_root()).course.lessons, only))


def _lesson_filter(lessons: Iterable[str]) -> Callable[[Lesson], bool] | None:
    """The lessons named, resolved against the shipped course (an unknown one is a
    WorkbookError naming the valid choices); None: every lesson."""
    refs = [str(ref) for ref in lessons if str(ref).strip()]
    if not refs:
        return None
    from workbook.workspace import bundled_root

    wanted = {lesson.id for lesson in Workspace(bundled_root()).course.select(refs)}
    return lambda lesson: lesson.id in wanted


def _ticker(
    prepared: list[Prepared],
    only: Callable[[Lesson], bool] | None,
    progress: Progress | None,
    learner_done: LearnerDone | None,
) -> Progress | None:
    """The per-attempt callback for `grade_all`: calls `progress`, and `learner_done`
    when a learner's last lesson is graded (attempts finish in any order)."""
    if learner_done is None:
        return progress
    left = {p.sub.learner: len(_chosen(p.workspace.course.lessons, only)) for p in prepared}
    done: list[str] = []
    lock = threading.Lock()
    for learner in [name for name, count in left.items() if count == 0]:
        done.append(learner)
        learner_done(learner, len(done), len(left))

    def tick(learner: str, lesson: Lesson, result: GradeResult) -> None:
        if progress is not None:
            progress(learner, lesson, result)
        with lock:
            left[learner] -= 1
            if left[learner] == 0:
                done.append(learner)
                learner_done(learner, len(done), len(left))

    return tick


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
