"""exercises/ deleted under a running workbook: it says so, records nothing, and watches
again once `workbook reset --all` (or `r`) has brought the folder back."""

from __future__ import annotations

import asyncio
import contextlib
import shutil
import time

import pytest

from tests.conftest import run_cli, write_solution
from tests.tui_support import LESSON, failing_version, screen_text, wait_for_results
from workbook.tui.app import WorkbookApp
from workbook.tui.widgets import VerdictBar

SIZE = (80, 24)
pytestmark = pytest.mark.anyio


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture(autouse=True)
def _cold_and_still(monkeypatch, workspace):
    monkeypatch.setenv("WORKBOOK_WARM", "0")
    monkeypatch.delenv("WORKBOOK_POLL", raising=False)  # file events: the deaf case
    monkeypatch.delenv("WORKBOOK_THEME", raising=False)
    monkeypatch.chdir(workspace.root)


async def _until(pilot, condition, what: str, timeout: float = 15.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"never saw {what}")
        await asyncio.sleep(0.05)
    await pilot.pause()


def _attempts(session) -> int:
    return sum(status.attempts for status in session.statuses())


async def test_a_deleted_folder_is_said_and_watched_again_after_reset_all(
    session, workspace, monkeypatch
):
    said: list[str] = []
    lesson = workspace.course.lesson(LESSON)
    app = WorkbookApp(session)  # watching, with file events
    real_notify = app.notify
    monkeypatch.setattr(app, "notify", lambda m, **kw: (said.append(m), real_notify(m, **kw)))
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause(0.5)  # the watcher is up
        shutil.rmtree(workspace.path("exercises"))
        await _until(pilot, lambda: any("exercises/ folder is missing" in m for m in said), "it")
        assert "is missing:" in screen_text(app) and "press r to restore it" in screen_text(app)

        # `c` on the missing file: said, and not an attempt.
        await pilot.press("c")
        await wait_for_results(app, pilot, 1)
        assert _attempts(session) == 0
        assert "Press r to restore its stub" in screen_text(app) or "restore" in str(
            app.main_screen.query_one(VerdictBar).text
        )

        # Another terminal restores every stub; the next save is graded.
        assert run_cli(workspace, "reset", "--all", "-y").exit_code == 0
        await _until(pilot, lambda: any("folder is back" in m for m in said), "it back")
        assert "is missing" not in screen_text(app)
        reference = workspace.solution_for(lesson)
        for attempt in range(10):  # the new watch may start a moment after the folder
            write_solution(workspace, lesson, failing_version(reference) + f"# {attempt}\n")
            with contextlib.suppress(AssertionError):
                await wait_for_results(app, pilot, 2, timeout=3)
                break
        await wait_for_results(app, pilot, 2, timeout=30)
        assert app.results_shown[-1][:2] == (LESSON, "failed")
        assert _attempts(session) == 1


async def test_a_workbook_started_without_the_folder_watches_once_it_exists(
    session, workspace, monkeypatch
):
    shutil.rmtree(workspace.path("exercises"))
    lesson = workspace.course.lesson(LESSON)
    app = WorkbookApp(session)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause(0.5)
        assert "is missing:" in screen_text(app) and "press r to restore it" in screen_text(app)
        await pilot.press("r")  # the reset dialog …
        await pilot.pause()
        await pilot.press("y")  # … brings this lesson's stub (and the folder) back
        await pilot.pause(0.5)
        assert workspace.path(lesson.exercise).is_file()
        reference = workspace.solution_for(lesson)
        for attempt in range(10):
            write_solution(workspace, lesson, reference + f"# {attempt}\n")
            with contextlib.suppress(AssertionError):
                await wait_for_results(app, pilot, 1, timeout=3)
                break
        await wait_for_results(app, pilot, 1, timeout=30)
        assert app.results_shown[-1][:2] == (LESSON, "passed")
