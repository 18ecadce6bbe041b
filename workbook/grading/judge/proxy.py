"""The judge's side of the subject: a handle that starts it, limits it in CPU seconds,
and a proxy that looks like the learner's module to a check.

A check writes `function(learner, "lstm_step")(x, h, C, params)` as before; the call
goes to the subject process, and what comes back is plain data (`wire`): arrays,
numbers, strings, tuples/lists/dicts of these, a Keras model as a `SavedModel`.
An exception raised by learner code comes back as a `LearnerRaised` that is also an
instance of the builtin class of the same kind (so `except ValueError` in a check
still works), carrying the traceback cut to the learner's frames.

Limits measure the learner, not the machine: while it waits for an answer the judge
reads the subject's CPU time from the kernel (/proc/<pid>/stat) and stops it when a
call, the file's loading, or the attempt as a whole uses more CPU seconds than the
lesson allows. A busy machine makes everything slower in wall time but costs the
learner nothing. Code that waits instead of computing (sleep, input, a lock) uses no
CPU; the time it spends so, with no thread running or runnable, is summed over the
attempt and ends it past IDLE_S seconds (a machine too busy to run it keeps its
threads runnable, and costs nothing). The subject's threads are counted at the same
polls: root is exempt from RLIMIT_NPROC, so more than THREAD_LIMIT at once ends the
attempt before they use up the machine's process ids.

Every reply is bounded: a message by `wire`'s limits, all of them together by
MAX_ATTEMPT_BYTES, and every text the judge keeps by TEXT_LIMIT characters. Output
is never asked of the subject: the judge reads the file it printed to, with a bound.
"""

from __future__ import annotations

import builtins
import contextlib
import json
import os
import select
import signal
import socket
import subprocess
import time
from pathlib import Path
from typing import Any

import numpy as np

from workbook.grading import wire
from workbook.grading.output import printed
from workbook.grading.subject import zygote

IDLE_S = 20.0
POLL_S = 0.1
# Threads the subject may run at once. TensorFlow starts a few tens (pools sized by
# the CPUs); pid_max is at least 32768, and 1024 per CPU on larger machines.
THREAD_LIMIT = max(512, 4 * (os.cpu_count() or 1))
MAX_ATTEMPT_BYTES = 256 * 1024 * 1024  # all the subject's replies in one attempt
TEXT_LIMIT = 4000  # characters of any message or traceback the subject sends
BIRTH_TIMEOUT_S = 30.0  # a zygote answers a fork request in milliseconds
_TICKS = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


class SubjectStopped(BaseException):
    """Learner code can run no more in this attempt (CPU limit, crash, idle, start-up).

    A BaseException, so that no `except Exception` in a check can swallow it."""

    def __init__(self, kind: str, message: str, *, check: str | None = None) -> None:
        super().__init__(message)
        self.kind = kind
        self.message = message
        self.check = check


class LearnerRaised(Exception):
    """An exception raised by learner code in the subject."""

    def __init__(self, error: dict[str, Any]) -> None:
        self.type_name = text_of(error.get("type", "Exception"), 200)
        # NumPy ends some messages with a space ("… shapes (2,5) (5,1) "): a check that
        # goes on with ". The shapes…" would print "(5,1) . The shapes".
        self.text = text_of(error.get("text", "")).strip()
        trace = error.get("trace")
        self.trace: dict[str, Any] = bounded_trace(trace)
        super().__init__(self.text)

    def __str__(self) -> str:
        return self.text


def text_of(value: Any, limit: int = TEXT_LIMIT) -> str:
    """A text the subject sent, as a str of at most `limit` characters."""
    return (value if isinstance(value, str) else "" if value is None else repr(value))[:limit]


def bounded_trace(trace: Any) -> dict[str, Any]:
    """The learner-side traceback fields, each of the type the judge expects."""
    if not isinstance(trace, dict):
        return {}
    line = trace.get("line")
    return {
        "message": text_of(trace.get("message")),
        "location": text_of(trace.get("location"), 400),
        "line": line if type(line) is int else None,
        "code": text_of(trace.get("code"), 400),
        "traceback": text_of(trace.get("traceback"), 2 * TEXT_LIMIT),
    }


_raised_classes: dict[str, type[LearnerRaised]] = {}


