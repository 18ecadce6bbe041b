"""What learner code prints: kept bounded in the subject, read safely by the judge
and the parent. Kept free of heavy imports: the command line imports it.

The subject writes what learner code prints through a descriptor it inherits, to
OUTPUT_FILE in the judge's private folder, and stops after OUTPUT_LIMIT characters
and one more (so the reader can tell that some were cut). That file is the only way
output reaches the judge: nothing the subject *says* about its output is asked for,
and the reader takes a bounded number of bytes whatever is in the file. When an
endless loop is stopped, its first prints, the best clue to the loop, are still
shown. The subject can never name, replace or link that file.
"""

from __future__ import annotations

import io
import os
import stat
from pathlib import Path

OUTPUT_LIMIT = 8_000
OUTPUT_FILE = "output.txt"
_READ_BYTES = 4 * (OUTPUT_LIMIT + 1)  # UTF-8: at most four bytes a character


class BoundedOutput(io.TextIOBase):
    """Writes the first OUTPUT_LIMIT + 1 characters printed to `copy_fd`, then
    nothing: the extra character tells the reader that output was cut."""

    def __init__(self, copy_fd: int | None = None) -> None:
        self.kept = 0
        self._copy = os.fdopen(copy_fd, "w", encoding="utf-8") if copy_fd is not None else None

    def writable(self) -> bool:
        return True

    def write(self, text: str) -> int:
        text = str(text)
        room = OUTPUT_LIMIT + 1 - self.kept
        if room > 0 and text:
            kept = text[:room]
            self.kept += len(kept)
            if self._copy is not None:
                self._copy.write(kept)
                self._copy.flush()
        return len(text)


def printed(path: Path | None) -> tuple[str, bool]:
    """What learner code printed (its first OUTPUT_LIMIT characters) and whether
    more was printed than that."""
    text = read_output(path, _READ_BYTES)
    return text[:OUTPUT_LIMIT], len(text) > OUTPUT_LIMIT


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
