"""The TUI's main flows, driven by Textual's pilot at 80×24."""

from __future__ import annotations

import asyncio
import contextlib
import re
import time

import pytest
from click.testing import CliRunner
from rich.cells import cell_len
from textual.widgets import Input, TabbedContent

from tests.conftest import write_solution
from tests.tui_support import LESSON, failing_version, screen_text, wait_for_results
from workbook.cli import cli
from workbook.grading import service
from workbook.session import Session
from workbook.tui.app import WorkbookApp
from workbook.tui.lesson_text import LessonText
from workbook.tui.screens import ConfirmScreen, GlossaryScreen, SolutionScreen
from workbook.tui.widgets import LessonList, LessonPane, ResultPane, VerdictBar
from workbook.workspace import Workspace, bundled_root, init_workspace

SIZE = (80, 24)
pytestmark = pytest.mark.anyio


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"  # Textual runs on asyncio


@pytest.fixture(autouse=True)
def _cold_and_still(monkeypatch, workspace):
    """Cold grading (no background server) unless a test asks, a fixed theme, and
    the workspace as the cwd so paths are shown relative to it."""
    monkeypatch.setenv("WORKBOOK_WARM", "0")
    monkeypatch.delenv("WORKBOOK_THEME", raising=False)
    monkeypatch.delenv("COLORFGBG", raising=False)
    monkeypatch.chdir(workspace.root)


def _result_text(app) -> str:
    return "\n".join(str(w.content) for w in app.main_screen.query_one(ResultPane).children)


async def test_starts_on_the_current_lesson_with_progress(session):
    app = WorkbookApp(session, watch=False)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        await pilot.pause()  # the footer follows the focus, one refresh later
        total = len(session.course.lessons)
        text = screen_text(app)
        assert f"0/{total} lessons passed (0%)" in text
        assert app.lesson.id == LESSON
        assert "0/5 Activations and gates" in text
        assert "Sigmoid and tanh" in text
        assert "exercises/01-activations.py" in text
        assert "c Check" in text and "q Quit" in text and "n p Next/prev" in text


async def test_next_and_previous_lesson(session):
    lessons = session.course.lessons
    app = WorkbookApp(session, watch=False)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("p")
        assert app.lesson is lessons[0]  # nothing before the first lesson
        await pilot.press("n")
        await pilot.pause()
        assert app.lesson is lessons[min(1, len(lessons) - 1)]
        await pilot.press("p")
        await pilot.pause()
        assert app.lesson is lessons[0]
        assert app.main_screen.query_one(LessonList).highlighted_option.id == lessons[0].id
        tabs = app.main_screen.query_one(TabbedContent)
        await pilot.press("v")  # the result tab …
        await pilot.pause()
        assert tabs.active == "result"
        await pilot.press("n")  # … gives way to the next lesson's text
        await pilot.pause()
        assert tabs.active == "lesson"


@pytest.mark.parametrize(("start", "key", "end"), [(11, "p", 1), (1, "n", 11)])
async def test_quick_presses_move_exactly_that_many_lessons(session, start, key, end):
    """Ten presses 50 ms apart land ten lessons away (they once stopped on lesson 3,
    stale highlight messages sending the view back and forth)."""
    app = WorkbookApp(session, watch=False)
    async with app.run_test(size=SIZE) as pilot:
        await app.go_to_lesson(session.course.lesson(start).id)
        await pilot.pause()
        for _ in range(10):
            await pilot.press(key)
            await asyncio.sleep(0.05)
        await pilot.pause()
        assert app.lesson.number == end
        assert app.main_screen.query_one(LessonList).highlighted_option.id == app.lesson.id
        assert app.main_screen.query_one(LessonPane).source.count(app.lesson.title) <= 1
        assert f"Lesson {end} ·" in screen_text(app)


async def test_keys_faster_than_drawing_draw_only_where_they_land(session):
    """Presses that arrive while the screen is busy select at once and draw once."""
    app = WorkbookApp(session, watch=False)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        drawn = len(app.lessons_shown)
        for _ in range(7):  # as if seven key events were waiting in the queue
            app.action_next_lesson()
        await pilot.pause()
        assert app.lesson.number == 8
        assert [lesson_id for lesson_id, _ in app.lessons_shown[drawn:]] == [app.lesson.id]


