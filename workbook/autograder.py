"""Course platforms: a Gradescope autograder and a PrairieLearn external grader.

Both platforms already grade at scale, each submission in a container of its own on
their workers; the workbook plugs into them rather than growing a cluster. Two halves:

* **Bundles** an instructor builds once and uploads: `gradescope_bundle` writes the
  autograder zip (`setup.sh`, `run_autograder`, and this very workbook as a wheel, so the
  image gets exactly this version and needs the package registry only for the
  dependencies); `prairielearn_bundle` writes a folder with a Dockerfile, the wheel and
  an executable entry point.
* **Runs**, one per submission, inside the platform's container (`python -m
  workbook.autograder gradescope-run | prairielearn-run`): the submitted files are graded
  afresh in a private workspace with the shipped checks (`workbook.classroom.prepare`, as
  `grade-class` does), and results.json is built from those `GradeResult`s alone. Nothing
  is read from a progress store, which the graded code could write.

Submissions may hold the exercise files at their top level (`01-activations.py`) or
under `exercises/`. The platform roots (`/autograder`, `/grade`) can be moved with
`AUTOGRADER_ROOT` and `GRADE_ROOT`, so tests run both entry points in temporary folders.
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import io
import json
import os
import stat
import sys
import time
import tomllib
import traceback
import zipfile
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from workbook import __version__
from workbook.catalog import Course, Lesson
from workbook.errors import WorkbookError
from workbook.grading.results import GradeResult

DIST_NAME = "lstm-workbook"
WHEEL_NAME = f"lstm_workbook-{__version__}-py3-none-any.whl"
GRADESCOPE_VISIBILITY = ("hidden", "after_due_date", "after_published", "visible")
SUBMISSION_HINT = "put the exercise files at the top level of the submission or under exercises/"
# Zip entries get a fixed time, so the same workbook always gives the same bundle.
_EPOCH = (1980, 1, 1, 0, 0, 0)


@dataclass
class SubmissionGrade:
    """One submission graded by this run's judge: the results, and what was refused."""

    course: Course
    results: list[tuple[Lesson, GradeResult]]
    refused: dict[str, str]
    wall_s: float

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

    def summary(self) -> str:
        text = f"{self.course.title}: {self.passed} of {len(self.results)} lessons passed."
        if self.refused:
            listed = "; ".join(self.refused.values())
            text += f" Not graded, and never opened: {listed} (only plain files are graded)."
        if self.nothing_submitted:
            text += f" No exercise file was found: {SUBMISSION_HINT}."
        return text

    def protection(self) -> dict:
        return next((r.protection for _, r in self.results if r.protection), {})


def lesson_filter(course: Course, refs: Iterable[str]) -> Callable[[Lesson], bool] | None:
    """Only the lessons named (numbers or ids); None (all of them) if none is named."""
    wanted = {course.lesson(ref).id for ref in refs if str(ref).strip()}
    return (lambda lesson: lesson.id in wanted) if wanted else None


def grade_submission(
    folder: Path, *, lessons: Iterable[str] = (), jobs: int | None = None
) -> SubmissionGrade:
    """Grade the exercise files in `folder` (at its top level or under exercises/) in a
    fresh private workspace of the shipped course; `folder` is only read."""
    from workbook.classroom import Submission, grade_all, is_plain_dir, prepare

    started = time.perf_counter()
    if not is_plain_dir(folder):
        raise WorkbookError(f"{folder} is not a folder (the submission to grade)")
    folder = _unwrapped(folder)
    kind = "exercises" if is_plain_dir(folder / "exercises") else "files"
    prepared = prepare(Submission("submission", folder, kind))
    try:
        only = lesson_filter(prepared.workspace.course, lessons)
        graded = grade_all([prepared], jobs=jobs, only=only).get("submission", [])
    finally:
        prepared.discard()
    return SubmissionGrade(
        prepared.workspace.course, graded, prepared.refused, time.perf_counter() - started
    )


def _unwrapped(folder: Path) -> Path:
    """A zip uploaded as one folder (`lstm-main/exercises/…`): the folder inside, when
    the submission holds no exercise file and nothing but that one folder (macOS's
    `__MACOSX` and dot-files aside). Links are never followed."""
    from workbook.classroom import is_plain_dir

    entries = [p for p in folder.iterdir() if not p.name.startswith((".", "__MACOSX"))]
    if is_plain_dir(folder / "exercises") or any(p.suffix == ".py" for p in entries):
        return folder
    if len(entries) == 1 and is_plain_dir(entries[0]):
        return entries[0]
    return folder


