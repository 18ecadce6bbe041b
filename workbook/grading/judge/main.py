"""The judge: one process per attempt that runs the hidden checks and never runs
learner code.

It reads its job (JSON) from stdin, takes a subject born clean (`zygote`: forked by
this interpreter before it imported the judge, or a fork of the grading service's
zygote), verifies the check files against the shipped manifest, sends the
learner's file to the subject, and runs pytest with the checks, which call the
learner's functions through `proxy.RemoteModule` and get plain data back. It
writes JSON-lines events to a report file in its private folder, which the subject
can neither read nor write (the subject is confined to its scratch folder), so
every event is the judge's own.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import shutil
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from workbook.grading.judge import bytecode
from workbook.grading.output import OUTPUT_FILE, OUTPUT_LIMIT  # noqa: F401 - OUTPUT_LIMIT: API
from workbook.grading.subject import zygote

if TYPE_CHECKING:
    import socket
    import subprocess

    from workbook.grading.judge.proxy import Subject

# Where this attempt's subject comes from: an interpreter started ahead, at this
# process's start-up (cold), or the grading service's zygote (set there).
AHEAD: tuple[subprocess.Popen, socket.socket] | None = None
ZYGOTE: socket.socket | None = None
PREPARED: Any = None  # pytest's config with its plugins, made before the job arrives

JUDGE_MEMORY_MB = 4096  # the judge decodes at most 256 MiB a message; this is a backstop


class Report:
    """The attempt's events, one JSON line each. A judge prepared before its job
    (see `run_when_asked`) keeps them until the job names the report file."""

    def __init__(self, path: str | None) -> None:
        self._file = None
        self._kept: list[str] = []
        self._encode = json.JSONEncoder().iterencode
        if path is not None:
            self.bind(path)

    def bind(self, path: str) -> None:
        self._file = open(path, "a", encoding="utf-8")  # noqa: SIM115
        self._file.write("".join(self._kept))
        self._file.flush()
        self._kept.clear()

    def __call__(self, event: dict[str, Any]) -> None:
        line = "".join(self._encode(event, True)) + "\n"
        if self._file is None:
            self._kept.append(line)
            return
        self._file.write(line)
        self._file.flush()


def _limit_judge_memory() -> None:
    try:
        import resource
    except ImportError:
        return
    data = JUDGE_MEMORY_MB * 1024 * 1024
    resource.setrlimit(resource.RLIMIT_DATA, (data, data))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))


def _digest(data: bytes) -> str:
    """As `workbook.manifest.file_hash`: line endings normalised."""
    return hashlib.sha256(data.replace(b"\r\n", b"\n")).hexdigest()


def verified_checks(job: dict[str, Any], into: Path) -> tuple[Path | None, str | None]:
    """Copy the lesson's check file (and the checks folder's private `_*.py` helpers)
    into the judge's own folder, each compared with the shipped manifest first, with
    its bytecode beside it (`bytecode`: compiled once per source, not per attempt).

    The copy is what runs, so the file compared is the file executed. Where the
    manifest covers this course, a check file that differs from it, or that it does
    not list (a catalog pointing elsewhere), is refused; another course on the same
    engine, or an instructor's `--own-checks`, is run as it is."""
    from workbook.manifest import load_manifest

    check = Path(job["check"])
    sources = [check, *sorted(p for p in check.parent.glob("_*.py") if p != check)]
    manifest = load_manifest() if job.get("verify_checks", True) else None
    files = manifest["files"] if manifest else {}
    covered = any(name.startswith("checks/") for name in files) and (
        any(f"checks/{p.name}" in files for p in check.parent.glob("*.py"))
    )
    into.mkdir(mode=0o700)
    cache = Path(job["bytecode_cache"]) if job.get("bytecode_cache") else None
    for source in sources:
        data = source.read_bytes()
        listed = files.get(f"checks/{source.name}")
        if covered and (listed is None or listed != _digest(data)):
            how = "is not one of the shipped checks" if listed is None else "was modified"
            return None, (
                f"the check file checks/{source.name} {how}; grading refuses to run "
                "checks that differ from the shipped course (a fresh `workbook init` "
                "restores them; course authors refresh the manifest with "
                "`workbook dev manifest`)"
            )
        (into / source.name).write_bytes(data)
        bytecode.place(into / source.name, data, cache)
    return into / check.name, None


