"""The grading service: one warm grader per user and workspace, shared by every face.

`workbook check`, `workbook watch` and the TUI each used to pay for their own warm-up:
a CLI check of a Keras lesson was a TensorFlow import. The service keeps the judge's
modules imported once, a subject zygote with NumPy, and one with TensorFlow once a
Keras lesson was graded or is near, and serves every face of one workspace through a
Unix socket. Each attempt is a fork of a judge and a fork of a clean subject (see
`zygote`), so no attempt can change a later one, whichever face asked.

Lifecycle, after dmypy and the Gradle daemon:

* **Found, or started on demand.** The socket lives in a folder only its user can
  use (`$XDG_RUNTIME_DIR/lstm-workbook` or `/tmp/lstm-workbook-UID`, mode 0700,
  checked), named after the workspace and the installation. A face that finds no
  service starts one in the background and grades this attempt cold.
* **Only its user.** Every connection's peer credentials are checked (SO_PEERCRED):
  another uid is refused.
* **Only its installation.** Each connection begins with a handshake of
  `INSTALL_ID` (version, package folder, interpreter and the grading code's files):
  an upgraded or edited workbook never talks to an old service; it stops it.
* **Idle exit** after `WORKBOOK_SERVICE_IDLE` seconds (default 600) without a
  connection. `workbook service status|stop`; `WORKBOOK_WARM=0` grades cold.
* **Killed or wedged**: a connection that fails, or a service that does not start
  an attempt in time, makes that attempt run cold; the dead socket is removed and
  the next attempt starts a new service.
* **Concurrent faces**: attempts run side by side, each in its own forked judge.

Protocol: JSON lines over the socket. Client → `{"hello": INSTALL_ID}`, service →
`{"hello": INSTALL_ID, "pid": N}`; then one request per connection: `{"op": "grade",
"job", "stderr", "cwd", "preload"}` → `{"started": pid}`, later `{"exited": pid,
"returncode": rc}` (closing the connection before that cancels the attempt), or
`{"op": "preload", "preload": [...]}` → `{"ok": true}`, `{"op": "status"}` → a dict,
`{"op": "stop"}` → `{"ok": true}` and the service exits.

A face's command can run in the service too, as a nailgun client does: `{"op": "run",
"entry": "workbook.cli:run_argv", "argv", "cwd", "env"}` sent with the client's
stdin, stdout and stderr descriptors (SCM_RIGHTS) → `{"started": pid}`, then
`{"exited": pid, "returncode": rc}`. The command runs in a fork of the service, on
the client's own terminal, folder and environment, with the face's modules already
imported: `workbook check` then costs a bare interpreter's start-up plus the attempt.
The service only imports an `entry` under `workbook.cli`, named by the face itself.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import select
import signal
import socket
import struct
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

from workbook import __version__
from workbook.grading.service_link import (  # noqa: F401 - the faces' API, re-exported
    CONNECT_TIMEOUT_S,
    ServiceUnavailable,
    _connect,
    _read_line,
    install_id,
    request,
    request_at,
    run_face,
    running,
    socket_dir,
    socket_path,
)

IDLE_S = float(os.environ.get("WORKBOOK_SERVICE_IDLE", "600"))
START_TIMEOUT_S = 10.0  # a fork server answers "started" in milliseconds


def enabled() -> bool:
    return os.environ.get("WORKBOOK_WARM", "1") != "0"


# -- the service --------------------------------------------------------------------------


def _peer_uid(conn: socket.socket) -> int | None:
    try:
        creds = conn.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED, struct.calcsize("3i"))
    except (OSError, AttributeError):
        return None
    _pid, uid, _gid = struct.unpack("3i", creds)
    return uid


class _Conn:
    """One client connection: a line reader and writer."""

    def __init__(self, sock: socket.socket) -> None:
        self.sock = sock
        self.buffer = b""
        self.greeted = False
        self.attempt: int | None = None
        self.fds: list[int] = []  # descriptors sent with a request (a face's stdio)

    def lines(self) -> list[dict] | None:
        """Complete requests read now; None once the client has gone."""
        try:
            chunk, fds, _flags, _addr = socket.recv_fds(self.sock, 65536, 3)
        except OSError:
            return None
        self.close_fds()
        self.fds = list(fds)
        if not chunk:
            return None
        self.buffer += chunk
        found = []
        while b"\n" in self.buffer:
            line, _, self.buffer = self.buffer.partition(b"\n")
            try:
                item = json.loads(line)
            except ValueError:
                return None
            if isinstance(item, dict):
                found.append(item)
        return found

    def send(self, data: dict) -> None:
        with contextlib.suppress(OSError):
            self.sock.sendall((json.dumps(data) + "\n").encode())

    def close_fds(self) -> None:
        for fd in self.fds:
            with contextlib.suppress(OSError):
                os.close(fd)
        self.fds = []


class Service:
    """The service process's state: its socket, zygotes and running attempts."""

    def __init__(self, path: Path, workspace: str, *, run: bool = False) -> None:
        """`run`: a grading run's private service (`RunService`): it runs no face's
        command and has no workspace of its own to warm (at a platform's half a core,
        the faces' imports were ~0.3 s of a submission's wall time)."""
        from workbook.grading.judge import main as child
        from workbook.grading.subject import zygote

        self.path = path
        self.workspace = workspace
        self.ident = install_id()
        self.pid = os.getpid()
        self.started_at = time.time()
        self.attempts = 0
        self.last_active = time.monotonic()
        child.preload_judge(warm=True)
        if not run:
            _warm_faces()
        self.zygotes: dict[tuple[str, ...], tuple[subprocess.Popen, socket.socket]] = {
            (): zygote.start_zygote(())
        }
        if not run:
            self._warm_workspace()
        self.listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        old = os.umask(0o077)
        try:
            with contextlib.suppress(FileNotFoundError):
                path.unlink()
            self.listener.bind(str(path))
        finally:
            os.umask(old)
        self.listener.listen(16)
        self.conns: dict[socket.socket, _Conn] = {}
        self.running: dict[int, _Conn] = {}  # attempt pid -> its client
        self.starting: dict[tuple[str, ...], tuple[subprocess.Popen, socket.socket]] = {}
        self.waiting: dict[tuple[str, ...], list[tuple[_Conn, dict]]] = {}
        self.exits: dict[int, int] = {}  # pidfd -> the running attempt's pid
        # Judges forked ahead of a lesson's next save (see `judge.main.Pending`):
        # prepared key -> (pid, the end of its socket that sends it the request).
        self.prepared: dict[str, tuple[int, socket.socket, tuple]] = {}
        self.handed = 0  # attempts graded by a prepared judge
        self.graded: dict[int, tuple[dict, tuple[str, ...]]] = {}  # attempt pid -> its lesson
        self.to_prepare: list[tuple[dict, tuple[str, ...]]] = []  # once nothing runs

    def _warm_workspace(self) -> None:
        """Do now, while no one waits, what every attempt would do again: plan the
        subject's sandbox for this workspace (a client hands its jobs unplanned, and
        each attempt takes the plan as is), read the course and glossary and hash the
        grading files (kept by their files' stamps: see `filestamp`, `manifest`)."""
        from workbook.errors import WorkbookError
        from workbook.grading.runner import hidden_paths, planned
        from workbook.manifest import workspace_tampered
        from workbook.workspace import Workspace

        workspace = Workspace(Path(self.workspace))
        with contextlib.suppress(WorkbookError, OSError):
            planned({"hidden": hidden_paths(workspace)})
        with contextlib.suppress(WorkbookError, OSError, ValueError):
            workspace.course  # noqa: B018 - read for the cache
            workspace.glossary  # noqa: B018
            workspace_tampered(workspace)

    def zygote_for(self, preload: tuple[str, ...]) -> socket.socket | None:
        """The zygote with `preload` imported, or None while it is still starting
        (importing TensorFlow takes seconds: the service keeps answering everyone
        else meanwhile, and serves the requests that wait for it once it is ready).
        Zygotes are started from the service's one thread, which they die with."""
        found = self.zygotes.get(preload)
        if found is not None and found[0].poll() is None:
            return found[1]
        self.zygotes.pop(preload, None)
        if preload not in self.starting:
            from workbook.grading.subject import zygote

            try:
                self.starting[preload] = zygote.spawn_zygote(preload)
            except OSError as exc:
                self._fail_waiting(preload, exc)
        return None

    def _fail_waiting(self, preload: tuple[str, ...], exc: OSError) -> None:
        for client, _request in self.waiting.pop(preload, []):
            client.send({"failed": f"no subject zygote: {exc}"})

    def _zygote_ready(self, preload: tuple[str, ...]) -> None:
        """A starting zygote spoke: ready (serve who waited) or failed."""
        from workbook.grading.subject import zygote

        proc, sock = self.starting.pop(preload)
        try:
            zygote.await_ready(proc, sock, timeout=1.0)
        except OSError as exc:
            self._fail_waiting(preload, exc)
            return
        self.zygotes[preload] = (proc, sock)
        for client, waited in self.waiting.pop(preload, []):
            if client.sock in self.conns:
                self._fork_attempt(client, waited, sock)

    def serve(self) -> None:
        import gc

        gc.collect()
        gc.freeze()
        while True:
            starting = {sock: preload for preload, (_proc, sock) in self.starting.items()}
            watched = [self.listener, *self.conns, *starting, *self.exits]
            ready, _, _ = select.select(watched, [], [], 0.05)
            for sock in ready:
                if sock is self.listener:
                    self._accept()
                elif sock in self.conns:
                    self._read(self.conns[sock])
                elif sock in starting:
                    self._zygote_ready(starting[sock])
            self._reap()
            if self.conns or self.running or self.starting:
                self.last_active = time.monotonic()
            elif time.monotonic() - self.last_active > IDLE_S:
                self.shutdown()

    def _accept(self) -> None:
        try:
            conn, _ = self.listener.accept()
        except OSError:
            return
        if _peer_uid(conn) != os.getuid():
            conn.close()
            return
        self.conns[conn] = _Conn(conn)

    def _drop(self, client: _Conn) -> None:
        self.conns.pop(client.sock, None)
        for waiting in self.waiting.values():
            waiting[:] = [(c, r) for c, r in waiting if c is not client]
        if client.attempt is not None:  # cancelled: the client went away
            _kill_group(client.attempt)
        client.close_fds()
        client.sock.close()

    def _read(self, client: _Conn) -> None:
        requests = client.lines()
        if requests is None:
            self._drop(client)
            return
        for req in requests:
            if not client.greeted:
                if req.get("hello") != self.ident:
                    client.send({"hello": self.ident, "refused": "another installation"})
                    self._drop(client)
                    return
                client.greeted = True
                client.send({"hello": self.ident, "pid": os.getpid()})
                continue
            self._handle(client, req)

    def _handle(self, client: _Conn, request: dict) -> None:
        op = request.get("op")
        if op == "grade" and client.attempt is None:
            preload = tuple(str(p) for p in request.get("preload", []))
            zygote_sock = self.zygote_for(preload)
            if zygote_sock is None:
                self.waiting.setdefault(preload, []).append((client, request))
                return
            self._fork_attempt(client, request, zygote_sock)
        elif op == "run" and client.attempt is None:
            self._fork_run(client, request)
        elif op == "prepare" and isinstance(request.get("job"), dict):
            self._prepare(request["job"], tuple(str(p) for p in request.get("preload", [])))
            client.send({"ok": True})
        elif op == "preload":
            self.zygote_for(tuple(str(p) for p in request.get("preload", [])))
            client.send({"ok": True})  # started: `status` says once it is ready
        elif op == "status":
            client.send(self.status())
        elif op == "stop":
            client.send({"ok": True})
            self.shutdown()
        else:
            client.send({"failed": f"unknown request {op!r}"})

    def _fork_attempt(self, client: _Conn, request: dict, zygote_sock: socket.socket) -> None:
        from workbook.grading.runner import planned

        job = request.get("job")
        pid = None
        if isinstance(job, dict):
            planned(job)  # cached: planned once, at start-up
            pid = self._hand_to_prepared(job, request)
        if pid is None:
            pid = os.fork()
            if pid == 0:
                self._attempt(request, zygote_sock)
        if isinstance(job, dict) and request.get("prepare_next"):  # the next save comes
            self.graded[pid] = (job, tuple(str(p) for p in request.get("preload", [])))
        self._started(client, pid)

    def _hand_to_prepared(self, job: dict, request: dict) -> int | None:
        """The judge prepared for this job's lesson, sent the request; None if there
        is none (or it is gone)."""
        from workbook.grading.judge.main import prepared_key

        entry = self.prepared.pop(prepared_key(job), None)
        if entry is None:
            return None
        pid, conn, stamps = entry
        try:
            if stamps != _check_stamps(job["check"]):
                return None  # a check changed since (a course author at work)
            conn.sendall((json.dumps(request) + "\n").encode())
        except OSError:
            return None  # it died; a new judge is forked
        finally:
            conn.close()  # a judge not sent the request ends
        self.handed += 1
        return pid

    def _prepare(self, template: dict, preload: tuple[str, ...]) -> None:
        """Fork a judge for `template`'s lesson ahead of its next save, unless there
        is one. Only after an attempt ended or when a face asks: a judge preparing
        while an attempt runs would take CPU from that attempt."""
        from workbook.grading.judge.main import prepared_key
        from workbook.grading.runner import planned

        template = planned({k: v for k, v in template.items() if k not in PER_ATTEMPT})
        key = prepared_key(template)
        if key in self.prepared:
            return
        zygote_sock = self.zygote_for(preload)
        if zygote_sock is None:
            return  # still starting: the attempt after it prepares
        try:
            stamps = _check_stamps(template["check"])
        except OSError:
            return
        if stamps is None:
            return  # checks written just now: the attempt after the next prepares
        while len(self.prepared) >= PREPARED_MAX:
            _pid, old, _stamps = self.prepared.pop(next(iter(self.prepared)))
            old.close()  # it ends when it sees no request can come
        ours, theirs = socket.socketpair()
        pid = os.fork()
        if pid == 0:
            ours.close()
            self._prepared_judge(template, zygote_sock, theirs)
        theirs.close()
        self.prepared[key] = (pid, ours, stamps)

    def _fork_run(self, client: _Conn, request: dict) -> None:
        """Run a face's command in a fork of the service, on the client's stdio."""
        fds, client.fds = client.fds, []
        try:
            entry = _face_entry(request)
        except (ValueError, ImportError, AttributeError) as exc:
            for fd in fds:
                os.close(fd)
            client.send({"failed": f"cannot run this command here: {exc}"})
            return
        if len(fds) != 3:
            for fd in fds:
                os.close(fd)
            client.send({"failed": "send stdin, stdout and stderr with the request"})
            return
        pid = os.fork()
        if pid == 0:
            self._run_face(entry, request, fds)
        for fd in fds:
            os.close(fd)
        self._started(client, pid)

    def _started(self, client: _Conn, pid: int) -> None:
        """Book a forked attempt or command, and watch for its end through a pidfd:
        the loop wakes the moment it exits (a poll every 50 ms added 25 ms on average
        to each of a check's two forks)."""
        self.attempts += 1
        client.attempt = pid
        self.running[pid] = client
        with contextlib.suppress(AttributeError, OSError):  # else the loop's timeout reaps it
            self.exits[os.pidfd_open(pid)] = pid  # Linux ≥ 5.3
        client.send({"started": pid})

    def _forget_service(self, keep: socket.socket | None = None) -> None:
        """In a fork: close the service's sockets (all but `keep`) and die with it.
        Prepared judges' sockets too: a judge let go must see its socket close."""
        os.setsid()
        from workbook.grading.subject.zygote import die_with_parent

        die_with_parent(self.pid)  # a killed service takes its forks along
        self.listener.close()
        for sock in self.conns:
            sock.close()
        for _pid, conn, _stamps in self.prepared.values():
            conn.close()
        for _proc, other in self.zygotes.values():
            if other is not keep:
                other.close()
        for pidfd in self.exits:
            os.close(pidfd)

    def _run_face(self, entry: Any, request: dict, fds: list[int]) -> None:
        """In the fork: become the client's command, on its terminal, folder and
        environment; exit with the command's exit status."""
        real_exit = os._exit
        code = 1
        try:
            self._forget_service()
            for target, fd in enumerate(fds):
                os.dup2(fd, target)
                os.close(fd)
            os.chdir(str(request.get("cwd") or "/"))
            env = request.get("env")
            if isinstance(env, dict):
                os.environ.clear()
                os.environ.update({str(k): str(v) for k, v in env.items()})
            for name in ("SIGTERM", "SIGINT", "SIGHUP", "SIGPIPE"):
                signal.signal(getattr(signal, name), signal.SIG_DFL)
            signal.signal(signal.SIGINT, signal.default_int_handler)
            sys.stdin = open(0, encoding="utf-8", errors="replace", closefd=False)  # noqa: SIM115
            sys.stdout = open(1, "w", encoding="utf-8", errors="replace", closefd=False)  # noqa: SIM115
            sys.stderr = open(2, "w", encoding="utf-8", errors="replace", closefd=False)  # noqa: SIM115
            sys.argv = ["workbook", *map(str, request.get("argv", []))]
            code = entry(sys.argv[1:])
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
        except KeyboardInterrupt:
            code = 130
        except BaseException:
            import traceback

            traceback.print_exc()
        finally:
            for stream in (sys.stdout, sys.stderr):
                with contextlib.suppress(Exception):
                    stream.flush()
            real_exit(code if isinstance(code, int) else 1)

    def _prepared_judge(self, template: dict, zygote_sock: socket.socket, conn: socket.socket):
        """In the fork: a judge that prepares `template`'s attempt, then waits for it.
        Its output goes nowhere until the request names the attempt's stderr file."""

        def prepare_then_run(child: Any) -> None:
            devnull = os.open(os.devnull, os.O_RDWR)
            for target in (0, 1, 2):
                os.dup2(devnull, target)
            os.close(devnull)
            child.run_when_asked(template, conn)

        self._as_judge(zygote_sock, prepare_then_run)

    def _attempt(self, request: dict, zygote_sock: socket.socket) -> None:
        """In the forked judge: the attempt of `request`, now."""

        def run(child: Any) -> None:
            child.enter(request)
            child.run(request["job"])

        self._as_judge(zygote_sock, run)

    def _as_judge(self, zygote_sock: socket.socket, work: Any) -> None:
        """In a fork: become a judge (nothing of the service's sockets but the
        zygote's), do `work` with the judge's module, and exit; never returns."""
        real_exit = os._exit
        code = 1
        try:
            self._forget_service(keep=zygote_sock)
            from workbook.grading.judge import main as child

            child.ZYGOTE = zygote_sock
            work(child)
            code = 0
        except BaseException:
            import traceback

            traceback.print_exc(file=sys.__stderr__)
        finally:
            with contextlib.suppress(Exception):
                sys.__stderr__.flush()
            real_exit(code)

    def _reap(self) -> None:
        while self.running:
            try:
                pid, status = os.waitpid(-1, os.WNOHANG)
            except ChildProcessError:
                return
            if pid == 0:
                return
            client = self.running.pop(pid, None)
            if client is None:
                continue  # a zygote
            for pidfd in [fd for fd, watched in self.exits.items() if watched == pid]:
                del self.exits[pidfd]
                os.close(pidfd)
            _kill_group(pid)  # whatever the attempt left in its session
            client.attempt = None
            client.send({"exited": pid, "returncode": os.waitstatus_to_exitcode(status)})
            graded = self.graded.pop(pid, None)
            if graded is not None:
                self.to_prepare.append(graded)
            # The same lesson's next save finds a judge ready; prepared once nothing
            # runs (a `check` run here is still printing when its attempt ends).
            while self.to_prepare and not self.running:
                self._prepare(*self.to_prepare.pop(0))

    def status(self) -> dict[str, Any]:
        return {
            "pid": os.getpid(),
            "version": __version__,
            "install": self.ident,
            "workspace": self.workspace,
            "socket": str(self.path),
            "uptime_s": round(time.time() - self.started_at, 1),
            "attempts": self.attempts,
            "running": len(self.running),
            "prepared": len(self.prepared),
            "graded_by_prepared": self.handed,
            "preloaded": sorted("+".join(p) or "numpy" for p in self.zygotes),
            "idle_exit_s": IDLE_S,
        }

    def shutdown(self) -> None:
        for pid in list(self.running):
            _kill_group(pid)
        with contextlib.suppress(OSError):
            if self.path.exists() and self.path.is_socket():
                self.path.unlink()
        for proc, _sock in self.zygotes.values():
            with contextlib.suppress(OSError):
                proc.kill()
        os._exit(0)


