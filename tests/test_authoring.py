"""Adding a lesson, end to end, as a course author would (issue 20), in a copy of the
repository (the package, the course, its checks and its mistakes), so that the copy's
course is the shipped one of the commands run there: `dev new` → edit → `dev stubs`
→ ruff → `dev check` on a stale manifest → `dev manifest` → `dev check 24` → `grade-class
--lessons 24`, the new lesson graded alone. And the TUI snapshots do not see it.
"""

from __future__ import annotations

import csv
import os
import shutil
import subprocess
import sys
from pathlib import Path

from tests.tui_support import pin_course
from workbook.authoring.devtools import SCAFFOLD_PLACEHOLDERS
from workbook.workspace import Workspace, bundled_root

REPO = Path(__file__).resolve().parents[1]
NEW = "24-clip-gradient"
RUFF = Path(sys.executable).with_name("ruff")


def _copy_of_the_repository(dest: Path) -> Path:
    skip = shutil.ignore_patterns("__pycache__", "*.pyc", "_bundled", ".workbook")
    for name in ("workbook", "course", "checks", "exercises", "tests/mistakes"):
        shutil.copytree(REPO / name, dest / name, ignore=skip)
    shutil.copy(REPO / "pyproject.toml", dest / "pyproject.toml")
    return dest


def _run(copy: Path, *args: str, cwd: Path | None = None) -> subprocess.CompletedProcess:
    """`workbook ARGS` run from the copy's own package, on the copy's course."""
    env = {**os.environ, "PYTHONPATH": str(copy), "WORKBOOK_WARM": "0"}
    return subprocess.run(
        [sys.executable, "-m", "workbook", "--workspace", str(copy), *args],
        cwd=cwd or copy,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )


def test_a_new_lesson_is_added_checked_and_graded_alone(tmp_path):
    copy = _copy_of_the_repository(tmp_path / "repo")
    found = subprocess.run(
        [sys.executable, "-c", "import workbook; print(workbook.__file__)"],
        cwd=copy,
        env={**os.environ, "PYTHONPATH": str(copy)},
        capture_output=True,
        text=True,
    )
    assert found.stdout.strip() == str(copy / "workbook" / "__init__.py")

    made = _run(copy, "dev", "new", NEW, "--title", "Gradient clipping", "--topic", "sequences")
    assert made.returncode == 0, made.stderr
    assert "`workbook dev check 24`" in made.stdout
    written = [copy / line.split(" ", 1)[1] for line in made.stdout.splitlines() if " " in line]
    python = [str(p) for p in written if p.suffix == ".py" and p.is_file()]
    assert len(python) == 3  # solution, check, exercise
    # The scaffold passes the project's own lint as written.
    for ruff in ([str(RUFF), "check", *python], [str(RUFF), "format", "--check", *python]):
        done = subprocess.run(ruff, cwd=copy, capture_output=True, text=True)
        assert done.returncode == 0, done.stdout + done.stderr

    # The author's edit: the placeholders become real text.
    for path in (copy / f"course/lessons/{NEW}.md", copy / f"course/solutions/{NEW}.py"):
        text = path.read_text(encoding="utf-8")
        for number, placeholder in enumerate(SCAFFOLD_PLACEHOLDERS):
            text = text.replace(
                placeholder, f"Clipping keeps a gradient's size in check ({number})."
            )
        path.write_text(text, encoding="utf-8")
    stubs = _run(copy, "dev", "stubs")
    assert stubs.returncode == 0 and f"regenerated exercises/{NEW}.py" in stubs.stdout

    stale = _run(copy, "dev", "check", "24")  # before `dev manifest`: says so, grades nothing
    assert stale.returncode == 1
    assert "workbook/manifest.json: stale" in stale.stdout
    assert "`workbook dev manifest`" in stale.stdout
    assert "stub" not in stale.stdout.replace("stubs, references", "")
    assert "reference solution does not pass" not in stale.stdout

    manifest = _run(copy, "dev", "manifest")
    assert manifest.returncode == 0, manifest.stderr
    checked = _run(copy, "dev", "check", "24")
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert "1 lesson OK (stubs fail, references pass, mistakes diagnosed" in checked.stdout

    ws = Workspace(copy)
    lesson = ws.course.lesson(24)
    submissions = tmp_path / "submissions"
    for learner, text in (("ref", ws.solution_for(lesson)), ("stub", ws.stub_for(lesson))):
        (submissions / learner / "exercises").mkdir(parents=True)
        (submissions / learner / lesson.exercise).write_text(text, encoding="utf-8")
    out = tmp_path / "results.csv"
    graded = _run(copy, "grade-class", str(submissions), "-o", str(out), "--lessons", "24")
    assert graded.returncode == 1, graded.stdout + graded.stderr  # the stub does not pass
    assert "ref: 1/1 lessons passed" in graded.stdout
    assert "stub: 0/1 lessons passed" in graded.stdout
    with open(out, newline="", encoding="utf-8") as handle:
        rows = {(r["learner"], r["lesson_id"]): r for r in csv.DictReader(handle)}
    assert sorted(rows) == [("ref", NEW), ("ref", "TOTAL"), ("stub", NEW), ("stub", "TOTAL")]
    assert rows[("ref", NEW)]["verdict"] == "passed" and rows[("ref", NEW)]["tampered"] == ""
    assert rows[("stub", NEW)]["verdict"] == "not-started"
    assert rows[("stub", NEW)]["score"] == "0"

    # What the TUI snapshots show of the course is the same with the new lesson.
    before, after = pin_course(Workspace(bundled_root())), pin_course(Workspace(copy))
    assert after.course.lessons == before.course.lessons
    assert after.course.topics == before.course.topics
    assert list(after.glossary) == list(before.glossary)
