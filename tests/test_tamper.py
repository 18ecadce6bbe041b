"""Learner code cannot fool the judge, and edited grading files are reported."""

from __future__ import annotations

import json

import numpy
import pytest

from tests.conftest import write_solution
from workbook.expect import CheckFailure, expect_array
from workbook.grading.guard import TAMPER_KIND, Guard
from workbook.grading.results import Verdict
from workbook.grading.runner import grade
from workbook.manifest import (
    MANIFEST_PATH,
    build_manifest,
    load_manifest,
    relevant_to,
    tampered_files,
    tracked_files,
)
from workbook.workspace import bundled_root

LESSON = "01-activations"
WRONG_VALUES = "    return np.where(x >= 0, 1.0 / (1.0 + z), z / (1.0 + z))\n"

# Each attack: a line added after `import numpy as np`, and the name the verdict must give.
ATTACKS = {
    "allclose": ("np.allclose = lambda *a, **k: True", "numpy.allclose"),
    "isclose": ("np.isclose = lambda *a, **k: True", "numpy.isclose"),
    "asarray": ("np.asarray = lambda a, *r, **k: a", "numpy.asarray"),
    "assert_allclose": (
        "import numpy.testing\nnumpy.testing.assert_allclose = lambda *a, **k: None",
        "numpy.testing.assert_allclose",
    ),
    "isinstance": ("import builtins\nbuiltins.isinstance = lambda *a: True", "builtins.isinstance"),
    "approx": ("import pytest\npytest.approx = lambda *a, **k: a[0]", "pytest.approx"),
    "expect-helper": (
        "import workbook.expect\nworkbook.expect.expect_array = lambda *a, **k: None",
        "workbook.expect.expect_array",
    ),
    "shadow-builtin": (
        "import workbook.expect\nworkbook.expect.isinstance = lambda *a: True",
        "workbook.expect.isinstance",
    ),
    # np.allclose looks up `isclose` in numpy's internals at every call.
    "numpy-internals": (
        "import numpy._core.numeric as _nn\n"
        "_nn.isclose = lambda a, b, **k: np.ones(np.broadcast(a, b).shape, bool)",
        "numpy._core.numeric.isclose",
    ),
    "grader-copy": (
        "import workbook.grading.guard as _g\n"
        "object.__getattribute__(_g.pristine('numpy'), '_names')['allclose'] = "
        "lambda *a, **k: True",
        "numpy (the grader's copy).allclose",
    ),
    "pytest-internals": (
        "import _pytest.runner as _r\n_r.check_interactive_exception = lambda *a: False",
        "_pytest.runner.check_interactive_exception",
    ),
    "fake-numpy": (
        "import sys, types\nsys.modules['numpy'] = types.SimpleNamespace()",
        "sys.modules['numpy']",
    ),
}


@pytest.fixture
def lesson(workspace):
    return workspace.course.lesson(LESSON)


def _attack(workspace, lesson, line: str, *, wrong: bool = True):
    source = workspace.solution_for(lesson)
    assert WRONG_VALUES in source and "import numpy as np\n" in source
    if wrong:  # sigmoid now returns tanh: only a fooled judge would pass it
        source = source.replace(WRONG_VALUES, "    return np.tanh(x)\n")
    source = source.replace("import numpy as np\n", f"import numpy as np\n{line}\n", 1)
    write_solution(workspace, lesson, source)
    return grade(workspace, lesson)


@pytest.mark.parametrize("name", sorted(ATTACKS))
def test_monkeypatching_the_judge_is_an_error_not_a_pass(workspace, lesson, name):
    line, replaced = ATTACKS[name]
    result = _attack(workspace, lesson, line)
    assert result.verdict is Verdict.ERROR, result.headline
    assert result.error.kind == TAMPER_KIND
    assert f"your code replaced {replaced}" in result.error.message
    assert "graded code must not modify libraries" in result.error.message
    assert result.checks == []  # nothing was judged with a patched library


def test_swapping_a_function_code_is_refused_outright(workspace, lesson):
    """`f.__code__ = ...` changes a library without rebinding a name: the seal refuses it."""
    for target in ("np.allclose._implementation", "np._core.numeric.isclose._implementation"):
        result = _attack(workspace, lesson, f"{target}.__code__ = (lambda *a, **k: True).__code__")
        assert result.verdict is Verdict.ERROR, result.headline
        assert "may not replace a function's code" in result.error.message
        assert result.checks == []


def test_the_guard_also_catches_a_correct_solution_that_patches(workspace, lesson):
    result = _attack(workspace, lesson, "np.allclose = lambda *a, **k: True", wrong=False)
    assert result.verdict is Verdict.ERROR
    assert "numpy.allclose" in result.error.message


def test_patching_inside_a_function_is_caught_after_the_check(workspace, lesson):
    source = workspace.solution_for(lesson).replace(
        WRONG_VALUES,
        "    np.allclose = lambda *a, **k: True\n    return np.tanh(x)\n",
    )
    write_solution(workspace, lesson, source)
    result = grade(workspace, lesson)
    assert result.verdict is Verdict.ERROR
    assert result.error.kind == TAMPER_KIND
    assert "numpy.allclose" in result.error.message
    assert len(result.checks) == 1  # the run stopped after the first check that patched
    assert result.checks[0].outcome == "failed"  # and even that one was judged correctly


