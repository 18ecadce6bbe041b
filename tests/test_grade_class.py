"""`workbook grade-class`: many submissions, graded in parallel, never written to."""

from __future__ import annotations

import csv
import hashlib
import os
import tempfile
from pathlib import Path

import pytest
from click.testing import CliRunner

from workbook.cli import cli
from workbook.errors import WorkbookError
from workbook.instructor.classroom import CLASS_CSV_FIELDS, TOTAL_ROW, discover, grade_class
from workbook.workspace import init_workspace


@pytest.fixture
def workspace(course_workspace):
    """The whole course, checks and references included, in the workspace: the
    hardest case (an instructor's course, a course author's checkout). A learner's
    own workspace holds no answers at all (tests/test_learner_workspace.py)."""
    return course_workspace


LESSON = "01-activations"
TANH = "    return np.tanh(x)\n"
LENIENT_CHECK = "def test_anything_goes(learner):\n    pass\n"


def _tree(root: Path) -> dict[str, tuple[str, int]]:
    """Every path under root with its content hash and mtime: any write shows up."""
    return {
        str(p.relative_to(root)): (
            hashlib.sha256(p.read_bytes()).hexdigest() if p.is_file() else "dir",
            p.stat().st_mtime_ns,
        )
        for p in sorted(root.rglob("*"))
    }


@pytest.fixture
def submissions(tmp_path, repo_workspace) -> Path:
    """Five learners in both forms, and one folder that is neither."""
    lesson = repo_workspace.course.lesson(LESSON)
    reference = repo_workspace.solution_for(lesson)
    wrong = reference.replace(TANH, "    return x\n")
    root = tmp_path / "submissions"
    root.mkdir()

    # alice: a full workspace, reference solution.
    alice = init_workspace(root / "alice")
    alice.path(lesson.exercise).write_text(reference, encoding="utf-8")
    (alice.state_dir).mkdir(exist_ok=True)

    # bob: exercises only, tanh wrong.
    (root / "bob" / "exercises").mkdir(parents=True)
    (root / "bob" / lesson.exercise).write_text(wrong, encoding="utf-8")

    # carol: exercises only, nothing handed in.
    (root / "carol" / "exercises").mkdir(parents=True)

    # dave: a whole course copy whose check was made lenient, with a wrong solution.
    dave = init_workspace(root / "dave", with_answers=True)
    dave.path(lesson.exercise).write_text(wrong, encoding="utf-8")
    dave.path(lesson.check).write_text(LENIENT_CHECK, encoding="utf-8")

    # erin: exercises only; writes into its working folder and patches numpy.
    evil = reference.replace(
        "import numpy as np\n",
        "import numpy as np\nopen('pwned.txt', 'w').write('x')\n"
        "np.allclose = lambda *a, **k: True\n",
        1,
    ).replace(TANH, "    return x\n")
    (root / "erin" / "exercises").mkdir(parents=True)
    (root / "erin" / lesson.exercise).write_text(evil, encoding="utf-8")

    (root / "notes").mkdir()  # neither form: skipped
    (root / "README.txt").write_text("hand-ins", encoding="utf-8")
    return root


def _rows(result, learner: str) -> dict[str, dict]:
    return {r["lesson_id"]: r for r in result.rows if r["learner"] == learner}


def test_discover_tells_the_two_forms_apart(submissions):
    found, skipped = discover(submissions)
    assert [(s.learner, s.kind) for s in found] == [
        ("alice", "workspace"),
        ("bob", "exercises"),
        ("carol", "exercises"),
        ("dave", "workspace"),
        ("erin", "exercises"),
    ]
    assert list(skipped) == ["notes"]


