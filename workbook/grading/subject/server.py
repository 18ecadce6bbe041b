"""The subject: the one process that runs learner code, and nothing but learner code.

It is born clean (`zygote`): a fresh interpreter, or a fork of one, that never
imported the judge, so its memory holds no check, reference or expected value. The
judge's first message (`serve_new`) says what the attempt may use; the subject then
confines itself at once (`sandbox.confine`: only its scratch folder to write, no
workspace, checks, references or progress store to read, no capabilities, no
processes, no network, nothing that reaches another process), imports what the
lesson needs (TensorFlow for the Keras lessons, unless preloaded: that is its
start-up, charged to a separate budget), loads the learner's file from bytes the
judge sends, and then answers requests: "what is `name`", "call `name` with these
arguments". Every answer is plain data (`wire`); an exception is an answer too, with
its traceback cut to the learner's own frames.

Nothing this process says is trusted. The judge only learns values from it, and
decides; a subject that lies about a value has merely returned a wrong value. What
it prints reaches the judge only through a file the judge reads with a bound.
"""

from __future__ import annotations

import contextlib
import io
import linecache
import os
import random
import socket
import sys
import time
import warnings
from pathlib import Path
from typing import Any, NoReturn

from workbook.grading import wire
from workbook.grading.output import OUTPUT_FILE, OUTPUT_LIMIT, BoundedOutput  # noqa: F401
from workbook.grading.subject.learner_trace import describe

NATIVE_LOG = "native.log"  # fd 1 and 2: crash messages from C code, TensorFlow's logs
MODULE_NAME = "learner_exercise"


class LearnerExit(SystemExit):
    pass


def _forbid_hard_exit(code: int = 0) -> NoReturn:
    raise LearnerExit(code)


def _builtin_base(exc: BaseException) -> str:
    """The nearest builtin exception class: the judge raises one of that kind."""
    import builtins

    for klass in type(exc).__mro__:
        if getattr(builtins, klass.__name__, None) is klass and issubclass(klass, Exception):
            return klass.__name__
    return "Exception"


def _error(exc: BaseException, shown_as: str) -> dict[str, Any]:
    trace = describe(exc, shown_as, shown_as)
    return {
        "type": type(exc).__name__,
        "builtin": _builtin_base(exc),
        "text": str(exc)[:4000],
        "trace": {
            "message": trace.message[:4000],
            "location": trace.location,
            "line": trace.line,
            "code": trace.code,
            "traceback": trace.traceback[-4000:],
        },
    }


def _cpu() -> float:
    return time.process_time()


