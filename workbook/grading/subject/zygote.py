"""Where subjects are born: a fresh interpreter that never imports the judge.

The subject, the process that runs learner code, must hold nothing of the judge:
forked from a process that had imported the checks' helpers, the references or the
judge's NumPy interpreter of Keras, it would find them all with `gc.get_objects()`,
whatever `sys.modules` says. So a subject always starts from a new interpreter,
started with `python -I -B` and a minimal environment block (nothing in
`/proc/self/environ` names the grader), that imports only the subject's own modules
(`SUBJECT_MODULES`: this one, `subject`, `wire`, `output`, `learner_trace`,
`sandbox`, `keras_plain`) and NumPy, plus Keras/TensorFlow when asked to preload
them. It then runs in one of two modes:

* **subject** (`spawn`): the interpreter itself becomes the subject. The cold
  judge starts one at its own start-up, so both import their libraries at once.
* **zygote** (`start_zygote`): the interpreter waits on a SEQPACKET socket and
  forks one subject per request. The grading service keeps one, with
  TensorFlow preloaded once a Keras lesson is near, so a subject costs a fork.
* **judge** (`boot.judge_command`: a cold check's spare judge): the interpreter
  imports what a subject needs, forks the attempt's subject (`fork_subject_ahead`),
  and only then, in the parent, imports the judge and becomes it (its command line
  says so: nothing here imports the judge). The subject is born as in the other
  modes (of an interpreter that never imported the judge, with the subject's
  environment block), and the cold check pays for one interpreter and one NumPy
  import, not two.

Both modes end in the same place: `subject.serve_new(sock)` on a socket whose other
end the judge holds; the judge's first message there is the attempt's spec (and
the descriptor of its output file).

Zygote protocol (each message one SEQPACKET datagram, JSON): the judge sends
`{"op": "fork"}` with two descriptors, a control socket and the subject's wire
socket; the zygote answers on the control socket `{"pid": N}`, and later
`{"exited": N, "returncode": rc}` (as `subprocess` reports it) once the subject
ended. Anything the judge writes on the control socket, or its closing, kills the
subject: a subject never outlives its judge.

Imports here are the standard library only: the grading child imports this module
before NumPy to start its subject as early as possible.
"""

from __future__ import annotations

import contextlib
import json
import os
import select
import signal
import socket
import sys
from typing import TYPE_CHECKING, Any, NoReturn

if TYPE_CHECKING:
    import subprocess

from workbook.grading.subject.boot import (  # noqa: F401 - part of this module's API
    _BOOT,
    FORKED_FROM,
    PACKAGE_PARENT,
    PASSED_ENV,
    SUBJECT_MODULES,
    judge_command,
    subject_env,
)

READY = b"ready"  # a zygote's first datagram


def _start(mode: str, preload: tuple[str, ...], sock: socket.socket) -> subprocess.Popen:
    """A new interpreter in `mode`, handed `sock` (its number is in argv)."""
    import subprocess

    boot = _BOOT.format(parent=PACKAGE_PARENT)
    fd = sock.fileno()
    argv = [sys.executable, "-I", "-B", "-c", boot, mode, str(os.getpid()), str(fd), *preload]
    return subprocess.Popen(
        argv,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env=subject_env(),
        pass_fds=(fd,),
        cwd="/",
    )


def spawn(preload: tuple[str, ...] = ()) -> tuple[subprocess.Popen, socket.socket]:
    """A fresh subject interpreter, and the judge's end of its wire socket."""
    ours, theirs = socket.socketpair()
    try:
        proc = _start("subject", preload, theirs)
    finally:
        theirs.close()
    return proc, ours


def spawn_zygote(preload: tuple[str, ...] = ()) -> tuple[subprocess.Popen, socket.socket]:
    """A zygote interpreter now, and the socket on which it will say READY once it
    has imported what it preloads. Call it from a thread that lives as long as the
    zygote should: the zygote dies with the thread that started it."""
    ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
    try:
        proc = _start("zygote", preload, theirs)
    finally:
        theirs.close()
    return proc, ours


def await_ready(proc: subprocess.Popen, sock: socket.socket, timeout: float = 120.0) -> None:
    """Wait for a spawned zygote's READY; OSError (and the zygote killed) if none."""
    sock.settimeout(timeout)
    try:
        ready = sock.recv(64)
    except OSError:
        ready = b""
    sock.settimeout(None)
    if ready != READY:
        proc.kill()
        proc.wait()
        sock.close()
        raise OSError("the subject zygote did not start")


def start_zygote(
    preload: tuple[str, ...] = (), *, timeout: float = 120.0
) -> tuple[subprocess.Popen, socket.socket]:
    """A zygote interpreter, and the socket on which to ask it for subjects, once it
    has imported what it preloads (TensorFlow takes seconds): a caller that waits
    for it is ready only when its first subject will be quick."""
    proc, sock = spawn_zygote(preload)
    await_ready(proc, sock, timeout)
    return proc, sock


# -- inside the new interpreter ----------------------------------------------------------


def die_with_parent(parent: int) -> None:
    """Linux: have the kernel kill this process when `parent` dies, so nothing of an
    attempt outlives the process that started it. Elsewhere the parent's own kill
    does it."""
    if not sys.platform.startswith("linux"):
        return
    try:
        import ctypes

        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        return
    if os.getppid() != parent:  # it died before prctl took effect
        os._exit(1)


