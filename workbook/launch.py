"""The `workbook` console script and `python -m workbook`.

Before click and the rest of the CLI are imported, a command that grades starts a
spare grading child (see `workbook.grading.spare`), so the child's `import numpy,
pytest` runs on the other core while the CLI starts up. Guessing the command from
argv is only a speed hint: a wrong guess costs an idle child that is killed at exit.
"""

from __future__ import annotations

import signal
import sys

GRADING_COMMANDS = frozenset({"check", "review"})
OPTIONS_WITH_VALUE = frozenset({"--workspace", "-w"})


def command_of(argv: list[str]) -> str | None:
    """The subcommand named in argv, skipping the group's options and their values."""
    args = iter(argv)
    for arg in args:
        if arg in OPTIONS_WITH_VALUE:
            next(args, None)
        elif not arg.startswith("-"):
            return arg
    return None


def _service_runs(argv: list[str]) -> bool:
    """Whether the workspace named in argv (or around the current folder) has a
    grading service running: then it grades, and a spare child would only compete
    with it for the CPU. A wrong guess costs speed, never a verdict."""
    import os
    from pathlib import Path

    if os.environ.get("WORKBOOK_WARM", "1") == "0":
        return False
    root = None
    args = iter(argv)
    for arg in args:
        if arg in OPTIONS_WITH_VALUE:
            root = Path(next(args, "."))
        elif arg.startswith("--workspace="):
            root = Path(arg.partition("=")[2])
    here = (root or Path.cwd()).resolve()
    for folder in (here, *here.parents) if root is None else (here,):
        if (folder / "course" / "course.toml").is_file():
            from workbook.grading import service

            return service.running(folder)
    return False


def _exit_on_signal(signum: int, _frame: object) -> None:
    raise SystemExit(128 + signum)


def main() -> None:
    command = command_of(sys.argv[1:])
    if command is not None:
        # A terminal closed or a `kill` unwinds like Ctrl-C: the attempt in progress is
        # killed and the progress store closed. (The TUI has its own handling.)
        for name in ("SIGTERM", "SIGHUP"):
            if hasattr(signal, name):
                signal.signal(getattr(signal, name), _exit_on_signal)
    if command in GRADING_COMMANDS and not _service_runs(sys.argv[1:]):
        from workbook.grading import spare

        spare.prestart()
    from workbook.cli import main as cli_main

    cli_main()
