"""The progress store keeps every attempt, under concurrency and after damage."""

from __future__ import annotations

import multiprocessing
from pathlib import Path

import pytest

from workbook.progress import ProgressStore


def test_attempts_and_summary(tmp_path: Path):
    store = ProgressStore(tmp_path / "p.db")
    store.record_attempt("01-a", "failed", 0.5, ["test_x"])
    store.reveal_hint("01-a", 3)
    store.record_attempt("01-a", "passed", 0.4)
    store.record_attempt("02-b", "error", 0.1)
    summary = store.summary()
    assert summary["01-a"].attempts == 2
    assert summary["01-a"].passed
    assert summary["01-a"].last_verdict == "passed"
    assert summary["01-a"].hints_revealed == 1
    assert not summary["02-b"].passed
    rows = store.attempts("01-a")
    assert [r["verdict"] for r in rows] == ["failed", "passed"]
    assert rows[0]["failing"] == ["test_x"]
    assert rows[1]["hints_shown"] == 1


def test_hints_are_capped_at_the_number_available(tmp_path: Path):
    store = ProgressStore(tmp_path / "p.db")
    assert [store.reveal_hint("x", 3) for _ in range(5)] == [1, 2, 3, 3, 3]
    assert ProgressStore(tmp_path / "p.db").hints_revealed("x") == 3


def _writer(path: str, who: int) -> None:
    store = ProgressStore(Path(path))
    for i in range(40):
        store.record_attempt(f"lesson-{who}", "failed", 0.01 * i)
        store.reveal_hint("shared", 1000)


def test_two_processes_writing_at_once_lose_nothing(tmp_path: Path):
    path = tmp_path / "p.db"
    ProgressStore(path).close()
    ctx = multiprocessing.get_context("spawn")
    workers = [ctx.Process(target=_writer, args=(str(path), n)) for n in range(2)]
    for w in workers:
        w.start()
    for w in workers:
        w.join(60)
        assert w.exitcode == 0
    store = ProgressStore(path)
    assert len(store.attempts()) == 80
    assert store.hints_revealed("shared") == 80


def test_a_damaged_file_is_moved_aside_not_deleted(tmp_path: Path):
    path = tmp_path / "p.db"
    path.write_bytes(b"this is not a database" * 100)
    store = ProgressStore(path)
    store.record_attempt("x", "passed", 1.0)
    kept = list(tmp_path.glob("p.db.damaged-*"))
    assert len(kept) == 1
    assert kept[0].read_bytes().startswith(b"this is not a database")


def test_a_locked_store_is_a_clear_error_and_is_never_moved_aside(tmp_path: Path, monkeypatch):
    import sqlite3

    from workbook.errors import WorkbookError

    path = tmp_path / "p.db"
    first = ProgressStore(path)
    first.record_attempt("x", "passed", 1.0)
    first.close()
    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("PRAGMA locking_mode = EXCLUSIVE")
    holder.execute("BEGIN EXCLUSIVE")
    monkeypatch.setattr(ProgressStore, "busy_timeout_s", 0.2)
    try:
        with pytest.raises(WorkbookError, match="is busy"):
            ProgressStore(path)
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    assert not list(tmp_path.glob("p.db.damaged-*"))
    assert len(ProgressStore(path).attempts()) == 1
