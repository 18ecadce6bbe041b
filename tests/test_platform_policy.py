"""What a lesson is worth on the course platforms: the course's [grading] table, the
bundle commands' flags over it, partial credit, per-lesson visibility, Markdown
outputs, PrairieLearn's format_errors; every results.json checked against the
platform's schema (tests/data/platforms). No grading process runs here: the results
are made by hand."""

from __future__ import annotations

import shutil
import zipfile
from pathlib import Path

import pytest
from click.testing import CliRunner

from tests.platform_support import validate
from workbook.catalog import load_course
from workbook.cli import cli
from workbook.errors import WorkbookError
from workbook.grading.results import CheckResult, ErrorInfo, GradeResult, Verdict
from workbook.instructor.autograder import (
    GradingPolicy,
    SubmissionGrade,
    course_grading,
    grading_policy,
    md_code,
    md_text,
    to_gradescope,
    to_prairielearn,
)


def _course(tmp_path: Path, repo_workspace, grading: str = ""):
    """A copy of the shipped course whose course.toml's [grading] table is `grading`."""
    folder = tmp_path / "course"
    shutil.copytree(repo_workspace.root / "course", folder)
    toml = (folder / "course.toml").read_text(encoding="utf-8")
    toml = toml[: toml.index("[grading]")] + grading
    (folder / "course.toml").write_text(toml, encoding="utf-8")
    return load_course(folder)


def _checks(passed: int, total: int, message: str = "expected 1, got 2") -> list[CheckResult]:
    return [
        CheckResult(f"test_{i}", f"check {i}", "passed" if i < passed else "failed", message)
        for i in range(total)
    ]


def _grade(course, results: dict[int, GradeResult]) -> SubmissionGrade:
    """Lessons in `results` with those results, every other lesson not started."""
    rows = [
        (
            lesson,
            results.get(lesson.number, GradeResult(lesson.id, Verdict.NOT_STARTED, 0.0)),
        )
        for lesson in course.lessons
    ]
    return SubmissionGrade(course, rows, {}, 1.5, jobs={"numpy": 1}, limits="test")


def test_the_shipped_grading_table_is_valid_and_one_point_each(repo_workspace):
    course = repo_workspace.course
    table = course_grading(course)
    assert table == {"weight": 1.0, "visibility": "visible", "partial_credit": False, "lessons": {}}
    policy = grading_policy(course)
    assert {policy.of(lesson).weight for lesson in course.lessons} == {1.0}
    assert policy == GradingPolicy(
        lessons={lesson.id: policy.of(lesson) for lesson in course.lessons}
    )


def test_course_defaults_then_flags(tmp_path, repo_workspace):
    course = _course(
        tmp_path,
        repo_workspace,
        '[grading]\nweight = 2\nvisibility = "after_due_date"\npartial_credit = true\n'
        '[grading.lessons]\n"21-keras-forecast" = { weight = 5, visibility = "hidden" }\n'
        '"3" = { weight = 0 }\n',
    )
    policy = grading_policy(course)
    by_number = {lesson.number: policy.of(lesson) for lesson in course.lessons}
    assert (by_number[1].weight, by_number[1].visibility) == (2.0, "after_due_date")
    assert (by_number[21].weight, by_number[21].visibility) == (5.0, "hidden")
    assert (by_number[3].weight, by_number[3].visibility) == (0.0, "after_due_date")
    assert policy.partial_credit and policy.visibility == "after_due_date"

    # Flags: course-wide values replace the course's, per-lesson ones beat both.
    flagged = grading_policy(
        course,
        visibility=["21=visible", "hidden"],
        weight=["1", "forget-gate=3"],
        partial_credit=False,
        output_format="text",
    )
    by_number = {lesson.number: flagged.of(lesson) for lesson in course.lessons}
    assert (by_number[1].weight, by_number[1].visibility) == (1.0, "hidden")
    assert (by_number[3].weight, by_number[21].visibility) == (3.0, "visible")
    assert by_number[21].weight == 5.0  # the course's per-lesson weight stays
    assert not flagged.partial_credit and flagged.output_format == "text"


