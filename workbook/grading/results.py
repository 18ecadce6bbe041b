"""What a grading attempt produced, in a shape both faces and `--json` can use."""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field, fields
from enum import StrEnum
from typing import Any

# C0 controls but tab and newline, DEL, and the C1 controls (U+0080-U+009F, which
# include CSI and OSC): learner code's words must not drive a terminal (clear it,
# set its title, write the clipboard with OSC 52) nor put raw ESC or CR in an export.
# And the bidirectional embeddings, overrides and isolates (U+202A-U+202E,
# U+2066-U+2069): they reorder what follows on screen ("Trojan Source"), so a line
# of output or a traceback could show other words than it holds. Right-to-left
# text needs none of them; the marks U+200E/U+200F stay.
_CONTROLS = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


def clean_text(text: str) -> str:
    """`text` without control characters other than newline and tab, and without
    bidirectional overrides."""
    return _CONTROLS.sub("", text)


def _cleaned(value: Any) -> Any:
    if isinstance(value, str):
        return clean_text(value)
    if isinstance(value, list):
        return [_cleaned(item) for item in value]
    if isinstance(value, dict):
        return {key: _cleaned(item) for key, item in value.items()}
    return value


class Verdict(StrEnum):
    PASSED = "passed"
    FAILED = "failed"
    ERROR = "error"
    TIMEOUT = "timeout"
    NOT_STARTED = "not-started"


@dataclass
class CheckResult:
    """One hidden check, as the learner sees it: a sentence, an outcome, a diagnosis."""

    id: str
    name: str
    outcome: str  # "passed" | "failed" | "error" | "not-run"
    message: str = ""
    expected: str | None = None
    got: str | None = None
    location: str | None = None


@dataclass
class ErrorInfo:
    """Why the file could not be graded at all (syntax, import, crash, time, limits)."""

    kind: str
    message: str
    file: str | None = None
    line: int | None = None
    code: str | None = None
    traceback: str = ""


@dataclass
class GradeResult:
    lesson: str
    verdict: Verdict
    duration_s: float
    checks: list[CheckResult] = field(default_factory=list)
    error: ErrorInfo | None = None
    output: str = ""
    output_truncated: bool = False
    tampered: list[str] = field(default_factory=list)  # grading files unlike the shipped ones
    # Plots of the learner's own numbers, made by the judge from plain data:
    # [{"title", "x_label", "y_label", "log_y", "series": [{"name", "x", "y"}]}]
    plots: list[dict] = field(default_factory=list)
    # Which protections confined the learner's code, e.g. {"label": "landlock-abi-7+seccomp"}
    protection: dict = field(default_factory=dict)
    # The grader itself failed (not the learner's code): its start-up, or a crash of
    # the judge. An attempt the grading service fails so is run again, cold.
    grader_fault: bool = False
    # What happened to the grading itself, in words (e.g. that it was run again).
    notes: list[str] = field(default_factory=list)

    def clean(self) -> GradeResult:
        """Strip control characters (but newline and tab) from every text of this
        result, in place: output, messages, expected and got, locations, the error's
        message, code and traceback, plot labels. Called where the judge's report
        becomes a result, so every face and export gets clean text."""
        for check in self.checks:
            for f in fields(check):
                setattr(check, f.name, _cleaned(getattr(check, f.name)))
        if self.error is not None:
            for f in fields(self.error):
                setattr(self.error, f.name, _cleaned(getattr(self.error, f.name)))
        self.output = clean_text(self.output) if isinstance(self.output, str) else ""
        self.plots = _cleaned(self.plots)
        self.protection = _cleaned(self.protection)
        self.notes = _cleaned(self.notes)
        return self

    @property
    def passed(self) -> bool:
        return self.verdict is Verdict.PASSED

    @property
    def failing(self) -> list[CheckResult]:
        return [c for c in self.checks if c.outcome in ("failed", "error")]

    def summary(self, limit: int = 2000) -> str:
        """What was wrong, in words, for records that outlive the attempt (exports,
        Gradescope's per-test output): the error, or each failing check's diagnosis."""
        if self.error is not None:
            text = self.error.message
        else:
            repeats = self.repeated_from()
            text = "\n".join(
                f"{check.name}: {check.message}"
                for check in self.failing
                if check.id not in repeats
            )
        return text[:limit]

    def repeated_from(self) -> dict[str, str]:
        """Failing check id → the name of an earlier failing check with the same message.

        One exception (a NameError, a leftover `raise`) fails every check with the same
        words; the faces show them once and refer back, instead of a wall of copies."""
        first: dict[str, str] = {}
        repeats: dict[str, str] = {}
        for check in self.failing:
            if not check.message:
                continue
            if check.message in first:
                repeats[check.id] = first[check.message]
            else:
                first[check.message] = check.name
        return repeats

    def not_run_as_above(self) -> set[str]:
        """Ids of checks not run for the same reason as the not-run check before them.

        A stop (a time limit, a crash) leaves every later check not run, each saying
        where it stopped: the faces say it under the first and list the others' names."""
        quiet: set[str] = set()
        before: str | None = None
        for check in self.checks:
            if check.outcome != "not-run":
                before = None
                continue
            if check.message and check.message == before:
                quiet.add(check.id)
            before = check.message
        return quiet

    @property
    def tamper_warning(self) -> str | None:
        if not self.tampered:
            return None
        return (
            "warning: this workspace's checks or catalog differ from the shipped course "
            f"({', '.join(self.tampered)}); this result may not be trustworthy"
        )

    @property
    def headline(self) -> str:
        """One line a learner reads first."""
        total = len(self.checks)
        ok = sum(c.outcome == "passed" for c in self.checks)
        match self.verdict:
            case Verdict.PASSED:
                return f"passed: all {total} checks pass"
            case Verdict.FAILED:
                return f"failed: {ok} of {total} checks pass"
            case Verdict.NOT_STARTED:
                return "not started: the exercise is still the untouched stub"
            case Verdict.TIMEOUT:
                return f"timeout: {self.error.message if self.error else 'too slow'}"
            case _:
                return f"error: {self.error.message if self.error else 'could not grade'}"

    def to_json(self) -> dict:
        return {
            "lesson": self.lesson,
            "verdict": str(self.verdict),
            "duration_s": round(self.duration_s, 3),
            "checks": [asdict(c) for c in self.checks],
            "error": asdict(self.error) if self.error else None,
            "output": self.output,
            "output_truncated": self.output_truncated,
            "tampered": self.tampered,
            "plots": self.plots,
            "protection": self.protection,
            "notes": self.notes,
        }