def _check_stamps(check: str) -> tuple | None:
    """What says a prepared judge's checks are still the files it copied: the stamps
    of the checks' folder (`filestamp`: times, size, inode of each file in it), None
    while one was written too recently to tell."""
    from workbook.filestamp import stamp

    return stamp(Path(check).parent)


PER_ATTEMPT = ("report", "exercise", "scratch")  # what a job adds to its lesson's template
PREPARED_MAX = 2  # judges kept ready: the lesson on screen, and one more

FACE_MODULES = ("workbook.cli",)  # the faces whose commands the service may run


def _warm_faces() -> None:
    """Import the faces' command modules and what they import lazily (their
    `warm_up`), once: each command then runs in a fork that already holds them."""
    import importlib

    for name in FACE_MODULES:
        with contextlib.suppress(ImportError):
            module = importlib.import_module(name)
            warm_up = getattr(module, "warm_up", None)
            if callable(warm_up):
                warm_up()


_FACE_ENTRY = re.compile(r"workbook\.cli(?:\.[a-z_]+)*:[a-z_]+")


def _face_entry(request: dict) -> Any:
    """The face's function a `run` request names (imported once, in the service, so
    that every later fork has it), after checking that it is one of the CLI's."""
    import importlib

    entry = request.get("entry")
    if not isinstance(entry, str) or not _FACE_ENTRY.fullmatch(entry):
        raise ValueError(f"not a command entry point: {entry!r}")
    if not isinstance(request.get("argv"), list):
        raise ValueError("no argv")
    module, _, name = entry.partition(":")
    return getattr(importlib.import_module(module), name)


