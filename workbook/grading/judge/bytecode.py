"""Compiled check files, kept by the digest of their source.

The judge runs its own verified copy of a lesson's checks, in a folder made for the
attempt, so Python never finds a bytecode cache for them and compiles them on every
attempt: ~10 ms for lesson 8's 40 KB (its check and the shared `_gates.py`) in a
fresh interpreter, which a cold `workbook check` waits for. Here the code of a
source, compiled once, is kept under the source's SHA-256 and the interpreter's
magic number, and written beside the copy as the `__pycache__` file Python's own
import looks for (stamped with the copy's mtime and size), so the import that pytest
makes reads it instead of compiling. The code is the compilation of the verified
bytes themselves (the key is their digest); Python sets each code object's file name
to the copy's path when it loads it.

The cache lives in the user's cache folder (the job names it:
`runner.bytecode_folder`, under `$XDG_CACHE_HOME`, else `~/.cache`), out of a
subject's reach: confined learner code reads only Python, its libraries and its
scratch folder, and the folder is among the paths hidden from it. What an entry
holds is what runs, so where learner code is not confined (no Landlock: `workbook
doctor` says so) it could forge one, as it could rewrite the installed checks and
their manifest there; unlike those, a forged entry outlives a reinstall (deleting the
folder clears it). A file that does not unmarshal to code is compiled again; a cache
that cannot be read or written (a read-only home on a platform) only costs the
compile.
"""

from __future__ import annotations

import contextlib
import hashlib
import importlib.util
import marshal
import os
import sys
import types
from pathlib import Path

MAGIC = importlib.util.MAGIC_NUMBER


def _compiled(data: bytes, copy: Path, folder: Path | None) -> bytes:
    """The marshalled code of `data`: from the cache when it holds it, else compiled
    now (and kept there, written whole or not at all)."""
    # The optimisation level is part of the key: code compiled under -O has no
    # asserts (and under -OO no docstrings, which name the checks).
    level = sys.flags.optimize
    key = f"{hashlib.sha256(data).hexdigest()}-{MAGIC.hex()}-o{level}.bin"
    if folder is not None:
        with contextlib.suppress(OSError, ValueError, EOFError, TypeError):
            kept = (folder / key).read_bytes()
            # A truncated or garbled file is compiled again, never imported.
            if isinstance(marshal.loads(kept), types.CodeType):
                return kept
    code = marshal.dumps(compile(data, str(copy), "exec", dont_inherit=True, optimize=level))
    if folder is not None:
        import tempfile

        with contextlib.suppress(OSError):
            folder.mkdir(mode=0o700, parents=True, exist_ok=True)
            fd, temp = tempfile.mkstemp(dir=folder, prefix=".partial-")
            try:
                with os.fdopen(fd, "wb") as out:
                    out.write(code)
                os.replace(temp, folder / key)
            finally:
                with contextlib.suppress(FileNotFoundError):
                    os.unlink(temp)  # only when the write failed (a full disk)
    return code


def place(copy: Path, data: bytes, folder: Path | None) -> None:
    """Write the bytecode of `copy` (whose bytes are `data`) where the import of it
    looks first. Source that does not compile is left to the import to report."""
    try:
        target = Path(importlib.util.cache_from_source(str(copy)))
    except NotImplementedError:  # an interpreter without bytecode caching
        return
    try:
        code = _compiled(data, copy, folder)
    except (SyntaxError, ValueError):
        return
    stat = copy.stat()
    header = (
        MAGIC
        + (0).to_bytes(4, "little")  # flags 0: validated by the source's mtime and size
        + (int(stat.st_mtime) & 0xFFFFFFFF).to_bytes(4, "little")
        + (stat.st_size & 0xFFFFFFFF).to_bytes(4, "little")
    )
    with contextlib.suppress(OSError):
        target.parent.mkdir(mode=0o700, exist_ok=True)
        target.write_bytes(header + code)
