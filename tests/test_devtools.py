"""`workbook dev`: the course linter, the scaffold, and another course on the same engine."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from workbook.authoring.devtools import lint_course, scaffold_lesson, write_stubs
from workbook.cli import cli
from workbook.errors import WorkbookError
from workbook.workspace import Workspace

EXAMPLE = Path(__file__).parent / "example_course"


@pytest.fixture
def example(tmp_path: Path) -> Workspace:
    shutil.copytree(EXAMPLE, tmp_path / "ex", ignore=shutil.ignore_patterns(".workbook"))
    return Workspace(tmp_path / "ex")


def _cli(ws: Workspace, *args: str):
    return CliRunner().invoke(cli, ["--workspace", str(ws.root), *args], obj={})


def test_another_course_runs_on_the_same_engine(example):
    listed = json.loads(_cli(example, "list", "--json").output)
    assert [row["id"] for row in listed["lessons"]] == ["01-double", "02-mean"]
    exercise = example.path("exercises/02-mean.py")
    exercise.write_text("def mean(values):\n    return sum(values)\n")
    failed = json.loads(_cli(example, "check", "2", "--json").output)
    assert failed["verdict"] == "failed"
    assert "that is the sum" in failed["checks"][0]["message"]
    exercise.write_text(example.solution_for(example.course.lesson(2)))
    assert _cli(example, "check", "2").exit_code == 0


def test_a_clean_course_passes_dev_check(example):
    assert lint_course(example) == []
    result = _cli(example, "dev", "check")
    assert result.exit_code == 0, result.output
    assert "2 lessons OK" in result.output


def _problems(ws: Workspace, **kwargs) -> list[str]:
    return [str(p) for p in lint_course(ws, **kwargs)]


def test_dev_check_finds_a_stub_that_passes_and_a_reference_that_fails(example):
    solution = example.path("course/solutions/01-double.py")
    solution.write_text(
        "def double(x):\n    return 2 * x\n    # BEGIN SOLUTION\n    # STUB: pass\n"
        "    return 3 * x\n    # END SOLUTION\n"
    )
    example.path("exercises/01-double.py").write_text(example.stub_for(example.course.lesson(1)))
    problems = _problems(example)
    assert any("the pristine stub PASSES" in p for p in problems), problems
    assert any("stub has no TODO" in p for p in problems), problems
    solution.write_text(
        "def double(x):\n    # BEGIN SOLUTION\n    return 3 * x\n    # END SOLUTION\n"
    )
    example.path("exercises/01-double.py").write_text(example.stub_for(example.course.lesson(1)))
    problems = _problems(example)
    assert any("reference solution does not pass" in p for p in problems), problems


def test_dev_check_finds_static_problems(example):
    lesson_md = example.path("course/lessons/02-mean.md")
    text = lesson_md.read_text()
    lesson_md.write_text(
        text.replace('hints = ["Add them up, then divide.", ', "hints = [").replace(
            'glossary = ["mean"]', 'glossary = ["mean", "median"]'
        )
    )
    example.path("exercises/01-double.py").write_text("# edited by hand\n")
    example.path("checks/03-stray.py").write_text("")
    problems = _problems(example, grade=False)
    assert any("02-mean: has 1 hints" in p for p in problems), problems
    assert any("'median' does not exist" in p for p in problems), problems
    assert any("exercises/01-double.py differs" in p for p in problems), problems
    assert any("checks/03-stray.py: stray file" in p for p in problems), problems
    result = _cli(example, "dev", "check", "--no-grade")
    assert result.exit_code == 1


def test_dev_new_scaffolds_a_working_lesson_that_dev_check_asks_to_fill_in(example):
    files = scaffold_lesson(example, "03-triple", "Triple a number", "basics")
    names = {p.name for p in files}
    assert {"03-triple.md", "03-triple.py", "course.toml"} <= names
    fresh = Workspace(example.root)
    assert fresh.course.lessons[-1].id == "03-triple"
    problems = [str(p) for p in lint_course(fresh)]
    # It grades (its stub fails, its reference passes); only the placeholders remain.
    assert problems and all("scaffold's placeholder" in p for p in problems), problems
    assert any("lesson text or hints" in p for p in problems)
    assert any("the solution still has" in p for p in problems)
    from workbook.authoring.devtools import SCAFFOLD_PLACEHOLDERS

    for path in (fresh.path("course/lessons/03-triple.md"), fresh.path(files_named(files))):
        text = path.read_text()
        for number, placeholder in enumerate(SCAFFOLD_PLACEHOLDERS):
            text = text.replace(placeholder, f"Something real about tripling, part {number}.")
        path.write_text(text)
    filled = Workspace(example.root)
    write_stubs(filled)  # the solution's docstring is part of the stub
    assert lint_course(filled) == []
    with pytest.raises(WorkbookError, match="already exists"):
        scaffold_lesson(fresh, "03-triple", "Again", "basics")
    with pytest.raises(WorkbookError, match="unknown topic"):
        scaffold_lesson(fresh, "04-quad", "Quad", "nope")


def files_named(files: list[Path]) -> Path:
    return next(p for p in files if p.parent.name == "solutions")


def test_dev_check_wants_two_to_four_real_hints(example):
    lesson_md = example.path("course/lessons/02-mean.md")
    text = lesson_md.read_text()
    lesson_md.write_text(text.replace("hints = [", 'hints = ["", "b", "c", "d", ', 1))
    problems = _problems(example, grade=False)
    assert any("02-mean: has 6 hints; give 2 to 4" in p for p in problems), problems
    assert any("02-mean: hint 1 is empty" in p for p in problems), problems


def test_dev_check_finds_a_stale_manifest(repo_workspace, monkeypatch):
    import workbook.manifest as manifest

    assert _problems(repo_workspace, grade=False) == []
    stale = dict(manifest.load_manifest(), files={})
    monkeypatch.setattr(manifest, "load_manifest", lambda *a, **k: stale)
    problems = _problems(repo_workspace, grade=False)
    assert any("workbook/manifest.json: stale" in p for p in problems), problems


def test_the_lstm_course_passes_its_own_static_lint(repo_workspace):
    assert _problems(repo_workspace, grade=False) == []


def test_dev_check_of_one_lesson_runs_its_mistakes_and_nothing_else(example):
    """`workbook dev check 2` (issue 20): lesson 2's stub, reference and typical
    mistakes (tests/mistakes/02-mean.toml), and no other lesson's problems."""
    example.path("exercises/01-double.py").write_text("# edited by hand\n")  # lesson 1's
    mistakes = example.root / "tests" / "mistakes" / "02-mean.toml"
    mistakes.parent.mkdir(parents=True)
    mistakes.write_text(
        '[[mistake]]\nname = "the sum"\nreplace = "/ len(values)"\nwith = ""\n'
        'expect = "that is the sum"\n\n'
        '[[mistake]]\nname = "off by one"\nreplace = "len(values)"\nwith = "(len(values) - 1)"\n'
        'expect = "off by one"\n\n'
        '[[mistake]]\nname = "gone"\nreplace = "no such text"\nwith = ""\nexpect = "x"\n',
        encoding="utf-8",
    )
    result = _cli(example, "dev", "check", "2")
    assert result.exit_code == 1, result.output
    problems = [line for line in result.stdout.splitlines() if line.startswith("✗")]
    assert len(problems) == 2, problems
    assert "02-mean (mistake 'off by one'): does not get its diagnosis 'off by one'" in problems[0]
    assert "02-mean (mistake 'gone'): no longer applies" in problems[1]
    assert "2 problem(s) in 1 lesson." in result.stdout

    mistakes.write_text(mistakes.read_text().split("\n\n")[0] + "\n", encoding="utf-8")
    passed = _cli(example, "dev", "check", "mean")
    assert passed.exit_code == 0, passed.output
    assert "1 lesson OK (stubs fail, references pass, mistakes diagnosed" in passed.stdout
    assert _cli(example, "dev", "check", "3").exit_code == 2  # no lesson 3: a usage error


def test_the_unknown_topic_error_says_how_to_add_one(example):
    with pytest.raises(WorkbookError, match=r"one of: basics\). To add a topic, add a \[\[topics"):
        scaffold_lesson(example, "03-triple", "Triple", "algebra")
    lesson_md = example.path("course/lessons/02-mean.md")
    lesson_md.write_text(lesson_md.read_text().replace('"basics"', '"algebra"', 1))
    with pytest.raises(WorkbookError, match=r"unknown topic 'algebra'.*\[\[topics\]\] entry"):
        _ = Workspace(example.root).course
