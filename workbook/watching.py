"""Noticing saves of exercise files, for `workbook watch` and the TUI.

We watch the exercises *folder*, not single files: many editors save by writing a
temporary file and renaming it over the original, which a watch on the file's path
would miss after the first save. Where file-system events are unreliable (WSL on a
Windows drive, network shares) `poll=True` falls back to polling.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from pathlib import Path


def should_poll() -> bool:
    """Polling where events are known to be unreliable, or when the user asks for it."""
    if os.environ.get("WORKBOOK_POLL") == "1":
        return True
    try:
        release = Path("/proc/sys/kernel/osrelease").read_text().lower()
    except OSError:
        return False
    return "microsoft" in release and str(Path.cwd()).startswith("/mnt/")


def saved_exercises(
    folder: Path, *, poll: bool | None = None, stop_event=None
) -> Iterator[set[Path]]:
    """Yield the set of `.py` files under `folder` that changed (or were deleted: the
    caller tells them apart by existence), batch by batch.

    A deleted `folder` is waited for, then watched afresh: a watch on a folder that was
    removed hears nothing more, even once `workbook reset --all` has made it again."""
    from watchfiles import watch

    use_polling = should_poll() if poll is None else poll
    while stop_event is None or not stop_event.is_set():
        if not folder.is_dir():
            time.sleep(FOLDER_POLL_S)
            continue
        known = {path.resolve() for path in folder.glob("*.py")}
        reported_gone: set[Path] = set()
        try:
            for changes in watch(
                folder,
                force_polling=use_polling,
                poll_delay_ms=300,
                stop_event=stop_event,
                debounce=150,
            ):
                changed = {Path(path).resolve() for kind, path in changes if path.endswith(".py")}
                if changed:
                    known |= changed
                    reported_gone |= {path for path in changed if not path.exists()}
                    yield changed
                if not folder.is_dir():
                    break  # watch the folder that takes its place
            else:
                return  # stopped
        except FileNotFoundError:  # deleted as the watch began, or while it ran
            pass
        # The folder went, with its files: a watch that lost its folder does not
        # always report them, and the caller must hear that they are gone.
        gone = {path for path in known - reported_gone if not path.exists()}
        if gone:
            yield gone


FOLDER_POLL_S = 0.25  # how often a missing exercises/ folder is looked for
