"""Helpers shared by the TUI tests (pilot, snapshots)."""

from __future__ import annotations

import asyncio
import time

from workbook.grading.results import CheckResult, GradeResult, Verdict

LESSON = "01-activations"


def failing_version(reference: str) -> str:
    """Lesson 1 with sigmoid(x) written as σ(−x): a mistake the checks name."""
    body = "    z = np.exp(-np.abs(x))\n    return np.where(x >= 0, 1.0 / (1.0 + z), z / (1.0 + z))"
    assert body in reference
    return reference.replace(body, "    return 1.0 / (1.0 + np.exp(x))")


async def wait_for_results(app, pilot, count: int, timeout: float = 30.0) -> None:
    """Wait until `count` results have reached the screen (polling, no blind sleep)."""
    deadline = time.monotonic() + timeout
    while len(app.results_shown) < count:
        if time.monotonic() > deadline:
            raise AssertionError(f"only {len(app.results_shown)} results shown after {timeout} s")
        await asyncio.sleep(0.02)
    await pilot.pause()


def screen_text(app) -> str:
    """The screen as plain text, as a terminal would show it."""
    return "\n".join(strip.text for strip in app.screen._compositor.render_strips())


BATCH_EXPECTED = (
    "[0.1552945 , 0.97871181, 0.64108233, 0.06698456, 0.13084283, 0.62234008, …] (shape (2, 4))"
)
BATCH_GOT = (
    "[ 0.80748802,  1.68277405,  1.1894205 ,  0.75936407, -0.59165372, -0.05815424, …] "
    "(shape (2, 4))"
)


def failed_with_arrays() -> GradeResult:
    """Lesson 3's result for a bias added after σ: long diagnoses, arrays of a batch."""
    message = (
        "f_t (a batch of 4 columns): the bias b_f is added after σ; it belongs inside: "
        "σ(W_f·[h_{t-1}, x_t] + b_f)"
    )
    checks = [
        CheckResult(
            "test_batch",
            "works on a batch: h_prev (hidden, B) and x_t (input, B) give f_t (hidden, B)",
            "failed",
            message,
            BATCH_EXPECTED,
            BATCH_GOT,
        ),
        CheckResult(
            "test_one",
            "forget gate is σ(W_f·[h_{t-1}, x_t] + b_f)",
            "failed",
            "the bias b_f is added after σ",
            "[0.39210815, 0.73321036] (shape (2, 1))",
            "[ 1.22578661, -0.35263079] (shape (2, 1))",
        ),
    ]
    return GradeResult("03-forget-gate", Verdict.FAILED, 0.5, checks=checks)


# The snapshots show the course as it was when they were taken: its first 23 lessons
# and the glossary terms they use. A lesson added at the end (`workbook dev new`)
# changes no snapshot; editing a lesson shown, or removing one, does.
SNAPSHOT_LESSONS = 23


def pin_course(workspace):
    """`workspace`, seen as the course of the snapshots (in memory only: no file is
    changed, so grading and tamper evidence are as for any workspace)."""
    import dataclasses

    course = workspace.course
    lessons = tuple(lesson for lesson in course.lessons if lesson.number <= SNAPSHOT_LESSONS)
    used = {key for lesson in lessons for key in lesson.glossary}
    workspace.course = dataclasses.replace(course, lessons=lessons)
    workspace.glossary = {key: term for key, term in workspace.glossary.items() if key in used}
    return workspace