def test_grade_class_grades_everyone_without_writing_to_submissions(submissions, repo_workspace):
    before = _tree(submissions)
    seen: list[tuple[str, str]] = []
    result = grade_class(
        submissions, jobs=2, progress=lambda who, lesson, _: seen.append((who, lesson.id))
    )
    assert _tree(submissions) == before  # not a byte, not a timestamp

    lessons = repo_workspace.course.lessons
    assert result.attempts == 5 * len(lessons) == len(seen)
    assert len(result.rows) == 5 * (len(lessons) + 1) + 1
    assert result.skipped == {"notes": "neither a workspace nor a folder with exercises/"}
    notes = _rows(result, "notes")[TOTAL_ROW]  # in the gradebook all the same, with 0
    assert (notes["score"], notes["max_score"], notes["verdict"]) == (0, len(lessons), "missing")
    assert notes["message"].startswith("not graded: neither a workspace")

    assert _rows(result, "alice")[LESSON]["verdict"] == "passed"
    bob = _rows(result, "bob")[LESSON]
    # tanh wrong: its values, and its behaviour at large |x|; sigmoid's checks all pass
    failing = bob["failing_checks"].split(";")
    assert bob["verdict"] == "failed" and failing[0] == "test_tanh_values"
    assert all("tanh" in check for check in failing)
    assert bob["checks_passed"] == bob["checks_total"] - len(failing)
    assert "tanh(x)" in bob["message"]
    carol = _rows(result, "carol")[LESSON]  # handed in nothing
    assert carol["verdict"] == "missing" and f"no {lesson_path(LESSON)}" in carol["message"]
    assert carol["checks_total"] == bob["checks_total"]  # counted, though none ran

    dave = _rows(result, "dave")
    assert dave[LESSON]["verdict"] == "failed"  # graded by the shipped checks, not his
    assert dave[LESSON]["tampered"] == f"checks/{LESSON}.py"
    assert dave[TOTAL_ROW]["tampered"] == f"checks/{LESSON}.py"
    assert _rows(result, "alice")[LESSON]["tampered"] == ""

    erin = _rows(result, "erin")[LESSON]  # her patched numpy never reaches the judge
    assert erin["verdict"] == "failed" and erin["failing_checks"] == bob["failing_checks"]

    totals = result.totals()
    assert totals["alice"] == (1, len(lessons)) and totals["bob"] == (0, len(lessons))
    alice_total = _rows(result, "alice")[TOTAL_ROW]
    assert alice_total["message"] == f"1 of {len(lessons)} lessons passed"
    assert result.wall_s > 0


def test_own_checks_grades_a_workspace_as_it_is(submissions):
    result = grade_class(submissions, jobs=2, own_checks=True)
    assert _rows(result, "dave")[LESSON]["verdict"] == "passed"  # his lenient check
    assert _rows(result, "dave")[LESSON]["tampered"] == f"checks/{LESSON}.py"  # but flagged


def test_cli_writes_one_csv_and_refuses_to_write_into_submissions(submissions, tmp_path):
    runner = CliRunner()
    out = tmp_path / "results.csv"
    done = runner.invoke(cli, ["grade-class", str(submissions), "-o", str(out), "-j", "2"], obj={})
    assert done.exit_code == 1, done.output  # not everyone passed everything
    assert "alice: 1/" in done.output and "Graded 5 learners" in done.output
    with open(out, newline="", encoding="utf-8") as handle:
        reader = csv.DictReader(handle)
        assert tuple(reader.fieldnames) == CLASS_CSV_FIELDS
        rows = list(reader)
    assert {r["learner"] for r in rows} == {"alice", "bob", "carol", "dave", "erin", "notes"}
    assert sum(r["lesson_id"] == TOTAL_ROW for r in rows) == 6

    inside = runner.invoke(
        cli, ["grade-class", str(submissions), "-o", str(submissions / "r.csv")], obj={}
    )
    assert inside.exit_code == 2 and "never writes there" in inside.output
    assert not (submissions / "r.csv").exists()


def lesson_path(lesson_id: str) -> str:
    return f"exercises/{lesson_id}.py"


def test_a_workspace_unpacked_one_level_down_is_found(tmp_path, repo_workspace):
    root = tmp_path / "subs"
    lesson = repo_workspace.course.lesson(LESSON)
    inner = init_workspace(root / "frank" / "lstm-workbook-main")
    inner.path(lesson.exercise).write_text(repo_workspace.solution_for(lesson))
    found, skipped = discover(root)
    assert [(s.learner, s.path, s.kind) for s in found] == [("frank", inner.root, "workspace")]
    assert skipped == {}


def test_missing_submissions_folder_is_a_clear_error(tmp_path):
    with pytest.raises(WorkbookError, match="not a folder of submissions"):
        grade_class(tmp_path / "nope")


# A learner who attacks everything the grading of a class could share: the working
# folder's parent (a conftest.py that passes every check), classmates' exercise files
# (overwritten with a wrong answer), and any copy of the reference solution (exec'd).
# It is confined to SCRATCH, the test's own temporary folder, so that it cannot touch
# anything outside this test. Each attack may fail; the wrong answer stays as written.
HOSTILE = """
import glob, os

SCRATCH = {scratch!r}
EVERYTHING_PASSES = (
    "import pytest\\n"
    "@pytest.hookimpl(tryfirst=True)\\n"
    "def pytest_pyfunc_call(pyfuncitem):\\n"
    "    return True\\n"
)
for place in ["../conftest.py", "conftest.py"] + [
    os.path.join(folder, "conftest.py") for folder, _, _ in os.walk(SCRATCH)
]:
    try:
        with open(place, "w") as handle:
            handle.write(EVERYTHING_PASSES)
    except Exception:
        pass
for victim in glob.glob(os.path.join(SCRATCH, "**", "exercises", "01-*.py"), recursive=True):
    try:
        with open(victim, "w") as handle:
            handle.write("def sigmoid(x):\\n    return x\\n\\ndef tanh(x):\\n    return x\\n")
    except Exception:
        pass
for reference in glob.glob(
    os.path.join(SCRATCH, "**", "solutions", "01-*.py"), recursive=True
):
    try:
        exec(open(reference).read(), globals())
    except Exception:
        pass
"""