async def test_the_lesson_text_scrolls_without_a_focus_dance(session):
    app = WorkbookApp(session, watch=False)
    async with app.run_test(size=SIZE) as pilot:
        await app.go_to_lesson(session.course.lesson(11).id)
        await pilot.pause()
        pane = app.main_screen.query_one(LessonPane)
        assert pane.has_focus
        await pilot.press("pagedown")
        await pilot.pause()
        assert pane.scroll_y > 0
        await pilot.press("down")
        await pilot.pause()
        assert app.lesson.number == 11  # the keys scrolled the text, not the list


async def test_check_a_failing_then_a_passing_file(session, workspace):
    lesson = workspace.course.lesson(LESSON)
    app = WorkbookApp(session, watch=False)
    async with app.run_test(size=SIZE) as pilot:
        write_solution(workspace, lesson, failing_version(workspace.solution_for(lesson)))
        await pilot.press("c")
        await wait_for_results(app, pilot, 1)
        assert app.main_screen.query_one(TabbedContent).active == "result"
        shown = _result_text(app)
        assert "✗ Failed" in shown
        assert "this is σ(−x)" in shown
        assert "expected" in shown and "got" in shown
        assert "Hint 1/" in shown  # the first hint comes with a failure
        assert "✗" in str(app.main_screen.query_one(VerdictBar).content)
        assert session.statuses()[0].status == "failed"
        assert not session.has_passed(lesson)

        write_solution(workspace, lesson)
        await pilot.press("c")
        await wait_for_results(app, pilot, 2)
        shown = _result_text(app)
        assert "✓ Passed" in shown and "Well done" in shown
        assert session.has_passed(lesson)
        assert f"1/{len(session.course.lessons)} lessons passed" in screen_text(app)
        assert app.lesson is lesson  # passing does not move on by itself

        await pilot.press("s")
        await pilot.pause()
        assert isinstance(app.screen, SolutionScreen)
        assert "def sigmoid" in app.screen.code
        await pilot.press("escape")
        await pilot.press("n")
        await pilot.pause()
        expected = session.course.lessons[min(1, len(session.course.lessons) - 1)]
        assert app.lesson is expected


async def test_a_plot_is_built_when_its_tab_is_seen(session, workspace):
    """Lesson 1's check plots the learner's curves: a save graded while another tab is
    shown labels the Plot tab at once but builds the plot only when the tab is seen,
    and a newer attempt's plot replaces it there."""
    from workbook.tui.widgets import PlotPane

    lesson = workspace.course.lesson(LESSON)
    app = WorkbookApp(session, watch=False)
    async with app.run_test(size=SIZE) as pilot:
        write_solution(workspace, lesson)
        await pilot.press("c")
        await wait_for_results(app, pilot, 1)
        pane = app.main_screen.query_one(PlotPane)
        assert app.main_screen.query_one(TabbedContent).active == "result"
        assert "Plot 1" in screen_text(app)
        assert not pane.query(".plot-block")  # not built: nobody looks at it
        await pilot.press("o")
        await pilot.pause()
        assert len(pane.query(".plot-block")) == 1
        assert "sigmoid" in screen_text(app).lower()
        first = pane.query_one(".plot-block")

        write_solution(workspace, lesson, failing_version(workspace.solution_for(lesson)))
        await pilot.press("c")
        await wait_for_results(app, pilot, 2)
        await pilot.press("o")
        await pilot.pause()
        blocks = pane.query(".plot-block")
        assert len(blocks) == 1 and blocks.first() is not first  # the new attempt's plot


async def test_a_passed_lesson_that_fails_again_is_marked(session, workspace):
    lesson = workspace.course.lesson(LESSON)
    app = WorkbookApp(session, watch=False)
    async with app.run_test(size=SIZE) as pilot:
        write_solution(workspace, lesson)
        await pilot.press("c")
        await wait_for_results(app, pilot, 1)
        assert "passed, but your last" not in screen_text(app)
        write_solution(workspace, lesson, failing_version(workspace.solution_for(lesson)))
        await pilot.press("c")
        await wait_for_results(app, pilot, 2)
        await pilot.press("l")
        await pilot.pause()
        text = screen_text(app)
        assert "passed, but your last" in text  # the header wraps at 80 columns
        assert "!  1 Sigmoid and tanh" in text
        assert f"1/{len(session.course.lessons)} lessons passed" in text  # still counted


