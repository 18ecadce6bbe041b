"""Keep learner code from changing the judge: detect monkeypatched libraries.

Learner code runs in the same interpreter as the hidden checks, so a single line
such as `np.allclose = lambda *a, **k: True` could make every comparison pass. Two
defences, both set up in the grading child *before* the learner's file is loaded:

* `Guard` snapshots the namespaces the judge relies on (numpy, numpy.testing,
  pytest, builtins, math, json, the grader's own modules and classes, the import
  system) and, after the learner's module is loaded and after every check, reports
  anything replaced or removed (and, in the grader's own modules, anything added,
  since a new global there shadows a builtin). The attempt then becomes a clean
  `error` verdict that names what was replaced.
* `pristine(name)` is a read-only copy of a module's namespace taken at that time.
  `workbook.expect` compares through `pristine("numpy")`, so even a patch that is
  undone before the next checkpoint cannot change how a value is judged.

This is tamper *evidence* inside one process, not a sandbox: a determined attacker
with arbitrary code can still reach the grader's objects. Courses that need more run
each submission in its own container (see README, "For instructors").
"""

from __future__ import annotations

import importlib
import sys
import types

# Bound here, before any learner code runs, so that a patched `builtins.len` (say)
# cannot break the code that reports it.
from builtins import (  # noqa: UP029 - deliberate, see above
    AttributeError,
    Exception,
    KeyError,
    any,
    dict,
    frozenset,
    getattr,
    isinstance,
    len,
    list,
    object,
    sorted,
    tuple,
    type,
)
from collections.abc import Callable
from typing import Any

# What the judge relies on. Our own modules are also checked for added names.
LIBRARY_MODULES = ("builtins", "math", "json", "numpy", "numpy.testing", "pytest")
# Packages whose every loaded submodule is watched too: `np.allclose` looks up
# `isclose` in numpy._core.numeric at each call, so patching it there would fool a
# check that compares with numpy's own functions.
LIBRARY_PACKAGES = ("numpy.", "_pytest.", "pluggy")
# Module globals that the libraries themselves set while pytest runs.
RUNTIME_STATE = frozenset(
    {
        ("_pytest.assertion.util", "_reprcompare"),
        ("_pytest.assertion.util", "_config"),
        ("_pytest.assertion.util", "_assertion_pass"),
        ("_pytest.doctest", "RUNNER_CLASS"),
        ("_pytest.doctest", "CHECKER_CLASS"),
    }
)
OWN_MODULES = (
    "workbook.expect",
    "workbook.grading.guard",
    "workbook.grading.plugin",
    "workbook.grading.child",
    "__main__",
)
TAMPER_KIND = "tampering"
LEARNER_MODULE = "learner_exercise"  # the name child.load_learner gives the learner's file
_MISSING = object()
_PRISTINE: dict[str, _Pristine] = {}


class _Pristine:
    """A read-only view of a module's namespace as it was when first requested."""

    __slots__ = ("_module", "_names")

    def __init__(self, module: types.ModuleType) -> None:
        object.__setattr__(self, "_module", module)
        object.__setattr__(self, "_names", dict(module.__dict__))

    def __getattr__(self, name: str) -> Any:
        try:
            return self._names[name]
        except KeyError:  # a lazily loaded submodule, say: nothing to pin yet
            return getattr(self._module, name)

    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError(f"{self._module.__name__} (pristine copy) is read-only")

    def __repr__(self) -> str:
        return f"<pristine {self._module.__name__}>"


def pristine(name: str) -> Any:
    """Module `name` as it was the first time this was called for it."""
    if name not in _PRISTINE:
        _PRISTINE[name] = _Pristine(importlib.import_module(name))
    return _PRISTINE[name]


def _code_of(obj: Any) -> Any:
    """The code object behind a Python function (or numpy's dispatcher of one), so that
    `func.__code__ = ...` is caught as well as rebinding the name."""
    try:
        target = getattr(obj, "_implementation", obj)
        return getattr(target, "__code__", None)
    except Exception:  # objects with exotic __getattr__: their identity still counts
        return None


def _own_classes(module: types.ModuleType) -> list[type]:
    name = module.__name__
    return [
        value
        for value in list(module.__dict__.values())
        if isinstance(value, type) and getattr(value, "__module__", None) == name
    ]


