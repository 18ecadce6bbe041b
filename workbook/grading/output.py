"""What learner code prints: kept bounded in the subject, read safely by the judge
and the parent. Kept free of heavy imports: the command line imports it.

The subject keeps the first OUTPUT_LIMIT characters in memory and also writes them
through a descriptor it inherits to OUTPUT_FILE in the judge's private folder, so
that when learner code is stopped (an endless loop), its first prints, the best clue
to the loop, are still shown. The subject can never name, replace or link that file.
"""

from __future__ import annotations

import io
import os
import stat
from pathlib import Path

OUTPUT_LIMIT = 8_000
OUTPUT_FILE = "output.txt"


class BoundedOutput(io.TextIOBase):
    """Keeps the first OUTPUT_LIMIT characters written and counts the rest.

    What is kept also goes straight to `copy` (a file the judge reads), so that when
    an endless loop is stopped, its first prints, the best clue to the loop, are
    still shown."""

    def __init__(self, copy_fd: int | None = None) -> None:
        self.parts: list[str] = []
        self.kept = 0
        self.dropped = 0
        self._copy = os.fdopen(copy_fd, "w", encoding="utf-8") if copy_fd is not None else None

    def writable(self) -> bool:
        return True

    def write(self, text: str) -> int:
        text = str(text)
        room = OUTPUT_LIMIT - self.kept
        if room > 0:
            kept = text[:room]
            self.parts.append(kept)
            self.kept += len(kept)
            if self._copy is not None:
                self._copy.write(kept)
                self._copy.flush()
        self.dropped += max(0, len(text) - max(room, 0))
        return len(text)

    def getvalue(self) -> str:
        return "".join(self.parts)


def read_output(path: Path | None, limit: int = 64_000) -> str:
    """The subject's printed output, from the file the judge made for it: opened
    without following links or blocking, only if it is a regular file, and only its
    first `limit` bytes."""
    if path is None:
        return ""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
    except OSError:
        return ""
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            return ""
        return os.read(fd, limit).decode("utf-8", errors="replace")
    finally:
        os.close(fd)
