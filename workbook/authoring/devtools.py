"""Course-author tools: lint a course folder and scaffold new lessons.

`lint_course` is what `workbook dev check` runs (and CI through the tests): it holds
a course to the promises the learner relies on — every stub fails, every reference
passes, every typical mistake in tests/mistakes/<lesson>.toml gets its diagnosis,
every lesson has text, a TODO, hints and glossary terms, and nothing is stray or out
of date. `workbook dev check LESSON` does the same for one lesson (or a few).
"""

from __future__ import annotations

import os
import re
import tomllib
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from workbook.catalog import ADD_TOPIC, Lesson
from workbook.errors import WorkbookError
from workbook.stubgen import has_regions, make_stub
from workbook.workspace import COURSE_DIR, Workspace


@dataclass(frozen=True)
class Problem:
    where: str
    what: str

    def __str__(self) -> str:
        return f"{self.where}: {self.what}"


def _placeholder_problems(lesson: Lesson, solution: str | None) -> list[str]:
    """`dev new` writes a working skeleton; its placeholder sentences must not ship."""
    texts = {"lesson text or hints": "\n".join([lesson.text, *lesson.hints])}
    if solution is not None:
        texts["solution"] = solution
    return [
        f"the {where} still has the scaffold's placeholder {placeholder!r}"
        for where, text in texts.items()
        for placeholder in SCAFFOLD_PLACEHOLDERS
        if placeholder in text
    ]


def _manifest_problems(ws: Workspace) -> list[Problem]:
    """The shipped course only: its manifest must match, or every learner looks tampered."""
    from workbook.manifest import build_manifest, load_manifest
    from workbook.workspace import bundled_root

    try:
        shipped = ws.root.resolve() == bundled_root().resolve()
    except WorkbookError:
        return []
    if shipped and build_manifest(ws.root) != load_manifest():
        return [
            Problem(
                "workbook/manifest.json",
                "stale: it no longer matches course/ and checks/, so grading would call "
                "every workspace tampered and refuse every changed check. Run `workbook "
                "dev manifest` (after `ruff format`, which changes files too), then "
                "`workbook dev check` again; stubs, references and mistakes were not "
                "graded meanwhile",
            )
        ]
    return []


def _static_problems(ws: Workspace, lessons: Sequence[Lesson] | None = None) -> list[Problem]:
    """The static checks of `lessons` (default: every lesson, and then the course-wide
    ones too: unused glossary terms, numbering, stray files)."""
    problems: list[Problem] = []
    course = ws.course
    glossary = ws.glossary
    used_terms: set[str] = set()
    for lesson in course.lessons if lessons is None else lessons:
        where = lesson.id
        if len(lesson.text.strip()) < 80:
            problems.append(Problem(where, "lesson text is missing or too short"))
        if not 2 <= len(lesson.hints) <= 4:
            problems.append(Problem(where, f"has {len(lesson.hints)} hints; give 2 to 4"))
        problems.extend(
            Problem(where, f"hint {n} is empty")
            for n, hint in enumerate(lesson.hints, start=1)
            if not hint.strip()
        )
        solution_path = ws.path(lesson.solution)
        solution = solution_path.read_text(encoding="utf-8") if solution_path.is_file() else None
        problems.extend(Problem(where, what) for what in _placeholder_problems(lesson, solution))
        if not lesson.glossary:
            problems.append(Problem(where, "names no glossary term"))
        for key in lesson.glossary:
            used_terms.add(key)
            if key not in glossary:
                problems.append(Problem(where, f"glossary term {key!r} does not exist"))
        problems.extend(Problem(where, what) for what in _check_hint_problems(ws, lesson))
        missing = [
            rel
            for rel in (lesson.solution, lesson.check, lesson.exercise)
            if not ws.path(rel).is_file()
        ]
        problems.extend(Problem(where, f"{rel} does not exist") for rel in missing)
        if solution is not None:
            if not has_regions(solution):
                problems.append(Problem(where, "the solution marks no BEGIN/END SOLUTION region"))
            stub = make_stub(solution)
            if "TODO" not in stub:
                problems.append(Problem(where, "the stub has no TODO"))
            exercise = ws.path(lesson.exercise)
            if exercise.is_file() and not _is_exact_stub(exercise, stub):
                problems.append(
                    Problem(where, f"{lesson.exercise} differs from the stub generated from "
                            f"{lesson.solution} (run `workbook dev stubs`)")
                )  # fmt: skip
    if lessons is not None:
        return problems
    for key in sorted(set(glossary) - used_terms):
        problems.append(Problem("glossary", f"term {key!r} is used by no lesson"))
    numbers = [lesson.number for lesson in course.lessons]
    if numbers != list(range(1, len(numbers) + 1)):
        problems.append(Problem("course.toml", f"lesson numbers have gaps: {numbers}"))
    problems.extend(_stray_files(ws))
    return problems


