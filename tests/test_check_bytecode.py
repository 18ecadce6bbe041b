"""The judge's compiled checks (`workbook.grading.judge.bytecode`): compiled once per
source, read on later attempts, never writable by learner code, and never trusted
when damaged."""

from __future__ import annotations

import hashlib
import importlib.util
import marshal
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import write_solution
from workbook.grading import runner
from workbook.grading.judge import bytecode
from workbook.grading.results import Verdict
from workbook.workspace import Workspace


def _import(path: Path, name: str):
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    try:
        spec.loader.exec_module(module)
    finally:
        del sys.modules[name]
    return module


def _copy(folder: Path, source: bytes) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "check_value.py"
    path.write_bytes(source)
    return path


SOURCE = b"VALUE = 1\n\ndef where():\n    return where.__code__.co_filename\n"


def _entry(cache: Path, source: bytes) -> Path:
    name = f"{hashlib.sha256(source).hexdigest()}-{bytecode.MAGIC.hex()}-o{sys.flags.optimize}"
    return cache / f"{name}.bin"


def test_a_check_is_compiled_once_and_imported_from_its_bytecode(tmp_path, monkeypatch):
    cache = tmp_path / "cache"
    first = _copy(tmp_path / "attempt1", SOURCE)
    bytecode.place(first, SOURCE, cache)
    assert _entry(cache, SOURCE).is_file()
    assert _import(first, "check_value_1").VALUE == 1

    # A later attempt, in another folder: no compile at all, and the code names the
    # file it was loaded from (Python's import sets it), not the first attempt's.
    def no_compile(*args, **kwargs):
        raise AssertionError("compiled again")

    second = _copy(tmp_path / "attempt2", SOURCE)
    monkeypatch.setattr("builtins.compile", no_compile)
    bytecode.place(second, SOURCE, cache)
    monkeypatch.undo()
    module = _import(second, "check_value_2")
    assert module.VALUE == 1
    assert module.where() == str(second)


def test_the_placed_bytecode_is_what_runs(tmp_path):
    """Why the cache must be out of learner code's reach: what it holds for a source's
    digest is imported in place of that source."""
    cache = tmp_path / "cache"
    cache.mkdir()
    forged = marshal.dumps(compile(b"VALUE = 2\n", "x", "exec"))
    _entry(cache, SOURCE).write_bytes(forged)
    copy = _copy(tmp_path / "attempt", SOURCE)
    bytecode.place(copy, SOURCE, cache)
    assert _import(copy, "check_value_3").VALUE == 2


@pytest.mark.parametrize(
    "damage", [b"", b"\x00garbage", b"not marshal data at all", marshal.dumps(42)]
)
def test_a_damaged_entry_is_compiled_again(tmp_path, damage):
    cache = tmp_path / "cache"
    cache.mkdir()
    _entry(cache, SOURCE).write_bytes(damage)
    copy = _copy(tmp_path / "attempt", SOURCE)
    bytecode.place(copy, SOURCE, cache)
    assert _import(copy, "check_value_4").VALUE == 1
    assert marshal.loads(_entry(cache, SOURCE).read_bytes())  # repaired


PLACE_AND_RUN = """
import importlib.util, sys
from pathlib import Path
from workbook.grading.judge import bytecode
source = b"def check():\\n    assert False, 'the check ran'\\n"
copy = Path(sys.argv[1]) / str(sys.flags.optimize) / "check_assert.py"
copy.parent.mkdir()
copy.write_bytes(source)
bytecode.place(copy, source, Path(sys.argv[2]))
spec = importlib.util.spec_from_file_location("check_assert", copy)
module = importlib.util.module_from_spec(spec)
spec.loader.exec_module(module)
try:
    module.check()
    print("assert skipped")
except AssertionError:
    print("assert ran")
"""


def test_code_compiled_under_o_is_not_served_to_a_judge_without_it(tmp_path):
    """Python -O drops asserts (-OO docstrings, which name the checks): an entry
    compiled by a judge that runs optimised must not reach one that does not."""
    cache = tmp_path / "cache"

    def run(*flags: str) -> str:
        done = subprocess.run(
            [sys.executable, *flags, "-c", PLACE_AND_RUN, str(tmp_path), str(cache)],
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert done.returncode == 0, done.stderr
        return done.stdout.strip()

    assert run("-O") == "assert skipped"
    assert run() == "assert ran"
    assert len(list(cache.iterdir())) == 2


def test_a_cache_that_cannot_be_written_costs_only_the_compile(tmp_path):
    blocked = tmp_path / "not-a-folder"
    blocked.write_text("a file where the cache folder would go")
    copy = _copy(tmp_path / "attempt", SOURCE)
    bytecode.place(copy, SOURCE, blocked)
    assert _import(copy, "check_value_5").VALUE == 1
    bytecode.place(copy, SOURCE, None)  # no cache at all
    assert _import(copy, "check_value_6").VALUE == 1


def test_a_source_that_does_not_compile_is_left_to_the_import(tmp_path):
    broken = b"def broken(:\n"
    copy = _copy(tmp_path / "attempt", broken)
    bytecode.place(copy, broken, tmp_path / "cache")
    assert not Path(importlib.util.cache_from_source(str(copy))).exists()
    with pytest.raises(SyntaxError):
        _import(copy, "check_value_7")


HOSTILE = """
import os
import numpy as np

CACHE = {cache!r}

def _try(action):
    try:
        action()
        return "done"
    except OSError as exc:
        return type(exc).__name__

READ = _try(lambda: os.listdir(CACHE))
WRITE = _try(lambda: open(os.path.join(CACHE, "forged.bin"), "wb").write(b"x"))


def sigmoid(x):
    raise RuntimeError(f"read: {{READ}}, write: {{WRITE}}")


def tanh(x):
    return np.tanh(np.asarray(x, dtype=float))
"""


def test_learner_code_can_neither_read_nor_write_the_cache(
    workspace: Workspace, tmp_path, monkeypatch
):
    """Graded twice: the first attempt fills the cache; learner code of the second
    tries to list it and to write into it, and both are refused (Landlock, and the
    cache folder is among the subject's hidden paths); a correct file then passes
    with the real checks."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    cache = runner.bytecode_folder()
    assert str(cache) in runner.job_for(workspace, workspace.course.lesson(1))["hidden"]
    lesson = workspace.course.lesson(1)
    write_solution(workspace, lesson)
    assert runner.grade(workspace, lesson).verdict is Verdict.PASSED
    entries = {path.name: path.read_bytes() for path in cache.iterdir()}
    assert entries, "the first attempt compiled the checks into the cache"

    write_solution(workspace, lesson, HOSTILE.format(cache=str(cache)))
    result = runner.grade(workspace, lesson)
    assert result.verdict is Verdict.FAILED
    said = " ".join(check.message for check in result.checks)
    assert "read: done" not in said and "write: done" not in said, said
    assert "read: PermissionError" in said and "write: PermissionError" in said, said
    assert {path.name: path.read_bytes() for path in cache.iterdir()} == entries

    write_solution(workspace, lesson)
    assert runner.grade(workspace, lesson).verdict is Verdict.PASSED