def _kill_group(pid: int) -> None:
    for kill in (os.killpg, os.kill):
        with contextlib.suppress(ProcessLookupError, PermissionError):
            kill(pid, signal.SIGKILL)


def _lock_path(path: Path) -> Path:
    return path.with_suffix(".lock")


def _holds_lock(path: Path) -> int | None:
    """An exclusive lock on the service's lock file (its descriptor), held for the
    service's whole life from its first instant: two faces starting a service at
    once start one. None: another process holds it."""
    import fcntl

    fd = os.open(_lock_path(path), os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        os.close(fd)
        return None
    return fd


def main(argv: list[str]) -> None:
    """`python -m workbook.grading.service SOCKET WORKSPACE`: run until idle."""
    path, workspace = Path(argv[0]), argv[1]
    if _holds_lock(path) is None:
        return  # another service for this workspace and installation is starting or runs
    signal.signal(signal.SIGTERM, lambda *_: os._exit(0))
    parent = os.environ.get("WORKBOOK_GRADER_PARENT")
    run = bool(parent and parent.isdigit())  # a run's private service (`RunService`)
    if run:
        from workbook.grading.subject.zygote import die_with_parent

        die_with_parent(int(parent))
    Service(path, workspace, run=run).serve()


# -- the faces' side ----------------------------------------------------------------------


def start(workspace_root: Path) -> bool:
    """Start this workspace's service in the background unless one answers; whether
    one is (or is being) started. Never waits for it."""
    path = socket_path(workspace_root)
    if path is None:
        return False
    lock = _holds_lock(path)
    if lock is None:
        return True  # a service holds its lock: it runs, or is starting
    os.close(lock)  # none does: the one started now takes it
    if path.exists():
        probe = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        probe.settimeout(1.0)
        try:
            probe.connect(str(path))
            return True  # it accepts connections: alive (perhaps busy)
        except (ConnectionRefusedError, FileNotFoundError):
            with contextlib.suppress(OSError):
                path.unlink()  # stale: its service is dead
        except OSError:
            return True  # busy, not dead: leave it be
        finally:
            probe.close()
    from workbook.grading.spare import child_env

    env = child_env()
    env.pop("WORKBOOK_GRADER_PARENT", None)
    subprocess.Popen(
        [sys.executable, "-m", "workbook.grading.service", str(path), str(workspace_root)],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env=env,
        cwd="/",
        start_new_session=True,  # outlives the face that started it, until idle
    )
    return True


def stop(workspace_root: Path) -> bool:
    """Stop this workspace's service; whether one was running."""
    try:
        request(workspace_root, {"op": "stop"}, timeout=5.0)
    except ServiceUnavailable:
        return False
    return True


class _GradesOnService:
    """`Session.grader` on a grading service: each attempt is forked there. An attempt
    the service cannot run is graded cold; one it failed as a grader (its start-up, a
    crash of the judge) is graded again cold, once, and says so: whatever went wrong
    there must not decide this attempt or the next ones."""

    fallbacks = 0  # attempts graded cold because the service could not, or failed
    prepare_next = False  # ask for a judge ready for the lesson's next save
    AFTER_FAULT = "this attempt was graded again from scratch"

    def _socket(self) -> Path | None:
        """Where the service listens (None: nowhere)."""
        raise NotImplementedError

    def _unavailable(self) -> None:
        """The service could not run an attempt (it runs cold)."""

    def _faulted(self) -> None:
        """The service failed an attempt as a grader (it runs again, cold)."""

    def grade(self, workspace, lesson, **options):
        from workbook.grading.runner import clear_attempt, grade, run_cold

        served: list[bool] = []

        def execute(job, tmp, cwd, cancel, deadline):
            preload = ("tensorflow",) if lesson.uses_tensorflow else ()
            try:
                path = self._socket()
                if path is None:
                    raise ServiceUnavailable("no service")
                outcome = _run_on_socket(
                    path, job, tmp, cwd, cancel, deadline, preload, self.prepare_next
                )
                served.append(True)
                return outcome
            except ServiceUnavailable:
                self.fallbacks += 1
                self._unavailable()
                clear_attempt(tmp)  # nothing of a half-run attempt remains
                return run_cold(job, tmp, cwd, cancel, deadline)

        result = grade(workspace, lesson, execute=execute, **options)
        if result.grader_fault and served:
            self._faulted()
            self.fallbacks += 1
            first = result.error.message if result.error else "unknown"
            result = grade(workspace, lesson, execute=run_cold, **options)
            result.notes.append(f"the grading service failed ({first}); {self.AFTER_FAULT}")
        return result


class ServiceGrader(_GradesOnService):
    """`Session.grader` for any face: grades on this workspace's service, or cold
    (starting the service for next time) when there is none or it fails."""

    AFTER_FAULT = (
        "it was stopped, this attempt was graded again from scratch, and the next one "
        "starts a new service"
    )
    prepare_next = True  # one learner, one workspace: the next save is of this lesson

    def __init__(self, workspace_root: Path) -> None:
        self.root = workspace_root
        self._preload: tuple[str, ...] = ()
        self.fallbacks = 0
        self._lock = threading.Lock()

    def start(self) -> None:
        start(self.root)

    def preload_tensorflow(self) -> None:
        """Have the service import TensorFlow into a zygote now (a Keras lesson is
        near), in the background: the face never waits for it."""
        self._preload = ("tensorflow",)

        def ask() -> None:
            with contextlib.suppress(ServiceUnavailable):
                request(self.root, {"op": "preload", "preload": list(self._preload)}, 180)

        start(self.root)
        threading.Thread(target=ask, daemon=True).start()

    def prepare(self, workspace, lesson) -> None:
        """Have the service fork a judge for `lesson`'s next save now, in the
        background (a face shows the lesson; see `judge.main.Pending`)."""
        from workbook.errors import WorkbookError
        from workbook.grading.runner import job_for

        try:
            job = job_for(workspace, lesson)
        except (OSError, ValueError, WorkbookError):
            return
        preload = ["tensorflow"] if lesson.uses_tensorflow else []

        def ask() -> None:
            if not self._answers(timeout=30.0):  # a service just started, still importing
                return
            with contextlib.suppress(ServiceUnavailable):
                request(self.root, {"op": "prepare", "job": job, "preload": preload}, 180)

        threading.Thread(target=ask, daemon=True).start()

    def _answers(self, timeout: float) -> bool:
        """Whether the service answers within `timeout` (one being started does once
        it has imported the judge)."""
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            with contextlib.suppress(ServiceUnavailable):
                request(self.root, {"op": "status"}, timeout=max(0.1, end - time.monotonic()))
                return True
            time.sleep(0.05)
        return False

    def wait_until_ready(self, timeout: float = 30.0) -> bool:
        """Block until the service answers with what is wanted preloaded (tests, benchmarks)."""
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            # Again each round: a service that was just stopped may still hold its
            # lock, and then `start` leaves it be; once it is gone, a new one starts.
            self.start()
            with contextlib.suppress(ServiceUnavailable):
                status = request(
                    self.root, {"op": "status"}, timeout=max(0.1, end - time.monotonic())
                )
                want = "+".join(self._preload) or "numpy"
                if want in status.get("preloaded", []):
                    return True
                if self._preload:
                    request(self.root, {"op": "preload", "preload": list(self._preload)}, 180)
                    continue
            time.sleep(0.05)
        return False

    def close(self) -> None:
        """Nothing to close: the service outlives the face, until it is idle."""

    def _socket(self) -> Path | None:
        return socket_path(self.root)

    def _unavailable(self) -> None:
        start(self.root)  # for the next attempt

    def _faulted(self) -> None:
        with contextlib.suppress(ServiceUnavailable):
            request(self.root, {"op": "stop"}, timeout=5.0)  # the next attempt starts anew


class RunService(_GradesOnService):
    """A private service for one grading run over many workspaces (`grade-class`, the
    autograders): every attempt, from whichever worker thread, forks a judge from it
    and a subject from its zygotes, so the judge's modules are imported once and
    TensorFlow once per run, not once per worker (a warm server per worker imported
    both again: ~4 CPU-s of TensorFlow each, where a platform gives half a core).
    Its socket lives in the run's private folder; it dies with the thread that made
    it, and `close` stops it. An attempt it cannot run is graded cold."""

    def __init__(self, folder: Path, *, keras: bool = False) -> None:
        from workbook.grading.spare import child_env

        self.path = folder / "service.sock"
        self.keras = keras
        self.fallbacks = 0
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "workbook.grading.service", str(self.path), str(folder)],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            env=child_env(),  # WORKBOOK_GRADER_PARENT: it dies with this process
            cwd="/",
            start_new_session=True,
        )

    def wait_until_ready(self, timeout: float) -> bool:
        """Whether the service answers (within `timeout`), TensorFlow's zygote asked
        for when the run has Keras lessons: it loads while NumPy lessons are graded."""
        end = time.monotonic() + timeout
        while time.monotonic() < end and self.proc.poll() is None:
            try:
                if self.keras:
                    request_at(self.path, {"op": "preload", "preload": ["tensorflow"]}, 5.0, 5.0)
                else:
                    request_at(self.path, {"op": "status"}, 5.0, 5.0)
                return True
            except ServiceUnavailable:
                time.sleep(0.02)
        return False

    def _socket(self) -> Path | None:
        return self.path

    def close(self) -> None:
        with contextlib.suppress(ServiceUnavailable):
            request_at(self.path, {"op": "stop"}, 5.0, 5.0)
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.proc.pid, signal.SIGKILL)
        self.proc.wait()


