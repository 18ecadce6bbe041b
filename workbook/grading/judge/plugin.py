"""The pytest plugin that runs inside the judge.

It hands each check the proxy of the learner's module (fixture `learner`), tells the
subject which check is running (for messages about limits), and turns every test
outcome into a JSON event with a learner-facing message. Events are written as they
happen, so a stopped attempt still reports which checks finished and which one was
running. It also reports which checks were collected, so that the parent can insist
on a result for every one of them before it says `passed`.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any

import pytest

from workbook.grading.judge import expect
from workbook.grading.judge.expect import CheckFailure
from workbook.grading.judge.proxy import LearnerRaised, RemoteModule, Subject, SubjectStopped


def check_title(item: pytest.Item) -> str:
    """A check's learner-facing name: the first paragraph of its docstring, its lines
    joined (a title wrapped in the source is one sentence on the screen)."""
    func = getattr(item, "function", None)
    doc = inspect.getdoc(func) if func else None
    if not doc:
        return item.name.removeprefix("test_").replace("_", " ")
    return " ".join(line.strip() for line in doc.split("\n\n", 1)[0].splitlines())


def explain_raised(exc: LearnerRaised) -> dict[str, Any]:
    """The learner's own exception, in the words and place the subject reported."""
    trace = exc.trace
    message = str(trace.get("message") or f"your code raised {exc.type_name}: {exc.text}")
    return {"outcome": "failed", "message": message, "location": trace.get("location")}


def _learner_location(exc: BaseException) -> str | None:
    """Where learner code raised the exception a check was explaining when it failed
    (a check's diagnosis of a shape error, say, raised while handling it), so that
    `--json` gives the file and line the message names."""
    seen: set[int] = set()
    cause = exc.__cause__ or exc.__context__
    while cause is not None and id(cause) not in seen:
        seen.add(id(cause))
        if isinstance(cause, LearnerRaised):
            return cause.trace.get("location")
        cause = cause.__cause__ or cause.__context__
    return None


class GradingPlugin:
    def __init__(
        self,
        module: RemoteModule,
        subject: Subject,
        emit: Callable[[dict[str, Any]], None],
        before_checks: Callable[[], bool] = lambda: True,
    ) -> None:
        self.module = module
        self.subject = subject
        self.emit = emit
        self.before_checks = before_checks
        self.stopped_reported = False
        self._failed: dict[str, dict[str, Any]] = {}
        expect.plot_sink = lambda figure: emit({"event": "plot", **figure})

    @pytest.fixture
    def learner(self) -> RemoteModule:
        return self.module

    def pytest_collectreport(self, report: pytest.CollectReport) -> None:
        if report.failed:
            self.emit({"event": "check-error", "message": str(report.longrepr)[-2000:]})

    def pytest_collection_modifyitems(self, items: list[pytest.Item]) -> None:
        """The checks are collected: now the learner's file must be loaded, or no
        check runs (its syntax or load error is the verdict)."""
        try:
            ready = self.before_checks()
        except SubjectStopped:
            ready = False  # the judge reports how it stopped
        if not ready:
            items.clear()

    def pytest_collection_finish(self, session: pytest.Session) -> None:
        self.emit({"event": "collected", "ids": [item.name for item in session.items]})

    @pytest.hookimpl(tryfirst=True)
    def pytest_runtest_setup(self, item: pytest.Item) -> None:
        self.subject.check = check_title(item)
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
                "location": _learner_location(exc),
            }
        if isinstance(exc, SubjectStopped):
            if exc.kind == "not-run":
                return {"outcome": "not-run", "message": exc.message}
            if not self.stopped_reported:
                self.stopped_reported = True
                self.emit({"event": "stopped", "kind": exc.kind, "message": exc.message,
                           "check": exc.check})  # fmt: skip
            return {"outcome": "error", "message": exc.message}
        if isinstance(exc, LearnerRaised):
            return explain_raised(exc)
        if isinstance(exc, pytest.skip.Exception):
            return {"outcome": "not-run", "message": str(exc)}
        if isinstance(exc, AssertionError):
            return {"outcome": "failed", "message": str(exc) or "a check failed"}
        # Raised in the judge while it worked on what learner code returned (a ragged
        # list, a dict without a key): the value's fault more often than the check's.
        text = str(exc).strip()
        kind = type(exc).__name__
        return {
            "outcome": "failed" if when == "call" else "error",
            "message": f"{kind} while checking what your code returned: {text}"[:2000],
        }
