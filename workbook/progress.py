"""The progress store: every attempt and revealed hint, in SQLite inside the workspace.

SQLite in WAL mode with a busy timeout makes it safe against a killed process (a
write is a transaction, or nothing) and against the CLI and the TUI writing at the
same time. Rows are keyed by lesson id and unknown ids are ignored by readers, so
editing the course never corrupts anyone's progress.

Faults are told apart by SQLite's own error code, never by guesswork: a store another
process holds is *busy* (try again; the file is fine), one whose pages are damaged
(found by `PRAGMA quick_check` on every open, a fraction of a millisecond for a
learner's store) is moved aside and replaced, and one in a folder this user cannot
write is opened read-only from a snapshot, so the commands that only read still work.
A store whose file is deleted or replaced while open is reopened before the next use,
so nothing is ever written into an unlinked file.
"""

from __future__ import annotations

import json
import os
import sqlite3
import sys
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import quote

from workbook.errors import WorkbookError

SCHEMA = """
CREATE TABLE IF NOT EXISTS attempts (
    id INTEGER PRIMARY KEY,
    at TEXT NOT NULL,
    lesson TEXT NOT NULL,
    verdict TEXT NOT NULL,
    failing TEXT NOT NULL DEFAULT '[]',
    duration_s REAL NOT NULL,
    hints_shown INTEGER NOT NULL DEFAULT 0,
    summary TEXT NOT NULL DEFAULT '',
    imported INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX IF NOT EXISTS attempts_by_lesson ON attempts (lesson, at);
CREATE TABLE IF NOT EXISTS hints (
    lesson TEXT PRIMARY KEY,
    revealed INTEGER NOT NULL,
    auto INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE IF NOT EXISTS settings (
    key TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
"""
# Columns added after the first release, each with its definition: an older store
# gets them in place on open (existing attempts take the default).
ADDED_COLUMNS = {
    "summary": "TEXT NOT NULL DEFAULT ''",  # the attempt's diagnosis in words
    "imported": "INTEGER NOT NULL DEFAULT 0",  # merged by `progress --import`, not graded here
}
# The same for the hints table: of the hints revealed, how many came by themselves (the
# first one, beside the first failure) rather than because the learner asked.
ADDED_HINT_COLUMNS = {"auto": "INTEGER NOT NULL DEFAULT 0"}
EXPORT_FORMAT = 1
# An attempt's columns, in the order every query here reads and writes them.
ATTEMPT_COLUMNS = (
    "at", "lesson", "verdict", "failing", "duration_s", "hints_shown", "summary", "imported",
)  # fmt: skip
INSERT_ATTEMPT = (
    f"INSERT INTO attempts ({', '.join(ATTEMPT_COLUMNS)})"
    f" VALUES ({', '.join('?' * len(ATTEMPT_COLUMNS))})"
)


@dataclass(frozen=True)
class LessonProgress:
    lesson: str
    attempts: int = 0
    passed: bool = False
    last_verdict: str | None = None
    first_passed_at: str | None = None
    hints_revealed: int = 0  # every hint shown, asked for or not
    passed_here: bool = False  # passed by an attempt graded here, not only by imported ones
    imported: int = 0  # attempts merged from another machine's export
    hints_auto: int = 0  # of hints_revealed, those shown without being asked for

    @property
    def hints_asked(self) -> int:
        """Hints the learner asked for (`workbook hint`, the TUI's key)."""
        return self.hints_revealed - self.hints_auto


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds")


def _warn(message: str) -> None:
    print(f"workbook: {message}", file=sys.stderr)


def fault(exc: sqlite3.Error) -> str:
    """What an SQLite error says about the store, by its error code: "busy" (another
    process holds it; the file is fine), "read-only", "damaged" (SQLITE_CORRUPT,
    SQLITE_NOTADB, or our own quick_check, which raises without a code) or "other" (a
    full disk, an I/O error: nothing says the file itself is at fault)."""
    name = getattr(exc, "sqlite_errorname", "") or ""
    if name.startswith(("SQLITE_BUSY", "SQLITE_LOCKED")):
        return "busy"
    if name.startswith(("SQLITE_READONLY", "SQLITE_CANTOPEN", "SQLITE_PERM")):
        return "read-only"
    if not name or name.startswith(("SQLITE_CORRUPT", "SQLITE_NOTADB")):
        return "damaged"
    return "other"


def describe(exc: sqlite3.Error, path: Path | str = "") -> str:
    """A one-line message for an SQLite error that stops a command."""
    store = f"the progress store {path}".rstrip()
    match fault(exc):
        case "busy":
            return f"{store} is busy ({exc}): another workbook may be writing to it; try again"
        case "damaged":
            return f"{store} is damaged ({exc}); the next command moves it aside and starts afresh"
        case _:
            return f"cannot use {store}: {exc}"