def test_the_reference_solution_still_passes_under_the_guard(workspace, lesson):
    write_solution(workspace, lesson)
    result = grade(workspace, lesson)
    assert result.verdict is Verdict.PASSED, result.headline
    assert result.error is None and result.tampered == []


def test_expect_compares_with_numpy_as_it_was_before_learner_code(monkeypatch):
    """Even a patch undone before the next checkpoint cannot change a comparison."""
    monkeypatch.setattr(numpy, "allclose", lambda *a, **k: True)
    monkeypatch.setattr(numpy, "isfinite", lambda a: numpy.ones_like(a, dtype=bool))
    with pytest.raises(CheckFailure, match="differs from the expected values"):
        expect_array(numpy.array([1.0, 2.0]), numpy.array([1.0, 3.0]), what="x")


def test_expect_compares_without_numpy_python_functions(monkeypatch):
    """The comparison runs on ufuncs bound at import: numpy's internals are out of reach."""
    import numpy._core.numeric as numeric

    always = lambda a, b, **k: numpy.ones(numpy.broadcast(a, b).shape, bool)  # noqa: E731
    monkeypatch.setattr(numeric, "isclose", always)
    assert numpy.allclose([1.0], [9.0])  # what a check using numpy directly would see
    with pytest.raises(CheckFailure, match="differs from the expected values"):
        expect_array(numpy.array([1.0, 2.0]), numpy.array([1.0, 3.0]), what="x")


def test_guard_is_quiet_for_untouched_libraries():
    events: list[dict] = []
    guard = Guard(events.append, "exercises/x.py")
    import numpy.linalg  # noqa: F401 - a lazily loaded submodule adds a name: harmless

    assert guard.changes() == []
    assert guard.intact() and events == []


def test_guard_reports_once(monkeypatch):
    events: list[dict] = []
    guard = Guard(events.append, "exercises/x.py")
    monkeypatch.setattr(numpy, "isclose", lambda *a, **k: True)
    assert not guard.intact()
    assert not guard.intact()
    assert len(events) == 1 and events[0]["kind"] == TAMPER_KIND
    assert "numpy.isclose" in events[0]["message"]


# -- manifest ------------------------------------------------------------------------


def test_committed_manifest_matches_the_shipped_course():
    """Run `python -m workbook dev manifest` after editing course/ or checks/."""
    committed = json.loads(MANIFEST_PATH.read_text(encoding="utf-8"))
    fresh = build_manifest(bundled_root())
    stale = sorted(set(committed["files"].items()).symmetric_difference(fresh["files"].items()))
    assert not stale, f"workbook/manifest.json is stale for {stale}: run `workbook dev manifest`"
    assert committed == fresh


def test_manifest_covers_every_check_and_catalog_file(repo_workspace):
    files = load_manifest()["files"]
    assert "course/course.toml" in files and "course/glossary.toml" in files
    for lesson in repo_workspace.course.lessons:
        assert lesson.check in files and f"course/lessons/{lesson.id}.md" in files
    assert all(len(digest) == 64 for digest in files.values())


def test_fresh_workspace_is_not_tampered(workspace):
    assert tampered_files(workspace.root) == []


def test_edited_missing_and_extra_grading_files_are_reported(workspace, lesson):
    check = workspace.path(lesson.check)
    check.write_text(check.read_text() + "\n# made lenient\n", encoding="utf-8")
    (workspace.root / "course" / "glossary.toml").unlink()
    (workspace.root / "checks" / "conftest.py").write_text("", encoding="utf-8")
    (workspace.root / "checks" / "__pycache__").mkdir()
    (workspace.root / "checks" / "__pycache__" / "x.pyc").write_bytes(b"")
    assert tampered_files(workspace.root) == sorted(
        [lesson.check, "course/glossary.toml", "checks/conftest.py"]
    )
    assert "checks/__pycache__/x.pyc" not in tracked_files(workspace.root)


def test_crlf_checkout_is_not_tampered(workspace, lesson):
    check = workspace.path(lesson.check)
    check.write_bytes(check.read_bytes().replace(b"\n", b"\r\n"))
    assert tampered_files(workspace.root) == []


def test_grading_reports_tampered_checks(workspace, lesson):
    check = workspace.path(lesson.check)
    check.write_text(
        check.read_text().replace("def test_sigmoid_values", "def _disabled"), encoding="utf-8"
    )
    write_solution(workspace, lesson)
    result = grade(workspace, lesson)
    assert result.tampered == [lesson.check]
    assert result.to_json()["tampered"] == [lesson.check]
    assert lesson.check in result.tamper_warning
    assert "may not be trustworthy" in result.tamper_warning


def test_a_lesson_is_warned_only_about_files_that_can_affect_it():
    from types import SimpleNamespace

    def lesson(lesson_id: str) -> SimpleNamespace:
        return SimpleNamespace(
            id=lesson_id,
            check=f"checks/{lesson_id}.py",
            solution=f"course/solutions/{lesson_id}.py",
        )

    one, two = lesson("01-a"), lesson("02-b")
    course = SimpleNamespace(lessons=(one, two))
    changed = [
        "checks/01-a.py",
        "checks/02-b.py",
        "checks/conftest.py",
        "course/course.toml",
        "course/lessons/02-b.md",
    ]
    assert relevant_to(changed, one, course) == [
        "checks/01-a.py",
        "checks/conftest.py",
        "course/course.toml",
    ]
    assert relevant_to(changed, two, course) == [
        "checks/02-b.py",
        "checks/conftest.py",
        "course/course.toml",
        "course/lessons/02-b.md",
    ]