def lesson_output(result: GradeResult, lesson: Lesson) -> str:
    """What the learner reads under a lesson: the verdict, then each diagnosis."""
    if result.error is not None and result.error.kind == "missing":
        return f"Not submitted: {result.error.message} ({SUBMISSION_HINT})."
    if result.error is not None and result.error.kind == "refused":
        return f"Not graded: {result.error.message}."
    details = result.summary()
    head = result.headline
    return f"{head}\n{details}" if details and details not in head else head


def to_gradescope(grade: SubmissionGrade, visibility: str = "visible") -> dict[str, Any]:
    """Gradescope's results.json: one test per lesson, 1 point if it passed."""
    from workbook.export import gradescope_test

    if visibility not in GRADESCOPE_VISIBILITY:
        raise ValueError(f"visibility must be one of {GRADESCOPE_VISIBILITY}")
    return {
        "score": float(grade.passed),
        "execution_time": round(grade.wall_s, 2),
        "output": grade.summary(),
        "visibility": visibility,
        "stdout_visibility": "hidden",
        "extra_data": {"workbook_version": __version__, "protection": grade.protection()},
        "tests": [
            gradescope_test(
                lesson.number,
                lesson.title,
                lesson.topic,
                result.passed,
                lesson_output(result, lesson),
                visibility,
            )
            for lesson, result in grade.results
        ],
    }


def to_prairielearn(grade: SubmissionGrade) -> dict[str, Any]:
    """PrairieLearn's results.json: `score` in [0, 1], one test per lesson."""
    total = len(grade.results)
    return {
        "gradable": not grade.nothing_submitted,
        "score": grade.passed / total if total else 0.0,
        "message": grade.summary(),
        "output": "\n".join(
            f"{lesson.number}. {lesson.title}: {result.verdict}" for lesson, result in grade.results
        ),
        "tests": [
            {
                "name": f"{lesson.number}. {lesson.title}",
                "description": f"{lesson.exercise} ({lesson.topic})",
                "points": 1 if result.passed else 0,
                "max_points": 1,
                "message": result.headline,
                "output": lesson_output(result, lesson),
            }
            for lesson, result in grade.results
        ],
    }


