"""`workbook doctor`: facts to paste into a bug report, gathered without side effects."""

from __future__ import annotations

import importlib.metadata
import platform
import sqlite3
import sys
import tempfile
import time
from pathlib import Path


def _version(dist: str) -> str:
    try:
        return importlib.metadata.version(dist)
    except importlib.metadata.PackageNotFoundError:
        return "not installed"


def watching_works(timeout: float = 3.0) -> tuple[bool, str]:
    """Write a file in a temporary folder and see whether file-system events report it."""
    import threading

    from watchfiles import watch

    from workbook.watching import should_poll

    polling = should_poll()
    with tempfile.TemporaryDirectory(prefix="workbook-doctor-") as tmp:
        stop = threading.Event()
        seen = threading.Event()

        def listen() -> None:
            for _ in watch(tmp, stop_event=stop, force_polling=polling, rust_timeout=200):
                seen.set()
                return

        thread = threading.Thread(target=listen, daemon=True)
        thread.start()
        deadline = time.monotonic() + timeout
        while not seen.is_set() and time.monotonic() < deadline:
            Path(tmp, "probe.py").write_text(str(time.monotonic()))
            seen.wait(0.3)
        stop.set()
        thread.join(2)
    mode = "polling (fallback in use)" if polling else "file-system events"
    return seen.is_set(), mode


def report(workspace_root: Path | None, progress_path: Path | None) -> list[tuple[str, str]]:
    rows = [
        ("workbook", _version("lstm-workbook")),
        ("python", f"{platform.python_version()} ({sys.executable})"),
        ("platform", platform.platform()),
        ("numpy", _version("numpy")),
        ("tensorflow", _version("tensorflow-cpu") if _version("tensorflow-cpu") != "not installed"
         else _version("tensorflow")),
        ("keras", _version("keras")),
        ("textual", _version("textual")),
        ("pytest", _version("pytest")),
        ("click", _version("click")),
        ("watchfiles", _version("watchfiles")),
        ("sqlite", sqlite3.sqlite_version),
        ("workspace", str(workspace_root) if workspace_root else "none found"),
    ]  # fmt: skip
    rows.extend(sandbox_rows())
    ok, mode = watching_works()
    rows.append(("file watching", f"{'works' if ok else 'NOT WORKING'} via {mode}"))
    if not ok:
        rows.append(("advice", "use `workbook watch --poll` or set WORKBOOK_POLL=1"))
    if progress_path is not None:
        rows.append(("progress store", _store_health(progress_path)))
    return rows


def sandbox_rows() -> list[tuple[str, str]]:
    """What confines learner code on this machine (the subject process of grading)."""
    from workbook.grading.subject.sandbox import probe

    protection = probe()
    rows = [("grading sandbox", protection.label())]
    enforced = []
    if protection.landlock_abi is not None:
        enforced.append(
            "learner code reads only Python and its libraries and writes only a private "
            "scratch folder (not the workspace, checks, solutions or progress store)"
        )
    if protection.seccomp:
        enforced.append(
            "it starts no process, opens no network socket and cannot signal, renice or "
            "limit any process but itself; it holds no memory or disk outside its limits "
            "(no memfd, shared anonymous memory or fallocate), leaves no SysV IPC or "
            "message queue behind, and cannot lease, chmod, chown, touch or set extended "
            "attributes on any file"
        )
    if protection.uid is not None:
        enforced.append(f"it runs as the unprivileged user {protection.uid}")
    if protection.capabilities is not None:
        enforced.append("it holds no capabilities")
    if protection.scratch_quota_mb is not None:
        enforced.append(f"its scratch folder holds at most {protection.scratch_quota_mb} MiB")
    rows.append(("sandbox enforces", "; ".join(enforced) or "nothing beyond two processes"))
    rows.extend(("sandbox note", note) for note in protection.notes)
    return rows


def _store_health(path: Path) -> str:
    if not path.exists():
        return f"{path} (not created yet: no attempt so far)"
    try:
        db = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=5)
        (check,) = db.execute("PRAGMA quick_check").fetchone()
        if check != "ok":  # damage reported as rows, not raised
            raise sqlite3.DatabaseError(check)
        (attempts,) = db.execute("SELECT count(*) FROM attempts").fetchone()
        db.close()
    except sqlite3.DatabaseError as exc:
        return f"{path}: DAMAGED ({exc}); the next command moves it aside and starts afresh"
    size = path.stat().st_size
    return f"{path}: {check}, {attempts} attempts, {size} bytes"
