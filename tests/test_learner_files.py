"""Learner files in any encoding Python accepts, and backups byte for byte."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import run_cli
from workbook.learnerfile import UndecodableSource, decode
from workbook.progress import ProgressStore
from workbook.workspace import Workspace

LATIN1 = "# -*- coding: latin-1 -*-\n# Aufgabe für Übung: café\ndef double(x):\n    return 2 * x\n"
UNDECODABLE = b"def double(x):\n    return 2 * x  # caf\xe9\n"


def _save(ws: Workspace, number: int, data: bytes) -> Path:
    path = ws.path(ws.course.lesson(number).exercise)
    path.write_bytes(data)
    return path


def _record_pass(ws: Workspace, lesson) -> None:
    """A local pass, without grading: the grader is not what these tests are about."""
    store = ProgressStore(ws.progress_path)
    store.record_attempt(lesson.id, "passed", 0.1)
    store.close()


def test_decoding_follows_pythons_source_rules():
    assert decode(LATIN1.encode("latin-1"), "f.py") == LATIN1
    assert decode(b"\xef\xbb\xbfx = 1\r\ny = 2\r\n", "f.py") == "x = 1\ny = 2\n"  # BOM, CRLF
    with pytest.raises(UndecodableSource, match=r"f\.py .*byte 0xe9 on line 2 is not valid utf-8"):
        decode(UNDECODABLE, "f.py")
    with pytest.raises(UndecodableSource, match="unknown encoding: klingon"):
        decode(b"# coding: klingon\nx = 1\n", "f.py")


def test_a_latin1_file_is_checked_and_reset_without_a_traceback(example):
    data = LATIN1.replace("\n", "\r\n").encode("latin-1")
    path = _save(example, 1, data)
    checked = run_cli(example, "check", "1")
    assert checked.exception is None or isinstance(checked.exception, SystemExit)
    assert "UnicodeDecodeError" not in checked.output and "not started" not in checked.output
    reset = run_cli(example, "reset", "1", "-y")
    assert reset.exit_code == 0, reset.output
    (backup,) = (example.state_dir / "backups").iterdir()
    assert backup.read_bytes() == data  # byte for byte: encoding and CRLF kept
    assert path.read_text(encoding="utf-8") == example.stub_for(example.course.lesson(1))


def test_backups_keep_crlf_and_bytes_no_encoding_can_read(example):
    crlf = b"def double(x):\r\n    return x + x\r\n"
    _save(example, 1, crlf)
    _save(example, 2, UNDECODABLE)
    assert run_cli(example, "reset", "--all", "-y").exit_code == 0
    saved = sorted(p.read_bytes() for p in (example.state_dir / "backups").iterdir())
    assert saved == sorted([crlf, UNDECODABLE])


def test_the_stub_in_another_encoding_or_with_crlf_is_still_untouched(example):
    lesson = example.course.lesson(1)
    stub = example.stub_for(lesson)
    _save(example, 1, ("# -*- coding: latin-1 -*-\n" + stub).replace("\n", "\r\n").encode())
    assert not example.is_untouched(lesson)  # the coding line is an edit
    _save(example, 1, stub.replace("\n", "\r\n").encode())
    assert example.is_untouched(lesson)
    assert example.reset(lesson) is None  # nothing to back up
    _save(example, 1, UNDECODABLE)
    assert not example.is_untouched(lesson)  # not the stub, and no crash either


def test_solution_diff_reads_the_learners_encoding_and_explains_bytes_it_cannot(example):
    lesson = example.course.lesson(1)
    _save(example, 1, LATIN1.encode("latin-1"))
    _record_pass(example, lesson)
    diff = run_cli(example, "solution", "1", "--diff")
    assert diff.exit_code == 0 and "+    return 2 * x" not in diff.output
    assert "-# Aufgabe für Übung: café" in diff.output
    _save(example, 1, UNDECODABLE)
    broken = run_cli(example, "solution", "1", "--diff")
    assert broken.exit_code == 1 and "Traceback" not in broken.output
    assert f"{lesson.exercise} cannot be read as Python source" in broken.output


def test_dev_stubs_and_dev_check_compare_bytes(example):
    from workbook.authoring.devtools import write_stubs

    _save(example, 1, LATIN1.encode("latin-1"))
    assert write_stubs(example) == ["exercises/01-double.py"]
    assert write_stubs(example) == []


def test_grade_class_grades_a_latin1_learner_beside_the_others(tmp_path, repo_workspace):
    from workbook.instructor.classroom import TOTAL_ROW, grade_class

    lesson = repo_workspace.course.lesson(1)
    reference = repo_workspace.solution_for(lesson)
    latin1 = "# -*- coding: latin-1 -*-\n# für die Übung\n" + reference
    root = tmp_path / "subs"
    for learner, data in (
        ("ana", latin1.encode("latin-1", errors="replace")),
        ("ben", reference.encode("utf-8")),
        ("cem", b"# caf\xe9\n" + reference.encode("utf-8")),
    ):
        (root / learner / "exercises").mkdir(parents=True)
        (root / learner / lesson.exercise).write_bytes(data)
    result = grade_class(root, jobs=2)
    verdicts = {r["learner"]: r["verdict"] for r in result.rows if r["lesson_id"] == lesson.id}
    # The Latin-1 file earns what its UTF-8 twin earns, and bytes Python cannot read as
    # source stop nobody: the run goes on to everyone's TOTAL row. (Their verdict is
    # the grader's: an error, as Python itself would not run the file.)
    assert verdicts["ana"] == verdicts["ben"] == "passed"
    assert verdicts["cem"] == "error"
    totals = [r["learner"] for r in result.rows if r["lesson_id"] == TOTAL_ROW]
    assert sorted(totals) == ["ana", "ben", "cem"]


@pytest.mark.parametrize("where", ["comment", "string"])
def test_a_file_python_cannot_read_does_not_pass(workspace, where):
    """`python file.py` refuses a Latin-1 byte without a coding line, even in a
    comment (where `compile()` of bytes let it through): so does the grader, saying
    which byte on which line. With the coding line, the same bytes pass."""
    from workbook.grading.results import Verdict
    from workbook.grading.runner import grade

    lesson = workspace.course.lesson(1)
    reference = workspace.solution_for(lesson).encode("utf-8")
    extra = b"# caf\xe9\n" if where == "comment" else b"CAFE = 'caf\xe9'\n"
    path = workspace.path(lesson.exercise)
    path.write_bytes(extra + reference)
    result = grade(workspace, lesson)
    assert result.verdict is Verdict.ERROR, result.headline
    assert result.error.kind == "syntax" and result.error.line == 1, result.error
    assert "0xe9" in result.error.message, result.error.message
    path.write_bytes(b"# -*- coding: latin-1 -*-\n" + extra + reference)
    assert grade(workspace, lesson).verdict is Verdict.PASSED