def _write_json(path: Path, data: dict[str, Any]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(json.dumps(data, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    tmp.replace(path)


def run_gradescope(
    root: Path, *, visibility: str = "visible", lessons: Iterable[str] = (), jobs: int | None = None
) -> dict[str, Any]:
    """Grade root/submission; write root/results/results.json. If grading itself
    fails, the results still say so (0 points, the reason), so the learner is not
    left with Gradescope's bare "autograder failed" and the instructor can regrade."""
    results_path = root / "results" / "results.json"
    started = time.perf_counter()
    try:
        data = to_gradescope(
            grade_submission(root / "submission", lessons=lessons, jobs=jobs), visibility
        )
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
    root: Path, *, lessons: Iterable[str] = (), jobs: int | None = None
) -> dict[str, Any]:
    """Grade root/student; write root/results/results.json. The lessons to grade come
    from `lessons`, else from the question's `params.lessons` in root/data/data.json
    (so one image serves a question per lesson), else all of them."""
    results_path = root / "results" / "results.json"
    chosen = list(lessons) or _question_lessons(root / "data" / "data.json")
    try:
        data = to_prairielearn(grade_submission(root / "student", lessons=chosen, jobs=jobs))
    except Exception as exc:
        traceback.print_exc()
        data = {
            "gradable": False,
            "score": 0.0,
            "message": f"The external grader could not grade this submission ({exc}).",
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


# --- the bundles ------------------------------------------------------------------


def _package_files() -> Iterable[tuple[str, bytes]]:
    """(path inside the wheel, bytes) of this workbook: the package, and the course and
    checks under workbook/_bundled, where a pip-installed workbook finds them."""
    from workbook.workspace import bundled_root

    package = Path(__file__).resolve().parent
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
            b"Wheel-Version: 1.0\nGenerator: workbook.autograder\n"
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


GRADESCOPE_SETUP = f"""#!/usr/bin/env bash
# Gradescope runs this once, as root, when it builds the autograder image.
# Made by `workbook autograder gradescope` (lstm-workbook {__version__}).
set -euo pipefail
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

GRADESCOPE_RUN = """#!/usr/bin/env bash
# Gradescope runs this once per submission: grade /autograder/submission afresh and
# write /autograder/results/results.json (AUTOGRADER_ROOT moves the root, for tests).
PY="${{WORKBOOK_PYTHON:-/autograder/workbook-venv/bin/python}}"
exec "$PY" -m workbook.autograder gradescope-run --visibility {visibility}
"""

PRAIRIELEARN_DOCKERFILE = f"""# PrairieLearn external grader for lstm-workbook {__version__}.
# Made by `workbook autograder prairielearn`. Build and push it, then name it in the
# question's info.json (see question-info.json next to this file).
FROM python:3.11-slim
# The wheel carries the reference solutions and the checks: it is installed from /tmp and
# deleted in the same step, so that in the container they exist only inside
# site-packages/workbook, which the grading sandbox hides from the learner's code.
# (Whoever can pull the image can still read them there.)
COPY {WHEEL_NAME} /tmp/{WHEEL_NAME}
RUN pip install --no-cache-dir /tmp/{WHEEL_NAME} \\
 && rm /tmp/{WHEEL_NAME} \\
 && python -c "import workbook, sys; sys.exit(workbook.__version__ != '{__version__}')"
COPY grade /opt/workbook/grade
RUN chmod 755 /opt/workbook/grade
"""

PRAIRIELEARN_ENTRY = """#!/bin/sh
# PrairieLearn runs this once per submission: grade /grade/student afresh and write
# /grade/results/results.json (GRADE_ROOT moves the root, for tests).
exec "${WORKBOOK_PYTHON:-python3}" -m workbook.autograder prairielearn-run "$@"
"""


PRAIRIELEARN_SERVER = """# A question's server.py: the lessons the question grades (all if omitted),
# which the external grader reads from /grade/data/data.json (params.lessons).
def generate(data):
    data["params"]["lessons"] = [1]
"""


def gradescope_bundle(output: Path, *, visibility: str = "visible") -> Path:
    """Write the Gradescope autograder zip to `output`."""
    import tempfile

    if visibility not in GRADESCOPE_VISIBILITY:
        raise WorkbookError(f"visibility must be one of {', '.join(GRADESCOPE_VISIBILITY)}")
    with tempfile.TemporaryDirectory() as tmp:
        wheel = build_wheel(Path(tmp))
        output.parent.mkdir(parents=True, exist_ok=True)
        with zipfile.ZipFile(output, "w") as archive:
            _zip_entry(archive, "setup.sh", GRADESCOPE_SETUP.encode(), executable=True)
            run = GRADESCOPE_RUN.format(visibility=visibility)
            _zip_entry(archive, "run_autograder", run.encode(), executable=True)
            _zip_entry(archive, WHEEL_NAME, wheel.read_bytes())
    return output


def prairielearn_bundle(folder: Path, *, timeout_s: int = 600) -> list[Path]:
    """Write the PrairieLearn grader's build folder; return the files written."""
    folder.mkdir(parents=True, exist_ok=True)
    build_wheel(folder)
    (folder / "Dockerfile").write_text(PRAIRIELEARN_DOCKERFILE, encoding="utf-8")
    entry = folder / "grade"
    entry.write_text(PRAIRIELEARN_ENTRY, encoding="utf-8")
    entry.chmod(0o755)
    # Only keys PrairieLearn's info.json schema accepts: the lessons a question grades
    # reach the grader through data["params"], set by the question's server.py.
    example = {
        "gradingMethod": "External",
        "externalGradingOptions": {
            "image": f"YOUR-REGISTRY/lstm-workbook-grader:{__version__}",
            "entrypoint": "/opt/workbook/grade",
            "timeout": timeout_s,
        },
    }
    info = folder / "question-info.json"
    info.write_text(json.dumps(example, indent=2) + "\n", encoding="utf-8")
    server = folder / "question-server.py"
    server.write_text(PRAIRIELEARN_SERVER, encoding="utf-8")
    return [folder / WHEEL_NAME, folder / "Dockerfile", entry, info, server]


def main(argv: list[str] | None = None) -> int:
    """`python -m workbook.autograder gradescope-run | prairielearn-run`: what the
    platform's container runs per submission. Exit 0 once results.json is written."""
    parser = argparse.ArgumentParser(prog="python -m workbook.autograder")
    commands = parser.add_subparsers(dest="command", required=True)
    gradescope = commands.add_parser("gradescope-run", help="grade $AUTOGRADER_ROOT/submission")
    gradescope.add_argument("--visibility", choices=GRADESCOPE_VISIBILITY, default="visible")
    prairielearn = commands.add_parser("prairielearn-run", help="grade $GRADE_ROOT/student")
    for command in (gradescope, prairielearn):
        command.add_argument("--lessons", default="", help="comma-separated numbers or ids")
        command.add_argument("--jobs", type=int, default=None)
    args = parser.parse_args(argv)
    lessons = [part for part in args.lessons.split(",") if part.strip()]
    if args.command == "gradescope-run":
        root = Path(os.environ.get("AUTOGRADER_ROOT", "/autograder"))
        data = run_gradescope(root, visibility=args.visibility, lessons=lessons, jobs=args.jobs)
        print(data["output"])
    else:
        root = Path(os.environ.get("GRADE_ROOT", "/grade"))
        data = run_prairielearn(root, lessons=lessons, jobs=args.jobs)
        print(data["message"])
    return 0


if __name__ == "__main__":
    sys.exit(main())
