"""The pytest plugin that runs inside the grading child.

It hands each check the learner's module (fixture `learner`) and turns every test
outcome into a JSON event with a learner-facing message. Events are written as they
happen, so a timeout still reports which checks finished and which one was running.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from types import ModuleType
from typing import Any

import pytest

from workbook import expect
from workbook.expect import CheckFailure
from workbook.grading.learner_trace import describe


def check_title(item: pytest.Item) -> str:
    """A check's learner-facing name: the first line of its docstring."""
    func = getattr(item, "function", None)
    doc = inspect.getdoc(func) if func else None
    return doc.splitlines()[0] if doc else item.name.removeprefix("test_").replace("_", " ")


class GradingPlugin:
    def __init__(
        self,
        module: ModuleType,
        learner_path: str,
        shown_as: str,
        emit: Callable[[dict[str, Any]], None],
    ) -> None:
        self.module = module
        self.learner_path = learner_path
        self.shown_as = shown_as
        self.emit = emit
        self._failed: dict[str, dict[str, Any]] = {}
        expect.plot_sink = lambda figure: emit({"event": "plot", **figure})

    @pytest.fixture
    def learner(self) -> ModuleType:
        return self.module

    def pytest_collectreport(self, report: pytest.CollectReport) -> None:
        if report.failed:
            self.emit({"event": "check-error", "message": str(report.longrepr)[-2000:]})

    @pytest.hookimpl(tryfirst=True)
    def pytest_runtest_setup(self, item: pytest.Item) -> None:
        self.emit({"event": "start", "id": item.name, "name": check_title(item)})

    @pytest.hookimpl(wrapper=True)
    def pytest_runtest_makereport(self, item: pytest.Item, call: pytest.CallInfo):
        report = yield
        if call.excinfo is not None and item.nodeid not in self._failed:
            self._failed[item.nodeid] = self._explain(call.excinfo.value, call.when)
        if call.when == "teardown":
            result = self._failed.pop(item.nodeid, {"outcome": "passed", "message": ""})
            self.emit({"event": "check", "id": item.name, "name": check_title(item), **result})
        return report

    @pytest.hookimpl(tryfirst=True, specname="pytest_runtest_makereport")
    def pytest_runtest_makereport_quick(self, item: pytest.Item, call: pytest.CallInfo):
        """A failure's report without pytest's formatted traceback (`longrepr`).

        Nothing reads it (the terminal reporter is off; the learner sees the message
        `_explain` extracts), and formatting it looks up the source of every frame:
        20-40 ms per failing check. Passes and skips keep pytest's own report."""
        excinfo = call.excinfo
        if excinfo is None or isinstance(excinfo.value, pytest.skip.Exception):
            return None
        return pytest.TestReport(
            item.nodeid,
            item.location,
            {name: 1 for name in item.keywords},
            "failed",
            f"{excinfo.typename}: {excinfo.value}"[:2000],
            call.when,
            duration=call.duration,
            start=call.start,
            stop=call.stop,
        )

    def _explain(self, exc: BaseException, when: str) -> dict[str, Any]:
        if isinstance(exc, CheckFailure):
            return {
                "outcome": "failed",
                "message": exc.message,
                "expected": exc.expected,
                "got": exc.got,
            }
        if isinstance(exc, pytest.skip.Exception):
            return {"outcome": "not-run", "message": str(exc)}
        trace = describe(exc, self.learner_path, self.shown_as)
        if isinstance(exc, AssertionError) and trace.location is None:
            return {"outcome": "failed", "message": str(exc) or "a check failed"}
        outcome = "failed" if when == "call" else "error"
        return {"outcome": outcome, "message": trace.message, "location": trace.location}
