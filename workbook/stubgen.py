"""Learner stubs generated from annotated reference solutions (the nbgrader/otter way).

A reference solution marks what the learner must write:

    def sigmoid(x):
        # BEGIN SOLUTION
        return 1 / (1 + np.exp(-x))
        # END SOLUTION

The stub replaces each region with `# TODO` plus `raise NotImplementedError`, or
with the region's own `# STUB: ...` lines (their text, uncommented) when a lesson
wants a different placeholder. One source for both means they can never drift apart,
and `reset` needs neither git nor the network.
"""

from __future__ import annotations

import re

from workbook.errors import CourseFormatError

_BEGIN = re.compile(r"^(\s*)# BEGIN SOLUTION\s*$")
_END = re.compile(r"^\s*# END SOLUTION\s*$")
_STUB = re.compile(r"^\s*# STUB:? ?(.*)$")


def _regions(text: str):
    """Yield ("code", line) and ("region", indent, body_lines) items."""
    lines = text.splitlines()
    i = 0
    while i < len(lines):
        begin = _BEGIN.match(lines[i])
        if not begin:
            if _END.match(lines[i]):
                raise CourseFormatError(f"line {i + 1}: END SOLUTION without BEGIN")
            yield ("code", lines[i])
            i += 1
            continue
        start = i
        body = []
        i += 1
        while i < len(lines) and not _END.match(lines[i]):
            if _BEGIN.match(lines[i]):
                raise CourseFormatError(f"line {i + 1}: nested BEGIN SOLUTION")
            body.append(lines[i])
            i += 1
        if i == len(lines):
            raise CourseFormatError(f"line {start + 1}: BEGIN SOLUTION is never closed")
        yield ("region", begin.group(1), body)
        i += 1


def has_regions(text: str) -> bool:
    return any(item[0] == "region" for item in _regions(text))


def make_stub(solution: str) -> str:
    out: list[str] = []
    for item in _regions(solution):
        if item[0] == "code":
            out.append(item[1])
            continue
        _, indent, body = item
        stub_lines = [m.group(1) for line in body if (m := _STUB.match(line))]
        if stub_lines:
            out.extend(f"{indent}{line}" if line else "" for line in stub_lines)
        else:
            out.append(f"{indent}# TODO: your code here")
            out.append(f"{indent}raise NotImplementedError")
    return "\n".join(out) + "\n"


def clean_solution(solution: str) -> str:
    """The reference as a learner sees it after passing: markers and STUB lines removed."""
    out: list[str] = []
    for item in _regions(solution):
        if item[0] == "code":
            out.append(item[1])
        else:
            out.extend(line for line in item[2] if not _STUB.match(line))
    return "\n".join(out) + "\n"


def same_code(a: str, b: str) -> bool:
    """Equal up to trailing whitespace: an editor's save must not count as a change."""

    def norm(text: str) -> list[str]:
        return [line.rstrip() for line in text.strip().splitlines()]

    return norm(a) == norm(b)