async def test_the_explanation_opens_with_the_first_pass(session, workspace):
    lesson = workspace.course.lesson(22)
    assert lesson.explanation
    app = WorkbookApp(session, watch=False)
    async with app.run_test(size=SIZE) as pilot:
        await app.go_to_lesson(lesson.id)
        pane = app.main_screen.query_one(LessonPane)
        assert "After you answer" not in pane.source
        write_solution(workspace, lesson)
        await pilot.press("c")
        await wait_for_results(app, pilot, 1)
        assert "After you answer" in pane.source  # without leaving the lesson


async def test_syntax_error_shows_file_line_and_code(session, workspace):
    lesson = workspace.course.lesson(LESSON)
    broken = workspace.solution_for(lesson).replace("def tanh(x):", "def tanh(x)")
    write_solution(workspace, lesson, broken)
    line = broken.splitlines().index("def tanh(x)") + 1
    app = WorkbookApp(session, watch=False)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("c")
        await wait_for_results(app, pilot, 1)
        shown = _result_text(app)
        assert "! Error" in shown
        assert f"exercises/01-activations.py:{line}" in shown
        assert f"{line} │ def tanh(x)" in shown


async def test_solution_is_closed_before_a_pass(session, monkeypatch):
    app = WorkbookApp(session, watch=False)
    said: list[str] = []
    monkeypatch.setattr(app, "notify", lambda message, **_: said.append(message))
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        await pilot.pause()  # the footer follows the focus, one refresh later
        assert "s Solution" in screen_text(app)  # the key is there, and live
        await pilot.press("s")
        await pilot.pause()
        assert not isinstance(app.screen, SolutionScreen)
        assert any("opens once you have passed" in m for m in said)  # said, not silent


async def test_hints_one_at_a_time_and_shared_with_the_cli(session, workspace):
    lesson = workspace.course.lesson(LESSON)
    app = WorkbookApp(session, watch=False)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("h")
        await pilot.pause()
        assert app.main_screen.query_one(TabbedContent).active == "hints"
        text = screen_text(app)
        assert "Hint 1/4" in text and "Hint 2/4" not in text
        assert session.progress.hints_revealed(lesson.id) == 1

        # The CLI reveals the second one in the same workspace...
        result = CliRunner().invoke(cli, ["--workspace", str(workspace.root), "hint", "1"], obj={})
        assert result.exit_code == 0, result.output
        assert "Hint 2/4" in result.output

        # ...so the app's next key press reveals the third, and shows all three in order.
        await pilot.press("h")
        await pilot.pause()
        assert session.progress.hints_revealed(lesson.id) == 3
        body = str(app.main_screen.query_one("#hints-body").content)
        positions = [body.index(f"Hint {n}/4") for n in (1, 2, 3)]
        assert positions == sorted(positions) and "Hint 4/4" not in body
        assert app.main_screen.query_one(TabbedContent).get_tab("hints").label.plain == "Hints 3/4"

        await pilot.press("h", "h")
        await pilot.pause()
        assert session.progress.hints_revealed(lesson.id) == 4  # never more than there are
        assert "That was the last hint." in str(app.main_screen.query_one("#hints-body").content)


async def test_glossary_lists_searches_and_locks(session, workspace):
    app = WorkbookApp(session, watch=False)
    unlocked = session.unlocked_terms()
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("g")
        await pilot.pause()
        assert isinstance(app.screen, GlossaryScreen)
        entries = {w.id.removeprefix("term-"): w for w in app.screen.query(".term-entry")}
        assert set(entries) == set(workspace.glossary)
        for key, entry in entries.items():
            locked = "🔒" in str(entry.content)
            assert locked == (key not in unlocked)
        assert "Sigmoid" in str(entries["sigmoid"].content)
        assert "σ(x) = 1 / (1 + e^(−x))" in str(entries["sigmoid"].content)

        await pilot.press(*"tanh")
        await pilot.pause()
        assert app.screen.query_one(Input).value == "tanh"
        visible = {key for key, entry in entries.items() if entry.display}
        assert "tanh" in visible and "sigmoid" not in visible and "lstm" not in visible

        await pilot.press(*"zzzz")
        await pilot.pause()
        assert app.screen.query_one("#glossary-empty").display

        await pilot.press("escape")
        await pilot.pause()
        assert not isinstance(app.screen, GlossaryScreen)


