"""The learner's workspace: where exercises, course data and progress live.

`init_workspace` makes a fresh one anywhere from the course shipped with the package:
the exercises, the lesson texts, the catalog and glossary, and (once used) the
progress store. It holds no answers: the hidden checks and the reference solutions
stay inside the installed package (out of the learner's code's reach while it is
graded), and a lesson's reference is written to the workspace's `solutions/` only
once that lesson has passed there, as rustlings does. A course author's checkout, or
an instructor's own course, is a workspace too, one that holds its checks
(`checks/`) and references (`course/solutions/`) itself: `answers_root` says where a
workspace's answers are. A workspace is recognised by its `course/course.toml`,
found by walking up from the current directory.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from datetime import datetime
from functools import cached_property
from pathlib import Path

from workbook.catalog import Course, Lesson, before_passing, load_course
from workbook.errors import WorkbookError
from workbook.glossary import Term, load_glossary
from workbook.learnerfile import UndecodableSource, decode
from workbook.stubgen import clean_solution, make_stub, same_code

COURSE_DIR = "course"
STATE_DIR = ".workbook"
CHECKS_DIR = "checks"
REVEALED_DIR = "solutions"  # references of the lessons passed here, written on request


def bundled_root() -> Path:
    """Where the shipped course lives: inside the wheel, or the repository checkout."""
    package = Path(__file__).resolve().parent
    for candidate in (package / "_bundled", package.parent):
        if (candidate / COURSE_DIR / "course.toml").is_file():
            return candidate
    raise WorkbookError("this installation carries no course (no course/course.toml found)")


def find_workspace(start: Path | None = None) -> Workspace:
    here = (start or Path.cwd()).resolve()
    for folder in (here, *here.parents):
        if (folder / COURSE_DIR / "course.toml").is_file():
            return Workspace(folder)
    raise WorkbookError(
        f"no workbook workspace at or above {here}. Run `workbook init DIR` to create one, "
        "or pass --workspace DIR."
    )


@dataclass
class Workspace:
    root: Path

    @cached_property
    def course(self) -> Course:
        answers = self.answers_root
        return load_course(
            self.root / COURSE_DIR, None if answers == self.root else answers / COURSE_DIR
        )

    @cached_property
    def glossary(self) -> dict[str, Term]:
        return load_glossary(self.root / COURSE_DIR)

    @property
    def state_dir(self) -> Path:
        return self.root / STATE_DIR

    @property
    def progress_path(self) -> Path:
        return self.state_dir / "progress.db"

    def path(self, relative: str) -> Path:
        return self.root / relative

    @cached_property
    def answers_root(self) -> Path:
        """Where this workspace's checks and reference solutions live: the workspace
        itself for a course author's checkout or an instructor's course (it has a
        `checks/` folder), else the installed course (a learner's workspace)."""
        if (self.root / CHECKS_DIR).is_dir():
            return self.root
        return bundled_root()

    def answer_path(self, relative: str) -> Path:
        """A check or a reference solution (`lesson.check`, `lesson.solution`)."""
        return self.answers_root / relative

    def stub_for(self, lesson: Lesson) -> str:
        return make_stub(self.answer_path(lesson.solution).read_text(encoding="utf-8"))

    def solution_for(self, lesson: Lesson) -> str:
        return clean_solution(self.answer_path(lesson.solution).read_text(encoding="utf-8"))

    def reveal_solution(self, lesson: Lesson) -> Path:
        """Write the lesson's reference to `solutions/` in the workspace (call it once
        the lesson has passed); an earlier copy the learner edited is left alone."""
        target = self.root / REVEALED_DIR / Path(lesson.exercise).name
        if not target.exists():
            target.parent.mkdir(parents=True, exist_ok=True)
            tmp = target.with_suffix(".py.tmp")
            tmp.write_text(self.solution_for(lesson), encoding="utf-8")
            tmp.replace(target)
        return target

    def exercise_bytes(self, lesson: Lesson) -> bytes:
        """The learner's file exactly as saved: copies and backups use these bytes."""
        try:
            return self.path(lesson.exercise).read_bytes()
        except FileNotFoundError as exc:
            raise WorkbookError(
                f"{lesson.exercise} is missing. Run `workbook reset {lesson.number}` to "
                "restore the exercise."
            ) from exc

    def read_exercise(self, lesson: Lesson) -> str:
        """The learner's file as text, decoded as Python decodes source (its `coding:`
        line, else UTF-8); a file Python could not read either is a WorkbookError."""
        return decode(self.exercise_bytes(lesson), lesson.exercise)

    def is_untouched(self, lesson: Lesson) -> bool:
        return self._is_stub(self.exercise_bytes(lesson), self.stub_for(lesson))

    @staticmethod
    def _is_stub(data: bytes, stub: str) -> bool:
        """Whether `data` is the stub up to whitespace; bytes that are not source in any
        encoding cannot be the stub, and grading reports them in its own words."""
        try:
            return same_code(decode(data, "the exercise"), stub)
        except UndecodableSource:
            return False

    def reset(self, lesson: Lesson) -> Path | None:
        """Restore the pristine stub; the learner's file is kept as a timestamped backup,
        byte for byte (its encoding and line ends are the learner's business)."""
        target = self.path(lesson.exercise)
        stub = self.stub_for(lesson)
        backup = None
        if target.exists():
            current = target.read_bytes()
            if self._is_stub(current, stub):
                return None
            backup_dir = self.state_dir / "backups"
            backup_dir.mkdir(parents=True, exist_ok=True)
            stamp = datetime.now().strftime("%Y%m%d-%H%M%S-%f")
            backup = backup_dir / f"{target.stem}.{stamp}.py"
            with backup.open("xb") as out:  # never over an earlier backup
                out.write(current)
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp = target.with_suffix(".py.tmp")
        tmp.write_bytes(stub.encode("utf-8"))
        tmp.replace(target)
        return backup


def init_workspace(dest: Path, *, with_answers: bool = False) -> Workspace:
    """Create a learner's workspace at `dest` from the shipped course, never
    overwriting files. It holds no checks and no reference solutions, unless
    `with_answers` (a course author's or instructor's copy of the whole course)."""
    source = bundled_root()
    dest = dest.resolve()
    if (dest / COURSE_DIR / "course.toml").exists():
        raise WorkbookError(f"{dest} is already a workspace; nothing was changed")
    for name in (COURSE_DIR, CHECKS_DIR, "exercises"):
        if (dest / name).exists() and any((dest / name).iterdir()):
            raise WorkbookError(f"{dest / name} exists and is not empty; nothing was changed")
    dest.mkdir(parents=True, exist_ok=True)
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc")
    if not with_answers:
        ignore = shutil.ignore_patterns("__pycache__", "*.pyc", "solutions")
    shutil.copytree(source / COURSE_DIR, dest / COURSE_DIR, ignore=ignore, dirs_exist_ok=True)
    if with_answers:
        shutil.copytree(source / CHECKS_DIR, dest / CHECKS_DIR, ignore=ignore, dirs_exist_ok=True)
    if not with_answers:  # what a lesson shows after passing stays in the package
        for text_file in (dest / COURSE_DIR / "lessons").glob("*.md"):
            text = text_file.read_text(encoding="utf-8")
            if before_passing(text) != text:
                text_file.write_text(before_passing(text), encoding="utf-8")
    workspace = Workspace(dest)
    for lesson in workspace.course.lessons:
        workspace.reset(lesson)
    return workspace