class Baseline:
    """What the judge looks like before learner code runs: every watched name and the
    object (and code) behind it. Taking it costs a few milliseconds over ~9,000 names,
    so the grading child takes it while it waits for its job (`take_baseline`)."""

    def __init__(self) -> None:
        for name in (*LIBRARY_MODULES, "workbook.expect"):
            importlib.import_module(name)
        numpy_copy = pristine("numpy")
        # (label, live namespace, name, object, code object)
        self.entries: list[tuple[str, Any, str, Any, Any]] = []
        # (label, live namespace, names at snapshot time)
        self.closed: list[tuple[str, Any, frozenset[str]]] = []
        self.modules: dict[str, types.ModuleType] = {}
        packages = [name for name in list(sys.modules) if name.startswith(LIBRARY_PACKAGES)]
        for name in (*LIBRARY_MODULES, *sorted(packages), *OWN_MODULES):
            module = sys.modules.get(name)
            if not isinstance(module, types.ModuleType) or name in self.modules:
                continue
            self.modules[name] = module
            label = "the grader" if name == "__main__" else name
            # Code objects only where the judge calls in: reading `__code__` is an
            # audited event, and the seal refuses any `__code__` swap anyway.
            self._watch(label, module.__dict__, code=name in LIBRARY_MODULES or name in OWN_MODULES)
            if name in OWN_MODULES:
                self.closed.append((label, module.__dict__, frozenset(module.__dict__)))
                for cls in _own_classes(module):
                    self._watch(f"{label}.{cls.__name__}", cls.__dict__)
        # The pristine copy the checks judge with must not be edited either.
        self._watch("numpy (the grader's copy)", object.__getattribute__(numpy_copy, "_names"))
        self.meta_path = tuple(sys.meta_path)
        self.path_hooks = tuple(sys.path_hooks)

    def _watch(self, label: str, namespace: Any, *, code: bool = True) -> None:
        for key, value in list(namespace.items()):
            if (label, key) not in RUNTIME_STATE:
                self.entries.append(
                    (label, namespace, key, value, _code_of(value) if code else None)
                )


_BASELINE: list[Baseline] = []


def take_baseline() -> None:
    """Snapshot the judge now (after its imports, before any job): `Guard` reuses it."""
    _BASELINE[:] = [Baseline()]


class Guard:
    """Snapshot at construction; `intact()` reports (once) and returns False on change.

    Also a pytest plugin: after each check it looks again and stops the run if
    anything changed, so no later check is judged with a replaced library.
    """

    def __init__(self, emit: Callable[[dict[str, Any]], None], shown_as: str) -> None:
        baseline = _BASELINE[0] if _BASELINE else Baseline()
        self._emit = emit
        self._shown_as = shown_as
        self._session: Any = None
        self.tripped = False
        self._entries = baseline.entries
        self._closed = baseline.closed
        self._modules = baseline.modules
        self._meta_path = baseline.meta_path
        self._path_hooks = baseline.path_hooks

    def changes(self) -> list[str]:
        """What was replaced, removed or (in the grader's modules) added, by name."""
        found: list[str] = []
        reported: list[Any] = []  # one function seen from many modules is named once
        for label, namespace, key, value, code in self._entries:
            current = namespace.get(key, _MISSING)
            changed = current is not value or (code is not None and _code_of(current) is not code)
            if changed and not any(value is seen for seen in reported):
                reported.append(value)
                found.append(f"{label}.{key}")
        for label, namespace, names in self._closed:
            found.extend(f"{label}.{key}" for key in namespace.keys() - names)
        for name, module in self._modules.items():
            if sys.modules.get(name) is not module:
                found.append(f"sys.modules[{name!r}]")
        for label, now, then in (
            ("sys.meta_path", sys.meta_path, self._meta_path),
            ("sys.path_hooks", sys.path_hooks, self._path_hooks),
        ):
            if _hooks_changed(list(now), then):
                found.append(label)
        return list(dict.fromkeys(found))  # the public name first (numpy before numpy._core)

    def intact(self) -> bool:
        if self.tripped:
            return False
        changed = self.changes()
        if not changed:
            return True
        self.tripped = True
        self._emit(tamper_event(changed, self._shown_as))
        return False

    # -- pytest hooks ---------------------------------------------------------------

    def pytest_sessionstart(self, session: Any) -> None:
        self._session = session

    def pytest_runtest_logfinish(self, nodeid: str, location: tuple) -> None:
        if not self.intact() and self._session is not None:
            self._session.shouldstop = "graded code modified a library"


def _origin(hook: Any) -> str | None:
    """The module that defined an import hook (a class, a function or an instance)."""
    if isinstance(hook, type | types.FunctionType | types.MethodType):
        return getattr(hook, "__module__", None)
    return getattr(type(hook), "__module__", None)


def _hooks_changed(now: list[Any], then: tuple[Any, ...]) -> bool:
    """Import hooks: libraries add their own (absl and six do), so only a removed
    original, or a hook defined in the learner's file or made ad hoc, counts. A
    learner's finder could otherwise hand pytest a fake check module."""
    if any(not any(hook is item for item in now) for hook in then):
        return True
    added = [hook for hook in now if not any(hook is item for item in then)]
    return any(
        _origin(hook) in (LEARNER_MODULE, "types", None)
        or isinstance(hook, types.SimpleNamespace | types.ModuleType)
        for hook in added
    )


def tamper_message(changed: list[str]) -> str:
    shown = ", ".join(changed[:3]) + (f" and {len(changed) - 3} more" if len(changed) > 3 else "")
    return (
        f"your code replaced {shown}; graded code must not modify libraries (numpy, "
        "pytest, Python's builtins) or the grader. Compute your results instead."
    )


def tamper_event(changed: list[str], shown_as: str) -> dict[str, Any]:
    return {
        "event": "error",
        "kind": TAMPER_KIND,
        "message": tamper_message(changed),
        "file": shown_as,
        "line": None,
        "code": None,
        "traceback": "replaced: " + ", ".join(changed),
    }