PYTEST_ARGS = [
    "-s",
    "-c", os.devnull,
    "--noconftest",
    "--import-mode=importlib",
    "-p", "no:cacheprovider",
    "-p", "no:stepwise",
    "-p", "no:terminal",
    # Plugins the checks never use. unraisableexception alone costs a few
    # full garbage collections per run (≈ 50 ms on a warm fork).
    "-p", "no:unraisableexception",
    "-p", "no:threadexception",
    "-p", "no:doctest",
    "-p", "no:junitxml",
    "-p", "no:pastebin",
    "-p", "no:setuponly",
    "-p", "no:setupplan",
    "-p", "no:unittest",
    "-p", "no:legacypath",
    "-p", "no:tmpdir",
    "-p", "no:monkeypatch",
    "-p", "no:recwarn",
    "-p", "no:logging",
    "-p", "no:debugging",
    "--assert=plain",
    "-W", "ignore::DeprecationWarning",
]  # fmt: skip


def subject_spec(job: dict[str, Any]) -> dict[str, Any]:
    return {
        "scratch": job["scratch"],
        "output": str(Path(job["report"]).parent / OUTPUT_FILE),
        "hidden": job.get("hidden", []),
        "sandbox_plan": job.get("sandbox_plan"),
        "memory_mb": job["memory_mb"],
        "requires": job.get("requires", []),
        "cpu_hard_s": job["limits"]["startup_s"] + job["limits"]["total_s"] + 10,
        "limits": job["limits"],
    }


def _load_learner(subject, job: dict[str, Any], emit: Report) -> bool:
    """Send the learner's file to the subject; report a syntax or load error.

    The reply is the subject's word, and learner code can forge it (it can find its
    server and answer the load itself): every field is bounded and of its type."""
    from workbook.grading.judge.proxy import bounded_trace, text_of
    from workbook.learnerfile import UndecodableSource, decode

    shown_as = job["shown_as"]
    source = Path(job["exercise"]).read_bytes()
    try:
        # Bytes Python would refuse as source: `compile()` of bytes lets invalid
        # UTF-8 in a comment through, and a file the learner cannot run must not pass.
        decode(source, shown_as)
    except UndecodableSource as exc:
        emit({"event": "error", "kind": "syntax", "message": str(exc), "file": shown_as,
              "line": exc.line, "code": exc.code, "traceback": ""})  # fmt: skip
        return False
    reply = subject.load(source, shown_as)
    if "syntax" in reply:
        syntax = reply["syntax"] if isinstance(reply["syntax"], dict) else {}
        line = syntax.get("line")
        line = line if type(line) is int else None
        emit(
            {
                "event": "error",
                "kind": "syntax",
                "message": f"syntax error at {shown_as}:{line}: {text_of(syntax.get('message'))}",
                "file": shown_as,
                "line": line,
                "code": text_of(syntax.get("code"), 400),
                "traceback": "",
            }
        )
        return False
    if "error" in reply:
        error = reply["error"] if isinstance(reply["error"], dict) else {}
        trace = bounded_trace(error.get("trace"))
        emit(
            {
                "event": "error",
                "kind": "import",
                "message": f"your file failed while being loaded: {trace.get('message', '')}",
                "file": shown_as,
                "line": trace.get("line"),
                "code": trace.get("code"),
                "traceback": trace.get("traceback", ""),
            }
        )
        return False
    return True


def _number(value: Any) -> float | None:
    return float(value) if type(value) in (int, float) else None