@pytest.mark.parametrize(
    ("grading", "words"),
    [
        ("[grading]\nweights = 1\n", "unknown keys"),
        ("[grading]\nweight = -1\n", "0 or more"),
        ('[grading]\nweight = "two"\n', "a weight is a number"),
        ('[grading]\nvisibility = "public"\n', "visibility is one of"),
        ('[grading]\npartial_credit = "yes"\n', "true or false"),
        ('[grading.lessons]\n"99-nothing" = { weight = 2 }\n', "unknown lesson"),
        ('[grading.lessons]\n"01-activations" = { points = 2 }\n', "weight and/or visibility"),
    ],
)
def test_a_bad_grading_table_is_refused_with_the_reason(tmp_path, repo_workspace, grading, words):
    course = _course(tmp_path, repo_workspace, grading)
    with pytest.raises(WorkbookError, match=words):
        grading_policy(course)


@pytest.mark.parametrize(
    ("flags", "words"),
    [
        ({"weight": ["3=lots"]}, "a weight is a number"),
        ({"weight": ["nan"]}, "a weight is a number"),
        ({"visibility": ["99=hidden"]}, "unknown lesson"),
        ({"visibility": ["3=public"]}, "visibility is one of"),
        ({"output_format": "html"}, "output format"),
    ],
)
def test_bad_flags_are_refused(repo_workspace, flags, words):
    with pytest.raises(WorkbookError, match=words):
        grading_policy(repo_workspace.course, **flags)


def test_partial_credit_weights_and_visibility_in_gradescopes_results(repo_workspace):
    course = repo_workspace.course
    policy = grading_policy(
        course,
        weight=["2", "8=4"],
        visibility=["after_published", "1=visible"],
        partial_credit=True,
    )
    syntax = ErrorInfo("syntax", "invalid syntax", file="exercises/09-lstm-forward.py", line=3)
    grade = _grade(
        course,
        {
            1: GradeResult("01-activations", Verdict.PASSED, 0.1, checks=_checks(5, 5)),
            2: GradeResult("02-concat", Verdict.FAILED, 0.1, checks=_checks(3, 4)),
            8: GradeResult("08-lstm-step", Verdict.FAILED, 0.1, checks=_checks(1, 4)),
            9: GradeResult("09-lstm-forward", Verdict.ERROR, 0.1, error=syntax),
        },
    )
    data = to_gradescope(grade, policy)
    validate(data, "gradescope-results")
    tests = {int(test["number"]): test for test in data["tests"]}
    assert (tests[1]["score"], tests[1]["max_score"], tests[1]["status"]) == (2.0, 2.0, "passed")
    assert (tests[2]["score"], tests[2]["max_score"], tests[2]["status"]) == (1.5, 2.0, "failed")
    assert (tests[8]["score"], tests[8]["max_score"]) == (1.0, 4.0)
    assert tests[9]["score"] == 0.0 and tests[4]["score"] == 0.0  # an error, a stub
    assert data["score"] == 2.0 + 1.5 + 1.0
    assert tests[1]["visibility"] == "visible" and tests[2]["visibility"] == "after_published"
    assert data["visibility"] == "after_published"
    assert all(test["output_format"] == "md" for test in tests.values())
    assert "Partial credit: 1.5 of 2 points." in tests[2]["output"]
    assert "```text\nexpected 1, got 2\n```" in tests[2]["output"]
    assert "**syntax** (`09-lstm-forward.py`, line 3)" in tests[9]["output"]
    total = 2 * (len(course.lessons) - 1) + 4
    assert data["output"].endswith(
        f"1 of {len(course.lessons)} lessons passed, 4.5 of {total} points."
    )
    assert data["extra_data"]["partial_credit"] is True

    plain = to_gradescope(grade, grading_policy(course, output_format="text"))
    validate(plain, "gradescope-results")
    assert plain["output_format"] == "text" and "```" not in plain["tests"][1]["output"]
    assert plain["tests"][1]["score"] == 0.0  # all or nothing


def test_markdown_outputs_say_exactly_what_was_written(repo_workspace):
    """A diagnosis full of Markdown's characters reads as written: names escaped,
    messages in code blocks whose fence outlasts any backticks inside."""
    tricky = "W_f * x <b>bold</b> `code` ``` [link](x) # heading"
    assert md_text("a_b *c* <d> [e] #f |g| ~h~") == r"a\_b \*c\* \<d\> \[e\] \#f \|g\| \~h\~"
    assert md_text("- item\n1. first") == "\\- item\n1\\. first"
    block = md_code(tricky)
    assert block.startswith("````text\n") and block.endswith("\n````")
    course = repo_workspace.course
    checks = [CheckResult("test_x", "W_f * h_prev", "failed", tricky)]
    grade = _grade(course, {3: GradeResult("03-forget-gate", Verdict.FAILED, 0.1, checks=checks)})
    output = to_gradescope(grade)["tests"][2]["output"]
    assert r"**W\_f \* h\_prev**:" in output and f"````text\n{tricky}\n````" in output