async def test_glossary_search_keeps_locked_definitions_hidden(session, workspace):
    locked = [t for t in workspace.glossary.values() if t.key not in session.unlocked_terms()]
    if not locked:
        pytest.skip("every term is unlocked at the start of this course")
    term = locked[0]
    word = max(re.findall(r"[a-z]{6,}", term.definition.lower()), key=len)
    app = WorkbookApp(session, watch=False)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("g")
        await pilot.pause()
        app.screen.query_one(Input).value = word
        await pilot.pause()
        entry = app.screen.query_one(f"#term-{term.key}")
        matches_name = word in (term.name + term.key + term.symbol + " ".join(term.aliases)).lower()
        assert entry.display == matches_name


async def test_glossary_search_puts_an_exact_symbol_first(session):
    """Searching "σ" listed three gates (whose equations use σ) before Sigmoid (σ)."""
    app = WorkbookApp(session, watch=False)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("g")
        await pilot.pause()
        app.screen.unlocked = set(session.workspace.glossary)  # as late in the course
        app.screen.query_one(Input).value = "σ"
        await pilot.pause()
        listing = app.screen.query_one("#glossary-list")
        shown = [w.id for w in listing.children if w.display and w.id != "glossary-empty"]
        assert shown[0] == "term-sigmoid" and len(shown) > 1


def test_glossary_definitions_render_inline_code(session):
    from workbook.tui.screens import GlossaryScreen

    term = next(t for t in session.workspace.glossary.values() if "`" in t.definition)
    screen = GlossaryScreen(session)
    screen.unlocked = {term.key}
    text = str(screen._describe(term))
    assert "`" not in text.split("\n")[1]


async def test_the_palette_lists_the_workbooks_commands_first(session):
    from textual.command import CommandList, CommandPalette

    app = WorkbookApp(session, watch=False)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("ctrl+p")
        await pilot.pause(0.3)
        assert isinstance(app.screen, CommandPalette)
        options = app.screen.query_one(CommandList)
        first = [str(options.get_option_at_index(i).prompt) for i in range(3)]
        assert first[0].startswith("Check the lesson"), first
        await pilot.press(*"quit")
        await pilot.pause(0.3)
        assert str(options.get_option_at_index(0).prompt).startswith("Quit"), "ours, not Textual's"


async def test_toasts_wait_while_a_dialog_is_open(session, monkeypatch):
    monkeypatch.delenv("VISUAL", raising=False)
    monkeypatch.delenv("EDITOR", raising=False)
    app = WorkbookApp(session, watch=False)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("e")  # "No editor set", a 12 s toast
        await pilot.pause()
        assert len(app._notifications) == 1
        await pilot.press("r")
        await pilot.pause()
        assert isinstance(app.screen, ConfirmScreen)
        assert len(app._notifications) == 0  # nothing over the buttons
        app.notify("graded in the background")
        assert len(app._notifications) == 0
        await pilot.press("n")
        await pilot.pause()
        await pilot.pause()
        assert [n.message for n in app._notifications] == ["graded in the background"]


async def test_a_lesson_term_jumps_to_the_glossary(session):
    app = WorkbookApp(session, watch=False)
    async with app.run_test(size=SIZE) as pilot:
        terms = app.main_screen.query_one("#lesson-terms")
        names = {app.session.workspace.glossary[key].name for key in app.lesson.glossary}
        assert all(name in str(terms.content) for name in names)
        await app.run_action("term('sigmoid')")  # what clicking the term runs
        await pilot.pause()
        await pilot.pause()
        assert isinstance(app.screen, GlossaryScreen)
        assert app.screen.query_one("#term-sigmoid").has_class("-chosen")


async def test_reset_asks_first_and_keeps_a_backup(session, workspace):
    lesson = workspace.course.lesson(LESSON)
    mine = failing_version(workspace.solution_for(lesson))
    write_solution(workspace, lesson, mine)
    app = WorkbookApp(session, watch=False)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("r")
        await pilot.pause()
        assert isinstance(app.screen, ConfirmScreen)
        await pilot.press("n")
        await pilot.pause()
        assert workspace.path(lesson.exercise).read_text() == mine  # "no" changes nothing

        await pilot.press("r")
        await pilot.pause()
        await pilot.press("y")
        await pilot.pause()
        assert workspace.is_untouched(lesson)
        backups = list((workspace.state_dir / "backups").glob("01-activations.*.py"))
        assert len(backups) == 1 and backups[0].read_text() == mine


