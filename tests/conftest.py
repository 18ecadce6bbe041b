"""Shared fixtures: a throw-away workspace per test, made the way learners get one."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from workbook.session import Session
from workbook.workspace import Workspace, bundled_root, init_workspace

REPO = Path(__file__).resolve().parents[1]

# Colour codes would make output assertions brittle; the snapshot tests need colour on.
os.environ.pop("NO_COLOR", None)
# Tests grade cold unless they ask for the grading service (the `warm` fixture,
# tests/test_service.py): a service per test workspace would outlive its test. Services
# a test starts are stopped at its end (`service_support.stop_service`), and exit soon
# after their last use anyway.
os.environ.setdefault("WORKBOOK_WARM", "0")
os.environ.setdefault("WORKBOOK_SERVICE_IDLE", "30")


@pytest.fixture(scope="session")
def repo_workspace() -> Workspace:
    """The repository checkout itself (read-only use: never grade-and-record here)."""
    return Workspace(bundled_root())


@pytest.fixture
def workspace(tmp_path: Path) -> Workspace:
    """A learner's workspace, as `workbook init` makes it: no checks, no references."""
    return init_workspace(tmp_path / "ws")


@pytest.fixture
def course_workspace(tmp_path: Path) -> Workspace:
    """A course author's copy of the whole course: its checks and references in it."""
    return init_workspace(tmp_path / "ws", with_answers=True)


@pytest.fixture
def warm(workspace: Workspace):
    """The faces' grader (the TUI's, `watch`'s and `check`'s): the workspace's grading
    service, started and ready; stopped at the end, and no service of it left running."""
    from tests.service_support import stop_service
    from workbook.grading.service import ServiceGrader

    grader = ServiceGrader(workspace.root)
    try:
        grader.start()
        assert grader.wait_until_ready(60), "the grading service did not start"
        yield grader
    finally:
        stop_service(workspace)


@pytest.fixture
def session(workspace: Workspace):
    s = Session(workspace)
    yield s
    s.close()


def write_solution(workspace: Workspace, lesson, text: str | None = None) -> None:
    """Put the reference solution (or `text`) where the learner's file goes."""
    body = text if text is not None else workspace.solution_for(lesson)
    workspace.path(lesson.exercise).write_text(body, encoding="utf-8")


EXAMPLE = Path(__file__).parent / "example_course"


def copy_example(dest: Path) -> Workspace:
    """A private copy of the two-lesson example course (quick to grade, no NumPy)."""
    shutil.copytree(EXAMPLE, dest, ignore=shutil.ignore_patterns(".workbook"))
    return Workspace(dest)


@pytest.fixture
def example(tmp_path: Path) -> Workspace:
    return copy_example(tmp_path / "ex")


def run_cli(ws: Workspace, *args: str, input: str | None = None):
    """`workbook --workspace WS ARGS…` in-process; stderr is in `.output` and `.stderr`."""
    from click.testing import CliRunner

    from workbook.cli import cli

    return CliRunner().invoke(cli, ["--workspace", str(ws.root), *args], obj={}, input=input)


def fill_store(path: Path, attempts: int = 300) -> None:
    """A store spanning many pages, so that damage can hit some in the middle."""
    from workbook.progress import ProgressStore

    store = ProgressStore(path)
    for i in range(attempts):
        store.record_attempt(f"{i % 23:02d}-x", "failed", 0.1, ["test_a"], "message " * 20)
    store.close()


def make_old_store(path: Path, verdict: str = "failed") -> None:
    """A store as the first release made it: no summary or imported column."""
    import sqlite3

    old = sqlite3.connect(path)
    old.executescript(
        "CREATE TABLE attempts (id INTEGER PRIMARY KEY, at TEXT NOT NULL, lesson TEXT NOT"
        " NULL, verdict TEXT NOT NULL, failing TEXT NOT NULL DEFAULT '[]', duration_s REAL"
        " NOT NULL, hints_shown INTEGER NOT NULL DEFAULT 0);"
        f"INSERT INTO attempts (at, lesson, verdict, duration_s) VALUES ('t', 'x', '{verdict}', 1);"
    )
    old.commit()
    old.close()
