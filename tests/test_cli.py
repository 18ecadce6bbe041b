"""The CLI: commands, --json shapes, exit codes, and what it never imports."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys

import pytest
from click.testing import CliRunner

from tests.conftest import write_solution
from workbook.cli import cli


@pytest.fixture
def run(workspace):
    runner = CliRunner()

    def invoke(*args: str, input: str | None = None):
        return runner.invoke(cli, ["--workspace", str(workspace.root), *args], obj={}, input=input)

    return invoke


def test_list_json_shape(run, workspace):
    result = run("list", "--json")
    assert result.exit_code == 0
    data = json.loads(result.output)
    assert data["total"] == len(workspace.course.lessons)
    assert data["passed"] == 0
    first = data["lessons"][0]
    assert set(first) >= {"id", "number", "title", "topic", "exercise", "status", "attempts"}
    assert first["status"] == "not-started" and first["current"] is True
    assert first["exercise"].endswith(workspace.course.lessons[0].exercise)


def test_check_exit_codes_and_json(run, workspace):
    lesson = workspace.course.lessons[0]
    untouched = run("check", "1", "--json")
    assert untouched.exit_code == 1
    assert json.loads(untouched.output)["verdict"] == "not-started"

    reference = workspace.solution_for(lesson)
    write_solution(workspace, lesson, reference.replace("return np.tanh(x)", "return x"))
    failed = run("check", "1", "--json")
    assert failed.exit_code == 1
    payload = json.loads(failed.output)
    assert payload["lesson"] == lesson.id and payload["verdict"] == "failed"
    assert isinstance(payload["duration_s"], float)
    assert {"name", "outcome", "message"} <= set(payload["checks"][0])
    assert payload["hint"]["number"] == 1  # the first hint comes with the first failure

    write_solution(workspace, lesson)
    passed = run("check")
    assert passed.exit_code == 0, passed.output
    assert "passed" in passed.output
    data = json.loads(run("progress", "--json").output)
    assert data["passed"] == 1
    assert data["lessons"][0]["attempts"] == 2  # the untouched stub was not counted


def test_human_check_output_shows_diagnosis_and_hint(run, workspace):
    lesson = workspace.course.lessons[0]
    write_solution(
        workspace,
        lesson,
        workspace.solution_for(lesson).replace("np.tanh(x)", "1 / (1 + np.exp(-x))"),
    )
    result = run("check", "1")
    assert result.exit_code == 1
    assert "values match sigmoid where tanh belongs" in result.output
    assert "Hint 1/" in result.output
    assert "\x1b[" not in result.output  # no colour codes when not a terminal


def test_usage_errors_exit_2(run, tmp_path):
    assert run("check", "999").exit_code == 2
    assert "unknown lesson" in run("hint", "nope").output
    elsewhere = CliRunner().invoke(cli, ["--workspace", str(tmp_path), "list"], obj={})
    assert elsewhere.exit_code == 2
    assert "not a workbook workspace" in elsewhere.output


def _attempts(run) -> int:
    return sum(row["attempts"] for row in json.loads(run("list", "--json").output)["lessons"])


def test_deleted_exercise_is_said_and_not_recorded(run, workspace):
    """`check 4` on a deleted file recorded a failed attempt; it says the file is
    missing and how to restore it, records nothing, and exits 2 (a workspace error)."""
    workspace.path(workspace.course.lesson(4).exercise).unlink()
    result = run("check", "4")
    assert result.exit_code == 2
    said = " ".join(result.output.split())
    assert "exercises/04-input-gate.py is missing" in said
    assert "workbook reset 4" in said and "nothing was recorded" in said
    assert all(line == line.rstrip() for line in result.output.splitlines())
    assert _attempts(run) == 0
    as_json = run("check", "4", "--json")
    assert json.loads(as_json.output)["error"]["kind"] == "missing"
    assert _attempts(run) == 0


def test_a_missing_file_is_never_recorded_whoever_grades_it(session, workspace):
    """The core rule behind every face (the TUI's c, check --all, review)."""
    lesson = workspace.course.lesson(3)
    workspace.path(lesson.exercise).unlink()
    result = session.check(lesson)
    assert result.error is not None and result.error.kind == "missing"
    assert session.progress.attempts(lesson.id) == []
    assert session.missing_exercises() == [lesson]


def test_list_says_which_files_are_missing(run, workspace):
    workspace.path(workspace.course.lesson(5).exercise).unlink()
    result = run("list")
    assert result.exit_code == 0
    said = " ".join(result.output.split())
    assert "file missing" in said
    assert "Missing: exercises/05-candidate.py" in said and "workbook reset 5" in said


def test_list_says_when_the_exercises_folder_is_gone(run, workspace):
    import shutil

    shutil.rmtree(workspace.path("exercises"))
    result = run("list")
    assert result.exit_code == 0
    said = " ".join(result.output.split())
    assert "exercises/ is missing" in said and "workbook reset --all" in said
    folder_gone = run("check", "2")
    assert folder_gone.exit_code == 2
    assert "workbook reset --all" in " ".join(folder_gone.output.split())
    assert run("reset", "--all", "-y").exit_code == 0
    assert "missing" not in run("list").output.lower()


def _pass(session, *numbers: int) -> None:
    for number in numbers:
        lesson = session.course.lesson(number)
        session.progress.record_attempt(lesson.id, "passed", 0.1, [], "")


def test_continue_at_a_passed_lesson_says_why_the_current_one_is_later(run, session):
    _pass(session, 1, 2, 3, 20)
    said = " ".join(run("continue-at", "20").output.split())
    assert "Current lesson: 21." in said
    assert "lesson 20 has passed" in said
    assert "first unpassed one from 20 on" in said
    said = " ".join(run("continue-at", "1").output.split())
    assert "Current lesson: 4." in said and "lessons 1–3 have passed" in said


def test_continue_at_explains_a_current_lesson_before_the_chosen_one(run, session):
    _pass(session, *range(20, 24))
    said = " ".join(run("continue-at", "22").output.split())
    assert "Current lesson: 1." in said
    assert "Every lesson from 22 on has passed" in said


def test_continue_at_an_open_lesson_or_none(run, session):
    said = " ".join(run("continue-at", "5").output.split())
    assert said.startswith("Current lesson: 5. Candidate") and "passed" not in said
    assert "the first one not passed yet" in " ".join(run("continue-at").output.split())


def test_hints_reveal_one_at_a_time(run, workspace):
    lesson = workspace.course.lessons[0]
    outputs = [run("hint", "1").output for _ in range(len(lesson.hints) + 1)]
    assert f"Hint 1/{len(lesson.hints)}" in outputs[0]
    assert lesson.hints[1] not in outputs[0]
    assert lesson.hints[1] in outputs[1]
    assert "last hint" in outputs[-1]
    data = json.loads(run("list", "--json").output)
    assert data["lessons"][0]["hints_revealed"] == len(lesson.hints)
    # Every one of them asked for: none came by itself with a failure.
    assert data["lessons"][0]["hints_asked"] == len(lesson.hints)
    assert data["lessons"][0]["hints_auto"] == 0
    table = run("progress").output
    assert "hints shown" in table and "asked for" in table


def test_reset_asks_and_keeps_a_backup(run, workspace):
    lesson = workspace.course.lessons[0]
    path = workspace.path(lesson.exercise)
    path.write_text("# my work\n")
    declined = run("reset", "1", input="n\n")
    assert declined.exit_code == 1
    assert path.read_text() == "# my work\n"
    done = run("reset", "1", "--yes")
    assert done.exit_code == 0
    assert path.read_text() == workspace.stub_for(lesson)
    backups = list((workspace.state_dir / "backups").glob("*.py"))
    assert [b.read_text() for b in backups] == ["# my work\n"]


def test_reset_without_an_answer_resets_nothing_and_says_how(run, workspace):
    """Input that ends before an answer (a script, Ctrl-D) is a no: said on its own
    line with the way to reset without asking, not click's bare "Aborted!"."""
    lesson = workspace.course.lessons[0]
    path = workspace.path(lesson.exercise)
    path.write_text("# my work\n")
    for args in (("reset", "1"), ("reset", "--all")):
        silent = run(*args, input="")
        assert silent.exit_code == 1, args
        assert "Aborted" not in silent.output
        assert "Nothing was reset (no answer: `-y` resets without asking)." in silent.output
        assert silent.output.splitlines()[-1].startswith("Nothing was reset")
        assert path.read_text() == "# my work\n"


def test_reset_says_when_it_restores_a_deleted_file(run, workspace):
    lesson = workspace.course.lessons[0]
    path = workspace.path(lesson.exercise)
    again = run("reset", "1", "--yes")
    assert "was already the original stub" in again.output
    path.unlink()
    done = run("reset", "1", "--yes")
    assert done.exit_code == 0 and "was missing: restored its original stub" in done.output
    assert path.read_text() == workspace.stub_for(lesson)


def test_solution_only_after_passing(run, workspace):
    lesson = workspace.course.lessons[0]
    locked = run("solution", "1")
    assert locked.exit_code == 1 and "once you have passed" in locked.output
    write_solution(workspace, lesson)
    assert run("check", "1").exit_code == 0
    shown = run("solution", "1")
    assert shown.exit_code == 0
    assert "BEGIN SOLUTION" not in shown.output and "def sigmoid" in shown.output


def test_solution_without_a_lesson_is_the_one_passed_last(run, workspace):
    none_yet = run("solution")
    assert none_yet.exit_code == 1 and "No lesson passed yet" in none_yet.output
    for number in (2, 1):  # lesson 1 passed last, though lesson 2 comes later
        write_solution(workspace, workspace.course.lesson(number))
        assert run("check", str(number)).exit_code == 0
    shown = run("solution")
    assert shown.exit_code == 0
    assert "1. Sigmoid and tanh" in shown.output and "def sigmoid" in shown.output


def test_list_flags_a_passed_lesson_that_fails_again(run, workspace):
    lesson = workspace.course.lesson(1)
    reference = workspace.solution_for(lesson)

    def first_row():
        return json.loads(run("list", "--json").output)["lessons"][0]

    write_solution(workspace, lesson)
    assert run("check", "1").exit_code == 0
    assert first_row()["broken_since_pass"] is False
    write_solution(workspace, lesson, reference.replace("np.tanh(x)", "np.tanh(x) + 1"))
    assert run("check", "1").exit_code == 1
    row = first_row()
    assert row["status"] == "passed" and row["broken_since_pass"] is True
    assert "passed, now failing" in run("list").output
    write_solution(workspace, lesson)
    assert run("check", "1").exit_code == 0
    assert first_row()["broken_since_pass"] is False
    assert "now failing" not in run("list").output


def test_square_brackets_in_titles_survive_the_terminal(run):
    """Rich reads [...] as markup; a lesson about [h_{t-1}, x_t] must not lose it."""
    shown = " ".join(run("show", "2").output.split())  # rich wraps at 80 columns
    assert "The concatenation [h_{t-1}, x_t] (Activations and gates: not started)" in shown
    assert "Concatenation [h_{t-1}, x_t]" in run("glossary", "concat").output


def test_glossary_lookup_and_json(run):
    one = run("glossary", "σ")
    assert one.exit_code == 0 and "Sigmoid" in one.output
    data = json.loads(run("glossary", "--json").output)
    keys = {t["key"]: t for t in data["terms"]}
    assert keys["sigmoid"]["unlocked"] is True  # lesson 1 is current
    assert {"key", "name", "definition", "lessons", "unlocked"} <= set(keys["sigmoid"])
    assert run("glossary", "no-such-term").exit_code == 2


def test_init_makes_a_fresh_workspace_and_refuses_to_overwrite(tmp_path):
    runner = CliRunner()
    target = tmp_path / "course"
    made = runner.invoke(cli, ["init", str(target)], obj={})
    assert made.exit_code == 0, made.output
    assert (target / "course" / "course.toml").is_file()
    first = sorted((target / "exercises").glob("*.py"))[0]
    first.write_text("# learner work\n")
    again = runner.invoke(cli, ["init", str(target)], obj={})
    assert again.exit_code == 2
    assert first.read_text() == "# learner work\n"


def test_workspace_is_found_from_a_subfolder(workspace, monkeypatch):
    monkeypatch.chdir(workspace.root / "exercises")
    result = CliRunner().invoke(cli, ["list", "--json"], obj={})
    assert result.exit_code == 0
    assert json.loads(result.output)["workspace"] == str(workspace.root)


@pytest.mark.parametrize("command", ["list", "progress", "hint 1", "glossary", "check 1"])
def test_light_commands_import_neither_tensorflow_nor_textual(workspace, command):
    probe = (
        "import sys\n"
        "from workbook.cli import cli\n"
        f"cli({['--workspace', str(workspace.root), *command.split()]!r}, obj={{}},"
        " standalone_mode=False)\n"
        "heavy = [m for m in ('tensorflow', 'keras', 'textual') if m in sys.modules]\n"
        "print('HEAVY', heavy, file=sys.stderr)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, env=dict(os.environ)
    )
    assert "HEAVY []" in done.stderr, done.stderr


def test_show_prints_the_text_without_hints_or_answers(run, workspace):
    lesson = workspace.course.lesson(22)
    assert lesson.explanation and lesson.explanation not in lesson.text
    before = run("show", "22")
    assert before.exit_code == 0
    assert lesson.title in before.output
    assert "After you answer" not in before.output
    assert lesson.hints[0][:30] not in before.output
    write_solution(workspace, lesson)
    assert run("check", "22").exit_code == 0
    assert "After you answer" in run("show", "22").output


def test_glossary_finds_a_term_by_its_symbol(run):
    result = run("glossary", "C̃_t")
    assert result.exit_code == 0 and "Candidate cell state" in result.output


def test_check_all_with_a_lesson_is_a_usage_error(run):
    assert run("check", "2", "--all").exit_code == 2


def test_no_hint_for_a_syntax_error_and_long_output_is_cut(run, workspace):
    lesson = workspace.course.lessons[0]
    reference = workspace.solution_for(lesson)
    write_solution(workspace, lesson, reference.replace("return np.tanh(x)", "return np.tanh(x"))
    broken = run("check", "1")
    assert "syntax error" in broken.output and "Hint 1/" not in broken.output
    noisy = reference.replace(
        "return np.tanh(x)", "for i in range(300):\n        print('line', i)\n    return np.tanh(x)"
    )
    write_solution(workspace, lesson, noisy)
    passed = run("check", "1")
    assert passed.exit_code == 0
    # 20 lines shown; how many are left out depends on how often the checks call tanh
    assert re.search(r"… \d{3} more lines not shown", passed.output)
    assert re.search(r"\bline 0\b", passed.output)
    assert not re.search(r"\bline 299\b", passed.output)


def test_the_progress_bar_ends_its_line_on_a_terminal():
    """On a terminal the bar is drawn; the shell prompt must not land on it."""
    import io

    from rich.console import Console

    from workbook.cli.render import progress_line

    out = io.StringIO()
    Console(file=out, force_terminal=True, width=80).print(progress_line(3, 23))
    text = out.getvalue()
    assert "3 / 23 lessons passed (13%)" in text and "━" in text
    assert text.endswith("\n")


def _rendered(result, width: int = 80) -> list[str]:
    """`check`'s human output for `result`, as a `width`-column terminal shows it."""
    import io

    from rich.console import Console

    from workbook.cli import render

    out = Console(width=width, file=io.StringIO(), highlight=False, soft_wrap=False)
    out.begin_capture()
    render.grade_result(
        out, result, "3. Forget gate f_t", "exercises/03-forget-gate.py", None, 3, [], 3
    )
    return out.end_capture().splitlines()


def test_wrapped_diagnoses_keep_their_indent_at_80_columns():
    """A diagnosis wrapped at 80 columns continued at the left edge, under the marks,
    and an array broke wherever the line ended."""
    from tests.tui_support import BATCH_GOT, failed_with_arrays

    lines = _rendered(failed_with_arrays())
    assert all(len(line) <= 80 and line == line.rstrip() for line in lines), lines
    checks = [i for i, line in enumerate(lines) if line.startswith((" ✗ ", " ✓ "))]
    assert len(checks) == 2
    for index, line in enumerate(lines[1:], start=1):
        if index in checks:
            continue
        assert line.startswith("     "), line  # details, wrapped lines too, under the name
    got = [i for i, line in enumerate(lines) if line.startswith("     got      [ 0.8")]
    (first,) = got
    assert lines[first + 1].startswith(" " * 14) and not lines[first + 1][14].isspace()
    shown = " ".join(line.strip() for line in lines[first : first + 3])
    for number in re.findall(r"-?\d\.\d+", BATCH_GOT):  # each whole, on one line
        assert re.search(rf"(?<![\d.]){re.escape(number)}(?!\d)", shown), number
    assert "(shape (2, 4))" in shown


def test_a_wrapped_check_name_stays_under_itself():
    from workbook.grading.results import CheckResult, GradeResult, Verdict

    name = "a large bias b_f keeps the memory (f_t ≈ 1); a very negative one forgets (f_t ≈ 0)"
    result = GradeResult("03-forget-gate", Verdict.FAILED, 0.1, [CheckResult("t", name, "failed")])
    lines = _rendered(result)
    first = next(i for i, line in enumerate(lines) if line.startswith(" ✗ a large bias"))
    assert lines[first + 1].startswith("   ") and lines[first + 1].strip().endswith("≈ 0)")


def test_the_test_suite_reports_how_far_it_is():
    """The README's test command runs many minutes on a busy machine: each line of dots
    ends with [done/total]. Its options are otherwise what they were (every core)."""
    import tomllib
    from pathlib import Path

    pyproject = tomllib.loads((Path(__file__).parents[1] / "pyproject.toml").read_text())
    options = pyproject["tool"]["pytest"]["ini_options"]
    assert options["console_output_style"] == "count"
    assert options["addopts"] == "-ra -n auto"
    readme = (Path(__file__).parents[1] / "README.md").read_text(encoding="utf-8")
    assert "[tests done/total]" in readme


def test_a_flooded_output_panel_keeps_its_note_whole_at_80_columns():
    """The note about left-out and dropped output is a line of its own: as the panel's
    title it was cut mid-word at 80 columns."""
    import io

    from rich.console import Console

    from workbook.cli.render import output_panel

    out = io.StringIO()
    console = Console(file=out, width=80, color_system=None)
    console.print(output_panel("".join(f"spam {n}\n" for n in range(800)), truncated=True))
    text = " ".join(out.getvalue().replace("│", " ").split())
    assert "… 780 more lines not shown; your code printed more than 8 kB, and only the" in text
    assert "first 8 kB was kept" in text
    assert "your output" in text