class ProgressStore:
    busy_timeout_s = 10.0  # how long a write waits for another process's

    def __init__(self, path: Path, *, notify: Callable[[str], None] = _warn) -> None:
        """Open (or create) the store at `path`. `notify` receives one-line notices about
        what was done to keep going (a damaged file moved aside, a store reopened)."""
        self.path = path
        self._notify = notify
        # Why this store cannot be written (a read-only workspace), or None.
        self.read_only: str | None = None
        self._identity: tuple[int, int] | None = None
        self._conn = self._open()

    # -- opening --------------------------------------------------------------------

    def _open(self) -> sqlite3.Connection:
        if not self._writable():
            return self._open_read_only()
        try:
            db = self._connect()
        except sqlite3.DatabaseError as exc:
            kind = fault(exc)
            if kind == "read-only":
                return self._open_read_only(str(exc))
            if kind != "damaged":
                raise WorkbookError(describe(exc, self.path)) from exc
            db = self._replace_damaged(exc)
        self._identity = self._stat()
        return db

    def _writable(self) -> bool:
        """Whether this user may write the store (creating its folder if need be)."""
        folder = self.path.parent
        try:
            folder.mkdir(parents=True, exist_ok=True)
        except OSError:
            return False
        files = [folder, *(p for p in (self.path,) if p.exists())]
        return all(os.access(p, os.W_OK) for p in files)

    def _connect(self) -> sqlite3.Connection:
        db = sqlite3.connect(self.path, timeout=self.busy_timeout_s, isolation_level=None)
        try:
            db.execute(f"PRAGMA busy_timeout = {int(self.busy_timeout_s * 1000)}")
            db.execute("PRAGMA journal_mode = WAL")
            db.execute("PRAGMA synchronous = NORMAL")
            _verify(db)
            _migrate(db)
        except BaseException:
            db.close()
            raise
        return db

    def _replace_damaged(self, exc: sqlite3.DatabaseError) -> sqlite3.Connection:
        """Move a damaged store aside (never delete it: someone may rescue it) with its
        WAL files, which belong to it and must not be replayed into the new one."""
        stamp = datetime.now().strftime("%Y%m%d-%H%M%S-%f")
        aside = self.path.with_name(f"{self.path.name}.damaged-{stamp}")
        for suffix in ("", "-wal", "-shm"):
            source = self.path.with_name(self.path.name + suffix)
            if source.exists():
                source.replace(source.with_name(f"{source.name}.damaged-{stamp}"))
        self._notify(
            f"the progress store {self.path} was damaged ({exc}); it was moved to "
            f"{aside.name} and a fresh store started"
        )
        return self._connect()

    def _open_read_only(self, why: str = "") -> sqlite3.Connection:
        """A read-only workspace: the store's content, copied into memory (so an older
        store can be migrated there), or an empty store where there is none to read."""
        folder = self.path.parent
        if not folder.exists():  # never used: name the folder it could not be made in
            folder = folder.parent
        detail = f" ({why})" if why else ""
        self.read_only = (
            f"the workspace is read-only: {folder} cannot be written{detail}. `workbook "
            "list`, `show`, `glossary` and `progress` still work; to check, reveal hints or "
            "reset, make the folder writable or copy the workspace somewhere you can write"
        )
        memory = sqlite3.connect(":memory:", isolation_level=None)
        if self.path.is_file():
            uri = f"file:{quote(str(self.path))}"
            for mode in ("mode=ro", "immutable=1"):  # immutable: no -shm can be created
                try:
                    source = sqlite3.connect(f"{uri}?{mode}", uri=True, timeout=1)
                    try:
                        _verify(source)
                        source.backup(memory)
                    finally:
                        source.close()
                    break
                except sqlite3.DatabaseError as exc:
                    why = str(exc)
            else:
                self._notify(f"cannot read the progress store {self.path} ({why})")
        _migrate(memory)
        return memory

    def _stat(self) -> tuple[int, int] | None:
        try:
            info = os.stat(self.path)
        except OSError:
            return None
        return info.st_dev, info.st_ino

    @property
    def _db(self) -> sqlite3.Connection:
        """The connection, reopened first if the store's file was deleted or replaced
        since it was opened (a stat per use: microseconds)."""
        if self.read_only is None and self._stat() != self._identity:
            self._conn.close()
            what = "replaced" if self.path.exists() else "deleted"
            self._set_aside_stale_wal()
            self._notify(f"the progress store {self.path} was {what} while open; reopened it")
            self._conn = self._open()
        return self._conn

    def _set_aside_stale_wal(self) -> None:
        """SQLite keeps the WAL of a store whose file moved, and would replay it into
        whatever file now has the name. A WAL last written before the current file
        appeared (or with no file at all) belongs to the old one: it is moved aside."""
        try:
            born = self.path.stat().st_ctime_ns
        except FileNotFoundError:
            born = None
        stamp = datetime.now().strftime("%Y%m%d-%H%M%S-%f")
        for suffix in ("-wal", "-shm"):
            wal = self.path.with_name(self.path.name + suffix)
            try:
                stale = born is None or wal.stat().st_mtime_ns <= born
                if stale:
                    wal.replace(wal.with_name(f"{wal.name}.stale-{stamp}"))
            except FileNotFoundError:
                continue

    def _writer(self) -> sqlite3.Connection:
        """The connection, for a write: a read-only store says why it cannot."""
        if self.read_only is not None:
            raise WorkbookError(self.read_only)
        return self._db

    def close(self) -> None:
        self._conn.close()

    def record_attempt(
        self,
        lesson: str,
        verdict: str,
        duration_s: float,
        failing: Iterable[str] = (),
        summary: str = "",
    ) -> None:
        """One attempt; `summary` is its diagnosis in words, kept for exports."""
        db = self._writer()
        with db:
            db.execute("BEGIN IMMEDIATE")
            (hints,) = db.execute(
                "SELECT coalesce(max(revealed), 0) FROM hints WHERE lesson = ?", (lesson,)
            ).fetchone()
            db.execute(
                INSERT_ATTEMPT,
                (_now(), lesson, verdict, json.dumps(list(failing)), duration_s, hints, summary, 0),
            )

    def reveal_hint(self, lesson: str, available: int, *, auto: bool = False) -> int:
        """Reveal one more hint (up to `available`); return how many are now revealed.
        `auto`: shown without being asked for (the first hint, with the first failure),
        counted apart so that progress and exports can tell the two kinds apart."""
        db = self._writer()
        with db:
            db.execute("BEGIN IMMEDIATE")
            (count,) = db.execute(
                "INSERT INTO hints (lesson, revealed, auto) VALUES (?, min(1, ?), ?)"
                " ON CONFLICT (lesson) DO UPDATE SET revealed = min(revealed + 1, ?),"
                " auto = auto + (? AND revealed < ?)"
                " RETURNING revealed",
                (lesson, available, int(auto and available > 0), available, int(auto), available),
            ).fetchone()
        return count

    def hints_auto(self, lesson: str) -> int:
        """How many of the lesson's revealed hints were shown without being asked for."""
        found = self._db.execute("SELECT auto FROM hints WHERE lesson = ?", (lesson,)).fetchone()
        return found[0] if found else 0

    def hints_revealed(self, lesson: str) -> int:
        row = self._db.execute("SELECT revealed FROM hints WHERE lesson = ?", (lesson,))
        found = row.fetchone()
        return found[0] if found else 0

    def data_version(self) -> int:
        """Changes whenever another connection (another `workbook` process) commits: a
        cheap way for a long-running face to notice progress made elsewhere."""
        return self._db.execute("PRAGMA data_version").fetchone()[0]

    def summary(self) -> dict[str, LessonProgress]:
        """Per-lesson totals in one query, for lists that show every lesson."""
        rows = self._db.execute(
            """
            SELECT a.lesson, count(*),
                   max(a.verdict = 'passed'),
                   max(a.verdict = 'passed' AND NOT a.imported),
                   sum(a.imported),
                   (SELECT verdict FROM attempts b WHERE b.lesson = a.lesson
                    ORDER BY b.at DESC, b.id DESC LIMIT 1),
                   min(CASE WHEN a.verdict = 'passed' THEN a.at END),
                   coalesce((SELECT revealed FROM hints h WHERE h.lesson = a.lesson), 0),
                   coalesce((SELECT auto FROM hints h WHERE h.lesson = a.lesson), 0)
            FROM attempts a GROUP BY a.lesson
            """
        ).fetchall()
        result = {
            lesson: LessonProgress(
                lesson, n, bool(passed), last, first, hints, bool(here), imp, auto
            )
            for lesson, n, passed, here, imp, last, first, hints, auto in rows
        }
        for lesson, revealed, auto in self._db.execute("SELECT lesson, revealed, auto FROM hints"):
            result.setdefault(
                lesson, LessonProgress(lesson, hints_revealed=revealed, hints_auto=auto)
            )
        return result

    def attempts(self, lesson: str | None = None) -> list[dict]:
        query = f"SELECT {', '.join(ATTEMPT_COLUMNS)} FROM attempts"
        args: tuple = ()
        if lesson is not None:
            query += " WHERE lesson = ?"
            args = (lesson,)
        rows = [
            dict(zip(ATTEMPT_COLUMNS, row, strict=True))
            for row in self._db.execute(query + " ORDER BY id", args)
        ]
        for row in rows:
            row["failing"] = json.loads(row["failing"])
            row["imported"] = bool(row["imported"])
        return rows

    # -- settings -------------------------------------------------------------------

    def get_setting(self, key: str) -> str | None:
        row = self._db.execute("SELECT value FROM settings WHERE key = ?", (key,)).fetchone()
        return row[0] if row else None

    def set_setting(self, key: str, value: str | None) -> None:
        db = self._writer()
        with db:
            if value is None:
                db.execute("DELETE FROM settings WHERE key = ?", (key,))
            else:
                db.execute(
                    "INSERT INTO settings (key, value) VALUES (?, ?)"
                    " ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                    (key, value),
                )

    # -- carrying progress to another machine ---------------------------------------

    def export_data(self) -> dict:
        hints = dict(self._db.execute("SELECT lesson, revealed FROM hints"))
        auto = dict(self._db.execute("SELECT lesson, auto FROM hints WHERE auto > 0"))
        settings = dict(self._db.execute("SELECT key, value FROM settings"))
        return {
            "format": EXPORT_FORMAT,
            "attempts": self.attempts(),
            "hints": hints,
            "hints_auto": auto,  # absent from older exports: none counted apart then
            "settings": settings,
        }

    def import_data(self, data: dict) -> int:
        """Merge an export: attempts are a union (nothing here is overwritten), hint
        counts take the larger value. Returns how many attempts were new. Merged attempts
        are marked imported: they count in progress, but were never graded here."""
        if data.get("format") != EXPORT_FORMAT:
            raise ValueError(f"unsupported progress export format {data.get('format')!r}")
        added = 0
        db = self._writer()
        with db:
            db.execute("BEGIN IMMEDIATE")
            for row in data.get("attempts", []):
                exists = db.execute(
                    "SELECT 1 FROM attempts WHERE at = ? AND lesson = ? AND verdict = ?",
                    (row["at"], row["lesson"], row["verdict"]),
                ).fetchone()
                if exists:
                    continue
                db.execute(
                    INSERT_ATTEMPT,
                    (
                        row["at"],
                        row["lesson"],
                        row["verdict"],
                        json.dumps(row.get("failing", [])),
                        float(row.get("duration_s", 0.0)),
                        int(row.get("hints_shown", 0)),
                        str(row.get("summary", "")),
                        1,  # whatever the export says: it was not graded here
                    ),
                )
                added += 1
            auto = data.get("hints_auto", {})
            for lesson, revealed in data.get("hints", {}).items():
                db.execute(
                    "INSERT INTO hints (lesson, revealed, auto) VALUES (?, ?, ?)"
                    " ON CONFLICT (lesson) DO UPDATE"
                    " SET revealed = max(revealed, excluded.revealed),"
                    " auto = max(auto, excluded.auto)",
                    (lesson, int(revealed), min(int(auto.get(lesson, 0)), int(revealed))),
                )
            for key, value in data.get("settings", {}).items():
                db.execute(
                    "INSERT OR IGNORE INTO settings (key, value) VALUES (?, ?)", (key, value)
                )
        return added

    def last_passed(self, *, here_only: bool = False) -> dict[str, str]:
        """Lesson id → time of its latest passing attempt (for review, oldest first);
        `here_only` leaves out imported attempts."""
        local = " AND NOT imported" if here_only else ""
        rows = self._db.execute(
            f"SELECT lesson, max(at) FROM attempts WHERE verdict = 'passed'{local} GROUP BY lesson"
        )
        return dict(rows.fetchall())


def _verify(db: sqlite3.Connection) -> None:
    """Raise a DatabaseError (without an error code) unless the file's pages are sound."""
    problems = [row[0] for row in db.execute("PRAGMA quick_check(3)")]
    if problems != ["ok"]:
        raise sqlite3.DatabaseError(" ".join("; ".join(problems).split())[:200])


def _migrate(db: sqlite3.Connection) -> None:
    """Create what is missing: the tables of a new store, the columns of an old one."""
    db.executescript(SCHEMA)
    for table, added in (("attempts", ADDED_COLUMNS), ("hints", ADDED_HINT_COLUMNS)):
        columns = {row[1] for row in db.execute(f"PRAGMA table_info({table})")}
        for name, definition in added.items():
            if name not in columns:
                db.execute(f"ALTER TABLE {table} ADD COLUMN {name} {definition}")
