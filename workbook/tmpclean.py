"""Attempt folders in the temporary directory that say who owns them, and a sweep that
removes those whose owner is gone.

A `workbook check` killed with SIGKILL cannot run its `finally` blocks, so the folder
its attempt used stays in /tmp for ever. Each folder made here carries its owner in its
name, `<prefix><pid>.<start>-<random>`: the owning process's id and its start time
(clock ticks since boot, from /proc; 0 where there is no /proc), so the next run can
tell with one `listdir` and a signal-0 probe which folders nobody is using any more,
without opening any of them. The start time guards against a recycled pid keeping a
dead run's folder alive (the safe direction) or, worse, a live folder being mistaken for
a dead one's: it is only ever used to decide "stale", never "alive".

The sweep never touches a folder of another user (its owner uid differs), anything that
is not a real directory (a symlink planted under the prefix is skipped), or a folder of
a live process. Folders without an owner in their name (made by older versions with
`tempfile.TemporaryDirectory`) are removed only once they are older than a day, when no
attempt can still be using them.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import stat
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

PREFIX = "workbook-grade-"
LEGACY_AGE_S = 24 * 3600.0  # an ownerless folder this old belongs to no running attempt
_OWNER = re.compile(r"(\d+)\.(\d+)-[0-9a-z_]+")


def _start_ticks(pid: int) -> int:
    """When process `pid` started (clock ticks since boot), or 0 where that is unknown.

    Field 22 of /proc/PID/stat; the command name before it may hold spaces and
    parentheses, so the fields are counted after its last ')'."""
    try:
        raw = Path(f"/proc/{pid}/stat").read_bytes()
    except OSError:
        return 0
    fields = raw[raw.rfind(b")") + 2 :].split()
    try:
        return int(fields[19])
    except (IndexError, ValueError):
        return 0


def owner(name: str, prefix: str = PREFIX) -> tuple[int, int] | None:
    """(pid, start ticks) recorded in an attempt folder's name; None if it has none."""
    if not name.startswith(prefix):
        return None
    match = _OWNER.fullmatch(name[len(prefix) :])
    return (int(match.group(1)), int(match.group(2))) if match else None


def make_attempt_dir(prefix: str = PREFIX, *, root: Path | None = None) -> Path:
    """Create a private (0700) folder whose name records this process as its owner."""
    pid = os.getpid()
    base = str(root) if root is not None else None
    return Path(tempfile.mkdtemp(prefix=f"{prefix}{pid}.{_start_ticks(pid)}-", dir=base))


@contextlib.contextmanager
def attempt_dir(prefix: str = PREFIX, *, root: Path | None = None) -> Iterator[Path]:
    """`make_attempt_dir` as a context manager: the folder is removed on the way out
    (and by a later `sweep_stale` if this process is killed before it gets there)."""
    path = make_attempt_dir(prefix, root=root)
    try:
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)


def _owner_gone(pid: int, start: int) -> bool:
    """True only when the process that made the folder has certainly exited."""
    if pid == os.getpid():
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        pass  # alive, under another user: its pid may still be a reused one
    except OSError:
        return False
    # The pid is in use: by the owner, or by a newer process that got the same number.
    now = _start_ticks(pid)
    return bool(start and now and now != start)


def sweep_stale(
    prefix: str = PREFIX, *, root: Path | None = None, legacy_age_s: float = LEGACY_AGE_S
) -> list[Path]:
    """Remove this user's `prefix*` folders in the temporary directory whose owner is
    gone; returns those removed. Cheap when there is nothing to do: one listdir, and
    one stat per matching entry. Never raises for what it cannot remove."""
    base = Path(root) if root is not None else Path(tempfile.gettempdir())
    try:
        names = [name for name in os.listdir(base) if name.startswith(prefix)]
    except OSError:
        return []
    uid = os.getuid()
    removed = []
    for name in names:
        path = base / name
        try:
            info = os.lstat(path)
        except OSError:
            continue  # removed meanwhile
        if not stat.S_ISDIR(info.st_mode) or info.st_uid != uid:
            continue  # a symlink, a file, or someone else's: not ours to remove
        recorded = owner(name, prefix)
        if recorded is None:
            stale = time.time() - info.st_mtime > legacy_age_s
        else:
            stale = _owner_gone(*recorded)
        if stale:
            shutil.rmtree(path, ignore_errors=True)
            if not path.exists():
                removed.append(path)
    return removed
