"""An audit hook (PEP 578) that keeps graded code away from what it must not touch.

Installed in the grading child just before the learner's file is loaded; an audit
hook cannot be removed again from Python. It refuses:

* opening anything under the sealed folders (the reference solutions: a file that
  `exec`s the answer must not pass) or the attempt's own report and output files;
* starting processes (`subprocess`, `os.system`, `fork`, `exec*`, `posix_spawn`): no
  lesson needs one, and a process that detaches itself (`setsid`) would outlive
  the attempt and the grader;
* swapping the `__code__` of a function of numpy, pytest or the grader, which would
  change it without rebinding any name the guard watches.

Like the guard, this raises the bar inside one process; it is not a sandbox (ctypes
can still reach libc). Courses that grade hostile code use containers (README).
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterable

PROCESS_EVENTS = frozenset(
    {
        "subprocess.Popen",
        "os.system",
        "os.exec",
        "os.posix_spawn",
        "os.spawn",
        "os.fork",
        "os.forkpty",
        "os.startfile",
    }
)
# Whose functions may not have their `__code__` swapped: the judge's.
JUDGE_PACKAGES = ("numpy", "pytest", "_pytest", "pluggy", "workbook", "builtins", "math")
PATH_EVENTS = frozenset({"open", "os.symlink", "os.link", "os.rename", "os.replace"})


class SealedError(PermissionError):
    """What graded code sees when it reaches for something sealed."""


def install(folders: Iterable[str], files: Iterable[str | None]) -> None:
    """Seal `folders` (everything below them) and `files`, and process creation."""
    abspath, realpath, fspath, fsdecode, sep = (
        os.path.abspath,
        os.path.realpath,
        os.fspath,
        os.fsdecode,
        os.sep,
    )
    prefixes = tuple(realpath(folder) + sep for folder in folders)
    exact = frozenset(realpath(f) for f in files if f)
    # Library files (every import opens some) skip the symlink walk below: thousands
    # of them load with tensorflow. A sealed folder inside a library is still checked.
    libraries = tuple({realpath(p) + sep for p in (sys.prefix, sys.base_prefix)})

    def hit(where: str) -> bool:
        return where in exact or (where + sep).startswith(prefixes)

    def sealed(path: object) -> bool:
        if isinstance(path, int):  # an already open file descriptor
            return False
        try:
            where = abspath(fsdecode(fspath(path)))
        except TypeError:
            return False
        if hit(where):
            return True
        return not where.startswith(libraries) and hit(realpath(where))

    def hook(event: str, args: tuple) -> None:
        if event in PROCESS_EVENTS:
            raise SealedError("graded code may not start other processes")
        if event == "object.__setattr__" and len(args) > 1 and args[1] == "__code__":
            owner = getattr(args[0], "__module__", None) or ""
            if owner.startswith(JUDGE_PACKAGES):  # tensorflow swaps code of its own
                raise SealedError("graded code may not replace a function's code")
        if event in PATH_EVENTS and args:
            paths = args[:1] if event == "open" else args[:2]
            if any(sealed(path) for path in paths):
                raise SealedError(
                    "graded code may not open the reference solutions or the grader's files"
                )

    sys.addaudithook(hook)
