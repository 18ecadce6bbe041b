"""The import contracts ARCHITECTURE.md states hold, and break when they should.

The contracts live in pyproject.toml (`[tool.importlinter]`) and are checked by
import-linter, which reads the imports of the source without running it: learner
code's process holds nothing of the judge, the core knows nothing of the faces or
the instructor and authoring tools, the two faces are independent, and no modules
import each other in a circle. A contract is only worth running if it fails on the
import it forbids: each test below plants one in a copy of the package.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
LINT = Path(sys.executable).with_name("lint-imports")


def _lint(root: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(root)}
    return subprocess.run(
        [str(LINT), "--no-cache"], cwd=root, env=env, capture_output=True, text=True, timeout=300
    )


def test_the_import_contracts_hold():
    done = _lint(REPO)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "0 broken" in done.stdout


@pytest.fixture(scope="module")
def copy(tmp_path_factory) -> Path:
    """The package's source and the contracts, outside the checkout."""
    root = tmp_path_factory.mktemp("contracts")
    shutil.copytree(
        REPO / "workbook",
        root / "workbook",
        ignore=shutil.ignore_patterns("__pycache__", "_bundled", "*.json", "*.tcss"),
    )
    config = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))
    assert "importlinter" in config["tool"]
    shutil.copyfile(REPO / "pyproject.toml", root / "pyproject.toml")
    return root


SUBJECT = "Learner code's process holds nothing of the judge"
CORE = "The core knows nothing of the faces"
PLANTED = {
    # (module that gains the import, the import): the contract it must break
    ("grading/subject/server.py", "import workbook.grading.judge.expect"): SUBJECT,
    ("grading/keras_plain.py", "from workbook.grading.judge import keras_model"): SUBJECT,
    ("session.py", "import click"): CORE,
    ("grading/runner.py", "from workbook.instructor import classroom"): CORE,
    ("tui/widgets.py", "from workbook.cli import render"): "The two faces are independent",
    ("catalog.py", "from workbook import session"): "No import circles between modules",
    ("grading/judge/expect.py", "from workbook.grading.judge import plugin"): "No import circles",
}


@pytest.mark.parametrize(("where", "line"), list(PLANTED), ids=[w for w, _ in PLANTED])
def test_a_forbidden_import_breaks_its_contract(copy, where, line):
    module = copy / "workbook" / where
    original = module.read_text(encoding="utf-8")
    module.write_text(f"{original}\n{line}  # planted by the test\n", encoding="utf-8")
    try:
        done = _lint(copy)
    finally:
        module.write_text(original, encoding="utf-8")
    assert done.returncode != 0, done.stdout
    assert f"{PLANTED[where, line]}" in done.stdout
    broken = done.stdout.split("Broken contracts", 1)[-1]
    assert PLANTED[where, line] in broken, done.stdout


def test_the_checks_import_only_from_the_judge():
    """The hidden checks reach the package through the judge's modules alone: what
    they may use is what the judge holds, and nothing of it can leak the other way."""
    import ast

    outside = []
    for path in sorted((REPO / "checks").glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else []
            if isinstance(node, ast.ImportFrom) and node.module and not node.level:
                names = [node.module]
            outside += [
                f"{path.name}: {name}"
                for name in names
                if name.split(".")[0] == "workbook"
                and not name.startswith("workbook.grading.judge")
            ]
    assert outside == []
