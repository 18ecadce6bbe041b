"""An in-process stand-in for the judge's `learner` proxy, for testing the Keras checks.

In real grading the learner's file runs in a subject process and the checks see only
plain data: NumPy arrays, numbers, strings, containers of these, and Keras models as
`SavedModel(to_plain(model))`; exceptions arrive as the builtin class they derive
from, with the original message. `FakeLearner` gives the checks exactly that view of a
module loaded here (a reference solution, optionally with a typical mistake patched
in), so the ported checks can be run without the two-process machinery.
"""

from __future__ import annotations

import builtins
import importlib.util
import linecache
import os
import sys
from collections.abc import Callable
from pathlib import Path
from types import ModuleType
from typing import Any

import numpy as np

from workbook.grading.judge.keras_model import SavedModel, to_plain
from workbook.grading.judge.proxy import raised_class
from workbook.grading.subject.learner_trace import describe

REPO = Path(__file__).resolve().parents[1]


def is_keras_model(value: Any) -> bool:
    keras = sys.modules.get("keras")
    return keras is not None and isinstance(value, keras.Model)


def plain(value: Any) -> Any:
    """What the proxy would hand the judge: models as SavedModel, containers recursed."""
    if is_keras_model(value):
        return SavedModel(to_plain(value))
    if isinstance(value, tuple | list):
        return type(value)(plain(item) for item in value)
    if isinstance(value, dict):
        return {key: plain(item) for key, item in value.items()}
    if hasattr(value, "numpy") and not isinstance(value, np.ndarray):  # a tensor
        return np.asarray(value)
    return value


def as_builtin(exc: BaseException, filename: str | None = None) -> BaseException:
    """The exception as the proxy raises it in the judge: the builtin class it derives
    from (mixed with LearnerRaised, which carries the type name and the trace the
    subject would send: the line of the learner's file it came from), same text."""
    builtin = next(
        (cls.__name__ for cls in type(exc).__mro__ if getattr(builtins, cls.__name__, None) is cls),
        "Exception",
    )
    trace: dict[str, Any] = {}
    if filename is not None:
        described = describe(exc, filename, "your file")
        trace = {
            "message": described.message,
            "location": described.location,
            "line": described.line,
            "code": described.code,
            "traceback": described.traceback,
        }
    error = {"type": type(exc).__name__, "text": str(exc), "trace": trace}
    return raised_class(builtin)(error)


def load_module(path: Path, text: str | None = None, name: str = "learner_module") -> ModuleType:
    """Import a Python file (or `text` in its place) as a fresh module."""
    os.environ.setdefault("KERAS_BACKEND", "tensorflow")
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    source = path.read_text(encoding="utf-8") if text is None else text
    module = ModuleType(name)
    module.__file__ = str(path)
    # Edited text is compiled under a name of its own, its lines held by linecache, so
    # a traceback quotes the line as the learner wrote it, not the file on disk.
    filename = str(path) if text is None else f"{path} (as the learner wrote it)"
    if text is not None:
        linecache.cache[filename] = (len(source), None, source.splitlines(True), filename)
    exec(compile(source, filename, "exec"), module.__dict__)
    module.__dict__["__learner_filename__"] = filename
    return module


def solution_text(lesson_id: str, replace: str | None = None, with_: str = "") -> str:
    """The reference solution as learners see it (markers removed), optionally with a
    typical mistake applied (tests/mistakes/*.toml's `replace` → `with`)."""
    lines = (REPO / "course" / "solutions" / f"{lesson_id}.py").read_text().splitlines(True)
    kept = [
        line
        for line in lines
        if line.strip() not in ("# BEGIN SOLUTION", "# END SOLUTION")
        and not line.lstrip().startswith("# STUB:")
    ]
    text = "".join(kept)
    if replace is not None:
        assert replace in text, f"the mistake no longer applies to {lesson_id}"
        text = text.replace(replace, with_)
    return text


class FakeLearner:
    """Attribute access as the proxy offers it: functions that return plain data."""

    def __init__(self, module: ModuleType) -> None:
        self._module = module

    @classmethod
    def from_solution(
        cls, lesson_id: str, replace: str | None = None, with_: str = ""
    ) -> FakeLearner:
        path = REPO / "course" / "solutions" / f"{lesson_id}.py"
        return cls(load_module(path, solution_text(lesson_id, replace, with_)))

    def __getattr__(self, name: str) -> Any:
        found = getattr(self._module, name)
        if not callable(found):
            return plain(found)
        return self._wrap(found)

    def _wrap(self, func: Callable) -> Callable:
        def call(*args: Any, **kwargs: Any) -> Any:
            try:
                return plain(func(*args, **kwargs))
            except Exception as exc:
                filename = self._module.__dict__.get("__learner_filename__")
                raise as_builtin(exc, filename) from None

        call.__name__ = getattr(func, "__name__", "function")
        return call

    def call_with_spy(
        self, name: str, spy_name: str, *args: Any, seed: int = 0
    ) -> tuple[Any, list[tuple]]:
        """Run `name` with the module's `spy_name` recorded, as the subject records it:
        per call, the arguments (models converted after the call, so they arrive in their
        final state) and the model given as it was on entry."""
        keras = sys.modules.get("keras")
        if keras is not None:
            keras.utils.set_random_seed(seed)
        np.random.seed(seed)
        calls: list[tuple] = []
        original = getattr(self._module, spy_name, None)

        def spied(*spy_args: Any, **spy_kwargs: Any) -> Any:
            entry = plain(spy_args[0]) if spy_args and is_keras_model(spy_args[0]) else None
            calls.append((spy_args, entry))
            return original(*spy_args, **spy_kwargs)

        if callable(original):
            setattr(self._module, spy_name, spied)
        try:
            result = self._wrap(getattr(self._module, name))(*args)
        finally:
            if callable(original):
                setattr(self._module, spy_name, original)
        return result, [(plain(tuple(args)), entry) for args, entry in calls]


def load_check(lesson_id: str) -> ModuleType:
    """A hidden check module, imported fresh (its functools caches start empty)."""
    path = REPO / "checks" / f"{lesson_id}.py"
    spec = importlib.util.spec_from_file_location(f"check_{lesson_id.replace('-', '_')}", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def check_outcomes(lesson_id: str, learner: Any) -> dict[str, str | None]:
    """Run every check of a lesson in-process: None when it passes (or declares itself
    not run), else the message the learner reads (a learner exception's text too)."""
    import pytest

    from workbook.grading.judge.expect import CheckFailure

    check = load_check(lesson_id)
    outcomes: dict[str, str | None] = {}
    for name, test in vars(check).items():
        if not name.startswith("test_"):
            continue
        try:
            test(learner)
            outcomes[name] = None
        except CheckFailure as failure:
            outcomes[name] = failure.message
        except pytest.skip.Exception:
            outcomes[name] = None
        except Exception as exc:
            outcomes[name] = f"{type(exc).__name__}: {exc}"
    return outcomes
