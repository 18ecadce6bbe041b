"""Helpers shared by the TUI tests (pilot, snapshots)."""

from __future__ import annotations

import asyncio
import time

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
