"""Files' stamps: what a parse kept by a long-lived process is keyed by.

The grading service forks a command per `workbook check`; a fork that parsed the
course's 25 TOML front matters again paid ~15 ms of a ~170 ms check. A parse kept
with its files' stamps (modification and change times, size, inode) is reused while
they match, as git's index does; the change time moves with every write and cannot
be set back, as the modification time can. Like git, a stamp younger than `RACY_S`
is not trusted: file times move in clock ticks of a few ms, so a file rewritten twice
within one tick, at the same size, would keep its first stamp.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Hashable
from pathlib import Path
from typing import TypeVar

T = TypeVar("T")

RACY_S = 2.0

Stamp = tuple


def stamp(*paths: Path) -> Stamp | None:
    """The stamps of `paths` (a folder: of the files directly in it), or None when
    one is too recent to trust. A missing path has a stamp too: its absence."""
    found: list[tuple] = []
    newest = 0
    for path in paths:
        try:
            if path.is_dir():
                with os.scandir(path) as entries:
                    infos = sorted((e.name, e.stat()) for e in entries if e.is_file())
            else:
                infos = [(path.name, path.stat())]
        except FileNotFoundError:
            found.append((str(path), None))
            continue
        for name, info in infos:
            found.append(
                (str(path), name, info.st_mtime_ns, info.st_ctime_ns, info.st_size, info.st_ino)
            )
            newest = max(newest, info.st_mtime_ns, info.st_ctime_ns)
    if time.time_ns() - newest < RACY_S * 1e9:
        return None
    return tuple(found)


def reuse(kept: dict, key: Hashable, paths: list[Path], read: Callable[[], T]) -> T:
    """`read()`, or what it returned before for `key` while `paths` keep their stamps
    (kept in `kept`, the caller's own store)."""
    now = stamp(*paths)
    held = kept.get(key)
    if now is not None and held is not None and held[0] == now:
        return held[1]
    value = read()
    if now is not None:
        kept[key] = (now, value)
    return value
