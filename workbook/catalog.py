"""The course catalog: lessons, their order and metadata, read from declarative files.

A course folder holds `course.toml` (format version, topics, lesson order) and one
Markdown file per lesson under `lessons/`, whose TOML front matter (between `+++`
lines) carries title, topic, hints and glossary terms. Keeping each lesson's data
beside its text means adding a lesson is adding files, never editing Python.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from workbook.errors import CourseFormatError, WorkbookError
from workbook.filestamp import Stamp, reuse

FORMAT_VERSION = 1
_FRONT_MATTER = re.compile(r"\A\+\+\+\s*\n(.*?)\n\+\+\+\s*\n?(.*)\Z", re.S)
_LESSON_ID = re.compile(r"^(\d{2})-[a-z0-9]+(?:-[a-z0-9]+)*$")
_RANGE = re.compile(r"^(\d+)\s*[-–]\s*(\d+)$")  # 3-7 (or 3–7, as error messages write it)
# Lesson text below this line is an explanation shown only once the lesson has passed
# (answers to questions, the "why" behind the reference solution). A learner's
# workspace holds the text above it only; the explanation is read from the installed
# course (see `workspace.answers_root`).
AFTER_PASS_MARKER = "<!-- after passing -->"


def before_passing(text: str) -> str:
    """A lesson file as a learner may read it before passing: without its explanation."""
    shown, marker, _ = text.partition(AFTER_PASS_MARKER)
    return shown.rstrip() + "\n" if marker else text


# How to add a topic, for the errors about an unknown one.
ADD_TOPIC = (
    "To add a topic, add a [[topics]] entry to course/course.toml: three lines, "
    '`[[topics]]`, `id = "training"`, `title = "Training"`; a lesson then names it with '
    '`topic = "training"` in its front matter'
)


@dataclass(frozen=True)
class Topic:
    id: str
    title: str


@dataclass(frozen=True)
class Lesson:
    """One lesson. Paths are relative to the workspace root."""

    id: str
    number: int
    title: str
    topic: str
    text: str
    hints: tuple[str, ...]
    glossary: tuple[str, ...]
    exercise: str
    check: str
    solution: str
    timeout_s: float = 10.0
    memory_mb: int = 1024
    requires: tuple[str, ...] = field(default=())
    explanation: str = ""
    # Check id (the test function's name) -> the 1-based hint about that check, so the
    # hint shown after a failure can be the one about what actually failed.
    check_hints: dict[str, int] = field(default_factory=dict, hash=False, compare=False)

    @property
    def uses_tensorflow(self) -> bool:
        return "tensorflow" in self.requires


def _ranges(numbers: list[int]) -> str:
    """[1, 2, 3, 5] → "1–3, 5": a course of 23 lessons is not 23 numbers to read."""
    spans: list[list[int]] = []
    for number in sorted(numbers):
        if spans and number == spans[-1][1] + 1:
            spans[-1][1] = number
        else:
            spans.append([number, number])
    return ", ".join(str(a) if a == b else f"{a}–{b}" for a, b in spans)


@dataclass(frozen=True)
class Course:
    root: Path
    title: str
    format: int
    topics: tuple[Topic, ...]
    lessons: tuple[Lesson, ...]

    def lesson(self, ref: str | int) -> Lesson:
        """Find a lesson by id (`03-forget-gate`), number (`3`, `03`) or unique id suffix."""
        text = str(ref).strip()
        if text.isdigit():
            number = int(text)
            for lesson in self.lessons:
                if lesson.number == number:
                    return lesson
        else:
            for lesson in self.lessons:
                if lesson.id == text:
                    return lesson
            matches = [lesson for lesson in self.lessons if lesson.id.split("-", 1)[1] == text]
            if len(matches) == 1:
                return matches[0]
        import difflib

        names = {lesson.id.split("-", 1)[-1]: lesson.id for lesson in self.lessons}
        close = difflib.get_close_matches(text, [*names, *names.values()], n=1, cutoff=0.6)
        guess = f"did you mean {names.get(close[0], close[0])!r}? " if close else ""
        numbers = _ranges([lesson.number for lesson in self.lessons])
        raise WorkbookError(
            f"unknown lesson {text!r}: {guess}use a number ({numbers}) or an id such as "
            f"{self.lessons[0].id!r} (see `workbook list`)"
        )

    def select(self, spec: str | Iterable[str]) -> tuple[Lesson, ...]:
        """The lessons a `--lessons` list names, in course order: numbers (`3`), ranges
        (`3-7`), ids (`03-forget-gate`) or unique id suffixes, comma-separated (a string,
        or several strings each such a list). Empty: every lesson. An unknown lesson is a
        WorkbookError that names the valid choices."""
        parts = [spec] if isinstance(spec, str) else list(spec)
        refs = [ref.strip() for part in parts for ref in str(part).split(",") if ref.strip()]
        if not refs:
            return self.lessons
        wanted: set[str] = set()
        for ref in refs:
            span = _RANGE.match(ref)
            if span and not any(lesson.id == ref for lesson in self.lessons):
                first, last = int(span.group(1)), int(span.group(2))
                if first > last:
                    raise WorkbookError(f"bad range {ref!r}: write the lower number first")
                ends = (self.lesson(first), self.lesson(last))  # both must exist
                wanted.update(
                    lesson.id
                    for lesson in self.lessons
                    if ends[0].number <= lesson.number <= ends[1].number
                )
            else:
                wanted.add(self.lesson(ref).id)
        return tuple(lesson for lesson in self.lessons if lesson.id in wanted)

    def topic_title(self, topic_id: str) -> str:
        return next((t.title for t in self.topics if t.id == topic_id), topic_id)


def split_front_matter(text: str, source: Path) -> tuple[dict, str]:
    match = _FRONT_MATTER.match(text)
    if not match:
        raise CourseFormatError(f"{source}: missing TOML front matter between '+++' lines")
    try:
        meta = tomllib.loads(match.group(1))
    except tomllib.TOMLDecodeError as exc:
        raise CourseFormatError(f"{source}: bad front matter: {exc}") from exc
    return meta, match.group(2).strip() + "\n"


def _explanation(explanations: Path | None, lesson_id: str) -> str:
    """The after-passing part of the lesson file under `explanations` ("" if none)."""
    if explanations is None:
        return ""
    try:
        text = (explanations / "lessons" / f"{lesson_id}.md").read_text(encoding="utf-8")
    except OSError:
        return ""
    return text.partition(AFTER_PASS_MARKER)[2].strip()


def _load_lesson(
    course_dir: Path,
    lesson_id: str,
    number: int,
    topics: set[str],
    explanations: Path | None = None,
) -> Lesson:
    source = course_dir / "lessons" / f"{lesson_id}.md"
    if not source.is_file():
        raise CourseFormatError(f"lesson {lesson_id!r} is listed but {source} does not exist")
    meta, body = split_front_matter(source.read_text(encoding="utf-8"), source)
    for key in ("title", "topic", "hints"):
        if key not in meta:
            raise CourseFormatError(f"{source}: front matter lacks {key!r}")
    if meta["topic"] not in topics:
        known = ", ".join(sorted(topics))
        raise CourseFormatError(
            f"{source}: unknown topic {meta['topic']!r} (one of: {known}). {ADD_TOPIC}"
        )
    body, _, explanation = body.partition(AFTER_PASS_MARKER)
    check_hints = meta.get("check_hints", {})
    if not isinstance(check_hints, dict) or not all(
        isinstance(k, str) and type(v) is int for k, v in check_hints.items()
    ):
        raise CourseFormatError(
            f"{source}: check_hints maps check ids to hint numbers, e.g. "
            "check_hints = { test_bias_term = 2 }"
        )
    return Lesson(
        id=lesson_id,
        number=number,
        title=meta["title"],
        topic=meta["topic"],
        text=body.strip() + "\n",
        explanation=explanation.strip() or _explanation(explanations, lesson_id),
        hints=tuple(meta["hints"]),
        glossary=tuple(meta.get("glossary", ())),
        exercise=meta.get("exercise", f"exercises/{lesson_id}.py"),
        check=meta.get("check", f"checks/{lesson_id}.py"),
        solution=meta.get("solution", f"course/solutions/{lesson_id}.py"),
        timeout_s=float(meta.get("timeout_s", 10.0)),
        memory_mb=int(meta.get("memory_mb", 1024)),
        requires=tuple(meta.get("requires", ())),
        check_hints=dict(check_hints),
    )


_read: dict[tuple[Path, Path | None], tuple[Stamp, Course]] = {}


def load_course(course_dir: Path, explanations: Path | None = None) -> Course:
    """Read `course_dir/course.toml` and every lesson it lists, validating as it goes.

    `explanations`: another copy of the course whose lesson files hold what is shown
    after passing, where `course_dir`'s do not (a learner's workspace). A course read
    before in this process is reused while its files are unchanged (see `filestamp`):
    the grading service reads it once for the many commands it forks."""
    folders = [course_dir / "course.toml", course_dir / "lessons"]
    if explanations is not None:
        folders.append(explanations / "lessons")
    key = (course_dir, explanations)
    return reuse(_read, key, folders, lambda: _read_course(course_dir, explanations))


def _read_course(course_dir: Path, explanations: Path | None) -> Course:
    manifest = course_dir / "course.toml"
    try:
        data = tomllib.loads(manifest.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise CourseFormatError(f"no course catalog at {manifest}") from exc
    except tomllib.TOMLDecodeError as exc:
        raise CourseFormatError(f"{manifest}: {exc}") from exc
    fmt = data.get("format")
    if fmt != FORMAT_VERSION:
        raise CourseFormatError(
            f"{manifest}: course format {fmt!r} is not supported (this workbook reads "
            f"format {FORMAT_VERSION})"
        )
    topics = tuple(Topic(t["id"], t["title"]) for t in data.get("topics", []))
    numbers: list[int] = []
    for lesson_id in data.get("lessons", []):
        match = _LESSON_ID.match(lesson_id)
        number = int(match.group(1)) if match else 0
        if not match or (numbers and number <= numbers[-1]):
            raise CourseFormatError(
                f"{manifest}: bad lesson id {lesson_id!r}; ids are 'NN-name' with NN "
                "increasing down the list (NN is the lesson's number)"
            )
        numbers.append(number)
    topic_ids = {t.id for t in topics}
    lessons = [
        _load_lesson(course_dir, lesson_id, number, topic_ids, explanations)
        for lesson_id, number in zip(data.get("lessons", []), numbers, strict=True)
    ]
    if not lessons:
        raise CourseFormatError(f"{manifest}: the course lists no lessons")
    return Course(
        root=course_dir,
        title=data.get("title", "Workbook"),
        format=fmt,
        topics=topics,
        lessons=tuple(lessons),
    )