_TEST_DEF = re.compile(r"^(?:async\s+)?def\s+(test_\w+)\s*\(", re.M)


def _check_hint_problems(ws: Workspace, lesson: Lesson) -> list[str]:
    """`check_hints` must name checks that exist and hints that exist. Check ids are read
    statically from the check file's `def test_...` lines: linting never imports checks
    (some need tensorflow)."""
    found: list[str] = []
    check_file = ws.path(lesson.check)
    known = (
        set(_TEST_DEF.findall(check_file.read_text(encoding="utf-8")))
        if check_file.is_file()
        else None
    )
    for check_id, number in lesson.check_hints.items():
        if known is not None and check_id not in known:
            found.append(f"check_hints names {check_id!r}, which is no check in {lesson.check}")
        if not 1 <= number <= len(lesson.hints):
            found.append(
                f"check_hints maps {check_id!r} to hint {number}, but the lesson has "
                f"{len(lesson.hints)} hints"
            )
    return found


def _stray_files(ws: Workspace) -> list[Problem]:
    """Files in the course's folders that no lesson claims (helpers start with `_`)."""
    lessons = ws.course.lessons
    expected = {
        "exercises": {lesson.exercise for lesson in lessons},
        "checks": {lesson.check for lesson in lessons},
        f"{COURSE_DIR}/solutions": {lesson.solution for lesson in lessons},
        f"{COURSE_DIR}/lessons": {f"{COURSE_DIR}/lessons/{lesson.id}.md" for lesson in lessons},
    }
    problems = []
    for folder, claimed in expected.items():
        root = ws.path(folder)
        if not root.is_dir():
            continue
        for path in sorted(root.iterdir()):
            rel = f"{folder}/{path.name}"
            if path.name.startswith(("_", ".")) or path.suffix not in (".py", ".md"):
                continue
            if rel not in claimed:
                problems.append(Problem(rel, "stray file: no lesson in course.toml uses it"))
    return problems


def _graded_problems(ws: Workspace, lesson: Lesson) -> list[Problem]:
    """Grade the pristine stub and the reference in a scratch copy of the exercise."""
    from workbook.grading.results import Verdict
    from workbook.grading.runner import grade_source

    problems = []
    stub = grade_source(ws, lesson, ws.stub_for(lesson))
    if stub.verdict is Verdict.PASSED:
        problems.append(Problem(lesson.id, "the pristine stub PASSES its checks"))
    elif stub.verdict is not Verdict.FAILED:
        problems.append(
            Problem(lesson.id, f"the pristine stub gives {stub.headline!r}, not a failure")
        )
    reference = grade_source(ws, lesson, ws.solution_for(lesson))
    if reference.verdict is not Verdict.PASSED:
        detail = "; ".join(c.message for c in reference.failing) or reference.headline
        problems.append(Problem(lesson.id, f"the reference solution does not pass: {detail}"))
    return problems


def mistakes_path(ws: Workspace, lesson: Lesson) -> Path:
    """The lesson's typical wrong answers (`[[mistake]]` tables: name, replace, with,
    expect, optionally verdict and not_expect), as tests/test_lessons.py reads them."""
    return ws.root / "tests" / "mistakes" / f"{lesson.id}.toml"


def load_mistakes(ws: Workspace, lesson: Lesson) -> list[dict]:
    path = mistakes_path(ws, lesson)
    if not path.is_file():
        return []
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise WorkbookError(f"{path}: {exc}") from exc
    return [entry for entry in data.get("mistake", []) if isinstance(entry, dict)]


