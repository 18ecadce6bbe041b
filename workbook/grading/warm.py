"""Warm grading: a long-lived fork server, so an attempt costs a fork, not an interpreter.

The server (`python -m workbook.grading.warm [tensorflow]`) imports numpy, pytest and
the grading plugin once, starts a subject zygote (`zygote`: a fresh interpreter that
never imports the judge, with tensorflow preloaded when asked), freezes its heap for
the garbage collector, then for each job received on its stdin forks a grandchild
that runs exactly `workbook.grading.judge.main.run(job)`, whose subject the zygote forks.
The grandchild has its own session (so the parent can kill it and anything it
spawned) and none of the server's pipes. Every attempt starts from the same pristine
server and zygote state, so attempts stay isolated from each other just as with a
fresh interpreter; nothing a subject can reach (no pid, no signal, no limit: see
`sandbox`) changes either of them.

Parent side, `WarmGrader` is an executor for `runner.grade`: the job, report file,
deadline and verdict assembly are the cold path's. Anything wrong with the server
(died, garbled reply, slow to start) falls back to the cold path for that attempt,
and a new server is started in the background for the next one.

Protocol (JSON lines): server → "ready"; parent → {"job", "stderr", "cwd"}; server →
{"started": pid}, then {"exited": pid, "returncode": rc} with rc as Popen reports it.
"""

from __future__ import annotations

import contextlib
import json
import os
import select
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

# -- server ---------------------------------------------------------------------------


def _preload(extra: list[str]) -> None:
    """The judge's modules here; what the subjects need (tensorflow) in the zygote."""
    from workbook.grading.judge import main as child
    from workbook.grading.subject import zygote

    child.preload_judge()
    _proc, child.ZYGOTE = zygote.start_zygote(tuple(extra))


def _run_grandchild(request: dict, real_exit, server: int) -> None:
    """In the forked grandchild: detach, redirect, run the job, never return."""
    code = 1
    try:
        os.setsid()
        from workbook.grading.judge import main as child

        child.die_with_parent(server)
        child.enter(request)
        child.run(request["job"])
        code = 0
    except BaseException:  # reported like a crashing cold child
        import traceback

        traceback.print_exc(file=sys.__stderr__)
    finally:
        with contextlib.suppress(Exception):
            sys.__stderr__.flush()
        real_exit(code)


def _await_attempt(pid: int, app: int) -> int:
    """Wait for an attempt to end. If the app that started this server is gone (killed,
    its terminal closed), end the attempt and the server too: nobody waits for them."""
    try:
        exited: int | None = os.pidfd_open(pid)
    except (AttributeError, OSError):
        exited = None
    try:
        while True:
            done, status = os.waitpid(pid, os.WNOHANG)
            if done:
                return status
            if os.getppid() != app:
                _kill(pid)
                os._exit(0)
            if exited is None:
                time.sleep(0.005)
            else:
                select.select([exited], [], [], 0.5)
    finally:
        if exited is not None:
            os.close(exited)


def serve(extra: list[str]) -> None:
    import gc

    real_exit = os._exit
    replies = os.fdopen(os.dup(1), "w", buffering=1)
    _preload(extra)
    gc.collect()
    gc.freeze()  # forked attempts skip the preloaded heap when they collect garbage
    app, server = os.getppid(), os.getpid()
    replies.write('"ready"\n')
    for line in sys.stdin.buffer:  # ends when the app closes the pipe or dies
        request = json.loads(line)
        pid = os.fork()
        if pid == 0:
            replies.close()
            _run_grandchild(request, real_exit, server)
        replies.write(json.dumps({"started": pid}) + "\n")
        status = _await_attempt(pid, app)
        replies.write(
            json.dumps({"exited": pid, "returncode": os.waitstatus_to_exitcode(status)}) + "\n"
        )


# -- parent side ----------------------------------------------------------------------


class WarmFailure(Exception):
    """The server cannot run this attempt; the cold path takes over."""


