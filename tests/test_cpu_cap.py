"""Correct code passes with the grading limited to a fifth of a core.

Issue 8: on a loaded machine the references of lessons 12, 17, 18, 19 and 21 got
`timeout`, because the wall-clock limit also paid for importing TensorFlow. A cgroup v1
CPU quota reproduces that load at will (busy loops beside the grader do not: the
import's threads win a larger share than the loops). The grader now charges learner
code in CPU seconds, so a slow machine must cost a correct solution nothing.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

_BENCH = Path(__file__).resolve().parents[1] / "benchmarks" / "bench_cpu_cap.py"
_spec = importlib.util.spec_from_file_location("bench_cpu_cap", _BENCH)
bench = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(bench)

CAPPED_LESSONS = ["12-gru-cell", "17-keras-model-edits", "18-keras-predict-next"]


@pytest.fixture
def fifth_of_a_core():
    """A cgroup limited to 20 ms of CPU per 100 ms; skipped where none can be made."""
    reason = bench.cap_unavailable_reason()
    if reason:
        pytest.skip(f"cannot limit the grading's CPU here: {reason}")
    try:
        with bench.cpu_cap(quota_us=20_000, period_us=100_000) as group:
            yield group
    except bench.CapUnavailable as exc:
        pytest.skip(f"cannot limit the grading's CPU here: {exc}")


def test_references_pass_at_a_fifth_of_a_core(fifth_of_a_core):
    rows = bench.grade_capped(fifth_of_a_core, CAPPED_LESSONS)
    verdicts = {row["lesson"]: row["verdict"] for row in rows}
    assert verdicts == dict.fromkeys(CAPPED_LESSONS, "passed"), rows
    # The cap did act: without throttling this test would prove nothing.
    assert bench.throttling(fifth_of_a_core).get("nr_throttled", 0) > 0