def _mistake_problems(ws: Workspace, lesson: Lesson, mistake: dict) -> list[Problem]:
    """Grade the reference with one typical mistake made in it: it must get the verdict
    (default: failed) and the diagnosis the mistakes file names."""
    from workbook.grading.runner import grade_source

    where = f"{lesson.id} (mistake {mistake.get('name', '?')!r})"
    missing = [key for key in ("replace", "with", "expect") if key not in mistake]
    if missing:
        return [Problem(where, f"lacks {', '.join(missing)}")]
    reference = ws.solution_for(lesson)
    if mistake["replace"] not in reference:
        return [Problem(where, "no longer applies: its `replace` text is not in the reference")]
    result = grade_source(ws, lesson, reference.replace(mistake["replace"], mistake["with"]))
    messages = [check.message for check in result.failing]
    if result.error is not None:
        messages.append(result.error.message)
    wanted = mistake.get("verdict", "failed")
    if str(result.verdict) != wanted:
        return [Problem(where, f"is graded {result.verdict}, not {wanted}: {result.headline}")]
    if not any(mistake["expect"] in message for message in messages):
        said = "; ".join(messages) or result.headline
        return [Problem(where, f"does not get its diagnosis {mistake['expect']!r}: {said}")]
    if "not_expect" in mistake and any(mistake["not_expect"] in m for m in messages):
        return [Problem(where, f"is diagnosed as {mistake['not_expect']!r}, a wrong diagnosis")]
    return []


def lint_course(
    ws: Workspace,
    *,
    grade: bool = True,
    jobs: int | None = None,
    progress: Callable[[Lesson], None] | None = None,
    lessons: Sequence[Lesson] | None = None,
    mistakes: bool = True,
) -> list[Problem]:
    """Every problem of the course, or of `lessons` only (their static checks, their
    stubs, references and mistakes). With a stale manifest nothing is graded: the
    judge would refuse the changed checks and every lesson would look broken."""
    stale = _manifest_problems(ws)
    problems = _static_problems(ws, lessons) + stale
    if grade and not stale:
        chosen = [
            lesson for lesson in (ws.course.lessons if lessons is None else lessons)
            if ws.path(lesson.solution).is_file() and ws.path(lesson.check).is_file()
        ]  # fmt: skip
        work: list[Callable[[], list[Problem]]] = []
        for lesson in chosen:

            def both(lesson: Lesson = lesson) -> list[Problem]:
                found = _graded_problems(ws, lesson)
                if progress:
                    progress(lesson)
                return found

            work.append(both)
            if mistakes:
                try:
                    entries = load_mistakes(ws, lesson)
                except WorkbookError as exc:
                    problems.append(Problem(lesson.id, str(exc)))
                    entries = []
                work.extend(
                    lambda lesson=lesson, entry=entry: _mistake_problems(ws, lesson, entry)
                    for entry in entries
                )

        with ThreadPoolExecutor(max_workers=jobs or os.cpu_count() or 2) as pool:
            for found in pool.map(lambda job: job(), work):
                problems.extend(found)
    return problems


def _is_exact_stub(path: Path, stub: str) -> bool:
    """Whether the file holds exactly `stub` (line ends aside), compared as bytes: an
    exercise in another encoding is simply not the stub, never a decoding crash."""
    return path.read_bytes().replace(b"\r\n", b"\n") == stub.encode("utf-8")


def write_stubs(ws: Workspace) -> list[str]:
    """Regenerate every exercise stub from its solution; returns the files changed."""
    changed = []
    for lesson in ws.course.lessons:
        target = ws.path(lesson.exercise)
        stub = ws.stub_for(lesson)
        if not target.is_file() or not _is_exact_stub(target, stub):
            target.write_text(stub, encoding="utf-8")
            changed.append(lesson.exercise)
    return changed


_NEW_ID = re.compile(r"^\d{2}-[a-z0-9]+(?:-[a-z0-9]+)*$")

GENTLE_PLACEHOLDER = "A gentle nudge: what does the lesson's equation ask for?"
ANSWER_PLACEHOLDER = "Nearly the answer: say which NumPy call does it."
TEXT_PLACEHOLDER = "Why this matters, the equation (in Unicode: σ, ⊙, C̃_t), and the shapes."
DOC_PLACEHOLDER = "Say what it computes and why it matters."
SCAFFOLD_PLACEHOLDERS = (GENTLE_PLACEHOLDER, ANSWER_PLACEHOLDER, TEXT_PLACEHOLDER, DOC_PLACEHOLDER)