async def test_a_save_is_graded_and_a_newer_save_wins(session, workspace):
    lesson = workspace.course.lesson(LESSON)
    reference = workspace.solution_for(lesson)
    app = WorkbookApp(session)  # watching
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause(0.5)  # the watcher is up
        write_solution(workspace, lesson, failing_version(reference))
        await wait_for_results(app, pilot, 1)
        assert app.results_shown[-1][:2] == (LESSON, "failed")

        # An endless loop, then a fix before it times out: the loop is cancelled.
        write_solution(
            workspace, lesson, reference.replace("return np.tanh(x)", "while True:\n        pass")
        )
        await asyncio.sleep(0.8)
        assert app.grading is lesson
        write_solution(workspace, lesson, reference)
        await wait_for_results(app, pilot, 2, timeout=lesson.timeout_s - 1)
        assert app.results_shown[-1][:2] == (LESSON, "passed")
        assert [verdict for _, verdict, _ in app.results_shown] == ["failed", "passed"]
        assert "✓ Passed" in _result_text(app)


async def test_warm_grading_in_the_app(session, workspace, monkeypatch):
    monkeypatch.delenv("WORKBOOK_WARM")
    lesson = workspace.course.lesson(LESSON)
    write_solution(workspace, lesson)
    app = WorkbookApp(session, watch=False)
    async with app.run_test(size=SIZE) as pilot:
        assert app.warm is not None
        assert await asyncio.to_thread(app.warm.wait_until_ready, 30)
        # Staying on the lesson has a judge prepared for its first save.
        deadline = time.monotonic() + 30
        while service.request(workspace.root, {"op": "status"})["prepared"] < 1:
            assert time.monotonic() < deadline, "the app asked for no judge ahead of a save"
            await pilot.pause(0.05)
        await pilot.press("c")
        await wait_for_results(app, pilot, 1)
        assert app.results_shown[-1][1] == "passed"
        assert app.warm.fallbacks == 0
        status = service.request(workspace.root, {"op": "status"})
        assert status["attempts"] >= 1  # graded by the workspace's shared service
        assert status["graded_by_prepared"] == 1
    assert session.grader is None
    # The service outlives the app (the CLI and `watch` use it too) until it is idle.
    assert service.running(workspace.root)
    assert service.stop(workspace.root)


async def test_edit_without_an_editor_shows_the_path(session, workspace, monkeypatch):
    monkeypatch.delenv("VISUAL", raising=False)
    monkeypatch.delenv("EDITOR", raising=False)
    app = WorkbookApp(session, watch=False)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("e")
        await pilot.pause()
        messages = [n.message for n in app._notifications]
        assert any(str(workspace.path("exercises/01-activations.py")) in m for m in messages)


async def test_command_palette_runs_the_same_actions(session):
    app = WorkbookApp(session, watch=False)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("ctrl+p")
        await pilot.pause()
        await pilot.press(*"open the glossary")
        await pilot.pause(0.3)
        await pilot.press("enter")
        await pilot.pause()
        assert isinstance(app.screen, GlossaryScreen)


async def test_adapts_to_the_terminal_size(session):
    app = WorkbookApp(session, watch=False)
    async with app.run_test(size=(56, 20)) as pilot:
        await pilot.pause()
        assert not app.main_screen.query_one("#sidebar").display
        await pilot.resize_terminal(120, 30)
        await pilot.pause()
        assert app.main_screen.query_one("#sidebar").display
        assert "Sigmoid and tanh" in screen_text(app)


async def test_quit_keys(session):
    for key in ("q", "ctrl+q"):
        app = WorkbookApp(session, watch=False)
        async with app.run_test(size=SIZE) as pilot:
            await pilot.press(key)
            await pilot.pause()
        assert app.return_code == 0


# -- lesson text ------------------------------------------------------------------------

BUNDLED = Workspace(bundled_root())
SYMBOLS = re.compile(r"[^\x00-\x7f]|\w_\{[^}]*\}|\w_\w+")


def _symbols(text: str) -> set[str]:
    """Non-ASCII characters (σ, ⊙, the tilde of C̃) and subscripts (h_{t-1}, W_f)."""
    return set(SYMBOLS.findall(text)) - {"\u2019"}


