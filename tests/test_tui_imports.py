"""Import hygiene: the TUI never imports tensorflow, and `workbook list` never imports
Textual or tensorflow. Each check runs in a fresh interpreter, since the test process
may have imported anything."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]

REPORT = (
    "import json, sys\n"
    "names = ('textual', 'tensorflow', 'keras', 'plotext')\n"
    "print(json.dumps({m: m in sys.modules for m in names}))"
)

TUI_UNDER_RUN_TEST = f"""
import asyncio
from workbook.session import Session
from workbook.tui.app import WorkbookApp

async def main():
    session = Session.open()
    app = WorkbookApp(session)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        assert await asyncio.to_thread(app.warm.wait_until_ready, 30)
        await pilot.press("g")
        await pilot.pause()
        await pilot.press("escape", "h", "n", "p")
        await pilot.pause()
    session.close()

asyncio.run(main())
{REPORT}
"""

CLI_LIST = f"""
import runpy, sys
sys.argv = ["workbook", "list"]
try:
    runpy.run_module("workbook", run_name="__main__", alter_sys=True)
except SystemExit:
    pass
{REPORT}
"""


def _modules(code: str, cwd: Path) -> dict[str, bool]:
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    env.pop("WORKBOOK_WARM", None)
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=cwd, env=env, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_starting_the_tui_does_not_import_tensorflow(workspace):
    loaded = _modules(TUI_UNDER_RUN_TEST, workspace.root)
    assert loaded["textual"]
    assert not loaded["tensorflow"] and not loaded["keras"]
    assert not loaded["plotext"]  # no plot shown: the plotting library is not loaded


def test_workbook_list_imports_neither_textual_nor_tensorflow(workspace):
    loaded = _modules(CLI_LIST, workspace.root)
    assert loaded == {"textual": False, "tensorflow": False, "keras": False, "plotext": False}


def test_the_tui_package_is_light():
    """`import workbook.tui` (what the CLI does for `workbook`) defers Textual to run_app."""
    loaded = _modules(f"import workbook.tui\n{REPORT}", REPO)
    assert not loaded["textual"]