@pytest.fixture
def scratch(tmp_path, monkeypatch) -> Path:
    """Every temporary folder of this test's grading goes under tmp_path/scratch."""
    folder = tmp_path / "scratch"
    folder.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(folder))
    return folder


def test_a_hostile_class_gets_honest_grades(tmp_path, scratch, repo_workspace):
    """Hostile, Latin-1 and linked submissions in one class: each learner earns what
    their own honest file deserves, links and pipes are refused and reported, and
    every folder gets its TOTAL row."""
    lesson = repo_workspace.course.lesson(LESSON)
    reference = repo_workspace.solution_for(lesson)
    wrong = reference.replace(TANH, "    return x\n")
    root = tmp_path / "submissions"

    def hand_in(learner: str, data: bytes) -> None:
        (root / learner / "exercises").mkdir(parents=True)
        (root / learner / lesson.exercise).write_bytes(data)

    hand_in("alice", reference.encode())  # graded before mallory
    hand_in("latin", b"# -*- coding: latin-1 -*-\n# caf\xe9 au lait\n" + reference.encode())
    hand_in("mallory", (wrong + HOSTILE.format(scratch=str(scratch))).encode())
    hand_in("yan", wrong.encode())  # graded after mallory
    hand_in("zoe", reference.encode())  # graded after mallory
    outside = tmp_path / "outside.py"
    outside.write_text(reference, encoding="utf-8")
    (root / "linky" / "exercises").mkdir(parents=True)
    (root / "linky" / lesson.exercise).symlink_to(outside)
    os.mkfifo(root / "linky" / "exercises" / "02-concat.py")
    (root / "linked-folder").symlink_to(root / "alice")

    result = grade_class(root, jobs=2)
    verdicts = {
        who: (_rows(result, who).get(LESSON) or _rows(result, who)[TOTAL_ROW])["verdict"]
        for who in result.totals()
    }
    assert verdicts == {
        "alice": "passed",
        "latin": "passed",
        "linky": "refused",
        "mallory": "failed",
        "yan": "failed",
        "zoe": "passed",
        "linked-folder": "missing",  # its TOTAL row: a link to a folder is not followed
    }
    linky = _rows(result, "linky")
    assert "symbolic link" in linky[LESSON]["message"]
    assert linky["02-concat"]["verdict"] == "refused"
    assert "named pipe" in linky["02-concat"]["message"]
    assert "refused" in linky[TOTAL_ROW]["message"]
    assert "symbolic link" in _rows(result, "linked-folder")[TOTAL_ROW]["message"]
    assert outside.read_text(encoding="utf-8") == reference  # never written through
    assert all(row["lesson_id"] == TOTAL_ROW for row in _rows(result, "linked-folder").values())
    assert not list(scratch.glob("workbook-learner-*"))  # private folders removed


def test_each_learner_is_graded_in_a_private_folder(tmp_path, scratch, repo_workspace):
    """One mkdtemp (0o700) per learner, the workspace inside it: no two learners share
    a parent folder that their code could write."""
    from workbook.instructor.classroom import prepare

    root = tmp_path / "submissions"
    for learner in ("amy", "ben"):
        (root / learner / "exercises").mkdir(parents=True)
    found, _ = discover(root)
    prepared = [prepare(sub) for sub in found]
    try:
        privates = [one.private for one in prepared]
        assert len(set(privates)) == 2
        for one in prepared:
            assert one.private.parent == scratch
            assert one.private.stat().st_mode & 0o777 == 0o700
            assert one.workspace.root.parent == one.private
    finally:
        for one in prepared:
            one.discard()
    assert not any(p.exists() for p in privates)