class _Server:
    """One running fork server and the reading end of its replies."""

    def __init__(self, cwd: Path, preload: tuple[str, ...]) -> None:
        from workbook.grading.spare import child_env

        self.preload = preload
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "workbook.grading.warm", *preload],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,  # never the terminal: Textual draws there
            cwd=cwd,
            env=child_env(),
            start_new_session=True,
        )
        self._buffer = b""

    def read(self, timeout: float | None) -> object:
        """The next reply, or raise WarmFailure on end of file / garbage / timeout."""
        end = None if timeout is None else time.perf_counter() + timeout
        while b"\n" not in self._buffer:
            wait = None if end is None else max(0.0, end - time.perf_counter())
            if not self.has_reply(wait):
                raise WarmFailure("no reply from the warm grader")
            try:
                chunk = os.read(self.proc.stdout.fileno(), 65536)
            except (OSError, ValueError) as exc:  # closed by close() in another thread
                raise WarmFailure(f"the warm grader is gone: {exc}") from exc
            if not chunk:
                raise WarmFailure("the warm grader exited")
            self._buffer += chunk
        line, _, self._buffer = self._buffer.partition(b"\n")
        try:
            return json.loads(line)
        except json.JSONDecodeError as exc:
            raise WarmFailure(f"garbled reply from the warm grader: {line[:80]!r}") from exc

    def has_reply(self, timeout: float | None) -> bool:
        """Whether a reply (or end of file) can be read within `timeout` seconds."""
        if b"\n" in self._buffer:
            return True
        try:
            ready, _, _ = select.select([self.proc.stdout.fileno()], [], [], timeout)
        except (OSError, ValueError) as exc:  # closed by close() in another thread
            raise WarmFailure(f"the warm grader is gone: {exc}") from exc
        return bool(ready)

    def wait_ready(self, timeout: float) -> bool:
        try:
            return self.read(timeout) == "ready"
        except WarmFailure:
            return False

    def run(self, job: dict, tmp: Path, cwd: Path, cancel: threading.Event | None, deadline: float):
        from workbook.grading.runner import GradingCancelled, RunOutcome, stderr_tail

        stderr_path = tmp / "stderr"
        request = {"job": job, "stderr": str(stderr_path), "cwd": str(cwd)}
        try:
            self.proc.stdin.write((json.dumps(request) + "\n").encode())
            self.proc.stdin.flush()
        except OSError as exc:
            raise WarmFailure(f"cannot reach the warm grader: {exc}") from exc
        started = self.read(5.0)
        if not isinstance(started, dict) or "started" not in started:
            raise WarmFailure(f"unexpected reply {started!r}")
        pid = started["started"]
        timed_out = cancelled = False
        killed_at: float | None = None
        try:
            while True:
                now = time.perf_counter()
                if killed_at is not None:
                    if now > killed_at + 5.0:
                        raise WarmFailure("a killed attempt did not end")
                    wait = 0.05
                elif cancel is not None:
                    wait = min(0.01, max(0.0, deadline - now))
                else:
                    wait = max(0.0, deadline - now)
                if self.has_reply(wait):
                    break
                if killed_at is not None:
                    continue
                if cancel is not None and cancel.is_set():
                    cancelled = True
                elif time.perf_counter() >= deadline:
                    timed_out = True
                else:
                    continue
                killed_at = time.perf_counter()
                _kill(pid)
            exited = self.read(5.0)
        except WarmFailure:
            _kill(pid)
            raise
        if not isinstance(exited, dict) or exited.get("exited") != pid:
            raise WarmFailure(f"unexpected reply {exited!r}")
        # Anything the attempt left running in its group (a reaped pid is not reused
        # while its process group still has members, so this cannot hit a stranger).
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(pid, signal.SIGKILL)
        if cancelled:
            raise GradingCancelled
        returncode = None if timed_out else exited["returncode"]
        return RunOutcome(timed_out, returncode, stderr_tail(stderr_path))

    @property
    def alive(self) -> bool:
        return self.proc.poll() is None

    def kill(self) -> None:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.proc.pid, signal.SIGKILL)

    def close(self) -> None:
        with contextlib.suppress(OSError):
            self.proc.stdin.close()
        self.kill()
        self.proc.wait()
        self.proc.stdout.close()


def _kill(pid: int) -> None:
    """Kill an attempt's process group (its pid: it called setsid), or the process
    itself if it has not got that far."""
    for kill in (os.killpg, os.kill):
        with contextlib.suppress(ProcessLookupError, PermissionError):
            kill(pid, signal.SIGKILL)


