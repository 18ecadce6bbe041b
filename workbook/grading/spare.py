"""Spare grading children: a cold child started before its job is known.

A cold attempt costs an interpreter plus `import numpy, pytest` (≈ 0.14 s on two
cores), and `workbook check` used to pay for it only after its own start-up (click,
the catalog, the progress store) was done. Started first, the child imports the
judge while the parent loads everything else, on the other core; the job reaches
it on stdin later. The child's interpreter forks the attempt's subject once it has
imported NumPy and before it imports the judge (`boot.judge_command`): one
interpreter and one NumPy import per cold check, where a judge that started its
subject's own interpreter paid two (~0.15 CPU-s of a ~0.65 CPU-s check). Nothing
about the learner is known to the child before then, and the limits are still
applied before any learner code runs.

Kept free of heavy imports: the console script calls `prestart` before click is
imported, and the child is started with `os.posix_spawn` (`SpareChild`), not
`subprocess` (~4 ms to import, which the judge's start waited for). A spare that is
never used reads end-of-file on stdin and exits, and the parent kills it at exit
anyway.
"""

from __future__ import annotations

import atexit
import contextlib
import os
import select
import signal
import threading
import time
from collections.abc import Iterator
from typing import BinaryIO

from workbook.grading.subject.boot import PACKAGE_PARENT, judge_command, subject_env

_lock = threading.Lock()
_spare: SpareChild | None = None
_spare_thread: int | None = None  # the thread that started it
_refill = False


def child_env() -> dict[str, str]:
    """The judge's environment: nothing outside can configure its pytest (no
    PYTEST_ADDOPTS, PYTEST_PLUGINS, no plugin autoload) or its Python start-up."""
    env = {
        name: value
        for name, value in os.environ.items()
        if not name.startswith("PYTEST_") and name not in ("PYTHONSTARTUP", "PYTHONINSPECT")
    }
    env.update(
        PYTEST_DISABLE_PLUGIN_AUTOLOAD="1",
        PYTHONUNBUFFERED="1",
        TF_CPP_MIN_LOG_LEVEL="3",
        # glibc gives each thread its own malloc arena, and arenas count against the
        # RLIMIT_DATA cap: without this, tensorflow's thread pool on a many-core machine
        # can exhaust a memory limit that is ample on two cores.
        MALLOC_ARENA_MAX="2",
        # The judge compares small arrays: OpenBLAS's thread pool only costs it start-up
        # (~0.1 CPU-s of `import numpy` on two cores, where three interpreters start).
        OPENBLAS_NUM_THREADS="1",
        WORKBOOK_GRADER_PARENT=str(os.getpid()),
        PYTHONPATH=os.pathsep.join(filter(None, [PACKAGE_PARENT, env.get("PYTHONPATH")])),
    )
    return env