def _bounded_protection(value: Any) -> dict[str, Any]:
    """The subject's `Protection.to_json()` (sent before learner code runs, but the
    subject's word all the same), each field of its type and bounded."""
    from workbook.grading.judge.proxy import text_of

    if not isinstance(value, dict):
        return {}

    def optional_int(key: str) -> int | None:
        found = value.get(key)
        return found if type(found) is int else None

    notes = value.get("notes")
    capabilities = value.get("capabilities")
    return {
        "label": text_of(value.get("label"), 200),
        "landlock_abi": optional_int("landlock_abi"),
        "files_confined": value.get("files_confined") is True,
        "seccomp": value.get("seccomp") is True,
        "uid": optional_int("uid"),
        "capabilities": text_of(capabilities, 40) if capabilities is not None else None,
        "scratch_quota_mb": optional_int("scratch_quota_mb"),
        "notes": [text_of(n, 1000) for n in notes[:50]] if isinstance(notes, list) else [],
    }


def _begin(subject: Subject, job: dict[str, Any], emit: Report, pending: Pending | None) -> bool:
    """Wait for the subject's start-up and load the learner's file: whether the
    checks may run. Called once pytest has collected them, so the subject confines
    itself and starts up while the judge sets up pytest and imports the checks. A
    prepared judge waits for its job here, with all of that done."""
    emit({"event": "phase", "phase": "startup"})
    info = subject.start()
    emit(
        {
            "event": "subject",
            "protection": _bounded_protection(info.get("protection")),
            "startup_cpu": _number(info.get("startup_cpu")),
            "startup_wall": _number(info.get("startup_wall")),
        }
    )
    if pending is not None:
        pending.take_job(job, subject, emit)
    emit({"event": "phase", "phase": "load"})
    if not _load_learner(subject, job, emit):
        return False
    emit({"event": "phase", "phase": "checks"})
    return True


def run(job: dict[str, Any], pending: Pending | None = None) -> None:
    """Grade one attempt: `job` says what to grade; with `pending`, only what to
    prepare (the lesson's check, limits and hidden paths), and the rest of the job
    arrives once everything before the learner's file is done."""
    from workbook.grading.judge.proxy import RemoteModule, Subject, SubjectStopped

    global AHEAD
    ahead, AHEAD = AHEAD, None
    subject = Subject.begin(subject_spec(job), ahead=ahead, zygote_sock=ZYGOTE)
    _limit_judge_memory()
    emit = Report(None if pending else job["report"])
    stopped_reported = False
    try:
        from workbook.grading.judge.plugin import GradingPlugin

        check, refusal = verified_checks(job, Path(job["report"]).parent / "judge")
        if refusal is not None:
            if pending is not None:
                pending.take_job(job, subject, emit)
            emit({"event": "check-error", "message": refusal, "tampered": True})
            return
        plugin = GradingPlugin(
            RemoteModule(subject),
            subject,
            emit,
            before_checks=lambda: _begin(subject, job, emit, pending),
        )
        _run_pytest(check, plugin)
        stopped_reported = plugin.stopped_reported
    except SubjectStopped:
        pass  # reported below, from subject.stopped
    finally:
        if pending is not None:
            pending.take_job(job, subject, emit)  # a job never taken: no return
        if subject.stopped is not None and not stopped_reported:
            emit({"event": "stopped", "kind": subject.stopped.kind,
                  "message": subject.stopped.message, "check": subject.stopped.check})  # fmt: skip
        output, dropped = subject.output()
        subject.close()
        shutil.rmtree(job["scratch"], ignore_errors=True)
        if pending is not None:
            shutil.rmtree(pending.folder, ignore_errors=True)
        emit({"event": "done", "output": output, "output_dropped": dropped})


# What a prepared judge's job may not change: the subject and checks it prepared.
PREPARED_FIELDS = ("check", "verify_checks", "hidden", "memory_mb", "requires", "limits",
                   "shown_as", "sandbox_plan")  # fmt: skip


def prepared_key(job: dict[str, Any]) -> str:
    """Jobs with the same key can be graded by the same prepared judge."""
    return json.dumps([job.get(name) for name in PREPARED_FIELDS], sort_keys=True)