def _run_on_socket(path, job, tmp, cwd, cancel, deadline, preload, prepare_next=False):
    """One attempt on the service at `path`."""
    from workbook.grading.runner import GradingCancelled, RunOutcome, stderr_tail

    if not path.exists():
        raise ServiceUnavailable("no service")
    sock, _ = _connect(path, install_id())
    buffer = bytearray()
    stderr_path = tmp / "stderr"
    payload = {"op": "grade", "job": job, "stderr": str(stderr_path), "cwd": str(cwd),
               "preload": list(preload), "prepare_next": prepare_next}  # fmt: skip
    try:
        # Importing TensorFlow into a new zygote is part of starting.
        sock.settimeout(START_TIMEOUT_S + (180.0 if preload else 0.0))
        sock.sendall((json.dumps(payload) + "\n").encode())
        started = _read_line(sock, buffer)
    except (OSError, ValueError) as exc:
        sock.close()
        raise ServiceUnavailable(str(exc)) from exc
    if "started" not in started:
        sock.close()
        raise ServiceUnavailable(str(started.get("failed", started)))
    timed_out = False
    try:
        while b"\n" not in buffer:
            now = time.perf_counter()
            if cancel is not None and cancel.is_set():
                raise GradingCancelled  # closing the connection kills the attempt
            if now >= deadline:
                timed_out = True
                break
            wait = min(0.01 if cancel is not None else 0.5, deadline - now)
            ready, _, _ = select.select([sock], [], [], wait)
            if ready:
                chunk = sock.recv(65536)
                if not chunk:
                    _kill_group(started["started"])  # its judge must not write on
                    raise ServiceUnavailable("the service died during the attempt")
                buffer += chunk
        exited = None if timed_out else _read_line(sock, buffer)
    except (OSError, ValueError) as exc:
        raise ServiceUnavailable(str(exc)) from exc
    finally:
        sock.close()
    returncode = None if exited is None else exited.get("returncode")
    return RunOutcome(timed_out, returncode if type(returncode) is int else None,
                      stderr_tail(stderr_path))  # fmt: skip


if __name__ == "__main__":
    main(sys.argv[1:])