def _preload(names: list[str]) -> None:
    """NumPy, the subject's modules, and what the lessons need (TensorFlow). (In mode
    `judge`, before the fork: what the subject's modules import, the judge imports
    too, and a subject importing them after the fork made the check ~5 ms slower.)"""
    import numpy
    import numpy.random  # noqa: F401

    import workbook.grading.keras_plain
    import workbook.grading.subject.sandbox
    import workbook.grading.subject.server  # noqa: F401

    if "tensorflow" in names:
        with contextlib.suppress(Exception):  # a failed preload is retried, and reported, later
            import keras  # noqa: F401
            import tensorflow  # noqa: F401


class ForkedSubject:
    """A subject this process forked (mode `judge`), as the judge keeps it."""

    def __init__(self, pid: int) -> None:
        self.pid = pid
        self.returncode: int | None = None

    def wait(self) -> int | None:
        if self.returncode is None:
            try:
                _, status = os.waitpid(self.pid, 0)
                self.returncode = os.waitstatus_to_exitcode(status)
            except ChildProcessError:
                pass
        return self.returncode


def fork_subject_ahead() -> tuple[ForkedSubject, socket.socket]:
    """Mode `judge`: import what a subject needs, fork the subject (which waits for
    its spec on its socket, and never returns from here), and hand the judge that is
    about to be imported in this process the subject and its end of the socket."""
    die_with_parent(int(sys.argv[1]))
    booted = bool(sys.path) and sys.path[0] == PACKAGE_PARENT
    if booted:
        del sys.path[0]  # as in the other modes, while the subject's modules load
    _preload([])
    from workbook.grading.subject import server as subject

    ours, theirs = socket.socketpair()
    judge = os.getpid()
    pid = os.fork()
    if pid == 0:
        ours.close()
        die_with_parent(judge)
        subject.serve_new(theirs)
        os._exit(0)
    theirs.close()
    if booted:
        sys.path.insert(0, PACKAGE_PARENT)
    return ForkedSubject(pid), ours


def main() -> None:
    """`python -I -B -c BOOT MODE PARENT FD [PRELOAD…]`."""
    mode, parent, fd, preload = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4:]
    die_with_parent(parent)
    if sys.path and sys.path[0] == PACKAGE_PARENT:
        del sys.path[0]  # inserted by BOOT; an installed package's folder stays listed
    sock = socket.socket(fileno=fd)
    _preload(preload)
    from workbook.grading.subject import server as subject

    if mode == "zygote":
        serve(sock, subject.serve_new)
    subject.serve_new(sock)


def serve(listener: socket.socket, become_subject) -> NoReturn:
    """The zygote's loop: fork a subject per request, report its end, and kill it if
    its judge goes away. Single-threaded (a fork copies only the calling thread)."""
    import gc

    gc.collect()
    gc.freeze()  # subjects skip the preloaded heap when they collect garbage
    listener.send(READY)
    alive: dict[int, tuple[socket.socket, int | None]] = {}  # pid -> (control, pidfd)
    while True:
        watched: list[Any] = [listener]
        for control, pidfd in alive.values():
            watched.append(control)
            if pidfd is not None:
                watched.append(pidfd)
        ready, _, _ = select.select(watched, [], [], 0.05)
        if listener in ready:
            _fork_request(listener, alive, become_subject)
        for pid, (control, pidfd) in list(alive.items()):
            if control in ready:  # the judge said stop, or is gone
                _drain(control)
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGKILL)
            done, status = os.waitpid(pid, os.WNOHANG)
            if not done:
                continue
            del alive[pid]
            with contextlib.suppress(OSError):
                reply = {"exited": pid, "returncode": os.waitstatus_to_exitcode(status)}
                control.send(json.dumps(reply).encode())
            # A socket closed with unread messages resets its peer, and the peer's next
            # recv reports the reset before the reply queued for it: read them all first.
            _drain(control)
            control.close()
            if pidfd is not None:
                os.close(pidfd)


def _drain(control: socket.socket) -> None:
    """Read whatever the judge sent on a control socket, without waiting."""
    with contextlib.suppress(OSError):
        while control.recv(4096, socket.MSG_DONTWAIT):
            pass


def _fork_request(
    listener: socket.socket, alive: dict[int, tuple[socket.socket, int | None]], become_subject
) -> None:
    try:
        data, fds, _flags, _addr = socket.recv_fds(listener, 4096, 4)
    except OSError:
        os._exit(0)
    if not data:  # the grading service is gone
        os._exit(0)
    if len(fds) != 2:
        for fd in fds:
            os.close(fd)
        return
    control, wire_sock = (socket.socket(fileno=fd) for fd in fds)
    pid = os.fork()
    if pid == 0:
        listener.close()
        control.close()
        for other, pidfd in alive.values():
            other.close()
            if pidfd is not None:
                os.close(pidfd)
        become_subject(wire_sock)
        os._exit(0)
    wire_sock.close()
    try:
        pidfd: int | None = os.pidfd_open(pid)
    except (AttributeError, OSError):
        pidfd = None
    alive[pid] = (control, pidfd)
    with contextlib.suppress(OSError):
        control.send(json.dumps({"pid": pid}).encode())
