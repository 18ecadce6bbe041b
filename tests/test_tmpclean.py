"""Attempt folders left by a killed run are swept; live and foreign ones never are."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from workbook import tmpclean
from workbook.tmpclean import PREFIX, attempt_dir, make_attempt_dir, owner, sweep_stale


def _dead_pid() -> int:
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


def test_a_folder_records_its_owner_and_survives_the_sweep(tmp_path: Path):
    made = make_attempt_dir(root=tmp_path)
    assert made.parent == tmp_path and made.name.startswith(PREFIX)
    pid, _start = owner(made.name)
    assert pid == os.getpid()
    assert oct(made.stat().st_mode & 0o777) == "0o700"
    assert sweep_stale(root=tmp_path) == []
    assert made.is_dir()


def test_the_context_manager_removes_its_folder(tmp_path: Path):
    with attempt_dir(root=tmp_path) as folder:
        (folder / "report.jsonl").write_text("{}")
    assert not folder.exists()


def test_a_folder_whose_owner_was_killed_is_removed_on_the_next_run(tmp_path: Path):
    script = (
        "import sys, time; from pathlib import Path; from workbook.tmpclean import "
        "make_attempt_dir; d = make_attempt_dir(root=Path(sys.argv[1])); "
        "(d / 'x.out').write_text('x'); print(d, flush=True); time.sleep(60)"
    )
    child = subprocess.Popen(
        [sys.executable, "-c", script, str(tmp_path)], stdout=subprocess.PIPE, text=True
    )
    folder = Path(child.stdout.readline().strip())
    assert folder.is_dir()
    assert sweep_stale(root=tmp_path) == []  # its owner is alive: kept
    child.kill()  # SIGKILL: no cleanup runs
    child.wait()
    child.stdout.close()
    assert folder.is_dir()
    assert sweep_stale(root=tmp_path) == [folder]
    assert not folder.exists()


def test_dead_owner_recycled_pid_and_legacy_folders(tmp_path: Path):
    dead = tmp_path / f"{PREFIX}{_dead_pid()}.123-abc"
    dead.mkdir()
    (dead / "sub").mkdir()
    live_other = tmp_path / f"{PREFIX}1.{tmpclean._start_ticks(1)}-abc"  # init: alive
    live_other.mkdir()
    fresh_legacy = tmp_path / f"{PREFIX}q8z_w1x"
    fresh_legacy.mkdir()
    old_legacy = tmp_path / f"{PREFIX}k2m9xx0a"
    old_legacy.mkdir()
    old = time.time() - tmpclean.LEGACY_AGE_S - 60
    os.utime(old_legacy, (old, old))
    unrelated = tmp_path / "workbook-class-zzz"
    unrelated.mkdir()
    removed = set(sweep_stale(root=tmp_path))
    assert removed == {dead, old_legacy}
    assert live_other.is_dir() and fresh_legacy.is_dir() and unrelated.is_dir()


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="needs /proc start times")
def test_a_recycled_pid_does_not_keep_a_dead_runs_folder(tmp_path: Path):
    me = os.getppid()  # alive, but not the process that made the folder below
    wrong_start = tmpclean._start_ticks(me) + 1
    recycled = tmp_path / f"{PREFIX}{me}.{wrong_start}-abc"
    recycled.mkdir()
    assert sweep_stale(root=tmp_path) == [recycled]


def test_symlinks_and_files_under_the_prefix_are_never_followed_or_removed(tmp_path: Path):
    precious = tmp_path / "precious"
    precious.mkdir()
    (precious / "keep.txt").write_text("mine")
    link = tmp_path / f"{PREFIX}{_dead_pid()}.1-abc"
    link.symlink_to(precious, target_is_directory=True)
    plain = tmp_path / f"{PREFIX}{_dead_pid()}.1-def"
    plain.write_text("a file")
    assert sweep_stale(root=tmp_path) == []
    assert (precious / "keep.txt").read_text() == "mine"
    assert link.is_symlink() and plain.is_file()


@pytest.mark.skipif(os.getuid() != 0, reason="only root can make a folder another user owns")
def test_another_users_folders_are_left_alone(tmp_path: Path):
    theirs = tmp_path / f"{PREFIX}{_dead_pid()}.1-abc"
    theirs.mkdir()
    os.chown(theirs, 65534, 65534)
    assert sweep_stale(root=tmp_path) == []
    assert theirs.is_dir()


def test_a_missing_temporary_directory_is_not_an_error(tmp_path: Path):
    assert sweep_stale(root=tmp_path / "absent") == []