class Pending:
    """A judge's job that has not arrived yet. The grading service forks a judge
    ahead of the next save of the lesson a learner works on: it copies and verifies
    the checks, starts a subject (confined, with nothing of the learner's), and runs
    pytest up to its checks; the job, when it comes, only names the learner's file
    and where the attempt's report goes. The subject and the checks are never reused:
    one prepared judge grades one attempt, or none.

    Its own folder holds its copy of the checks, the subject's scratch folder and the
    output file until the job names the attempt's folder; the service's end of `conn`
    sends the request (as a fresh judge reads it), or closes to say it is not needed."""

    def __init__(self, conn: Any, folder: Path) -> None:
        self.conn = conn
        self.folder = folder
        self.taken = False

    def take_job(self, job: dict[str, Any], subject: Subject, emit: Report) -> None:
        """Wait for the request; take up the attempt's place. Without one (the
        service went away or let this judge go), end here."""
        if self.taken:
            return
        self.taken = True
        buffer = bytearray()
        while b"\n" not in buffer:
            try:
                chunk = self.conn.recv(65536)
            except OSError:
                chunk = b""
            if not chunk:
                subject.close()
                shutil.rmtree(self.folder, ignore_errors=True)
                os._exit(0)
            buffer += chunk
        request = json.loads(bytes(buffer).split(b"\n", 1)[0])
        arrived = request["job"]
        enter(request)
        job.update(report=arrived["report"], exercise=arrived["exercise"])
        emit.bind(arrived["report"])
        moved = Path(arrived["report"]).parent / OUTPUT_FILE
        with contextlib.suppress(OSError):  # else the judge reads it where it is
            os.replace(str(subject.output_path), str(moved))
            subject.output_path = moved


def run_when_asked(template: dict[str, Any], conn: Any) -> None:
    """A prepared judge (see `Pending`), in its own attempt folder."""
    from workbook.grading.runner import attempt_folder

    folder = attempt_folder()
    job = {**template, "report": str(folder / "report.jsonl"), "scratch": str(folder / "scratch")}
    run(job, Pending(conn, folder))


# A `workbook` killed mid-attempt (closed terminal, SIGKILL) never leaves learner
# code running. The signal comes when the parent's spawning *thread* ends: callers
# wait for the attempt in the thread that started it.
die_with_parent = zygote.die_with_parent


def preload_judge(*, warm: bool = False) -> None:
    """Import everything the judge needs before the job arrives: a spare judge does
    this while its parent is still starting up, and the grading service does it once.
    Nothing here is a reference or a check, and no subject is ever forked from here.

    `warm` (the service, once for all its attempts): also what only some attempts
    need (the Keras judge, NumPy's masked arrays behind `np.median`, readline for
    pytest's capture plugin). A spare judge grades one attempt, and its start-up is
    what a cold `workbook check` waits for: those it imports if and when used."""
    import numpy
    import numpy.random
    import pytest  # noqa: F401

    import workbook.grading.judge.expect
    import workbook.grading.judge.plugin
    import workbook.grading.judge.proxy
    import workbook.grading.subject.learner_trace
    import workbook.learnerfile
    import workbook.manifest

    if warm:
        import faulthandler  # noqa: F401 - pytest's faulthandler plugin, per attempt
        import resource  # noqa: F401 - the judge's own memory cap, per attempt

        import numpy.ma  # noqa: F401 - np.median imports it: 5-10 ms in an attempt

        with contextlib.suppress(ImportError):
            import readline  # noqa: F401 - pytest's capture plugin imports it
        with contextlib.suppress(ImportError):
            import workbook.grading.judge.keras_model  # noqa: F401

    prepare_pytest()
    # From here on only check files are imported: no __pycache__ in the workspace.
    # The judge's own modules above keep their bytecode cache.
    sys.dont_write_bytecode = True