def _rendered_text(text: LessonText) -> str:
    return "\n".join(text.render_line(y).text for y in range(text.size.height))


@pytest.mark.parametrize("lesson_id", [lesson.id for lesson in BUNDLED.course.lessons])
async def test_every_lesson_text_keeps_its_symbols(lesson_id, session):
    from workbook.tui.widgets import lesson_markdown

    lesson = BUNDLED.course.lesson(lesson_id)
    source = lesson_markdown(lesson.text, lesson.title)
    app = WorkbookApp(session, watch=False)
    async with app.run_test(size=(200, 400)) as pilot:
        app.main_screen.query_one(LessonPane).show(
            lesson, session.statuses()[0], "topic", lesson.exercise, []
        )
        await pilot.pause()
        rendered = _rendered_text(app.main_screen.query_one(LessonText))
        flat = rendered.replace("\n", " ")
        symbols = _symbols(source)
        assert "σ" in flat or "σ" not in symbols
        missing = {s for s in symbols if s not in flat}
        assert not missing, f"{lesson_id}: lost {sorted(missing)} when rendered"


def _fence_words(markdown: str) -> list[str]:
    words, inside = [], False
    for line in markdown.splitlines():
        if line.strip().startswith(("```", "~~~")):
            inside = not inside
        elif inside:
            words.extend(line.split())
    return words


@pytest.mark.parametrize("lesson_id", [lesson.id for lesson in BUNDLED.course.lessons])
async def test_preformatted_blocks_keep_every_word_at_80_columns(lesson_id, session):
    """Equations and code wrap behind a visible ↪ instead of being cut at the pane's
    edge (lesson 19 lost "gate order i, f, c, o", lesson 2 "h FIRST")."""
    from workbook.tui.lesson_text import CONTINUED

    app = WorkbookApp(session, watch=False)
    async with app.run_test(size=(80, 24)) as pilot:
        await app.go_to_lesson(lesson_id)
        await pilot.pause()
        text = app.main_screen.query_one(LessonText)
        rendered = _rendered_text(text)
        assert max(cell_len(line.rstrip()) for line in rendered.splitlines()) <= text.size.width
        squeezed = re.sub(r"\s|▏|↪", "", rendered)  # a long word may be cut anywhere
        for word in _fence_words(app.main_screen.query_one(LessonPane).source):
            found = squeezed.find(word)
            assert found >= 0, f"{lesson_id}: {word!r} is not on screen"
            squeezed = squeezed[found + len(word) :]
        if lesson_id.startswith("19"):
            assert CONTINUED.strip() in rendered


def test_session_is_left_usable(workspace):
    """run_app's contract: the session the CLI passes in stays open for the CLI."""
    session = Session(workspace)
    app = WorkbookApp(session, watch=False)

    async def run() -> None:
        async with app.run_test(size=SIZE) as pilot:
            await pilot.press("q")

    asyncio.run(run())
    assert session.statuses()
    session.close()


SAMPLE = """# Sample

The cell update `C_t = f_t ⊙ C_{t-1} + i_t ⊙ C̃_t` keeps σ-gated memory, and
h_t = o_t ⊙ tanh(C_t) reads it out (shapes (n_h, 1)).

```
f_t = σ(W_f · [h_{t-1}, x_t] + b_f)
```
"""


async def test_unicode_equations_survive_rendering(session):
    """The same check on a text with every kind of notation lessons use."""
    import dataclasses

    lesson = dataclasses.replace(BUNDLED.course.lessons[0], text=SAMPLE, title="Sample")
    app = WorkbookApp(session, watch=False)
    async with app.run_test(size=(200, 100)) as pilot:
        app.main_screen.query_one(LessonPane).show(
            lesson, session.statuses()[0], "topic", lesson.exercise, []
        )
        await pilot.pause()
        flat = _rendered_text(app.main_screen.query_one(LessonText)).replace("\n", " ")
        for symbol in (
            "⊙",
            "C̃_t",
            "h_{t-1}",
            "C_{t-1}",
            "σ(W_f · [h_{t-1}, x_t] + b_f)",
            "h_t = o_t",
        ):
            assert symbol in flat, symbol