LESSON_TEMPLATE = """+++
title = "{title}"
topic = "{topic}"
glossary = ["{term}"]
hints = [
    "{gentle}",
    "{answer}",
]
+++
# {title}

{text}

## Your task

In `exercises/{id}.py`, write `{func}(x)`.
"""

SOLUTION_TEMPLATE = '''"""Lesson {number}: {title}."""

import numpy as np


def {func}(x):
    """{doc}"""
    x = np.asarray(x, dtype=float)
    # BEGIN SOLUTION
    return x
    # END SOLUTION
'''

CHECK_TEMPLATE = '''"""Hidden checks for lesson {number}: {title}."""

import numpy as np

from workbook.grading.judge.expect import call, expect_array, function


def test_{func}_values(learner):
    """{func}(x) gives the expected values"""
    func = function(learner, "{func}")
    x = np.array([[1.0], [2.0]])
    mistakes = [(-x, "the sign is flipped")]
    expect_array(call(func, x), x, what="{func}(x)", mistakes=mistakes)
'''

MISTAKES_TEMPLATE = """# Typical wrong answers for lesson {number}; see tests/test_lessons.py.

[[mistake]]
name = "sign flipped"
replace = "return x"
with = "return -x"
expect = "the sign is flipped"
"""


def scaffold_lesson(ws: Workspace, lesson_id: str, title: str, topic: str) -> list[Path]:
    """Create every file a lesson needs and list it in course.toml; returns the files."""
    if not _NEW_ID.match(lesson_id):
        raise WorkbookError(f"lesson ids look like '23-peephole-gates', not {lesson_id!r}")
    course = ws.course
    if any(lesson.id == lesson_id for lesson in course.lessons):
        raise WorkbookError(f"lesson {lesson_id} already exists")
    number = int(lesson_id[:2])
    if number <= course.lessons[-1].number:
        raise WorkbookError(
            f"new lessons go at the end: use a number above {course.lessons[-1].number}"
        )
    if topic not in {t.id for t in course.topics}:
        known = ", ".join(t.id for t in course.topics)
        raise WorkbookError(f"unknown topic {topic!r} (one of: {known}). {ADD_TOPIC}")
    func = lesson_id[3:].replace("-", "_")
    term = course.lessons[-1].glossary[0] if course.lessons[-1].glossary else "lstm"
    fields = {"id": lesson_id, "number": number, "title": title, "topic": topic,
              "func": func, "term": term, "gentle": GENTLE_PLACEHOLDER,
              "answer": ANSWER_PLACEHOLDER, "text": TEXT_PLACEHOLDER,
              "doc": DOC_PLACEHOLDER}  # fmt: skip
    files = {
        ws.path(f"{COURSE_DIR}/lessons/{lesson_id}.md"): LESSON_TEMPLATE,
        ws.path(f"{COURSE_DIR}/solutions/{lesson_id}.py"): SOLUTION_TEMPLATE,
        ws.path(f"checks/{lesson_id}.py"): CHECK_TEMPLATE,
    }
    mistakes_dir = ws.root / "tests" / "mistakes"
    if mistakes_dir.is_dir():
        files[mistakes_dir / f"{lesson_id}.toml"] = MISTAKES_TEMPLATE
    for path in files:
        if path.exists():
            raise WorkbookError(f"{path} already exists; nothing was changed")
    for path, template in files.items():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(template.format(**fields), encoding="utf-8")
    manifest = ws.path(f"{COURSE_DIR}/course.toml")
    manifest.write_text(
        _append_lesson_id(manifest.read_text(encoding="utf-8"), course.lessons[-1].id, lesson_id),
        encoding="utf-8",
    )
    exercise = ws.path(f"exercises/{lesson_id}.py")
    exercise.write_text(make_stub(SOLUTION_TEMPLATE.format(**fields)), encoding="utf-8")
    return [*files, exercise, manifest]


def _append_lesson_id(toml: str, last: str, new: str) -> str:
    """Add `new` after `last` in the lessons list, keeping the list's own layout."""
    own_line = re.compile(rf'^([ \t]*)"{re.escape(last)}",?[ \t]*$', re.M)
    if match := own_line.search(toml):
        line = match.group(0)
        fixed = line if line.rstrip().endswith(",") else line.rstrip() + ","
        return toml.replace(line, f'{fixed}\n{match.group(1)}"{new}",', 1)
    return toml.replace(f'"{last}"', f'"{last}", "{new}"', 1)
