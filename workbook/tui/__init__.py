"""The interactive face of the workbook (Textual).

Only `run_app` lives here, and it imports Textual when called: the CLI imports this
package on `workbook` with no command, and commands such as `workbook list` must never
pay for Textual (see tests/test_tui_imports.py).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from workbook.session import Session

__all__ = ["run_app"]


def run_app(session: Session) -> None:
    """Run the TUI over `session` until the learner quits."""
    import os

    from workbook.tui.app import WorkbookApp

    # COLUMNS and LINES left in the environment (a shell or a tmux server that exported
    # them) pin the size Textual reads (shutil.get_terminal_size prefers them to the
    # terminal's own): the app then never followed a resize. The terminal knows better.
    for name in ("COLUMNS", "LINES"):
        os.environ.pop(name, None)

    app = WorkbookApp(session)
    app.run()
    if app.return_code:
        print(
            f"The workbook stopped on an unexpected error; the details are in {app.crash_log}"
            " (please attach them to a bug report). Your files and progress are safe."
        )