def _add_keras_lesson(workspace) -> str:
    """A stand-in Keras lesson (`requires = ["tensorflow"]`) appended to this workspace."""
    course = workspace.root / "course"
    lesson_id = "99-keras-probe"
    toml = (course / "course.toml").read_text()
    last = workspace.course.lessons[-1].id
    (course / "course.toml").write_text(
        toml.replace(f'"{last}",', f'"{last}",\n    "{lesson_id}",', 1)
    )
    (course / "lessons" / f"{lesson_id}.md").write_text(
        '+++\ntitle = "Keras probe"\ntopic = "keras"\nhints = ["one", "two"]\n'
        'requires = ["tensorflow"]\n+++\nA Keras lesson.\n'
    )
    (course / "solutions" / f"{lesson_id}.py").write_text(
        "def f():\n    # BEGIN SOLUTION\n    return 1\n    # END SOLUTION\n"
    )
    (workspace.root / "checks" / f"{lesson_id}.py").write_text("def test_f(learner):\n    pass\n")
    fresh = Workspace(workspace.root)
    fresh.reset(fresh.course.lesson(lesson_id))
    return lesson_id


async def test_a_keras_lesson_preloads_tensorflow_in_the_grader(tmp_path, monkeypatch):
    """Opening a Keras lesson asks the warm grader (a separate process) for tensorflow;
    the app itself never imports it (see test_tui_imports.py)."""
    monkeypatch.delenv("WORKBOOK_WARM")
    # A course author's copy beside the learner's workspace (the autouse fixture's).
    course_workspace = init_workspace(tmp_path / "course", with_answers=True)
    lesson_id = _add_keras_lesson(course_workspace)
    asked: list[bool] = []
    monkeypatch.setattr(
        service.ServiceGrader, "preload_tensorflow", lambda self: asked.append(True)
    )
    session = Session(Workspace(course_workspace.root))
    app = WorkbookApp(session, watch=False)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        assert not asked  # lesson 1 is a NumPy lesson
        await app.go_to_lesson(lesson_id)
        await pilot.pause()
        assert asked
    session.close()


async def test_polling_fallback_grades_a_save(session, workspace, monkeypatch):
    """WORKBOOK_POLL=1 (or WSL on a Windows drive) polls instead of using file events."""
    monkeypatch.setenv("WORKBOOK_POLL", "1")
    lesson = workspace.course.lesson(LESSON)
    app = WorkbookApp(session)
    async with app.run_test(size=SIZE) as pilot:
        # Under load the poller may take its first snapshot late: save until it is
        # listening (each save differs, so every one is a change once it is).
        for attempt in range(20):
            write_solution(workspace, lesson, workspace.solution_for(lesson) + f"# {attempt}\n")
            with contextlib.suppress(AssertionError):
                await wait_for_results(app, pilot, 1, timeout=1.5)
                break
        await wait_for_results(app, pilot, 1)
        assert app.results_shown[-1][:2] == (LESSON, "passed")


def test_learner_output_is_shown_bounded(workspace):
    from workbook.grading.results import GradeResult, Verdict
    from workbook.tui.widgets import OUTPUT_LINES, render_result

    lesson = workspace.course.lesson(LESSON)
    output = "".join(f"line {n}\n" for n in range(OUTPUT_LINES + 15))
    result = GradeResult(lesson.id, Verdict.PASSED, 0.1, output=output, output_truncated=True)
    text = "\n".join(str(content) for content, _ in render_result(result, lesson, None, "x.py"))
    assert "Your output (cut short)" in text
    assert f"line {OUTPUT_LINES - 1}" in text and f"line {OUTPUT_LINES}\n" not in text
    # The count is of the kept lines; the grader dropped output past 8 kB, and says so.
    assert "… 15 more lines not shown; your code printed more than 8 kB" in text
    whole = GradeResult(lesson.id, Verdict.PASSED, 0.1, output=output)
    text = "\n".join(str(content) for content, _ in render_result(whole, lesson, None, "x.py"))
    assert "… 15 more lines not shown" in text and "8 kB" not in text