class SpareChild:
    """A grading child started with `os.posix_spawn`: what `subprocess.Popen` would
    give (its stdin a pipe, stdout and stderr /dev/null, its own session, no other
    descriptor of this process), and as much of Popen's interface as its users need
    (`pid`, `stdin`, `poll`, `wait`, `kill`, `returncode`)."""

    def __init__(self, argv: list[str], env: dict[str, str]) -> None:
        read, write = os.pipe()
        if read == 0:  # this process has no stdin: dup2(0, 0) would leave it close-on-exec
            import fcntl

            read, spare_fd = fcntl.fcntl(read, fcntl.F_DUPFD_CLOEXEC, 3), read
            os.close(spare_fd)
        actions = [
            (os.POSIX_SPAWN_DUP2, read, 0),
            (os.POSIX_SPAWN_OPEN, 1, os.devnull, os.O_WRONLY, 0),
            (os.POSIX_SPAWN_OPEN, 2, os.devnull, os.O_WRONLY, 0),
            # Descriptors this process was handed open and inheritable (a make
            # jobserver's, say): Popen's close_fds would not pass them on either.
            *((os.POSIX_SPAWN_CLOSE, fd) for fd in _inheritable_fds()),
        ]
        try:
            self.pid = os.posix_spawn(argv[0], argv, env, file_actions=actions, setsid=True)
        except BaseException:
            os.close(write)
            raise
        finally:
            os.close(read)
        self.stdin: BinaryIO = open(write, "wb")  # noqa: SIM115 - closed by the job's sender
        self.returncode: int | None = None

    @classmethod
    def adopt(cls, pid: int, stdin_fd: int) -> SpareChild:
        """A child this process forked (`boot.fork_judge`), as if spawned here."""
        child = cls.__new__(cls)
        child.pid = pid
        child.stdin = open(stdin_fd, "wb")  # noqa: SIM115 - closed by the job's sender
        child.returncode = None
        return child

    def poll(self) -> int | None:
        if self.returncode is None:
            try:
                pid, status = os.waitpid(self.pid, os.WNOHANG)
            except ChildProcessError:
                # Reaped by someone else (SIGCHLD ignored, which exec keeps): ended,
                # with a status nobody can know; 0, as subprocess.Popen says.
                self.returncode = 0
                return self.returncode
            if pid:
                self.returncode = os.waitstatus_to_exitcode(status)
        return self.returncode

    def wait(self, timeout: float | None = None) -> int | None:
        """Its exit status (negative: the signal that ended it), once it ended;
        `subprocess.TimeoutExpired` after `timeout` seconds."""
        if timeout is None:
            if self.returncode is None:
                try:
                    self.returncode = os.waitstatus_to_exitcode(os.waitpid(self.pid, 0)[1])
                except ChildProcessError:
                    self.returncode = 0  # reaped by someone else (see `poll`)
            return self.returncode
        deadline = time.monotonic() + timeout
        while self.poll() is None:
            left = deadline - time.monotonic()
            if left <= 0:
                import subprocess

                raise subprocess.TimeoutExpired(str(self.pid), timeout)
            select.select([], [], [], min(left, 0.005))
        return self.returncode

    def kill(self) -> None:
        if self.returncode is None:
            with contextlib.suppress(ProcessLookupError):
                os.kill(self.pid, signal.SIGKILL)


def _inheritable_fds() -> list[int]:
    """This process's open descriptors above 2 that a new program would inherit."""
    folder = "/proc/self/fd" if os.path.isdir("/proc/self/fd") else "/dev/fd"
    try:
        names = os.listdir(folder)
    except OSError:
        names = []
    found = []
    for name in names:
        fd = int(name)
        if fd > 2:
            with contextlib.suppress(OSError):
                if os.get_inheritable(fd):
                    found.append(fd)
    return found


def spawn_child() -> SpareChild:
    """A fresh grading child in its own session, importing the judge, awaiting its job.

    Its stderr goes nowhere until the job names the attempt's stderr file: it must
    never reach a terminal that a TUI draws on."""
    # Its subject keeps this environment block; nothing of the judge is in it.
    return SpareChild(judge_command(os.getpid()), subject_env())


def prestart(forked: tuple[int, int] | None = None) -> None:
    """Start a spare child now, if none is waiting; `forked`, the pid and job pipe of
    one the console script forked (`boot.fork_judge`), is that child."""
    global _spare, _spare_thread
    with _lock:
        if _spare is None or _spare.poll() is not None:
            child = SpareChild.adopt(*forked) if forked is not None else spawn_child()
            _spare, _spare_thread = child, threading.get_ident()


@contextlib.contextmanager
def pipelined() -> Iterator[None]:
    """Within it, every attempt that takes the spare starts the next one, so a run of
    attempts (`check --all`, a review) overlaps each child's start-up with the attempt
    before it. The last spare is killed on the way out."""
    global _refill
    _refill = True
    prestart()
    try:
        yield
    finally:
        _refill = False
        discard()


def take() -> SpareChild:
    """The waiting spare if it is alive and this thread started it, else a child
    started now. A child dies with the thread that started it (its parent-death
    signal), so a spare from another thread, which may end first, is not used."""
    global _spare, _spare_thread
    with _lock:
        proc, _spare = _spare, None
        ours = _spare_thread == threading.get_ident()
        refill = _refill
    if proc is not None and not ours:
        kill_group(proc)
        proc = None
    if refill:
        prestart()
    if proc is not None and proc.poll() is None:
        return proc
    return spawn_child()


def discard() -> None:
    """Kill a spare that no attempt used (at exit, or when grading is done)."""
    global _spare
    with _lock:
        proc, _spare = _spare, None
    if proc is not None:
        kill_group(proc)


def kill_group(proc: SpareChild) -> None:
    """Kill a child's whole session (it and anything it started) and reap it. The
    child itself too: a forked one may not have made its session yet (what it
    started dies with it, by its parent-death signal)."""
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(proc.pid, signal.SIGKILL)
    proc.kill()
    proc.wait()


atexit.register(discard)
