"""The `workbook` console script and `python -m workbook`.

Before click and the rest of the CLI are imported, a command that grades starts a
spare grading child (see `workbook.grading.spare`; on Linux a fork of this process,
`boot.fork_judge`), so the child's `import numpy, pytest` runs on the other core
while the CLI starts up. Guessing the command from
argv is only a speed hint: a wrong guess costs an idle child that is killed at exit.

When the workspace's grading service runs, `workbook check` runs in the service
instead (`service_link.run_face`: a fork of it, on this process's terminal, folder and
environment), where click, rich, the catalog and the judge are already imported:
this process then only starts an interpreter and waits. A service that cannot run
it leaves the command to run here, as before.
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


REMOTE_COMMANDS = frozenset({"check"})
CLI_ENTRY = "workbook.cli:run_argv"


def _workspace_root(argv: list[str]) -> str | None:
    """The workspace named in argv (or around the current folder), or None. Paths
    are strings here: this runs before every command, `pathlib` costs ~6 ms."""
    import os

    root = None
    args = iter(argv)
    for arg in args:
        if arg in OPTIONS_WITH_VALUE:
            root = next(args, ".")
        elif arg.startswith("--workspace="):
            root = arg.partition("=")[2]
    folder = os.path.realpath(root or os.getcwd())
    while True:
        if os.path.isfile(os.path.join(folder, "course", "course.toml")):
            return folder
        parent = os.path.dirname(folder)
        if root is not None or parent == folder:
            return None
        folder = parent


def _service_runs(argv: list[str]) -> bool:
    """Whether the workspace named in argv (or around the current folder) has a
    grading service running: then it grades, and a spare child would only compete
    with it for the CPU. A wrong guess costs speed, never a verdict."""
    import os

    if os.environ.get("WORKBOOK_WARM", "1") == "0":
        return False
    root = _workspace_root(argv)
    if root is None:
        return False
    from workbook.grading import service_link

    return service_link.running(root)


def _run_in_service(argv: list[str]) -> int | None:
    """Run this command in the workspace's grading service, where the CLI and the
    judge are already imported (its exit status), or None to run it here."""
    root = _workspace_root(argv)
    if root is None:
        return None
    from workbook.grading import service_link

    return service_link.run_face(root, CLI_ENTRY, argv)


def _exit_on_signal(signum: int, _frame: object) -> None:
    raise SystemExit(128 + signum)


def main() -> None:
    command = command_of(sys.argv[1:])
    grading = command in GRADING_COMMANDS
    serviced = grading and _service_runs(sys.argv[1:])
    forked = None
    if grading and not serviced:
        from workbook.grading.subject import boot

        # Linux: the cold judge forks from here, before anything else is imported
        # (and before the signal handlers below), an interpreter start-up sooner.
        forked = boot.fork_judge()
    if command is not None:
        # A terminal closed or a `kill` unwinds like Ctrl-C: the attempt in progress is
        # killed and the progress store closed. (The TUI has its own handling.)
        for name in ("SIGTERM", "SIGHUP"):
            if hasattr(signal, name):
                signal.signal(getattr(signal, name), _exit_on_signal)
    if serviced:
        if command in REMOTE_COMMANDS:
            code = _run_in_service(sys.argv[1:])
            if code is not None:
                sys.exit(code)
    elif grading:
        from workbook.grading import spare

        spare.prestart(forked)
    if not grading:
        from workbook.cli import main as cli_main

        cli_main()
        return
    from workbook.cli import run_argv

    _exit_now(run_argv(sys.argv[1:]))


def _exit_now(code: int) -> None:
    """End a grading command without tearing the interpreter down: freeing the modules
    of click, rich, the catalog and the grader took ~30 ms of a ~0.5 s cold check, a
    learner waiting for nothing. What must happen at exit still does: the exit
    handlers (a spare child killed), and every stream flushed."""
    import atexit
    import os

    atexit._run_exitfuncs()
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):  # a closed pipe: as Python itself would, say nothing
            code = code or 120
    os._exit(code)
