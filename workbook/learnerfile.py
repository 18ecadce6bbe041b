"""Reading a learner's exercise file the way Python itself reads source.

A learner's editor may save in Latin-1, with a BOM, or with CRLF line ends. Python
accepts all of those (PEP 263: a `# -*- coding: NAME -*-` line in the first two
lines, else UTF-8), so the workbook must too: a file Python would run is never a
UnicodeDecodeError traceback here. Whatever only needs to copy a file (backups,
grading copies) handles its bytes and never decodes at all; what needs text (the
"untouched stub" test, `solution --diff`) decodes with Python's own rules, and a file
Python could not read either gets a one-line message naming the file and the fix.
"""

from __future__ import annotations

import io
import tokenize
from pathlib import Path

from workbook.errors import WorkbookError


class UndecodableSource(WorkbookError):
    """The file's bytes are not text in the encoding its coding line (or UTF-8) names;
    `line` and `code`, where a byte is at fault: its line number and that line."""

    def __init__(self, message: str, line: int | None = None, code: str | None = None):
        super().__init__(message)
        self.line = line
        self.code = code


def decode(data: bytes, shown_as: str) -> str:
    """`data` as Python would read it as source: its declared encoding (UTF-8 without
    one), BOM removed, line ends made `\\n` (as `importlib.util.decode_source` does)."""
    try:
        encoding, _ = tokenize.detect_encoding(io.BytesIO(data).readline)
    except SyntaxError as exc:  # an unknown codec, or a BOM contradicting the coding line
        if not str(exc).startswith("invalid or missing encoding declaration"):
            raise UndecodableSource(_message(shown_as, str(exc))) from exc
        encoding = "utf-8"  # not UTF-8 in its first lines: say which byte, below
    try:
        text = data.decode(encoding)
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        why = f"byte {data[exc.start]:#04x} on line {line} is not valid {encoding}"
        start = data.rfind(b"\n", 0, exc.start) + 1
        end = data.find(b"\n", exc.start)
        code = data[start : end if end >= 0 else len(data)].decode(encoding, errors="replace")
        raise UndecodableSource(_message(shown_as, why), line, code.rstrip("\r")) from exc
    return io.IncrementalNewlineDecoder(None, translate=True).decode(text, final=True)


def _message(shown_as: str, why: str) -> str:
    return (
        f"{shown_as} cannot be read as Python source ({why}). Save it as UTF-8, or name "
        "its encoding in a first-line comment such as `# -*- coding: latin-1 -*-`."
    )


def read_source(path: Path, shown_as: str | None = None) -> str:
    """The file at `path` decoded as Python source (see `decode`)."""
    return decode(path.read_bytes(), shown_as or str(path))