class Server:
    """The request loop; one instance per subject process."""

    def __init__(self, sock: socket.socket, scratch: Path, output_fd: int | None) -> None:
        self.sock = sock
        self.scratch = scratch
        self.module: Any = None
        self.shown_as = "your file"
        self.output = BoundedOutput(output_fd)
        self.keras_to_plain: Any = None

    def reply(self, header: dict, **values: Any) -> None:
        """Send an answer; a value that cannot be sent (too large, too deep, a Keras
        model that cannot be saved) is answered as an error of the call instead."""
        try:
            message = wire.encode(header, self.keras_to_plain, **values)
            size = len(message[0]) + sum(map(len, message[1]))
            if size > wire.MAX_MESSAGE:
                raise wire.TooLarge(
                    f"it takes {size / 2**20:.0f} MiB, over the {wire.MAX_MESSAGE // 2**20} "
                    "MiB limit"
                )
        except Exception as exc:
            text = f"the value could not be sent to the grader: {exc}"[:2000]
            error = {"type": type(exc).__name__, "builtin": "ValueError", "text": text}
            message = wire.encode({"error": {**error, "trace": {"message": text}}})
        wire.send_raw(self.sock, *message)

    # -- requests -----------------------------------------------------------------

    def load(self, header: dict, buffers: list[bytes]) -> None:
        self.shown_as = str(header.get("shown_as") or "your file")
        source = buffers[0] if buffers else b""
        try:
            code = compile(source, self.shown_as, "exec", dont_inherit=True)
        except (SyntaxError, ValueError) as exc:  # ValueError: null bytes
            self.reply(
                {
                    "syntax": {
                        "message": getattr(exc, "msg", str(exc)),
                        "line": getattr(exc, "lineno", None),
                        "code": (getattr(exc, "text", "") or "").rstrip("\n"),
                    }
                }
            )
            return
        text = _decoded(source)
        linecache.cache[self.shown_as] = (len(text), None, text.splitlines(True), self.shown_as)
        module = type(sys)(MODULE_NAME)
        module.__file__ = self.shown_as
        sys.modules[MODULE_NAME] = module
        started = _cpu()
        try:
            exec(code, module.__dict__)
        except BaseException as exc:
            self.reply({"error": _error(exc, self.shown_as), "cpu": _cpu() - started})
            return
        self.module = module
        self.reply({"ok": True, "cpu": _cpu() - started})

    def attr(self, header: dict) -> None:
        name = header.get("name")
        if not isinstance(name, str) or self.module is None:
            self.reply({"kind": "missing"})
            return
        try:
            value = self.module.__dict__[name]
        except KeyError:
            self.reply({"kind": "missing"})
            return
        if callable(value):
            self.reply({"kind": "function", "name": getattr(value, "__name__", name)})
        else:
            self.reply({"kind": "value"}, value=value)

    def _snapshot(self, arguments: tuple) -> Any:
        """The model handed to a spied helper as it was on entry (None when the first
        argument is no Keras model): the judge measures training from there, so weights
        set by hand before the call are not mistaken for learning."""
        if not arguments or self.keras_to_plain is None:
            return None
        if not wire.is_keras_model(arguments[0]):
            return None
        try:
            return wire.PlainModel(self.keras_to_plain(arguments[0]))
        except Exception:  # the reply says why the model cannot be read
            return None

    def call(self, header: dict, buffers: list[bytes]) -> None:
        name = header.get("name")
        target = self.module.__dict__.get(name) if self.module is not None else None
        if not callable(target):
            self.reply({"kind": "missing"})
            return
        args = wire.decode(header.get("args", []), buffers)
        kwargs = wire.decode(header.get("kwargs", {"__dict__": []}), buffers)
        spied: list[tuple] = []
        spy = header.get("spy")
        original = self.module.__dict__.get(spy) if isinstance(spy, str) else None
        if callable(original):

            def recording(*a: Any, **k: Any) -> Any:
                arguments = _positional(original, a, k)
                spied.append((arguments, self._snapshot(arguments)))
                return original(*a, **k)

            self.module.__dict__[spy] = recording
        given = wire.arrays_in((args, kwargs))
        before = [array.copy() for array in given]
        started = _cpu()
        try:
            _seed(header.get("seed"))
            with _strict_floats(bool(header.get("strict_float"))):
                result = target(*args, **kwargs)
        except BaseException as exc:
            self.reply(
                {"error": _error(exc, self.shown_as), "cpu": _cpu() - started},
                mutated=_mutated(given, before),
            )
            return
        finally:
            if callable(original):
                self.module.__dict__[spy] = original
        values = {"result": result, "mutated": _mutated(given, before)}
        if spy is not None:
            values["spied"] = spied
        self.reply({"cpu": _cpu() - started}, **values)

    def serve(self) -> NoReturn:
        while True:
            try:
                header, buffers = wire.receive(self.sock)
            except (EOFError, OSError, wire.WireError):
                os._exit(0)
            op = header.get("op")
            try:
                if op == "load":
                    self.load(header, buffers)
                elif op == "attr":
                    self.attr(header)
                elif op == "call":
                    self.call(header, buffers)
                else:
                    os._exit(0)
            except (BrokenPipeError, ConnectionError):
                os._exit(0)


def _positional(func: Any, args: tuple, kwargs: dict) -> tuple:
    """A call's arguments in the function's positional order, keywords included, so
    `train(model, X=X, y=y)` is seen as `train(model, X, y)`."""
    import inspect

    try:
        return tuple(inspect.signature(func).bind(*args, **kwargs).args)
    except (TypeError, ValueError):
        return args


def _mutated(given: list[Any], before: list[Any]) -> list[tuple[int, Any]]:
    """The argument arrays learner code changed in place, by position: the judge
    writes them back into its own arrays, so a check sees a learner's `C_prev *= f`
    exactly as it would in one process."""
    import numpy

    return [
        (index, now)
        for index, (now, then) in enumerate(zip(given, before, strict=True))
        if now.shape != then.shape or not numpy.array_equal(now, then, equal_nan=True)
    ]


def _decoded(source: bytes) -> str:
    from importlib.util import decode_source

    try:
        return decode_source(source)
    except (SyntaxError, UnicodeDecodeError, LookupError):
        return source.decode("utf-8", errors="replace")


def _seed(seed: Any) -> None:
    """Seed every generator learner code may use, so a training run is repeatable."""
    if type(seed) is not int:
        return
    import numpy

    random.seed(seed)
    numpy.random.seed(seed)
    keras = sys.modules.get("keras")
    if keras is not None:
        with contextlib.suppress(Exception):
            keras.utils.set_random_seed(seed)


@contextlib.contextmanager
def _strict_floats(on: bool):
    """NumPy's overflow/invalid warnings as exceptions (a check asks for warning-free
    code, e.g. a sigmoid that must not overflow for large |x|)."""
    if not on:
        yield
        return
    import numpy

    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        with numpy.errstate(over="raise", divide="raise", invalid="raise", under="ignore"):
            yield


def _import_requirements(requires: list[str]) -> None:
    """TensorFlow/Keras for the Keras lessons, imported inside the sandbox (so its
    threads are confined too) and before the learner's file, so that the learner's
    budget pays for the learner's code only."""
    if "tensorflow" in requires:
        os.environ.setdefault("KERAS_BACKEND", "tensorflow")
        os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
        import keras  # noqa: F401
        import tensorflow  # noqa: F401


