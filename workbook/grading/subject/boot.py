"""How a subject's interpreter is started: its command line and its environment.

Apart from `zygote` because a cold `workbook check` starts its judge before anything
else (`fork_judge`, or `spare.prestart`, called by the console script before click is
imported): this module imports only `os` and `sys`, so the judge starts a few
milliseconds after the learner pressed Enter, not after `json`, `socket` and `typing`
were loaded for a command line.
"""

from __future__ import annotations

import os
import sys

# os.path, not pathlib: every millisecond before the judge starts is waited for.
PACKAGE_PARENT = os.path.dirname(
    os.path.dirname(os.path.dirname(os.path.dirname(os.path.realpath(__file__))))
)

# Environment variables a subject inherits, when set: the locale, where the dynamic
# linker looks, and the numeric libraries' thread and kernel settings (some CPUs
# need OPENBLAS_CORETYPE for correct results). Nothing else crosses.
PASSED_ENV = (
    "LANG",
    "LC_ALL",
    "LC_CTYPE",
    "TZ",
    "LD_LIBRARY_PATH",
    "OPENBLAS_CORETYPE",
    "OPENBLAS_L2_SIZE",
    "OMP_NUM_THREADS",
    "KERAS_BACKEND",
    "CUDA_VISIBLE_DEVICES",
)
SUBJECT_MODULES = frozenset(
    {
        "workbook",
        "workbook.grading",
        "workbook.grading.subject",
        "workbook.grading.subject.zygote",
        "workbook.grading.subject.boot",
        "workbook.grading.subject.server",
        "workbook.grading.wire",
        "workbook.grading.output",
        "workbook.grading.subject.learner_trace",
        "workbook.grading.subject.sandbox",
        "workbook.grading.keras_plain",
    }
)
"""Every module of this package that may be in a subject's memory: none of them
holds an expected value, a check or a reference."""
FORKED_FROM = frozenset({"workbook.launch"})
"""Modules whose functions a subject's memory may hold, but not the modules: the
console script's `launch.main` is being called where a cold judge is forked
(`fork_judge`); the fork drops the module and clears its globals, so nothing it
would import is reachable from it."""

_BOOT = (
    "import sys; sys.path.insert(0, {parent!r}); "
    "from workbook.grading.subject.zygote import main; main()"
)

# A cold judge's command: the subject first (`zygote`), then the judge. The two are
# joined here, on the command line, so that nothing of this package imports the
# judge: the parent imports it after the fork, the subject never does.
_JUDGE_BOOT = (
    "import sys; sys.path.insert(0, {parent!r}); "
    "from workbook.grading.subject.zygote import fork_subject_ahead; "
    "ahead = fork_subject_ahead(); "
    "from workbook.grading.judge.main import main; main(ahead=ahead)"
)


def subject_env() -> dict[str, str]:
    """The whole environment block of a subject: nothing about the grader in it."""
    env = {name: os.environ[name] for name in PASSED_ENV if name in os.environ}
    env.setdefault("PATH", "/usr/bin:/bin")
    env.setdefault("KERAS_BACKEND", "tensorflow")
    env.update(
        # One BLAS thread: NumPy then starts no thread at import (the sandbox confines
        # only a single-threaded process), and the learner's tiny matrices are
        # charged the CPU seconds they need, not those of idle spinning workers.
        OPENBLAS_NUM_THREADS="1",
        MKL_NUM_THREADS="1",
        TF_CPP_MIN_LOG_LEVEL="3",
        # glibc gives each thread its own malloc arena, and arenas count against the
        # RLIMIT_DATA cap: without this, TensorFlow's thread pool on a many-core
        # machine can exhaust a memory limit that is ample on two cores.
        MALLOC_ARENA_MAX="2",
    )
    return env


def judge_command(parent: int) -> list[str]:
    """The command of a cold judge that forks its subject before it imports the
    judge (`zygote.fork_subject_ahead`). Run it with `subject_env()`: the subject
    keeps that block. It dies with `parent`."""
    boot = _JUDGE_BOOT.format(parent=PACKAGE_PARENT)
    return [sys.executable, "-I", "-B", "-c", boot, str(parent)]


# PYTHON* variables that `python -I` would ignore and that change nothing a judge does:
# where any other is set, a forked judge could differ from a started one.
_HARMLESS_PYTHON_ENV = frozenset(
    {"PYTHONDONTWRITEBYTECODE", "PYTHONUNBUFFERED", "PYTHONNOUSERSITE"}
)


def _read_at_exec(name: str) -> bool:
    """Whether the dynamic linker or glibc's malloc read `name` when this program was
    started, so that a fork keeps what it said whatever `os.environ` says later
    (LD_PRELOAD's libraries stay loaded). LD_LIBRARY_PATH is passed on as it is."""
    return (
        name.startswith(("LD_", "MALLOC_")) and name != "LD_LIBRARY_PATH"
    ) or name == "GLIBC_TUNABLES"


