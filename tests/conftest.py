"""Shared fixtures: a throw-away workspace per test, made the way learners get one."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from workbook.session import Session
from workbook.workspace import Workspace, bundled_root, init_workspace

REPO = Path(__file__).resolve().parents[1]

# Colour codes would make output assertions brittle; the snapshot tests need colour on.
os.environ.pop("NO_COLOR", None)


@pytest.fixture(scope="session")
def repo_workspace() -> Workspace:
    """The repository checkout itself (read-only use: never grade-and-record here)."""
    return Workspace(bundled_root())


@pytest.fixture
def workspace(tmp_path: Path) -> Workspace:
    return init_workspace(tmp_path / "ws")


@pytest.fixture
def session(workspace: Workspace):
    s = Session(workspace)
    yield s
    s.close()


def write_solution(workspace: Workspace, lesson, text: str | None = None) -> None:
    """Put the reference solution (or `text`) where the learner's file goes."""
    body = text if text is not None else workspace.solution_for(lesson)
    workspace.path(lesson.exercise).write_text(body, encoding="utf-8")
