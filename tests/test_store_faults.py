"""The CLI over a damaged store, a read-only workspace, and imported progress."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys

import pytest

from tests.conftest import copy_example, fill_store, run_cli
from workbook.instructor.export import collect, to_csv, to_gradescope
from workbook.progress import ProgressStore
from workbook.workspace import Workspace

READING = (["list"], ["show", "1"], ["glossary"], ["progress"], ["progress", "--json"])
WRITING = (["check", "1"], ["hint", "1"], ["reset", "1", "-y"], ["continue-at", "2"])


def _record(ws: Workspace, *attempts: tuple[str, str]) -> None:
    store = ProgressStore(ws.progress_path)
    for lesson, verdict in attempts:
        store.record_attempt(lesson, verdict, 0.1)
    store.close()


def test_a_store_with_overwritten_pages_is_moved_aside_and_every_command_works(example):
    fill_store(example.progress_path)
    with open(example.progress_path, "r+b") as handle:
        handle.seek(4096 * 3)
        handle.write(b"\x00\xff" * 4096)
    listed = run_cli(example, "list")
    assert listed.exit_code == 0, listed.output
    (notice,) = listed.stderr.splitlines()
    assert notice.startswith("workbook: the progress store") and "was damaged" in notice
    assert len(list(example.state_dir.glob("progress.db.damaged-*"))) == 1
    assert run_cli(example, "progress").exit_code == 0
    assert run_cli(example, "hint", "1").exit_code == 0  # the fresh store takes writes
    assert run_cli(example, "list").stderr == ""  # moved once, then quiet


@pytest.mark.parametrize("used", [False, True], ids=["never-used", "existing-store"])
def test_a_read_only_workspace_reads_and_says_why_it_cannot_write(example, monkeypatch, used):
    if used:
        _record(example, ("01-double", "passed"), ("02-mean", "failed"))
    monkeypatch.setattr(ProgressStore, "_writable", lambda self: False)
    for args in READING:
        result = run_cli(example, *args)
        assert result.exit_code == 0, (args, result.output)
    shown = json.loads(run_cli(example, "progress", "--json").stdout)
    assert shown["passed"] == (1 if used else 0)
    for args in WRITING:
        result = run_cli(example, *args)
        assert result.exit_code == 2, (args, result.output)
        assert "the workspace is read-only" in result.output and "busy" not in result.output
    assert example.path("exercises/01-double.py").read_text().count("TODO") == 1


def _can_mount_read_only() -> bool:
    if sys.platform != "linux" or shutil.which("unshare") is None:
        return False
    probe = subprocess.run(
        ["unshare", "-m", "sh", "-c", "mount --bind /tmp /tmp && mount -o remount,bind,ro /tmp"],
        capture_output=True,
    )
    return probe.returncode == 0


@pytest.mark.skipif(not _can_mount_read_only(), reason="needs unshare and mount (root)")
@pytest.mark.parametrize("used", [False, True], ids=["never-used", "existing-store"])
def test_a_truly_read_only_mount(example, used):
    """The same on a read-only file system, in a private mount namespace."""
    if used:
        _record(example, ("01-double", "passed"))
    root = str(example.root)
    workbook = [sys.executable, "-m", "workbook", "-w", root]
    script = f'mount --bind {root} {root} && mount -o remount,bind,ro {root} && exec "$@"'
    run = ["unshare", "-m", "sh", "-c", script, "sh"]
    for args in (["list"], ["progress", "--json"], ["show", "1"], ["glossary"]):
        result = subprocess.run([*run, *workbook, *args], capture_output=True, text=True)
        assert result.returncode == 0, (args, result.stderr)
        assert "Traceback" not in result.stderr
    denied = subprocess.run([*run, *workbook, "hint", "1"], capture_output=True, text=True)
    assert denied.returncode == 2 and "the workspace is read-only" in denied.stderr


def test_imported_passes_count_but_open_no_solution(example, tmp_path):
    away = copy_example(tmp_path / "away")
    _record(away, ("01-double", "failed"), ("01-double", "passed"), ("02-mean", "passed"))
    dump = tmp_path / "progress.json"
    assert run_cli(away, "progress", "--export", str(dump)).exit_code == 0
    _record(example, ("02-mean", "passed"))
    assert "Merged 3 new attempts" in run_cli(example, "progress", "--import", str(dump)).output

    lessons = json.loads(run_cli(example, "list", "--json").stdout)["lessons"]
    assert [(row["status"], row["imported"]) for row in lessons] == [
        ("passed", True),
        ("passed", False),
    ]
    assert "passed (imported)" in run_cli(example, "list").output
    assert "Passed only in imported progress: 1" in run_cli(example, "progress").output

    closed = run_cli(example, "solution", "1")
    assert closed.exit_code == 1 and "passed it here" in closed.output
    assert "imported" in closed.output
    latest = run_cli(example, "solution")  # the lesson passed here last: 2, not imported 1
    assert latest.exit_code == 0 and "02-mean" in latest.stderr

    record = collect(example).lessons[0]
    assert (record.imported_attempts, record.passed_here) == (2, False)
    assert "imported_attempts" in to_csv(collect(example)).splitlines()[0]
    gradescope = to_gradescope(collect(example))
    assert gradescope["extra_data"]["passed_only_by_import"] == ["01-double"]
    assert "Passed (imported only)" in gradescope["tests"][0]["output"]

    _record(example, ("01-double", "passed"))  # a pass here opens it
    assert run_cli(example, "solution", "1").exit_code == 0
    assert json.loads(run_cli(example, "list", "--json").stdout)["lessons"][0]["imported"] is False