# pytest's root and conftest boundary: a folder that always exists and never holds an
# attempt, so the command line can be parsed before the job names the check file (a
# check is collected as a lone module, without its folder's other files).
STAND_IN_ROOT = str(Path(__file__).resolve().parent)


def prepare_pytest() -> None:
    """All of `pytest.main` that no job changes, done before the job arrives: the
    plugin manager with pytest's built-in plugins (the `-p no:` ones blocked), and the
    command line parsed. Made here, it is made once by the grading service for every
    attempt it forks and by a spare judge before its job arrives. Per attempt the
    parse alone was 12-17 ms (pytest builds its argparse parser of 230 options six
    times over); the plugin set-up 15-25 ms."""
    global PREPARED
    from _pytest.config import get_config

    args = ["--rootdir", STAND_IN_ROOT, "--confcutdir", STAND_IN_ROOT, *PYTEST_ARGS]
    config = get_config(list(args))
    try:
        manager = config.pluginmanager
        PREPARED = manager.hook.pytest_cmdline_parse(pluginmanager=manager, args=args)
    except BaseException:
        config._ensure_unconfigure()
        PREPARED = None


def _run_pytest(check: Path, plugin: Any) -> None:
    """`pytest.main([check, ...], plugins=[plugin])`: from the prepared config when
    there is one (the rest of `pytest.main` after the parse: the session, from
    configure to unconfigure), with the check file as what to collect."""
    global PREPARED
    import pytest
    from _pytest.config import Config

    config, PREPARED = PREPARED, None
    args = [str(check), "--rootdir", STAND_IN_ROOT, "--confcutdir", STAND_IN_ROOT, *PYTEST_ARGS]
    if config is None or not hasattr(config, "_ensure_unconfigure"):
        pytest.main(args, plugins=[plugin])
        return
    os.environ["PYTEST_VERSION"] = pytest.__version__
    config.invocation_params = Config.InvocationParams(args=args, plugins=[plugin], dir=Path.cwd())
    config.args = [str(check)]
    config.option.file_or_dir = [str(check)]
    try:
        config.pluginmanager.register(plugin)
        config.hook.pytest_cmdline_main(config=config)
    finally:
        config._ensure_unconfigure()


def enter(request: dict[str, Any]) -> None:
    """Take up the attempt's place: its stderr file, its private working directory,
    and no stdin or stdout. Nothing of the workspace goes on sys.path: the judge
    imports only itself and the verified copies of the checks."""
    devnull = os.open(os.devnull, os.O_RDWR)
    err = os.open(request["stderr"], os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    os.dup2(devnull, 0)
    os.dup2(devnull, 1)
    os.dup2(err, 2)
    os.close(devnull)
    os.close(err)
    os.chdir(request["cwd"])


def main(ahead: tuple[Any, socket.socket] | None = None) -> None:
    """A cold attempt's judge: `ahead`, the subject its interpreter forked before it
    imported the judge (`zygote.judge_command`); else one started now."""
    global AHEAD
    real_exit = os._exit
    if ahead is not None:
        # Started with the subject's environment block (which the subject keeps):
        # the judge's own settings are made here, before pytest is imported.
        os.environ["PYTEST_DISABLE_PLUGIN_AUTOLOAD"] = "1"
        AHEAD = ahead
    else:
        die_with_parent(int(os.environ.get("WORKBOOK_GRADER_PARENT", os.getppid())))
        # The subject's interpreter starts now and imports NumPy while this one
        # imports the judge: the job (what the subject may touch) reaches both later.
        AHEAD = zygote.spawn()
    try:
        preload_judge()
        failure = None
    except BaseException as exc:  # reported once the attempt's stderr file is known
        failure = exc
    data = sys.stdin.read()
    if not data:  # an unused spare: its parent is gone or never needed it
        real_exit(0)
    request = json.loads(data)
    enter(request)
    if failure is not None:
        raise failure
    run(request["job"])
    # Skip interpreter shutdown: learner threads or atexit hooks must not delay the verdict.
    real_exit(0)


if __name__ == "__main__":
    main()
