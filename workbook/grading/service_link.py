"""The faces' link to the grading service: where its socket is and how to talk to it.

Kept apart from the service itself so that a face that only talks to a running
service (`workbook check` with one up: see `workbook.launch`) imports a socket, a
hash and JSON, not the service's machinery; its paths are strings (`pathlib` alone
cost that client 6-9 ms of its ~50). The protocol is described in `service`.
"""

from __future__ import annotations

import contextlib
import functools
import json
import os
import socket
import stat
import sys

from workbook import __version__

try:  # hashlib would load OpenSSL first: ~3 ms of this client's start-up
    from _blake2 import blake2b
except ImportError:  # not CPython
    from hashlib import blake2b

CONNECT_TIMEOUT_S = 2.0
PACKAGE = os.path.dirname(os.path.dirname(os.path.realpath(__file__)))


@functools.cache
def install_id() -> str:
    """This installation: version, package folder, interpreter and the grading code
    as it is on disk (a changed file means a new service). Read once per process
    (a stat of every module): a face that outlives an upgrade keeps the service of
    the code it runs."""
    digest = blake2b(digest_size=12)
    digest.update(f"{__version__}\0{PACKAGE}\0{os.path.realpath(sys.executable)}".encode())
    files = [os.path.join(PACKAGE, "manifest.json")]
    for folder, _dirs, names in os.walk(PACKAGE):
        files.extend(os.path.join(folder, name) for name in names if name.endswith(".py"))
    for path in sorted(files):
        with contextlib.suppress(OSError):
            info = os.stat(path)
            digest.update(f"\0{path}\0{info.st_mtime_ns}\0{info.st_size}".encode())
    return digest.hexdigest()


def _socket_folder() -> str | None:
    runtime = os.environ.get("XDG_RUNTIME_DIR")
    if runtime and os.path.isdir(runtime):
        folder = os.path.join(runtime, "lstm-workbook")
    else:
        folder = f"/tmp/lstm-workbook-{os.getuid()}"
    with contextlib.suppress(FileExistsError):
        os.mkdir(folder, 0o700)
    try:
        info = os.lstat(folder)
    except OSError:
        return None
    private = stat.S_ISDIR(info.st_mode) and stat.S_IMODE(info.st_mode) == 0o700
    return folder if private and info.st_uid == os.getuid() else None


def _socket_file(workspace_root: str | os.PathLike, ident: str | None = None) -> str | None:
    folder = _socket_folder()
    if folder is None:
        return None
    where = os.path.realpath(workspace_root)
    key = blake2b(f"{where}\0{ident or install_id()}".encode(), digest_size=10)
    return os.path.join(folder, f"{key.hexdigest()}.sock")


def socket_dir():  # -> pathlib.Path | None
    """The user's private folder for service sockets, made 0700 if absent; None if
    it exists but is not private (another owner, or readable by others)."""
    from pathlib import Path

    folder = _socket_folder()
    return None if folder is None else Path(folder)


def socket_path(workspace_root: str | os.PathLike, ident: str | None = None):  # -> Path | None
    from pathlib import Path

    path = _socket_file(workspace_root, ident)
    return None if path is None else Path(path)


class ServiceUnavailable(Exception):
    """No service to talk to now: grade cold (and start one for next time)."""


def _connect(
    path: str | os.PathLike, ident: str, timeout: float = CONNECT_TIMEOUT_S
) -> tuple[socket.socket, dict]:
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    sock.settimeout(timeout)
    try:
        sock.connect(os.fspath(path))
        sock.sendall((json.dumps({"hello": ident}) + "\n").encode())
        reply = _read_line(sock)
    except (OSError, ValueError) as exc:
        sock.close()
        raise ServiceUnavailable(str(exc)) from exc
    if reply.get("hello") != ident or "refused" in reply:
        sock.close()
        raise ServiceUnavailable("the service belongs to another installation")
    return sock, reply


def _read_line(sock: socket.socket, buffer: bytearray | None = None) -> dict:
    data = buffer if buffer is not None else bytearray()
    while b"\n" not in data:
        chunk = sock.recv(65536)
        if not chunk:
            raise ServiceUnavailable("the service closed the connection")
        data += chunk
    line, _, rest = bytes(data).partition(b"\n")
    data[:] = rest
    item = json.loads(line)
    if not isinstance(item, dict):
        raise ValueError("not a JSON object")
    return item


def request(workspace_root: str | os.PathLike, payload: dict, timeout: float = 120.0) -> dict:
    """One request to this workspace's service (none running: ServiceUnavailable)."""
    path = _socket_file(workspace_root)
    if path is None:
        raise ServiceUnavailable("no service")
    return request_at(path, payload, timeout)


def request_at(
    path: str | os.PathLike,
    payload: dict,
    timeout: float = 120.0,
    connect_timeout: float = CONNECT_TIMEOUT_S,
) -> dict:
    """One request to the service listening at `path` (ServiceUnavailable if none)."""
    if not os.path.exists(path):
        raise ServiceUnavailable("no service")
    sock, _ = _connect(path, install_id(), connect_timeout)
    try:
        sock.settimeout(timeout)
        sock.sendall((json.dumps(payload) + "\n").encode())
        return _read_line(sock)
    except (OSError, ValueError) as exc:
        raise ServiceUnavailable(str(exc)) from exc
    finally:
        sock.close()


def run_face(workspace_root: str | os.PathLike, entry: str, argv: list[str]) -> int | None:
    """Run a face's command (`entry(argv)`) in this workspace's service, on this
    process's stdin, stdout and stderr; its exit status, or None when the service
    could not start it (none runs, another installation, refused): the caller then
    runs the command itself. Ctrl-C here cancels it there."""
    path = _socket_file(workspace_root)
    if path is None or not os.path.exists(path):
        return None
    try:
        sock, _ = _connect(path, install_id())
    except ServiceUnavailable:
        return None
    buffer = bytearray()
    try:
        message = {"op": "run", "entry": entry, "argv": argv, "cwd": os.getcwd()}
        message["env"] = dict(os.environ)
        socket.send_fds(sock, [(json.dumps(message) + "\n").encode()], [0, 1, 2])
        if "started" not in _read_line(sock, buffer):
            return None
    except (OSError, ValueError, ServiceUnavailable):
        sock.close()
        return None
    sock.settimeout(None)
    try:
        while True:
            reply = _read_line(sock, buffer)
            if "exited" in reply:
                code = reply.get("returncode")
                return code if type(code) is int and code >= 0 else 128 + abs(int(code or 1))
    except KeyboardInterrupt:
        return 130  # closing the connection kills the command in the service
    except (OSError, ValueError, ServiceUnavailable):
        print("workbook: the grading service stopped during this command", file=sys.stderr)
        return 1
    finally:
        sock.close()


def running(workspace_root: str | os.PathLike) -> bool:
    """Whether this workspace's service has a socket (cheap: no connection made)."""
    path = _socket_file(workspace_root)
    return path is not None and os.path.exists(path)
