"""Every check's title (what the learner reads beside ✓ or ✗) is a whole sentence.

The title is a check's docstring's first paragraph, its lines joined: a title wrapped
in the source once showed as "… each reading the one before: Input →" (issue 18).
"""

from __future__ import annotations

import ast
from pathlib import Path
from types import SimpleNamespace

from workbook.grading.judge.plugin import check_title

CHECKS = Path(__file__).resolve().parents[1] / "checks"
DANGLING = ("→", "(", ",", " the", " of", " with", " and", " a", " to", " in")


def _titles() -> dict[str, str]:
    found = {}
    for path in sorted(CHECKS.glob("[0-9]*.py")):
        for node in ast.parse(path.read_text(encoding="utf-8")).body:
            if isinstance(node, ast.FunctionDef) and node.name.startswith("test_"):
                function = SimpleNamespace(__doc__=ast.get_docstring(node))
                item = SimpleNamespace(function=function, name=node.name)
                found[f"{path.stem}::{node.name}"] = check_title(item)
    return found


def test_every_check_title_is_whole():
    titles = _titles()
    assert len(titles) > 100  # the control: every lesson's checks were read
    cut = {name: title for name, title in titles.items() if title.endswith(DANGLING)}
    assert cut == {}


def test_a_title_wrapped_in_the_source_is_joined():
    titles = _titles()
    assert titles["20-keras-stacked::test_layers_are_stacked"].endswith(
        "Input → Bidirectional(LSTM(32)) → LSTM(16) → Dense(1)"
    )