def raised_class(builtin: Any) -> type[LearnerRaised]:
    """LearnerRaised mixed with the named builtin exception class (Exception if none)."""
    base = getattr(builtins, str(builtin), None)
    if not (isinstance(base, type) and issubclass(base, Exception)):
        base = Exception
    klass = _raised_classes.get(base.__name__)
    if klass is None:
        bases = (LearnerRaised,) if base is Exception else (LearnerRaised, base)
        klass = type(f"Learner{base.__name__}", bases, {})
        _raised_classes[base.__name__] = klass
    return klass


def _keras_from_plain(plain: Any) -> Any:
    try:
        from workbook.grading.judge.keras_model import SavedModel
    except ImportError:
        return wire.Opaque("keras.Model")
    return SavedModel(plain)


def cpu_seconds(pid: int) -> float | None:
    """User + system CPU time of a process and all its threads; None once it is gone."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as stream:
            fields = stream.read().rsplit(b")", 1)[1].split()
    except (OSError, IndexError):
        return None
    if fields[0] == b"Z":
        return None
    return (int(fields[11]) + int(fields[12])) / _TICKS


def thread_count(pid: int) -> int | None:
    """How many threads the process has (/proc/PID/status); None if unknown."""
    try:
        with open(f"/proc/{pid}/status", "rb") as stream:
            for line in stream:
                if line.startswith(b"Threads:"):
                    return int(line.split()[1])
    except (OSError, ValueError, IndexError):
        return None
    return None


def _any_thread_runnable(pid: int) -> bool:
    """Whether any thread of `pid` is running or waiting for a CPU (state R): a
    throttled or busy machine keeps threads runnable; waiting code sleeps (S)."""
    try:
        tasks = os.listdir(f"/proc/{pid}/task")
    except OSError:
        return True  # cannot tell: never call it idle
    for task in tasks:
        try:
            with open(f"/proc/{pid}/task/{task}/stat", "rb") as stream:
                state = stream.read().rsplit(b")", 1)[1].split()[0]
        except (OSError, IndexError):
            continue
        if state in (b"R", b"D"):
            return True
    return False


class _OwnChild:
    """A subject this judge started itself: a fresh interpreter, its own child."""

    def __init__(self, proc: subprocess.Popen) -> None:
        self.proc = proc
        self.pid = proc.pid

    def kill(self) -> int | None:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.kill(self.pid, signal.SIGKILL)
        return self.proc.wait()


class _ZygoteChild:
    """A subject forked by the grading service's zygote: the zygote is its parent, and
    kills it, then reports how it ended, when asked on the control socket."""

    def __init__(self, pid: int, control: socket.socket) -> None:
        self.pid = pid
        self.control = control
        self.returncode: int | None = None

    def kill(self) -> int | None:
        if self.returncode is None:
            with contextlib.suppress(OSError):
                self.control.send(b"kill")
            self.control.settimeout(5.0)
            reply = None
            for _ in range(2):  # a reset is reported once, before the reply queued for us
                try:
                    reply = json.loads(self.control.recv(4096) or b"null")
                    break
                except ConnectionResetError:
                    continue
                except (OSError, ValueError):
                    break
            code = reply.get("returncode") if isinstance(reply, dict) else None
            self.returncode = code if type(code) is int else None
            self.control.close()
        return self.returncode


def _born(spec: dict[str, Any], ahead: Any, zygote_sock: socket.socket | None):
    """A newborn subject (`zygote`), and the judge's end of its wire socket: forked by
    the grading service's zygote if there is one, else the interpreter started `ahead`
    of the job, else one started now."""
    if zygote_sock is None:
        proc, ours = ahead if ahead is not None else zygote.spawn()
        return _OwnChild(proc), ours
    ours, theirs = socket.socketpair()
    control, their_control = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
    try:
        socket.send_fds(zygote_sock, [b'{"op": "fork"}'], [their_control.fileno(), theirs.fileno()])
    finally:
        theirs.close()
        their_control.close()
    control.settimeout(BIRTH_TIMEOUT_S)
    reply = json.loads(control.recv(4096) or b"null")
    pid = reply.get("pid") if isinstance(reply, dict) else None
    if type(pid) is not int:
        raise OSError("the subject zygote did not fork")
    return _ZygoteChild(pid, control), ours


class Subject:
    """One subject process, born clean (see `zygote`), and its CPU budgets."""

    def __init__(self, keeper: Any, sock: socket.socket, scratch: Path, limits: dict) -> None:
        self.keeper = keeper
        self.pid: int = keeper.pid
        self.sock = sock
        self.scratch = scratch
        self.call_budget = float(limits.get("call_s", 10.0))
        self.total_budget = float(limits.get("total_s", 2 * self.call_budget))
        self.startup_budget = float(limits.get("startup_s", 120.0))
        self.learner_cpu = 0.0  # spent loading the file and in calls
        self.idle = 0.0  # seconds learner code spent waiting, not computing
        self.received = 0  # bytes of replies
        self.stopped: SubjectStopped | None = None
        self.check: str | None = None  # the check now running, for messages
        self.startup: dict[str, Any] = {}
        self.output_path: Path | None = None
        sock.settimeout(60.0)  # a message once begun must arrive whole

    @classmethod
    def begin(
        cls,
        spec: dict[str, Any],
        *,
        ahead: tuple[subprocess.Popen, socket.socket] | None = None,
        zygote_sock: socket.socket | None = None,
    ) -> Subject:
        """A clean subject for this attempt, handed its spec and the descriptor of
        its output file (which the judge creates, and alone reads)."""
        keeper, ours = _born(spec, ahead, zygote_sock)
        output = Path(spec["output"])
        handle = cls(keeper, ours, Path(spec["scratch"]), spec.get("limits", {}))
        handle.output_path = output
        output_fd = os.open(output, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        try:
            socket.send_fds(ours, [b"s"], [output_fd])
            wire.send(ours, {"spec": {k: v for k, v in spec.items() if k != "output"}})
        except OSError:
            pass  # a subject that died at birth is reported by `start`
        finally:
            os.close(output_fd)
        return handle

    # -- waiting, with CPU accounting --------------------------------------------------

    def _exchange(
        self,
        header: dict,
        *,
        what: str,
        budget: float,
        learner: bool = True,
        raw: list[bytes] | None = None,
        **values: Any,
    ) -> tuple[dict, list[bytes]]:
        """Send a request (`values` encoded, or `raw` buffers as they are) and wait for
        the answer, counting the subject's CPU time against `budget`."""
        if self.stopped is not None:
            raise SubjectStopped("not-run", self._not_run(), check=self.check)
        try:
            if raw is not None:
                wire.send_raw(self.sock, wire.encode(header)[0], raw)
            else:
                wire.send(self.sock, header, **values)
        except OSError:
            self._gone(what)
        return self._await(what, budget, learner=learner)

    def _await(self, what: str, budget: float, *, learner: bool) -> tuple[dict, list[bytes]]:
        start = cpu_seconds(self.pid) or 0.0
        if learner:
            budget = min(budget, self.total_budget - self.learner_cpu)
        last_cpu, last_tick = start, time.monotonic()
        while True:
            ready, _, _ = select.select([self.sock], [], [], POLL_S)
            now = cpu_seconds(self.pid)
            used = (now if now is not None else last_cpu) - start
            threads = thread_count(self.pid)
            if threads is not None and threads > THREAD_LIMIT:
                self._stop_for_threads(what, threads)
            if ready:
                header, buffers = self._receive(what)
                if learner:
                    self.learner_cpu += used
                return header, buffers
            if now is None:
                self._gone(what)
            if used > budget:
                self._stop_for_cpu(what, used, learner=learner)
            tick = time.monotonic()
            waited, last_tick = tick - last_tick, tick
            if now > last_cpu + 0.005:
                last_cpu = now
            elif learner and not _any_thread_runnable(self.pid):
                self.idle += waited  # asleep: neither running nor waiting for a CPU
                if self.idle > IDLE_S:
                    self.kill()
                    self._raise(
                        "idle",
                        f"your code waited {self.idle:.0f} s without computing, the last in "
                        f"{what}: a sleep, an input() or a lock? Graded code gets no input "
                        "and must not wait",
                    )

    def _receive(self, what: str) -> tuple[dict, list[bytes]]:
        """One reply, counted against the attempt's MAX_ATTEMPT_BYTES."""
        try:
            header, buffers, size = wire.receive_counted(self.sock)
        except wire.TooLarge as exc:
            self.kill()
            self._raise("crash", f"your code sent the grader too much in {what}: {exc}")
        except (EOFError, OSError, wire.WireError):
            self._gone(what)
        self.received += size
        if self.received > MAX_ATTEMPT_BYTES:
            self.kill()
            self._raise(
                "crash",
                f"your code sent the grader more than {MAX_ATTEMPT_BYTES // 2**20} MiB in all, "
                f"the last in {what}: return small values (arrays of the sizes asked for)",
            )
        return header, buffers

    def _stop_for_cpu(self, what: str, used: float, *, learner: bool) -> None:
        self.kill()
        if not learner:
            self._raise(
                "startup",
                f"the grader's start-up (loading TensorFlow) used {used:.0f} CPU seconds, "
                "far more than it should; your code had not started yet. The machine may "
                "be short of memory: try again",
            )
        if self.learner_cpu + used > self.total_budget - 0.05:
            self._raise(
                "cpu",
                f"your code used more than {self.total_budget:g} CPU seconds in all, the "
                f"last in {what}: look for an endless loop or a far too large computation",
            )
        self._raise(
            "cpu",
            f"your code used more than {self.call_budget:g} CPU seconds in {what}: look "
            "for an endless loop or a far too large computation",
        )

    def _stop_for_threads(self, what: str, threads: int) -> None:
        self.kill()
        self._raise(
            "threads",
            f"your code ran {threads} threads at once in {what}, more than the "
            f"{THREAD_LIMIT} allowed: start fewer threads (a pool of a few, or join each "
            "before starting the next)",
        )

    def _gone(self, what: str) -> None:
        """The subject died or broke the protocol: say how, in the learner's terms."""
        code = self.kill()
        how = "ended its process"
        if code is not None and code < 0:
            sig = -code
            if sig == signal.SIGXCPU:
                self._raise(
                    "cpu", f"your code ran past the CPU limit in {what}: look for an endless loop"
                )
            try:
                name = signal.Signals(sig).name
            except ValueError:
                name = f"signal {sig}"
            how = f"crashed the Python process ({name})"
            if sig == signal.SIGKILL:
                how = "was killed (SIGKILL: by itself, or by the system for using too much memory)"
        elif code is not None:
            how = f"ended its process (exit code {code})"
        self._raise("crash", f"your code {how} in {what}: graded code must return normally")

    def _not_run(self) -> str:
        """Why a later check cannot run: short, pointing to the one that says it all."""
        where = f" in the check {self.stopped.check!r}" if self.stopped.check else ""
        return f"not run: your code was stopped earlier{where}"

    def _raise(self, kind: str, message: str) -> None:
        if self.check and kind != "startup":
            head, sep, advice = message.partition(": ")
            message = f"{head} while running the check {self.check!r}{sep}{advice}"
        self.stopped = SubjectStopped(kind, message, check=self.check)
        raise self.stopped

    def kill(self) -> int | None:
        """Kill the subject (if alive) and see it reaped; how it ended, as
        `subprocess` says it (negative: the signal that ended it), if known."""
        return self.keeper.kill()

    # -- requests ---------------------------------------------------------------------

    def start(self) -> dict[str, Any]:
        """Wait until the subject is confined and has imported what the lesson needs."""
        header, _ = self._await("start-up", self.startup_budget, learner=False)
        self.startup = header
        if not header.get("ready"):
            self._raise(
                "startup",
                f"the grader could not start: {text_of(header.get('failure')) or 'unknown'}",
            )
        return header

    def load(self, source: bytes, shown_as: str) -> dict[str, Any]:
        """Run the learner's file (its top level) from its raw bytes: Python's own
        `coding:` rules decode them. The reply says how it went."""
        header, _ = self._exchange(
            {"op": "load", "shown_as": shown_as},
            what="the top level of your file",
            budget=self.call_budget,
            raw=[source],
        )
        return header

    def attr(self, name: str) -> tuple[dict, list[bytes]]:
        return self._exchange({"op": "attr", "name": name}, what=f"reading `{name}`", budget=5.0)

    def call(
        self,
        name: str,
        args: tuple,
        kwargs: dict,
        *,
        seed: int | None = None,
        spy: str | None = None,
        strict_float: bool = False,
        write_back: bool = False,
    ) -> tuple[Any, list | None]:
        """Call the learner's `name`; (result, spied calls) as plain data.

        `write_back`: copy arrays the function changed in place into `args` (a check
        that asks whether its arguments were left alone); off by default, so learner
        code can never alter an array the judge goes on to use."""
        header, buffers = self._exchange(
            {"op": "call", "name": name, "seed": seed, "spy": spy, "strict_float": strict_float},
            what=f"`{name}`",
            budget=self.call_budget,
            args=list(args),
            kwargs=dict(kwargs),
        )
        if write_back:
            _write_back(args, kwargs, header.get("mutated"), buffers)
        if "error" in header:
            error = header["error"] if isinstance(header["error"], dict) else {}
            raise raised_class(text_of(error.get("builtin"), 100))(error)
        if header.get("kind") == "missing":
            raise raised_class("NameError")(
                {"type": "NameError", "text": f"`{name}` is not defined in your file"}
            )
        try:
            result = wire.decode(header.get("result"), buffers, _keras_from_plain)
            spied = wire.decode(header.get("spied"), buffers, _keras_from_plain)
        except (wire.WireError, ValueError) as exc:
            raise raised_class("ValueError")(
                {"type": "ValueError", "text": f"`{name}` returned something unreadable: {exc}"}
            ) from None
        return result, spied

    def output(self) -> tuple[str, bool]:
        """What learner code printed (first OUTPUT_LIMIT characters), and whether
        more was printed: read from its file, never asked of the subject."""
        return printed(self.output_path)

    def close(self) -> None:
        with contextlib.suppress(OSError):
            self.sock.close()
        self.kill()


