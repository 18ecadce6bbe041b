"""Tracebacks cut down to the learner's own frames.

Learners should see where *their* code went wrong, not pytest's or numpy's
internals, and never the hidden check's source (which would give the answer away).
"""

from __future__ import annotations

import linecache
import traceback
from dataclasses import dataclass
from types import TracebackType


@dataclass
class LearnerTrace:
    message: str
    location: str | None
    line: int | None
    code: str | None
    traceback: str


def _learner_frames(tb: TracebackType | None, path: str) -> list[traceback.FrameSummary]:
    return [frame for frame in traceback.extract_tb(tb) if frame.filename == path]


def describe(exc: BaseException, path: str, shown_as: str) -> LearnerTrace:
    """Explain `exc` for a learner whose file is `path` (shown as `shown_as`)."""
    frames = _learner_frames(exc.__traceback__, path)
    kind = type(exc).__name__
    text = str(exc).strip()
    lines = [
        f"  {shown_as}, line {f.lineno}, in {f.name}\n    {(f.line or '').strip()}" for f in frames
    ]
    lines.append(f"{kind}: {text}" if text else kind)
    last = frames[-1] if frames else None
    location = f"{shown_as}:{last.lineno}" if last else None
    code = (last.line or linecache.getline(path, last.lineno or 0)).strip() if last else None
    if isinstance(exc, NotImplementedError) and last is not None:
        message = (
            f"`{last.name}` is still a TODO: replace `raise NotImplementedError` "
            f"at {location} with your code"
        )
    elif isinstance(exc, SystemExit):
        where = f" at {location} (`{code}`)" if last is not None else ""
        message = f"your code called sys.exit() (or os._exit()){where}; remove that call"
    elif isinstance(exc, EOFError) and code is not None and "input(" in code:
        message = (
            f"your code asks for input() at {location}, but graded code gets no input: "
            "pass values as arguments (or set them in the file) instead"
        )
    elif isinstance(exc, MemoryError):
        message = "your code ran out of memory (the grader allows a bounded amount)"
    elif last is not None:
        message = f"your code raised {kind}: {text} (at {location}: `{code}`)"
        name = getattr(exc, "name", None)
        if isinstance(exc, NameError) and name and len(name) == 1 and name.isupper():
            message += f'; an answer letter is a string: write "{name}" in quotes'
    else:
        message = f"{kind} while calling your code: {text}"
    return LearnerTrace(
        message=message,
        location=location,
        line=last.lineno if last else None,
        code=code,
        traceback="\n".join(lines),
    )
