"""The progress store: every attempt and revealed hint, in SQLite inside the workspace.

SQLite in WAL mode with a busy timeout makes it safe against a killed process (a
write is a transaction, or nothing) and against the CLI and the TUI writing at the
same time. Rows are keyed by lesson id and unknown ids are ignored by readers, so
editing the course never corrupts anyone's progress.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

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
    summary TEXT NOT NULL DEFAULT ''
);
CREATE INDEX IF NOT EXISTS attempts_by_lesson ON attempts (lesson, at);
CREATE TABLE IF NOT EXISTS hints (
    lesson TEXT PRIMARY KEY,
    revealed INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS settings (
    key TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
"""
EXPORT_FORMAT = 1
# An attempt's columns, in the order every query here reads and writes them.
ATTEMPT_COLUMNS = ("at", "lesson", "verdict", "failing", "duration_s", "hints_shown", "summary")
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
    hints_revealed: int = 0


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds")


class ProgressStore:
    busy_timeout_s = 10.0  # how long a write waits for another process's

    def __init__(self, path: Path) -> None:
        self.path = path
        path.parent.mkdir(parents=True, exist_ok=True)
        self._db = self._open()

    def _open(self) -> sqlite3.Connection:
        try:
            return self._connect()
        except sqlite3.OperationalError as exc:  # locked for now: the file is not damaged
            raise WorkbookError(
                f"the progress store {self.path} is busy ({exc}): another workbook may be "
                "writing to it; try again"
            ) from exc
        except sqlite3.DatabaseError:
            # A damaged file is moved aside, never deleted: someone may rescue it.
            stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
            self.path.replace(self.path.with_name(f"{self.path.name}.damaged-{stamp}"))
            return self._connect()

    def _connect(self) -> sqlite3.Connection:
        db = sqlite3.connect(self.path, timeout=self.busy_timeout_s, isolation_level=None)
        db.execute(f"PRAGMA busy_timeout = {int(self.busy_timeout_s * 1000)}")
        db.execute("PRAGMA journal_mode = WAL")
        db.execute("PRAGMA synchronous = NORMAL")
        db.executescript(SCHEMA)
        columns = {row[1] for row in db.execute("PRAGMA table_info(attempts)")}
        if "summary" not in columns:  # a store made before attempts kept their diagnosis
            db.execute("ALTER TABLE attempts ADD COLUMN summary TEXT NOT NULL DEFAULT ''")
        db.execute("SELECT count(*) FROM attempts").fetchone()
        return db

    def close(self) -> None:
        self._db.close()

    def record_attempt(
        self,
        lesson: str,
        verdict: str,
        duration_s: float,
        failing: Iterable[str] = (),
        summary: str = "",
    ) -> None:
        """One attempt; `summary` is its diagnosis in words, kept for exports."""
        with self._db:
            self._db.execute("BEGIN IMMEDIATE")
            (hints,) = self._db.execute(
                "SELECT coalesce(max(revealed), 0) FROM hints WHERE lesson = ?", (lesson,)
            ).fetchone()
            self._db.execute(
                INSERT_ATTEMPT,
                (_now(), lesson, verdict, json.dumps(list(failing)), duration_s, hints, summary),
            )

    def reveal_hint(self, lesson: str, available: int) -> int:
        """Reveal one more hint (up to `available`); return how many are now revealed."""
        with self._db:
            self._db.execute("BEGIN IMMEDIATE")
            (count,) = self._db.execute(
                "INSERT INTO hints (lesson, revealed) VALUES (?, min(1, ?))"
                " ON CONFLICT (lesson) DO UPDATE SET revealed = min(revealed + 1, ?)"
                " RETURNING revealed",
                (lesson, available, available),
            ).fetchone()
        return count

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
                   (SELECT verdict FROM attempts b WHERE b.lesson = a.lesson
                    ORDER BY b.at DESC, b.id DESC LIMIT 1),
                   min(CASE WHEN a.verdict = 'passed' THEN a.at END),
                   coalesce((SELECT revealed FROM hints h WHERE h.lesson = a.lesson), 0)
            FROM attempts a GROUP BY a.lesson
            """
        ).fetchall()
        result = {
            lesson: LessonProgress(lesson, n, bool(passed), last, first, hints)
            for lesson, n, passed, last, first, hints in rows
        }
        for lesson, revealed in self._db.execute("SELECT lesson, revealed FROM hints"):
            result.setdefault(lesson, LessonProgress(lesson, hints_revealed=revealed))
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
        return rows

    # -- settings -------------------------------------------------------------------

    def get_setting(self, key: str) -> str | None:
        row = self._db.execute("SELECT value FROM settings WHERE key = ?", (key,)).fetchone()
        return row[0] if row else None

    def set_setting(self, key: str, value: str | None) -> None:
        with self._db:
            if value is None:
                self._db.execute("DELETE FROM settings WHERE key = ?", (key,))
            else:
                self._db.execute(
                    "INSERT INTO settings (key, value) VALUES (?, ?)"
                    " ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                    (key, value),
                )

    # -- carrying progress to another machine ---------------------------------------

    def export_data(self) -> dict:
        hints = dict(self._db.execute("SELECT lesson, revealed FROM hints"))
        settings = dict(self._db.execute("SELECT key, value FROM settings"))
        return {
            "format": EXPORT_FORMAT,
            "attempts": self.attempts(),
            "hints": hints,
            "settings": settings,
        }

    def import_data(self, data: dict) -> int:
        """Merge an export: attempts are a union (nothing here is overwritten), hint
        counts take the larger value. Returns how many attempts were new."""
        if data.get("format") != EXPORT_FORMAT:
            raise ValueError(f"unsupported progress export format {data.get('format')!r}")
        added = 0
        with self._db:
            self._db.execute("BEGIN IMMEDIATE")
            for row in data.get("attempts", []):
                exists = self._db.execute(
                    "SELECT 1 FROM attempts WHERE at = ? AND lesson = ? AND verdict = ?",
                    (row["at"], row["lesson"], row["verdict"]),
                ).fetchone()
                if exists:
                    continue
                self._db.execute(
                    INSERT_ATTEMPT,
                    (
                        row["at"],
                        row["lesson"],
                        row["verdict"],
                        json.dumps(row.get("failing", [])),
                        float(row.get("duration_s", 0.0)),
                        int(row.get("hints_shown", 0)),
                        str(row.get("summary", "")),
                    ),
                )
                added += 1
            for lesson, revealed in data.get("hints", {}).items():
                self._db.execute(
                    "INSERT INTO hints (lesson, revealed) VALUES (?, ?)"
                    " ON CONFLICT (lesson) DO UPDATE"
                    " SET revealed = max(revealed, excluded.revealed)",
                    (lesson, int(revealed)),
                )
            for key, value in data.get("settings", {}).items():
                self._db.execute(
                    "INSERT OR IGNORE INTO settings (key, value) VALUES (?, ?)", (key, value)
                )
        return added

    def last_passed(self) -> dict[str, str]:
        """Lesson id → time of its latest passing attempt (for review, oldest first)."""
        rows = self._db.execute(
            "SELECT lesson, max(at) FROM attempts WHERE verdict = 'passed' GROUP BY lesson"
        )
        return dict(rows.fetchall())