class WarmGrader:
    """A warm fork server for one workspace, usable as `Session.grader`.

    Thread-safe, and nothing here blocks for long outside `grade`: attempts are
    serialised by one lock (the server runs one at a time); which server is current
    is guarded by another, held only for a moment, so a user interface may call
    `start` or `preload_tensorflow` while an attempt runs.
    """

    READY_TIMEOUT = 120.0  # importing tensorflow on a slow disk

    def __init__(self, cwd: Path) -> None:
        self.cwd = cwd
        self._attempt = threading.Lock()  # held for a whole attempt
        self._state = threading.Lock()  # held briefly: _server, _starting, _preload
        self._server: _Server | None = None
        self._starting: set[tuple[str, ...]] = set()
        self._preload: tuple[str, ...] = ()
        self._closed = False
        self.fallbacks = 0  # attempts that went cold because the server failed

    # -- servers --------------------------------------------------------------------

    def start(self) -> None:
        """Start a server in the background (no-op if one is running or starting)."""
        self._spawn(self._preload)

    def preload_tensorflow(self) -> None:
        """From now on keep tensorflow imported too (a Keras lesson was opened).

        A new server imports it in the background while the current one keeps
        serving; it replaces the current one once ready."""
        with self._state:
            if "tensorflow" in self._preload:
                return
            self._preload = (*self._preload, "tensorflow")
        self.start()

    @property
    def ready(self) -> bool:
        server = self._server
        return server is not None and server.alive

    @property
    def preloaded(self) -> tuple[str, ...]:
        server = self._server
        return server.preload if server is not None else ()

    def _spawn(self, preload: tuple[str, ...]) -> None:
        with self._state:
            current = self._server
            if self._closed or preload in self._starting:
                return
            if current is not None and current.alive and current.preload == preload:
                return
            self._starting.add(preload)
        threading.Thread(target=self._boot, args=(preload,), daemon=True).start()

    def _boot(self, preload: tuple[str, ...]) -> None:
        server = None
        try:
            server = _Server(self.cwd, preload)
            ok = server.wait_ready(self.READY_TIMEOUT)
        except OSError:
            ok = False
        with self._state:
            self._starting.discard(preload)
            current = self._server
            current_alive = current is not None and current.alive
            # Take the new server if it is the one wanted, or if there is none at all
            # (a plain server is better than none while tensorflow is loading).
            if ok and not self._closed and (preload == self._preload or not current_alive):
                old, self._server = current, server
            else:
                old = server
        if old is not None:
            with self._attempt:  # let an attempt on the old server finish first
                old.close()

    def wait_until_ready(self, timeout: float = 30.0) -> bool:
        """Block until a server serves the wanted preloads (for tests and benchmarks)."""
        end = time.perf_counter() + timeout
        while time.perf_counter() < end:
            if self.ready and self.preloaded == self._preload:
                return True
            time.sleep(0.01)
        return False

    def close(self) -> None:
        """Stop the server now; an attempt in progress ends as cancelled."""
        with self._state:
            self._closed = True
            server, self._server = self._server, None
        if server is not None:
            server.close()  # a running attempt sees the server die and stops

    def _drop(self, server: _Server) -> None:
        with self._state:
            if self._server is server:
                self._server = None
        server.close()

    # -- grading --------------------------------------------------------------------

    def grade(self, workspace, lesson, **options):
        """`runner.grade` with this server as the executor. An attempt that the warm
        server failed as a grader (not the learner's code: its start-up, or a crash
        of the judge) is run again cold, once, and the server replaced: whatever
        went wrong there must not decide this attempt or the next ones."""
        from workbook.grading.runner import grade, run_cold

        served: list[bool] = []
        result = grade(workspace, lesson, execute=self._executor(served), **options)
        if result.grader_fault and any(served):
            with self._state:
                server = self._server
            if server is not None:
                self._drop(server)
            self.fallbacks += 1
            self.start()
            first = result.error.message if result.error else "unknown"
            result = grade(workspace, lesson, execute=run_cold, **options)
            result.notes.append(
                f"the warm grader failed ({first}); it was replaced and this attempt was "
                "graded again from scratch"
            )
        return result

    def _executor(self, served: list[bool]):
        """`execute`, recording in `served` whether the warm server ran the attempt."""

        def execute(job, tmp, cwd, cancel, deadline):
            return self.execute(job, tmp, cwd, cancel, deadline, served=served)

        return execute

    def execute(
        self,
        job: dict,
        tmp: Path,
        cwd: Path,
        cancel: threading.Event | None,
        deadline: float,
        *,
        served: list[bool] | None = None,
    ):
        """Run one job on the warm server, or cold if there is none (or it fails)."""
        from workbook.grading.runner import GradingCancelled, clear_attempt, planned, run_cold

        planned(job)
        with self._attempt:
            server = self._server
            if server is not None and server.alive:
                try:
                    outcome = server.run(job, tmp, cwd, cancel, deadline)
                    if served is not None:
                        served.append(True)
                    return outcome
                except WarmFailure:
                    if self._closed:
                        raise GradingCancelled from None
                    self.fallbacks += 1
                    self._drop(server)
                    clear_attempt(tmp)  # nothing of the half-run attempt remains
            elif server is not None:
                self._drop(server)
        self.start()  # for the next attempt; this one runs cold
        return run_cold(job, tmp, cwd, cancel, deadline)


if __name__ == "__main__":
    serve(sys.argv[1:])
