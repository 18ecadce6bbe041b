"""The progress store keeps every attempt, under concurrency and after damage."""

from __future__ import annotations

import multiprocessing
from pathlib import Path

import pytest

from tests.conftest import fill_store, make_old_store
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


def test_overwritten_pages_are_found_on_open_and_moved_aside(tmp_path: Path):
    path = tmp_path / "p.db"
    fill_store(path)
    with open(path, "r+b") as handle:  # pages in the middle of the file, as a bad disk would
        handle.seek(4096 * 3)
        handle.write(b"\xff" * 4096 * 2)
    notices: list[str] = []
    store = ProgressStore(path, notify=notices.append)
    store.record_attempt("x", "passed", 1.0)
    assert [a["lesson"] for a in store.attempts()] == ["x"]
    (notice,) = notices
    assert "was damaged" in notice and "fresh store" in notice and "\n" not in notice
    assert len(list(tmp_path.glob("p.db.damaged-*"))) == 1


def test_a_store_deleted_or_replaced_while_open_is_reopened(tmp_path: Path):
    path = tmp_path / "p.db"
    notices: list[str] = []
    store = ProgressStore(path, notify=notices.append)
    store.record_attempt("a", "failed", 0.1)
    for suffix in ("", "-wal", "-shm"):  # what a hostile exercise did
        Path(f"{path}{suffix}").unlink(missing_ok=True)
    store.record_attempt("b", "passed", 0.1)
    assert "was deleted while open" in notices[-1]
    reader = ProgressStore(path)
    assert [a["lesson"] for a in reader.attempts()] == ["b"]  # on disk, not lost
    reader.close()
    fill_store(tmp_path / "other.db", attempts=2)
    (tmp_path / "other.db").replace(path)
    assert len(store.attempts()) == 2  # the replacement, not the unlinked file
    assert "was replaced while open" in notices[-1]
    store.close()


def test_a_read_only_store_reads_what_exists_and_refuses_writes_clearly(tmp_path, monkeypatch):
    from workbook.errors import WorkbookError

    path = tmp_path / ".workbook" / "p.db"
    fill_store(path, attempts=3)
    monkeypatch.setattr(ProgressStore, "_writable", lambda self: False)
    store = ProgressStore(path)
    assert store.read_only and "read-only" in store.read_only
    assert len(store.attempts()) == 3 and store.summary()["00-x"].attempts == 1
    for write in (
        lambda: store.record_attempt("x", "passed", 1.0),
        lambda: store.reveal_hint("x", 3),
        lambda: store.set_setting("continue_at", "x"),
    ):
        with pytest.raises(WorkbookError, match="read-only"):
            write()
    empty = ProgressStore(tmp_path / "never" / "p.db")
    assert empty.read_only and empty.summary() == {} and empty.attempts() == []


def test_an_older_read_only_store_is_migrated_in_memory_only(tmp_path, monkeypatch):
    path = tmp_path / "old.db"
    make_old_store(path, "passed")
    before = path.read_bytes()
    monkeypatch.setattr(ProgressStore, "_writable", lambda self: False)
    (row,) = ProgressStore(path).attempts()
    assert row["summary"] == "" and row["imported"] is False
    assert path.read_bytes() == before


def test_imported_attempts_are_marked_and_do_not_count_as_passed_here(tmp_path: Path):
    away = ProgressStore(tmp_path / "away.db")
    away.record_attempt("01-a", "passed", 0.2)
    away.record_attempt("02-b", "failed", 0.2)
    home = ProgressStore(tmp_path / "home.db")
    home.record_attempt("02-b", "passed", 0.3)
    assert home.import_data(away.export_data()) == 2
    by_lesson = {(a["lesson"], a["verdict"]): a["imported"] for a in home.attempts()}
    assert by_lesson == {("02-b", "passed"): False, ("01-a", "passed"): True,
                         ("02-b", "failed"): True}  # fmt: skip
    summary = home.summary()
    assert summary["01-a"].passed and not summary["01-a"].passed_here
    assert summary["01-a"].imported == 1
    assert summary["02-b"].passed_here
    assert set(home.last_passed(here_only=True)) == {"02-b"}
    assert set(home.last_passed()) == {"01-a", "02-b"}
    # Re-exported, imported attempts stay imported wherever they go next.
    again = ProgressStore(tmp_path / "again.db")
    again.import_data(home.export_data())
    assert all(a["imported"] for a in again.attempts())


def test_errors_are_told_apart_by_sqlite_error_code(tmp_path: Path):
    """A command that meets an error after opening says busy or damaged, never both."""
    import sqlite3

    from workbook.progress import describe, fault

    path = tmp_path / "p.db"
    ProgressStore(path).close()
    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("BEGIN EXCLUSIVE")
    other = sqlite3.connect(path, timeout=0.05)
    with pytest.raises(sqlite3.OperationalError) as busy:
        other.execute("INSERT INTO settings VALUES ('k', 'v')")
    holder.execute("ROLLBACK")
    assert fault(busy.value) == "busy" and "is busy" in describe(busy.value, path)
    garbage = tmp_path / "g.db"
    garbage.write_bytes(b"not a database" * 400)
    with pytest.raises(sqlite3.DatabaseError) as damaged:
        sqlite3.connect(garbage).execute("SELECT * FROM sqlite_master")
    assert fault(damaged.value) == "damaged" and "moves it aside" in describe(damaged.value)


def test_hints_shown_by_themselves_are_counted_apart(tmp_path: Path):
    """Issue 10: the first hint comes with the first failure; the learner asked for the
    others. Both counts are kept, and an export carries them to another store."""
    store = ProgressStore(tmp_path / "p.db")
    assert store.reveal_hint("01-a", 3, auto=True) == 1
    store.reveal_hint("01-a", 3)
    store.reveal_hint("01-a", 3)
    store.reveal_hint("01-a", 3, auto=True)  # all three shown already: nothing counted
    store.record_attempt("01-a", "failed", 0.1)
    summary = store.summary()["01-a"]
    assert (summary.hints_revealed, summary.hints_auto, summary.hints_asked) == (3, 1, 2)
    store.reveal_hint("02-b", 2, auto=True)  # a lesson with hints but no attempt yet
    assert store.summary()["02-b"].hints_auto == 1
    away = ProgressStore(tmp_path / "away.db")
    away.import_data(store.export_data())
    assert (away.hints_revealed("01-a"), away.hints_auto("01-a")) == (3, 1)


def test_an_older_hints_table_gains_the_auto_column_in_place(tmp_path: Path):
    import sqlite3

    path = tmp_path / "p.db"
    make_old_store(path)
    old = sqlite3.connect(path)
    old.executescript(
        "CREATE TABLE hints (lesson TEXT PRIMARY KEY, revealed INTEGER NOT NULL);"
        "INSERT INTO hints VALUES ('x', 2);"
    )
    old.commit()
    old.close()
    store = ProgressStore(path)
    summary = store.summary()["x"]
    assert (summary.hints_revealed, summary.hints_auto) == (2, 0)  # none known as automatic
    store.reveal_hint("x", 4)
    assert (store.hints_revealed("x"), store.hints_auto("x")) == (3, 0)