def _write_back(args: tuple, kwargs: dict, mutated: Any, buffers: list[bytes]) -> None:
    """Arrays the learner's function changed in place, changed here too (by-reference
    semantics across the process boundary), into arrays the check made for the
    purpose. Only values of the same shape are copied."""
    if mutated is None:
        return
    try:
        changes = wire.decode(mutated, buffers)
    except wire.WireError:
        return
    ours = wire.arrays_in((args, kwargs))
    for change in changes if isinstance(changes, list) else []:
        if not (isinstance(change, tuple) and len(change) == 2):
            continue
        index, value = change
        if type(index) is int and 0 <= index < len(ours) and isinstance(value, np.ndarray):
            target = ours[index]
            if target.flags.writeable and target.shape == value.shape:
                np.copyto(target, value, casting="unsafe")


class RemoteFunction:
    """A learner function, called in the subject."""

    def __init__(self, subject: Subject, name: str) -> None:
        self._subject = subject
        self.__name__ = name

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return self.invoke(args, kwargs)

    def invoke(self, args: tuple, kwargs: dict, **options: Any) -> Any:
        result, _ = self._subject.call(self.__name__, args, kwargs, **options)
        return checked_plain(result, f"`{self.__name__}` returned")

    def __repr__(self) -> str:
        return f"<learner function {self.__name__}>"