async def test_progress_made_in_another_process_reaches_the_app(session, workspace):
    """`workbook watch` or `check` in a second terminal: the app follows the store."""
    lesson = workspace.course.lesson(LESSON)
    app = WorkbookApp(session, watch=False)
    async with app.run_test(size=SIZE) as pilot:
        total = len(session.course.lessons)
        assert f"0/{total} lessons passed" in screen_text(app)
        write_solution(workspace, lesson)
        done = CliRunner().invoke(cli, ["--workspace", str(workspace.root), "check", "1"], obj={})
        assert done.exit_code == 0, done.output
        hinted = CliRunner().invoke(cli, ["--workspace", str(workspace.root), "hint", "2"], obj={})
        assert hinted.exit_code == 0, hinted.output
        await app.follow_the_store()  # what the 1 s timer calls
        await pilot.pause()
        text = screen_text(app)
        assert f"1/{total} lessons passed" in text
        assert "✓  1 Sigmoid and tanh" in text
        shown = _result_text(app)
        assert "✓ Passed" in shown and "latest attempt" in shown  # the CLI's attempt
        assert session.has_passed(session.course.lesson(LESSON))
        await pilot.press("n")
        await pilot.pause()
        assert "Hints 1/" in screen_text(app)  # the hint revealed by the CLI


async def test_the_result_pane_shows_the_latest_attempt_made_elsewhere(session, workspace):
    """A failure after a pass, made by the CLI, is what the pane shows (it once said
    "You passed this lesson before"), with its diagnosis; and it says when the file
    changed since."""
    lesson = workspace.course.lesson(LESSON)
    runner = CliRunner()
    write_solution(workspace, lesson)
    runner.invoke(cli, ["--workspace", str(workspace.root), "check", "1"], obj={})
    write_solution(workspace, lesson, failing_version(workspace.solution_for(lesson)))
    runner.invoke(cli, ["--workspace", str(workspace.root), "check", "1"], obj={})
    app = WorkbookApp(session, watch=False)
    async with app.run_test(size=SIZE) as pilot:
        await app.go_to_lesson(lesson.id)  # the current lesson is 2: 1 has passed
        await pilot.press("v")
        await pilot.pause()
        shown = _result_text(app)
        assert "✗ Failed" in shown and "latest attempt" in shown
        assert "this is σ(−x)" in shown  # the attempt's diagnosis, kept by the store
        assert "passed this lesson before" not in shown
        assert "changed since" not in shown
        assert "✗ Failed" in str(app.main_screen.query_one(VerdictBar).content)
        path = workspace.path(lesson.exercise)
        path.write_text(path.read_text() + "\n# later\n")
        await app.go_to_lesson(session.course.lessons[1].id)
        await app.go_to_lesson(lesson.id)
        await pilot.press("v")
        await pilot.pause()
        assert "Your file changed since this attempt" in _result_text(app)


async def test_saving_another_lesson_grades_it_in_the_background(session, workspace):
    other = workspace.course.lesson(2)
    app = WorkbookApp(session)
    async with app.run_test(size=SIZE) as pilot:
        assert app.lesson.id == LESSON
        for attempt in range(20):  # until the watcher listens (see the polling test)
            write_solution(workspace, other, workspace.solution_for(other) + f"# {attempt}\n")
            with contextlib.suppress(AssertionError):
                await wait_for_results(app, pilot, 1, timeout=1.5)
                break
        await wait_for_results(app, pilot, 1)
        assert app.results_shown[-1][:2] == (other.id, "passed")
        assert app.lesson.id == LESSON  # the view stays where the learner is
        toasts = [n.message for n in app._notifications]
        assert any("checked in the background" in m and "lesson 2" in m for m in toasts)
        assert session.has_passed(other)


async def test_an_unexpected_error_leaves_a_crash_log(session, workspace, monkeypatch):
    """The traceback Textual prints on exit is lost when the terminal pane closes."""
    app = WorkbookApp(session, watch=False)

    def broken(*_args, **_kwargs):
        raise RuntimeError("boom in the hint store")

    with pytest.raises(RuntimeError, match="boom"):
        async with app.run_test(size=SIZE) as pilot:
            monkeypatch.setattr(session, "reveal_hint", broken)
            await pilot.press("h")
            await pilot.pause()
    log = (workspace.state_dir / "crash.log").read_text()
    assert "RuntimeError: boom in the hint store" in log
    assert "Traceback" in log


def test_hints_render_code_spans_and_bold_words():
    from workbook.tui.widgets import with_code

    shown = with_code("scale X **and** y with `lo * hi`; a ** b stays")
    assert str(shown) == "scale X and y with lo * hi; a ** b stays"
    styles = {str(shown)[span.start : span.end]: str(span.style) for span in shown.spans}
    assert "b" in styles["and"].split() and "$text-primary" in styles["lo * hi"]