def _isolate_fds(keep: set[int], scratch: Path) -> None:
    """Only the judge's socket and the output descriptor stay open; stdin is empty,
    stdout and stderr go to a log in scratch (C-level crash messages land there,
    never on a terminal)."""
    devnull = os.open(os.devnull, os.O_RDONLY)
    log = os.open(scratch / NATIVE_LOG, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    os.dup2(devnull, 0)
    os.dup2(log, 1)
    os.dup2(log, 2)
    low = 3
    for fd in sorted(keep):
        os.closerange(low, fd)
        low = fd + 1
    os.closerange(low, 65536)


def _private_environment(scratch: Path) -> None:
    for name in ("HOME", "TMPDIR", "KERAS_HOME", "XDG_CACHE_HOME", "MPLCONFIGDIR"):
        os.environ[name] = str(scratch)
    for name in list(os.environ):
        if name.startswith(("WORKBOOK_", "PYTEST_")):
            del os.environ[name]
    os.chdir(scratch)


def _forget_workbook() -> None:
    """The grader's own modules are no business of learner code: out of sys.modules
    (the sandbox makes the package unreadable anyway). The modules this process runs
    on keep working: their objects hold what they use. sys.path is left alone: from
    an installed wheel, the package's folder is site-packages, where NumPy and Keras
    live too."""
    for name in list(sys.modules):
        if name == "workbook" or name.startswith("workbook."):
            del sys.modules[name]


def serve_new(sock: socket.socket) -> NoReturn:
    """Entry of a newborn subject (see `zygote`): wait for the judge's spec and the
    descriptor of the output file, then `main`. Never returns."""
    try:
        _, fds, _, _ = socket.recv_fds(sock, 1, 1)
        header, _ = wire.receive(sock)
        spec = header["spec"]
        if len(fds) != 1 or not isinstance(spec, dict):
            raise wire.WireError("no spec")
    except (OSError, EOFError, KeyError, TypeError, wire.WireError):
        os._exit(0)  # the judge is gone, or it was not the judge
    main(sock, {**spec, "output_fd": fds[0], "parent": os.getppid()})


def main(sock: socket.socket, spec: dict[str, Any]) -> NoReturn:
    """Confine, start up, serve. Never returns."""
    real_exit = os._exit
    scratch = Path(spec["scratch"])
    try:
        output_fd = spec.get("output_fd")
        _isolate_fds({sock.fileno(), *([output_fd] if output_fd is not None else [])}, scratch)
        _private_environment(scratch)
        to_plain = _keras_to_plain()  # imported now: the package is unreadable once confined
        protection = _confine(spec)
        _forget_workbook()
        server = Server(sock, scratch, output_fd)
        server.keras_to_plain = to_plain
        sys.stdout = sys.stderr = server.output
        sys.stdin = io.StringIO("")
        os._exit = _forbid_hard_exit
        started = _cpu()
        wall = time.perf_counter()
        failure = None
        try:
            _import_requirements(list(spec.get("requires", ())))
        except BaseException as exc:  # e.g. TensorFlow missing or broken
            failure = f"{type(exc).__name__}: {exc}"[:2000]
        wire.send(
            sock,
            {
                "ready": failure is None,
                "failure": failure,
                "protection": protection,
                "startup_cpu": _cpu() - started,
                "startup_wall": time.perf_counter() - wall,
            },
        )
        if failure is None:
            server.serve()
    except BaseException:
        with contextlib.suppress(Exception):
            import traceback

            traceback.print_exc(file=sys.__stderr__)
    real_exit(0)


def _confine(spec: dict[str, Any]) -> dict[str, Any]:
    try:
        from workbook.grading.subject import sandbox
    except ImportError:
        return {"label": "none", "notes": ["this installation has no sandbox module"]}
    confinement = sandbox.Confinement(
        scratch=Path(spec["scratch"]),
        hidden=tuple(Path(p) for p in spec.get("hidden", ())),
        memory_mb=int(spec.get("memory_mb", 1024)),
        cpu_hard_s=float(spec.get("cpu_hard_s", 600)),
        parent=int(spec["parent"]) if spec.get("parent") else None,
        **_planned(spec.get("sandbox_plan")),
    )
    return sandbox.confine(confinement).to_json()


def _planned(plan: Any) -> dict[str, Any]:
    """The static rules the parent planned (see `sandbox.static_plan`), if it did."""
    if not isinstance(plan, dict):
        return {}
    rules = tuple((str(path), str(access)) for path, access in plan.get("rules", []))
    return {"static_rules": rules, "static_notes": tuple(map(str, plan.get("notes", [])))}


def _keras_to_plain() -> Any:
    """How a Keras model becomes plain data (None: this installation cannot say)."""
    try:
        from workbook.grading.keras_plain import to_plain
    except ImportError:
        return None
    return to_plain