def checked_plain(value: Any, what: str) -> Any:
    """`value` if it is all plain data; otherwise the check fails saying what to return."""
    found = wire.find_opaque(value)
    if found is None:
        return value
    where, opaque = found
    inside = f" (at {where})" if where else ""
    from workbook.grading.judge.expect import fail

    fail(
        f"{what} a `{opaque.type_name}`{inside}; return NumPy arrays, numbers, strings, "
        "or tuples/lists/dicts of these (e.g. `np.asarray(...)`)"
    )


class RemoteModule:
    """What a check sees as `learner`: attribute reads and calls go to the subject."""

    def __init__(self, subject: Subject) -> None:
        self._subject = subject

    def __getattr__(self, name: str) -> Any:
        if name.startswith("__") or name.startswith("_subject"):
            raise AttributeError(name)
        header, buffers = self._subject.attr(name)
        kind = header.get("kind")
        if kind == "function":
            return RemoteFunction(self._subject, name)
        if kind == "value":
            try:
                return wire.decode(header.get("value"), buffers, _keras_from_plain)
            except wire.WireError:
                return wire.Opaque("unreadable value")
        raise AttributeError(name)

    def call_with_spy(
        self, name: str, spy_name: str, *args: Any, seed: int | None = 0, **kwargs: Any
    ) -> tuple[Any, list]:
        """Call `name` while recording every call it makes to the module-level function
        `spy_name`: per call, its arguments (plain data, taken when `name` returns) and
        the Keras model it was given as it was on entry (None if none)."""
        result, spied = self._subject.call(name, args, kwargs, seed=seed, spy=spy_name)
        return checked_plain(result, f"`{name}` returned"), list(spied or [])

    def __repr__(self) -> str:
        return "<your exercise file>"
