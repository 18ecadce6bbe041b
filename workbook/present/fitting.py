"""Fitting text into a terminal's width without breaking what must stay whole: a number
of an expected/got array, its "(shape (2, 1))", a legend entry, a path.

Plain functions over strings and cell widths, shared by both faces: no Textual or rich
import here (`workbook check` uses them too).
"""

from __future__ import annotations

import re

# The shape note `workbook.grading.judge.expect.show` puts after an array: "(shape (2, 1))" or
# "(entries 6–11 of shape (2, 4))". It stays on one line.
_SHAPE = re.compile(r"\s+(\((?:entries [^()]* of )?shape \([^()]*\)\))$")


def value_atoms(value: str) -> list[str]:
    """An expected/got value cut where a line may break: after the comma between two
    entries, and before its shape note. "[ 1.2, -0.3] (shape (2, 1))" gives
    ["[ 1.2,", "-0.3]", "(shape (2, 1))"]: no number, bracket or shape is split."""
    text = " ".join(value.split("\n"))
    shape = _SHAPE.search(text)
    body, tail = (text[: shape.start()], [shape.group(1)]) if shape else (text, [])
    return [atom for atom in re.split(r"(?<=,)\s+", body.strip()) if atom] + tail


def pack(widths: list[int], width: int, gap: int = 1) -> list[list[int]]:
    """Items (by their widths in cells) packed in order into lines at most `width`
    wide, `gap` cells apart, never splitting one: the indices on each line. An item
    wider than `width` gets a line of its own."""
    lines: list[list[int]] = []
    used = 0
    for index, item in enumerate(widths):
        if lines and used + gap + item <= width:
            lines[-1].append(index)
            used += gap + item
        else:
            lines.append([index])
            used = item
    return lines


def fit_value(value: str, width: int, cells=len) -> list[str]:
    """`value` as lines at most `width` wide (when its atoms allow), broken only
    between atoms (see `value_atoms`). `cells` measures a string's width."""
    atoms = value_atoms(value)
    if not atoms:
        return [value]
    lines = pack([cells(atom) for atom in atoms], max(1, width))
    return [" ".join(atoms[i] for i in line) for line in lines]


def output_note(left_out: int, truncated: bool) -> str | None:
    """What a face says under the learner's output it shows: how many of the kept lines
    it left out, and that the grader kept only the first 8 kB (then the count is of
    the kept lines only, and the code printed more). A line of its own, not a panel
    title: at 80 columns a title was cut mid-word."""
    if not left_out and not truncated:
        return None
    kept = "your code printed more than 8 kB, and only the first 8 kB was kept"
    if not left_out:
        return kept[0].upper() + kept[1:]
    more = f"… {left_out} more line{'s' if left_out != 1 else ''} not shown"
    return f"{more}; {kept}" if truncated else more