def test_an_unforeseen_failure_is_one_error_row(submissions, monkeypatch, repo_workspace):
    """A grader fault in one attempt becomes that attempt's error row; the run goes on."""
    import workbook.grading.runner as runner

    real = runner.grade
    lesson = repo_workspace.course.lesson(LESSON)
    reference = repo_workspace.solution_for(lesson)

    def flaky(workspace, lesson, **kwargs):  # fails on the reference: alice's attempt
        if workspace.path(lesson.exercise).read_text(encoding="utf-8") == reference:
            raise OSError("disk on fire")
        return real(workspace, lesson, **kwargs)

    monkeypatch.setattr(runner, "grade", flaky)
    result = grade_class(submissions, jobs=2)
    assert _rows(result, "alice")[LESSON]["verdict"] == "error"
    assert "disk on fire" in _rows(result, "alice")[LESSON]["message"]
    assert _rows(result, "bob")[LESSON]["verdict"] == "failed"
    assert len(result.totals()) == 6


def test_a_class_is_graded_on_one_warm_service_with_the_same_verdicts(submissions, monkeypatch):
    """One private grading service for the whole run (the judge and TensorFlow
    imported once, not per worker or per attempt); every verdict as the cold path
    gives it, none of them graded cold behind its back."""
    from workbook.grading.service import RunService
    from workbook.instructor import classroom

    cold = grade_class(submissions, jobs=2)
    monkeypatch.delenv("WORKBOOK_WARM")
    used: list[RunService] = []
    real = classroom.WarmPool.grader

    def counting(self):
        grader = real(self)
        assert grader is not None
        if grader not in used:
            used.append(grader)
        return grader

    monkeypatch.setattr(classroom.WarmPool, "grader", counting)
    warm = grade_class(submissions, jobs=2)
    assert len(used) == 1
    assert used[0].fallbacks == 0
    assert used[0].proc.poll() is not None  # stopped with the run
    assert [(r["learner"], r["lesson_id"], r["verdict"]) for r in warm.rows] == [
        (r["learner"], r["lesson_id"], r["verdict"]) for r in cold.rows
    ]


def test_lessons_grades_only_those_and_counts_only_them(tmp_path, repo_workspace):
    """`--lessons 1-2` (issue 20): rows, TOTAL rows and the exit code are about lessons
    1 and 2 only; a learner who handed in nothing else is not "missing" anything else;
    the progress is one line per learner."""
    lesson = repo_workspace.course.lesson(LESSON)
    root = tmp_path / "submissions"
    (root / "ann" / "exercises").mkdir(parents=True)
    (root / "ann" / lesson.exercise).write_text(
        repo_workspace.solution_for(lesson), encoding="utf-8"
    )
    (root / "ben" / "exercises").mkdir(parents=True)
    (root / "notes").mkdir()  # neither form: its TOTAL row is out of the lessons chosen
    out = tmp_path / "results.csv"
    done = CliRunner().invoke(
        cli, ["grade-class", str(root), "-o", str(out), "--lessons", "1-2"], obj={}
    )
    assert done.exit_code == 1, done.output
    assert "ann: 1/2 lessons passed" in done.output and "ben: 0/2 lessons passed" in done.output
    progress = [line for line in done.stderr.splitlines() if line.startswith("  graded")]
    assert sorted(progress) == ["  graded 1/2: ann", "  graded 2/2: ben"] or sorted(progress) == [
        "  graded 1/2: ben",
        "  graded 2/2: ann",
    ]
    with open(out, newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    assert [(r["learner"], r["lesson_id"]) for r in rows] == [
        ("ann", "01-activations"),
        ("ann", "02-concat"),
        ("ann", TOTAL_ROW),
        ("ben", "01-activations"),
        ("ben", "02-concat"),
        ("ben", TOTAL_ROW),
        ("notes", TOTAL_ROW),
    ]
    totals = {r["learner"]: r for r in rows if r["lesson_id"] == TOTAL_ROW}
    assert (totals["ann"]["score"], totals["ann"]["max_score"]) == ("1", "2")
    assert totals["ann"]["message"] == "1 of 2 lessons passed"
    assert totals["notes"]["max_score"] == "2"

    only_first = grade_class(root, lessons=["01-activations"])
    assert only_first.totals() == {"ann": (1, 1), "ben": (0, 1), "notes": (0, 1)}


def test_an_unknown_lesson_in_lessons_is_a_usage_error(tmp_path):
    root = tmp_path / "submissions"
    (root / "ann" / "exercises").mkdir(parents=True)
    done = CliRunner().invoke(
        cli, ["grade-class", str(root), "-o", str(tmp_path / "r.csv"), "--lessons", "2,99"], obj={}
    )
    assert done.exit_code == 2, done.output
    assert "'--lessons'" in done.output and "unknown lesson '99'" in done.output
    assert "use a number (1–" in done.output and "3-7" in done.output
    assert not (tmp_path / "r.csv").exists()