def test_prairielearn_results_weights_and_format_errors(repo_workspace):
    course = repo_workspace.course
    policy = grading_policy(course, weight=["3=3"], partial_credit=True)
    lesson3 = course.lesson("3")
    graded = SubmissionGrade(
        course,
        [(lesson3, GradeResult(lesson3.id, Verdict.FAILED, 0.1, checks=_checks(2, 3)))],
        {},
        1.0,
    )
    data = to_prairielearn(graded, policy)
    validate(data, "prairielearn-grader-results")
    assert data["gradable"] is True and "format_errors" not in data
    assert data["tests"][0]["points"] == 2.0 and data["tests"][0]["max_points"] == 3.0
    assert data["score"] == pytest.approx(2 / 3)

    syntax = ErrorInfo("syntax", "invalid syntax (expected ':')", line=7)
    broken = SubmissionGrade(
        course, [(lesson3, GradeResult(lesson3.id, Verdict.ERROR, 0.1, error=syntax))], {}, 1.0
    )
    data = to_prairielearn(broken, policy)
    validate(data, "prairielearn-grader-results")
    assert data["gradable"] is False
    assert data["format_errors"] == ["03-forget-gate.py, line 7: invalid syntax (expected ':')"]

    missing = ErrorInfo("missing", "03-forget-gate.py was not in the submission")
    absent = SubmissionGrade(
        course, [(lesson3, GradeResult(lesson3.id, Verdict.ERROR, 0.0, error=missing))], {}, 1.0
    )
    data = to_prairielearn(absent, policy)
    validate(data, "prairielearn-grader-results")
    assert data["gradable"] is False and data["format_errors"][0].startswith(
        "03-forget-gate.py: not submitted"
    )


def test_the_cli_writes_its_flags_into_the_bundles(tmp_path, repo_workspace):
    runner = CliRunner()
    zip_path = tmp_path / "ag.zip"
    done = runner.invoke(
        cli,
        ["autograder", "gradescope", "-o", str(zip_path), "--weight", "18=3",
         "--visibility", "hidden", "--visibility", "1=visible", "--partial-credit",
         "--jobs", "2"],
        obj={},
    )  # fmt: skip
    assert done.exit_code == 0, done.output
    assert "768 MB" in done.output  # the resources it needs, on the terminal too
    with zipfile.ZipFile(zip_path) as archive:
        run = archive.read("run_autograder").decode()
        readme = archive.read("README.md").decode()
    assert (
        "gradescope-run --visibility hidden --visibility 01-activations=visible "
        "--weight 18-keras-predict-next=3 --partial-credit --output-format md --jobs 2"
    ) in run
    total = len(repo_workspace.course.lessons) + 2
    assert f"Set the assignment's total to {total} points; partial credit" in readme
    assert "| 18. " in readme and "| 3 | hidden |" in readme

    for bad, words in (
        (["--weight", "99=2"], "unknown lesson"),
        (["--visibility", "public"], "visibility is one of"),
        (["--jobs", "0"], "1 or more"),
    ):
        refused = runner.invoke(
            cli, ["autograder", "gradescope", "-o", str(zip_path), *bad], obj={}
        )
        assert refused.exit_code != 0 and words in refused.output, refused.output

    pl = tmp_path / "pl"
    done = runner.invoke(
        cli,
        ["autograder", "prairielearn", "-o", str(pl), "--image", "myorg/grader",
         "--lessons", "3,18", "--weight", "3=2", "--partial-credit"],
        obj={},
    )  # fmt: skip
    assert done.exit_code == 0, done.output
    assert "docker build --platform linux/amd64 -t myorg/grader:" in done.output
    grade = (pl / "grader" / "grade").read_text(encoding="utf-8")
    assert "prairielearn-run --weight 03-forget-gate=2 --partial-credit" in grade
    questions = pl / "questions" / "lstm-workbook"
    assert sorted(p.name for p in questions.iterdir()) == [
        "03-forget-gate",
        "18-keras-predict-next",
    ]
    refused = runner.invoke(
        cli, ["autograder", "prairielearn", "-o", str(pl), "--image", "a/b:1"], obj={}
    )
    assert refused.exit_code != 0 and "without a tag" in refused.output