def can_fork_judge() -> bool:
    """Whether this process may fork a cold judge (`fork_judge`) that is what
    `judge_command` would start: Linux (the start-up block is scrubbed through
    /proc/self/mem), one thread, and nothing that makes this interpreter differ from
    `python -I -B`: no optimisation (asserts are the checks' verdicts), no warning
    filters or -X options, no PYTHON* setting it ignores, no user site on the path."""
    if not sys.platform.startswith("linux") or not hasattr(os, "fork"):
        return False
    flags = sys.flags
    if flags.optimize or flags.bytes_warning or flags.dev_mode or flags.no_site:
        return False
    if flags.inspect or flags.interactive or flags.verbose or flags.warn_default_encoding:
        return False
    if sys.warnoptions or getattr(sys, "_xoptions", None):
        return False
    if any(n.startswith("PYTHON") and n not in _HARMLESS_PYTHON_ENV for n in os.environ):
        return False
    if any(_read_at_exec(name) for name in os.environ):
        return False
    site = sys.modules.get("site")
    if getattr(site, "ENABLE_USER_SITE", False) and getattr(site, "USER_SITE", None) in sys.path:
        return False
    try:
        return len(os.listdir("/proc/self/task")) == 1
    except OSError:
        return False


def fork_judge() -> tuple[int, int] | None:
    """Fork this process into a cold judge, as `judge_command` would start one, and
    return its pid and the write end of its stdin (for the job), or None where
    `can_fork_judge` says no (then start one with `judge_command`).

    Called by the console script before it imports anything else: the judge saves an
    interpreter's start-up (~8 ms) and a spawn (~4 ms) of a cold check's critical
    path. What the subject forked from it may see of this process is made what a
    started judge's would be first: `os.environ` is `subject_env()` (its malloc
    arena cap applied, which malloc reads only at start-up) and the start-up block
    that /proc/self/environ and /proc/self/cmdline read (the learner's whole shell
    environment, the command line) is overwritten; no descriptor but its stdin pipe
    and /dev/null; its own session; sys.path without the script's folder; no
    bytecode written; the launcher's modules dropped. This process has imported
    nothing of the judge. A child that cannot do all of this exits at once, and the
    grading that takes it finds it ended and starts a judge instead. (What differs
    and changes no verdict: `sys.flags.isolated`, the process's name, the console
    script as `__main__`.)"""
    if not can_fork_judge():
        return None
    parent = os.getpid()
    env = subject_env()
    read, write = os.pipe()
    pid = os.fork()
    if pid:
        os.close(read)
        return pid, write
    try:
        os.setsid()
        if read != 0:
            os.dup2(read, 0)
        null = os.open(os.devnull, os.O_WRONLY)
        os.dup2(null, 1)
        os.dup2(null, 2)
        os.closerange(3, 1 << 20)
        for name, fd, mode in (("stdin", 0, "r"), ("stdout", 1, "w"), ("stderr", 2, "w")):
            if getattr(sys, name) is None:  # this process started without it
                setattr(sys, name, open(fd, mode, encoding="utf-8", closefd=False))  # noqa: SIM115
        os.environ.clear()
        os.environ.update(env)
        _cap_malloc_arenas(env)
        _scrub_startup_block(env)
        sys.argv[:] = ["-c", str(parent)]
        sys.orig_argv[:] = judge_command(parent)
        sys.dont_write_bytecode = True
        _forget_the_console_script()
        if sys.path and not sys.flags.safe_path:
            del sys.path[0]  # the script's folder, or the current one
        boot = compile(_JUDGE_BOOT.format(parent=PACKAGE_PARENT), "<string>", "exec")
        exec(boot, {"__name__": "__main__", "__builtins__": __builtins__})
        code = 0
    except SystemExit as stop:
        code = stop.code if isinstance(stop.code, int) else 1
    except BaseException:  # as the started interpreter would: the traceback on stderr
        import traceback

        traceback.print_exc()
        code = 1
    finally:
        try:
            sys.stderr.flush()
        finally:
            os._exit(code)


def _cap_malloc_arenas(env: dict[str, str]) -> None:
    """MALLOC_ARENA_MAX, as the started judge's malloc would have read it at start-up
    (`subject_env` says why): glibc reads it only then. (The judge imports ctypes
    anyway, for its parent-death signal.)"""
    import ctypes

    arenas = env.get("MALLOC_ARENA_MAX")
    if arenas is not None:
        ctypes.CDLL(None).mallopt(-8, int(arenas))  # M_ARENA_MAX


def _scrub_startup_block(env: dict[str, str]) -> None:
    """Overwrite the command line and environment block this process was started
    with: after `os.environ` changed, /proc/self/environ still reads the original.
    The kernel reads both from this process's memory (their bounds are fields 48-51
    of /proc/self/stat); nothing points into them once `os.environ` was cleared. The
    environment's place gets `env`, as a started judge's, where it fits, else NULs."""
    with open("/proc/self/stat", "rb") as f:
        fields = f.read().rsplit(b")", 1)[1].split()
    arg_start, arg_end, env_start, env_end = (int(fields[n - 3]) for n in (48, 49, 50, 51))
    block = "".join(f"{name}={value}\0" for name, value in env.items()).encode()
    with open("/proc/self/mem", "r+b", buffering=0) as mem:
        mem.seek(env_start)
        mem.write(_padded(block, env_end - env_start))
        mem.seek(arg_start)
        mem.write(_padded(b"workbook-judge\0", arg_end - arg_start))


def _padded(data: bytes, size: int) -> bytes:
    return data + bytes(size - len(data)) if len(data) <= size else bytes(size)


def _forget_the_console_script() -> None:
    """Drop the modules of this package that the console script imported before the
    fork and a subject may not hold (`SUBJECT_MODULES` says which may), the launcher
    and the service's link, and clear their globals: `launch.main` is still being
    called in this process's stack (see `FORKED_FROM`), but reaches nothing."""
    for name in list(sys.modules):
        if (name == "workbook" or name.startswith("workbook.")) and name not in SUBJECT_MODULES:
            sys.modules.pop(name).__dict__.clear()
