"""The subject sandbox: each test confines a fresh interpreter, never pytest itself
(xdist runs tests in threads here, and confinement is for good), then tries things
from inside and reports them as JSON."""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest

from workbook.grading.subject import sandbox
from workbook.grading.subject.sandbox import Confinement, Protection, plan, probe

REPO = Path(__file__).resolve().parents[1]
LINUX = sys.platform.startswith("linux")
ROOT = hasattr(os, "geteuid") and os.geteuid() == 0
SYSTEM_PYTHON = Path("/usr/bin/python3")

needs_linux = pytest.mark.skipif(not LINUX, reason="Landlock and seccomp are Linux-only")

# Runs inside the confined interpreter: `attempt` records what happened to each try.
PRELUDE = """
import json, os, sys
from pathlib import Path
from workbook.grading.subject.sandbox import Confinement, confine
args = json.loads(sys.argv[1])
scratch, hidden = Path(args["scratch"]), Path(args["hidden"])
secret = hidden / "secret.txt"
out = {}
def attempt(name, fn):
    try:
        out[name] = {"ok": True, "value": fn()}
    except BaseException as exc:
        out[name] = {"ok": False, "error": type(exc).__name__,
                     "errno": getattr(exc, "errno", None), "message": str(exc)}
"""
CONFINE = """
prot = confine(Confinement(scratch=scratch, hidden=(hidden,), **args.get("extra", {})))
out["protection"] = prot.to_json()
"""
EPILOGUE = """
print("RESULT " + json.dumps(out, default=str))
"""


@pytest.fixture
def dirs() -> Iterator[tuple[Path, Path]]:
    """A scratch folder and a "hidden" folder with a world-readable secret, in /tmp:
    every ancestor must be searchable by `nobody` for the uid drop (pytest's own
    tmp_path is under a 0700 folder), and the secret is readable by permissions so
    that only the sandbox stands in the way."""
    scratch = Path(tempfile.mkdtemp(prefix="sbx-scratch-"))
    hidden = Path(tempfile.mkdtemp(prefix="sbx-hidden-"))
    hidden.chmod(0o755)
    (hidden / "secret.txt").write_text("the reference solution", encoding="utf-8")
    (hidden / "secret.txt").chmod(0o644)
    yield scratch, hidden
    shutil.rmtree(scratch, ignore_errors=True)
    shutil.rmtree(hidden, ignore_errors=True)


def run_confined(
    dirs: tuple[Path, Path],
    body: str,
    *,
    before: str = "",
    python: str = sys.executable,
    env: dict[str, str] | None = None,
    extra: dict | None = None,
    timeout: float = 60,
    prefix: tuple[str, ...] = (),
) -> dict:
    """Run `before`, confine, run `body` in a fresh interpreter; return its `out`.
    `prefix`: a command that runs the interpreter (e.g. setpriv as another user)."""
    scratch, hidden = dirs
    script = PRELUDE + textwrap.dedent(before) + CONFINE + textwrap.dedent(body) + EPILOGUE
    args = {"scratch": str(scratch), "hidden": str(hidden), "extra": extra or {}}
    full_env = {
        **os.environ,
        "PYTHONPATH": str(REPO),
        "PYTHONDONTWRITEBYTECODE": "1",
        **(env or {}),
    }
    proc = subprocess.run(
        [*prefix, python, "-c", script, json.dumps(args)],
        capture_output=True,
        text=True,
        timeout=timeout,
        env=full_env,
        cwd=scratch,
    )
    lines = [ln for ln in proc.stdout.splitlines() if ln.startswith("RESULT ")]
    assert lines, f"no result (rc {proc.returncode})\n{proc.stdout}\n{proc.stderr}"
    return json.loads(lines[-1][len("RESULT ") :])


def refused(result: dict, *errnos: int) -> bool:
    """The try failed with a permission error (EACCES / EPERM unless told)."""
    import errno

    wanted = errnos or (errno.EACCES, errno.EPERM)
    return not result["ok"] and result["errno"] in wanted


# --------------------------------------------------------------------------------


def test_protection_label_and_json() -> None:
    p = Protection(landlock_abi=7, seccomp=True, uid=65534, notes=["x"])
    assert p.label() == "landlock-abi-7+seccomp+uid-65534"
    assert p.to_json() == {
        "label": "landlock-abi-7+seccomp+uid-65534",
        "landlock_abi": 7,
        "files_confined": True,
        "seccomp": True,
        "uid": 65534,
        "capabilities": None,
        "scratch_quota_mb": None,
        "notes": ["x"],
    }
    assert Protection(landlock_abi=None, seccomp=False, uid=None, notes=[]).label() == "none"
    full = Protection(
        landlock_abi=7,
        seccomp=True,
        uid=None,
        notes=[],
        capabilities="dropped",
        scratch_quota_mb=256,
    )
    assert full.label() == "landlock-abi-7+seccomp+nocaps+quota-256mb"
    assert full.to_json()["capabilities"] == "dropped"
    assert full.to_json()["scratch_quota_mb"] == 256


def test_files_are_confined_only_under_landlock_with_no_partial_rule(tmp_path: Path) -> None:
    """What tells the grader that learner code could not have written the workspace
    (so it is not scanned again after the attempt): decided here, from the notes
    themselves, not from their words after the judge bounded them."""
    assert Protection(landlock_abi=7, seccomp=True, uid=None, notes=["x"]).files_confined
    assert not Protection(landlock_abi=None, seccomp=True, uid=None, notes=[]).files_confined
    scratch = tmp_path / "s"
    (scratch / "inner").mkdir(parents=True)
    _, notes = plan(Confinement(scratch=scratch, hidden=(scratch / "inner",)))
    partial = Protection(landlock_abi=7, seccomp=True, uid=None, notes=notes)
    assert any("partial" in n for n in notes) and not partial.files_confined
    assert partial.to_json()["files_confined"] is False


def test_plan_never_allows_a_tree_holding_a_hidden_path(tmp_path: Path) -> None:
    """The workbook package, hidden paths and site-packages `workbook` entries are
    left out; trees that contain them are split instead of allowed whole."""
    data = tmp_path / "data"
    (data / "public").mkdir(parents=True)
    (data / "private").mkdir()
    c = Confinement(scratch=tmp_path / "s", hidden=(data / "private",), extra_read=(data,))
    rules, notes = plan(c)
    paths = {r.path for r in rules}
    assert (data / "public").resolve() in paths
    assert data.resolve() not in paths
    package = Path(sandbox.__file__).resolve().parents[1]
    hidden_all = [(data / "private").resolve(), package]
    for rule in rules:
        for h in hidden_all:
            assert not (rule.path == h or rule.path in h.parents), (rule, h)
        assert rule.path.name != "workbook" or rule.access == "write"
    assert not any("partial" in n for n in notes)


def test_plan_reports_a_hidden_path_inside_scratch(tmp_path: Path) -> None:
    scratch = tmp_path / "s"
    (scratch / "inner").mkdir(parents=True)
    _, notes = plan(Confinement(scratch=scratch, hidden=(scratch / "inner",)))
    assert any("partial file protection" in n for n in notes)


@needs_linux
def test_hidden_files_cannot_be_read(dirs) -> None:
    out = run_confined(
        dirs,
        """
        import ctypes, threading
        attempt("open", lambda: open(secret).read())
        attempt("listdir", lambda: os.listdir(hidden))
        def dir_fd():
            d = os.open(hidden, os.O_PATH)
            return os.read(os.open("secret.txt", os.O_RDONLY, dir_fd=d), 100).decode()
        attempt("dir_fd", dir_fd)
        attempt("proc_root", lambda: open(f"/proc/self/root{secret}").read())
        def symlink():
            os.symlink(secret, scratch / "link")
            return open(scratch / "link").read()
        attempt("symlink", symlink)
        def hardlink():
            os.link(secret, scratch / "hard")
            return open(scratch / "hard").read()
        attempt("hardlink", hardlink)
        import site
        bundled = [os.path.join(d, "workbook") for d in site.getsitepackages()]
        out["bundled_dirs"] = [d for d in bundled if os.path.exists(d)]
        attempt("bundled", lambda: [os.listdir(d) for d in out["bundled_dirs"]])
        pp = os.getppid()
        attempt("parent_environ", lambda: open(f"/proc/{pp}/environ").read())
        attempt("parent_cmdline", lambda: open(f"/proc/{pp}/cmdline").read())
        attempt("own_status", lambda: "Threads:" in open("/proc/self/status").read())
        attempt("thread_self", lambda: len(open("/proc/thread-self/stat").read()) > 0)
        attempt("cpuinfo", lambda: len(open("/proc/cpuinfo").read()) > 0)
        libc = ctypes.CDLL(None, use_errno=True)
        def c_open():
            fd = libc.open(str(secret).encode(), os.O_RDONLY)
            if fd < 0:
                e = ctypes.get_errno()
                raise OSError(e, os.strerror(e))
            return fd
        attempt("libc_open", c_open)
        import workbook.grading.subject.sandbox as sb
        attempt("own_package", lambda: open(sb.__file__).read()[:10])
        attempt("repo", lambda: os.listdir(os.path.dirname(os.path.dirname(sb.__file__))))
        def in_thread():
            box = {}
            def run():
                try:
                    box["v"] = open(secret).read()
                except OSError as exc:
                    box["e"] = exc
            t = threading.Thread(target=run)
            t.start()
            t.join()
            if "e" in box:
                raise box["e"]
            return box["v"]
        attempt("thread", in_thread)
        """,
    )
    assert out["protection"]["landlock_abi"], out["protection"]
    for name in ("open", "listdir", "dir_fd", "proc_root", "libc_open", "thread", "symlink"):
        assert refused(out[name]), (name, out[name])
    assert not out["hardlink"]["ok"], out["hardlink"]  # EXDEV: a link may not add rights
    if out["bundled_dirs"]:  # a pip-installed workbook's reference solutions
        assert refused(out["bundled"]), out["bundled"]
    # Other processes' /proc entries (the judge's environment, command line) are out.
    assert refused(out["parent_environ"]), out["parent_environ"]
    assert refused(out["parent_cmdline"]), out["parent_cmdline"]
    for name in ("own_status", "thread_self", "cpuinfo"):
        assert out[name] == {"ok": True, "value": True}, (name, out[name])
    assert refused(out["own_package"]), out["own_package"]
    assert refused(out["repo"]), out["repo"]


@needs_linux
def test_libraries_and_threads_work(dirs) -> None:
    out = run_confined(
        dirs,
        """
        import threading
        def numpy_work():
            import numpy as np
            a = np.arange(12.0).reshape(3, 4)
            return float((a @ a.T).sum())
        attempt("numpy", numpy_work)
        attempt("numpy_source", lambda: len(open(sys.modules["numpy"].__file__).read()) > 0)
        def thread_numpy():
            import numpy as np
            box = {}
            t = threading.Thread(target=lambda: box.update(v=float(np.ones((50, 50)).sum())))
            t.start()
            t.join()
            return box["v"]
        attempt("thread", thread_numpy)
        attempt("decimal", lambda: str(__import__("decimal").Decimal("1.5") * 2))
        attempt("urandom", lambda: len(os.urandom(8)))
        def devnull():
            with open("/dev/null", "w") as f:
                f.write("x")
            return len(open("/dev/urandom", "rb").read(4))
        attempt("devnull", devnull)
        """,
    )
    assert out["numpy"] == {
        "ok": True,
        "value": float(
            sum(
                sum(i * j for i, j in zip(r, s, strict=True))
                for r in [[0, 1, 2, 3], [4, 5, 6, 7], [8, 9, 10, 11]]
                for s in [[0, 1, 2, 3], [4, 5, 6, 7], [8, 9, 10, 11]]
            )
        ),
    }
    assert out["numpy_source"] == {"ok": True, "value": True}
    assert out["thread"] == {"ok": True, "value": 2500.0}
    assert out["decimal"] == {"ok": True, "value": "3.0"}
    assert out["urandom"] == {"ok": True, "value": 8}
    assert out["devnull"] == {"ok": True, "value": 4}


@needs_linux
def test_writes_only_inside_scratch(dirs) -> None:
    out = run_confined(
        dirs,
        """
        def write(path):
            with open(path, "w") as f:
                f.write("x")
            return True
        attempt("scratch", lambda: write(scratch / "ok.txt"))
        attempt("scratch_dir", lambda: (scratch / "sub").mkdir() or write(scratch / "sub" / "a"))
        attempt("rename", lambda: os.rename(scratch / "ok.txt", scratch / "sub" / "b") or True)
        attempt("hidden", lambda: write(hidden / "new.txt"))
        attempt("hidden_overwrite", lambda: write(secret))
        attempt("tmp", lambda: write(f"/tmp/sbx-escape-{os.getpid()}"))
        attempt("shm", lambda: write(f"/dev/shm/sbx-escape-{os.getpid()}"))
        attempt("home", lambda: write(os.path.expanduser(f"~/sbx-escape-{os.getpid()}")))
        attempt("truncate", lambda: os.truncate(secret, 0))
        """,
    )
    for name in ("scratch", "scratch_dir", "rename"):
        assert out[name]["ok"], (name, out[name])
    for name in ("hidden", "hidden_overwrite", "tmp", "shm", "home", "truncate"):
        assert refused(out[name]), (name, out[name])
    assert (dirs[1] / "secret.txt").read_text(encoding="utf-8") == "the reference solution"
    assert not list(Path("/tmp").glob("sbx-escape-*"))


@needs_linux
def test_no_new_processes(dirs) -> None:
    out = run_confined(
        dirs,
        """
        import ctypes, subprocess
        def fork():
            pid = os.fork()
            if pid == 0:
                os._exit(0)
            os.waitpid(pid, 0)
            return pid
        attempt("fork", fork)
        attempt("subprocess", lambda: subprocess.run(["true"]).returncode)
        libc = ctypes.CDLL(None, use_errno=True)
        def c_fork():
            pid = libc.fork()
            if pid == 0:
                os._exit(0)
            if pid < 0:
                e = ctypes.get_errno()
                raise OSError(e, os.strerror(e))
            return pid
        attempt("libc_fork", c_fork)
        attempt("execv", lambda: os.execv("/bin/true", ["true"]))
        def c_execve():
            argv = (ctypes.c_char_p * 2)(b"/bin/true", None)
            libc.execve(b"/bin/true", argv, None)
            e = ctypes.get_errno()
            raise OSError(e, os.strerror(e))
        attempt("libc_execve", c_execve)
        attempt("setsid", os.setsid)
        attempt("system", lambda: os.system("true"))
        """,
    )
    import errno

    for name in ("fork", "subprocess", "libc_fork", "execv", "libc_execve", "setsid"):
        assert refused(out[name], errno.EPERM), (name, out[name])
    assert out["system"]["ok"] and out["system"]["value"] != 0  # the shell never started


@needs_linux
def test_no_signals_or_tcp_outside(dirs) -> None:
    target = subprocess.Popen(["sleep", "60"])
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen()
    port = server.getsockname()[1]
    try:
        out = run_confined(
            dirs,
            f"""
            import signal, socket
            attempt("kill_outside", lambda: os.kill({target.pid}, signal.SIGTERM))
            attempt("kill_self_0", lambda: os.kill(os.getpid(), 0))
            attempt("kill_group_0", lambda: os.kill(0, 0))
            attempt("kill_all_0", lambda: os.kill(-1, 0))
            attempt("new_socket", lambda: socket.socket())
            attempt("premade_connect", lambda: pre.connect(("127.0.0.1", {port})))
            attempt("socketpair", lambda: len(socket.socketpair()))
            """,
            before="import socket\npre = socket.socket()\n",
        )
        assert target.poll() is None, "the outside process was signalled"
    finally:
        target.kill()
        target.wait()
        server.close()
    import errno

    assert refused(out["kill_outside"], errno.EPERM), out["kill_outside"]
    assert out["kill_self_0"]["ok"]
    assert refused(out["kill_group_0"], errno.EPERM), out["kill_group_0"]
    assert refused(out["kill_all_0"], errno.EPERM), out["kill_all_0"]
    assert refused(out["new_socket"], errno.EPERM), out["new_socket"]
    assert refused(out["premade_connect"], errno.EACCES), out["premade_connect"]
    assert out["socketpair"] == {"ok": True, "value": 2}


@needs_linux
def test_probe_matches_confine(dirs) -> None:
    out = run_confined(
        dirs,
        "",
        before="""
        from workbook.grading.subject.sandbox import probe
        out["probe"] = probe(Confinement(scratch=scratch, hidden=(hidden,))).to_json()
        """,
    )
    assert out["probe"] == out["protection"]
    assert probe().landlock_abi == out["protection"]["landlock_abi"]
    assert probe().seccomp == out["protection"]["seccomp"]


def test_refuses_a_threaded_process(dirs) -> None:
    scratch, _ = dirs
    script = textwrap.dedent(
        f"""
        import threading, time
        from pathlib import Path
        from workbook.grading.subject.sandbox import Confinement, SandboxError, confine
        threading.Thread(target=time.sleep, args=(2,), daemon=True).start()
        try:
            confine(Confinement(scratch=Path({str(scratch)!r}), hidden=()))
        except SandboxError as exc:
            print("REFUSED", exc)
        """
    )
    proc = subprocess.run(
        [sys.executable, "-c", script],
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONPATH": str(REPO)},
        timeout=30,
    )
    assert "REFUSED" in proc.stdout, proc.stderr
    assert "threads" in proc.stdout


def test_rlimits_are_set(dirs) -> None:
    out = run_confined(
        dirs,
        """
        import resource
        out["data"] = resource.getrlimit(resource.RLIMIT_DATA)
        out["cpu"] = resource.getrlimit(resource.RLIMIT_CPU)
        out["fsize"] = resource.getrlimit(resource.RLIMIT_FSIZE)
        out["core"] = resource.getrlimit(resource.RLIMIT_CORE)
        out["umask"] = os.umask(0o077)
        def big():
            with open(scratch / "big", "wb") as f:
                f.write(b"x" * (2 * 1024 * 1024))
        attempt("big_file", big)
        """,
        extra={"memory_mb": 900, "cpu_hard_s": 30, "file_mb": 1},
    )
    mb = 1024 * 1024
    assert out["data"] == [900 * mb, 900 * mb]
    assert out["cpu"] == [30, 30]
    assert out["fsize"] == [mb, mb]
    assert out["core"] == [0, 0]
    assert out["umask"] == 0o077
    import errno

    assert refused(out["big_file"], errno.EFBIG), out["big_file"]


@needs_linux
@pytest.mark.skipif(not ROOT, reason="the uid drop happens only as root")
@pytest.mark.skipif(not SYSTEM_PYTHON.exists(), reason="needs a Python that nobody can read")
def test_root_drops_to_nobody(dirs) -> None:
    """Run with the system Python: the venv's base interpreter may live under /root
    (0700), which `nobody` could not import from (see the next test)."""
    out = run_confined(
        dirs,
        """
        out["ids"] = [os.getresuid(), os.getresgid(), os.getgroups()]
        attempt("write", lambda: (scratch / "f").write_text("x"))
        out["owner"] = os.stat(scratch).st_uid
        attempt("secret", lambda: open(secret).read())
        attempt("setuid0", lambda: os.setuid(0))
        attempt("json_import", lambda: __import__("email.mime.text").__name__)
        import resource
        out["nproc"] = resource.getrlimit(resource.RLIMIT_NPROC)
        import ctypes
        sig = ctypes.c_int(-1)
        ctypes.CDLL(None).prctl(2, ctypes.byref(sig), 0, 0, 0)  # PR_GET_PDEATHSIG
        out["pdeathsig"] = sig.value
        """,
        python=str(SYSTEM_PYTHON),
        env={"PYTHONNOUSERSITE": "1"},
        extra={"parent": os.getpid()},
    )
    assert out["protection"]["uid"] == 65534, out["protection"]
    assert out["ids"][0] == [65534, 65534, 65534]
    assert out["ids"][2] == []
    assert out["owner"] == 65534
    assert out["write"]["ok"], out["write"]
    assert refused(out["secret"]), out["secret"]
    assert refused(out["setuid0"]), out["setuid0"]
    assert out["json_import"]["ok"], out["json_import"]
    assert out["nproc"] == [512, 512]
    assert out["pdeathsig"] == 9  # re-armed after the uid change cleared it
    assert "uid-65534" in out["protection"]["label"]


@needs_linux
@pytest.mark.skipif(not ROOT, reason="the uid drop happens only as root")
def test_root_keeps_uid_when_nobody_could_not_import(dirs) -> None:
    """If the Python installation is out of reach for the target uid, the drop would
    break every import: confine keeps the uid and says so (or drops, if reachable)."""
    out = run_confined(dirs, "out['uid'] = os.getuid()")
    prot = out["protection"]
    if prot["uid"] is None:
        assert out["uid"] == 0
        assert any("uid not dropped" in n for n in prot["notes"]), prot
    else:
        assert out["uid"] == prot["uid"] == 65534


@needs_linux
def test_tensorflow_after_confine(dirs) -> None:
    """TensorFlow and Keras import, build, fit and predict under every layer (the
    narrower reads, the seccomp rules on calls aimed at processes, the quota), and
    so does numpy's linear algebra, with its thread pool."""
    pytest.importorskip("tensorflow")
    scratch, _ = dirs
    out = run_confined(
        dirs,
        """
        def fit():
            import numpy as np
            import tensorflow as tf
            import keras
            model = keras.Sequential([keras.Input((5, 3)), keras.layers.LSTM(4),
                                      keras.layers.Dense(1)])
            model.compile(optimizer="adam", loss="mse")
            x = np.random.default_rng(0).normal(size=(8, 5, 3)).astype("float32")
            y = np.zeros((8, 1), "float32")
            hist = model.fit(x, y, epochs=2, batch_size=4, verbose=0)
            pred = model.predict(x, verbose=0)
            return [tf.__version__, float(hist.history["loss"][-1]), list(pred.shape)]
        attempt("fit", fit)
        def numpy_work():
            import numpy as np
            a = np.random.default_rng(1).normal(size=(300, 300))
            return bool(np.allclose(np.linalg.inv(a) @ a, np.eye(300), atol=1e-6))
        attempt("numpy", numpy_work)
        attempt("secret", lambda: open(secret).read())
        """,
        env={
            "TF_CPP_MIN_LOG_LEVEL": "3",
            "KERAS_BACKEND": "tensorflow",
            "HOME": str(scratch),  # Keras reads and writes ~/.keras
        },
        timeout=180,
    )
    prot = out["protection"]
    assert prot["seccomp"] and prot["landlock_abi"] and prot["capabilities"], prot
    assert out["fit"]["ok"], out["fit"]
    assert out["fit"]["value"][1] >= 0
    assert out["fit"]["value"][2] == [8, 1]
    assert out["numpy"] == {"ok": True, "value": True}, out["numpy"]
    assert refused(out["secret"]), out["secret"]


# --------------------------------------------------------------------------------
# No capabilities, no calls aimed at other processes, tighter Landlock, scratch quota

needs_root = pytest.mark.skipif(not ROOT, reason="only root holds capabilities to drop")
CAP_STATUS = """
caps = {}
for line in open("/proc/self/status"):
    name, _, value = line.partition(":")
    if name in ("CapInh", "CapPrm", "CapEff", "CapBnd", "CapAmb"):
        caps[name] = int(value, 16)
out["caps"] = caps
"""


@needs_linux
@needs_root
def test_root_holds_no_capabilities(dirs) -> None:
    """Root that keeps uid 0 (the venv's Python is out of reach for `nobody`) holds
    no capability at all, so file ownership and Landlock are all it has."""
    out = run_confined(
        dirs,
        CAP_STATUS
        + textwrap.dedent("""
        out["uid"] = os.getuid()
        (scratch / "f").write_text("x")
        attempt("chown", lambda: os.chown(scratch / "f", 1, 1))
        attempt("setuid", lambda: os.setuid(1))
        """),
    )
    prot = out["protection"]
    assert prot["capabilities"] == "dropped", prot
    assert "nocaps" in prot["label"], prot
    assert out["caps"] == dict.fromkeys(("CapInh", "CapPrm", "CapEff", "CapBnd", "CapAmb"), 0)
    assert refused(out["chown"]), out["chown"]
    assert refused(out["setuid"]), out["setuid"]


@needs_linux
@needs_root
@pytest.mark.skipif(not SYSTEM_PYTHON.exists(), reason="needs a Python that nobody can read")
def test_uid_drop_needs_only_search_on_scratch_parent() -> None:
    """The attempt folder around scratch is 0711 (pass through, not list): enough
    for the uid drop, which then leaves no capability behind, bounding set included."""
    outer = Path(tempfile.mkdtemp(prefix="sbx-attempt-"))
    hidden = Path(tempfile.mkdtemp(prefix="sbx-hidden-"))
    try:
        outer.chmod(0o711)
        scratch = outer / "scratch"
        scratch.mkdir(mode=0o700)
        (hidden / "secret.txt").write_text("the reference solution", encoding="utf-8")
        out = run_confined(
            (scratch, hidden),
            CAP_STATUS + "out['ids'] = os.getresuid()\n",
            python=str(SYSTEM_PYTHON),
            env={"PYTHONNOUSERSITE": "1"},
        )
    finally:
        shutil.rmtree(outer, ignore_errors=True)
        shutil.rmtree(hidden, ignore_errors=True)
    prot = out["protection"]
    assert prot["uid"] == 65534, prot
    assert out["ids"] == [65534, 65534, 65534]
    assert prot["capabilities"] == "dropped", prot
    assert set(out["caps"].values()) == {0}, out["caps"]


@needs_linux
def test_nothing_aimed_at_another_process(dirs) -> None:
    """rlimits, priorities, CPU affinity, pidfds and signals: the subject's own
    process only. Run against the parent (read-only calls) and a sleeping target."""
    import resource

    target = subprocess.Popen(["sleep", "60"], start_new_session=True)  # its own group
    core_before = resource.prlimit(target.pid, resource.RLIMIT_CORE)
    try:
        out = run_confined(
            dirs,
            f"""
            import ctypes, resource, signal
            T, ppid = {target.pid}, os.getppid()
            libc = ctypes.CDLL(None, use_errno=True)
            def c_call(fn, *args):
                if fn(*args) != 0:
                    e = ctypes.get_errno()
                    raise OSError(e, os.strerror(e))
                return True
            attempt("prlimit_parent", lambda: resource.prlimit(ppid, resource.RLIMIT_NOFILE))
            attempt("prlimit_target", lambda: resource.prlimit(T, resource.RLIMIT_CORE, (0, 0)))
            attempt("prlimit_self", lambda: resource.prlimit(os.getpid(), resource.RLIMIT_NOFILE))
            attempt("setrlimit_self", lambda: resource.setrlimit(resource.RLIMIT_CORE, (0, 0)))
            attempt("kill_parent", lambda: os.kill(ppid, 0))
            attempt("kill_target", lambda: os.kill(T, 0))
            if hasattr(libc, "tgkill"):  # glibc >= 2.30
                attempt("tgkill_target", lambda: c_call(libc.tgkill, T, T, 0))
                attempt("tgkill_self", lambda: c_call(libc.tgkill, os.getpid(), os.getpid(), 0))
            attempt("setpriority_target", lambda: os.setpriority(os.PRIO_PROCESS, T, 5))
            attempt("setpriority_group", lambda: os.setpriority(os.PRIO_PGRP, T, 5))
            attempt("setpriority_self", lambda: os.setpriority(os.PRIO_PROCESS, 0, 1))
            aff = sorted(os.sched_getaffinity(0))
            attempt("affinity_target", lambda: os.sched_setaffinity(T, aff))
            attempt("affinity_self", lambda: os.sched_setaffinity(0, aff))
            attempt("pidfd_open", lambda: os.pidfd_open(T))
            attempt("pidfd_self", lambda: os.pidfd_open(os.getpid()))
            """,
        )
        assert target.poll() is None, "the outside process was signalled"
        assert resource.prlimit(target.pid, resource.RLIMIT_CORE) == core_before
        assert os.getpriority(os.PRIO_PROCESS, target.pid) == 0
    finally:
        target.kill()
        target.wait()
    import errno

    for name in (
        "prlimit_parent",
        "prlimit_target",
        "kill_parent",
        "kill_target",
        "tgkill_target",
        "setpriority_target",
        "setpriority_group",
        "affinity_target",
        "pidfd_open",
        "pidfd_self",
    ):
        if name in out or not name.startswith("tgkill"):
            assert refused(out[name], errno.EPERM), (name, out[name])
    for name in (
        "prlimit_self",
        "setrlimit_self",
        "tgkill_self",
        "setpriority_self",
        "affinity_self",
    ):
        if name in out or not name.startswith("tgkill"):
            assert out[name]["ok"], (name, out[name])


# Syscall numbers from the kernel's tables (arch/x86/entry/syscalls/syscall_64.tbl,
# include/uapi/asm-generic/unistd.h), written out here rather than taken from the
# module so that a wrong number there shows.
NR = {
    "x86_64": {
        "read": 0, "getpid": 39, "clone": 56, "kill": 62, "tkill": 200, "tgkill": 234,
        "rt_sigqueueinfo": 129, "rt_tgsigqueueinfo": 297, "prlimit64": 302,
        "sched_setparam": 142, "sched_setscheduler": 144, "sched_setaffinity": 203,
        "sched_setattr": 314, "migrate_pages": 256, "move_pages": 279,
        "get_robust_list": 274, "setpriority": 141, "ioprio_set": 251, "mknod": 133,
        "mknodat": 259, "capset": 126, "pidfd_send_signal": 424, "pidfd_open": 434,
        "pidfd_getfd": 438, "process_madvise": 440, "process_mrelease": 448, "clone3": 435,
    },
    "aarch64": {
        "read": 63, "getpid": 172, "clone": 220, "kill": 129, "tkill": 130, "tgkill": 131,
        "rt_sigqueueinfo": 138, "rt_tgsigqueueinfo": 240, "prlimit64": 261,
        "sched_setparam": 118, "sched_setscheduler": 119, "sched_setaffinity": 122,
        "sched_setattr": 274, "migrate_pages": 238, "move_pages": 239,
        "get_robust_list": 100, "setpriority": 140, "ioprio_set": 30, "mknodat": 33,
        "capset": 91, "pidfd_send_signal": 424, "pidfd_open": 434, "pidfd_getfd": 438,
        "process_madvise": 440, "process_mrelease": 448, "clone3": 435,
    },
}  # fmt: skip
# Memory, IPC and owner-only calls (the same tables).
NR["x86_64"].update({
    "fallocate": 285, "memfd_create": 319, "memfd_secret": 447, "mmap": 9, "fcntl": 72,
    "shmget": 29, "shmat": 30, "shmctl": 31, "shmdt": 67,
    "semget": 64, "semop": 65, "semctl": 66, "semtimedop": 220,
    "msgget": 68, "msgsnd": 69, "msgrcv": 70, "msgctl": 71,
    "mq_open": 240, "mq_unlink": 241, "mq_timedsend": 242, "mq_timedreceive": 243,
    "mq_notify": 244, "mq_getsetattr": 245,
    "chmod": 90, "fchmod": 91, "fchmodat": 268, "fchmodat2": 452,
    "chown": 92, "fchown": 93, "lchown": 94, "fchownat": 260,
    "utime": 132, "utimes": 235, "futimesat": 261, "utimensat": 280,
    "setxattr": 188, "lsetxattr": 189, "fsetxattr": 190,
    "removexattr": 197, "lremovexattr": 198, "fremovexattr": 199,
    "setxattrat": 463, "removexattrat": 466,
    "write": 1, "ftruncate": 77, "getxattr": 191, "flock": 73, "munmap": 11,
})  # fmt: skip
NR["aarch64"].update({
    "fallocate": 47, "memfd_create": 279, "memfd_secret": 447, "mmap": 222, "fcntl": 25,
    "shmget": 194, "shmat": 196, "shmctl": 195, "shmdt": 197,
    "semget": 190, "semop": 193, "semctl": 191, "semtimedop": 192,
    "msgget": 186, "msgsnd": 189, "msgrcv": 188, "msgctl": 187,
    "mq_open": 180, "mq_unlink": 181, "mq_timedsend": 182, "mq_timedreceive": 183,
    "mq_notify": 184, "mq_getsetattr": 185,
    "fchmod": 52, "fchmodat": 53, "fchmodat2": 452,
    "fchown": 55, "fchownat": 54, "utimensat": 88,
    "setxattr": 5, "lsetxattr": 6, "fsetxattr": 7,
    "removexattr": 14, "lremovexattr": 15, "fremovexattr": 16,
    "setxattrat": 463, "removexattrat": 466,
    "write": 64, "ftruncate": 46, "getxattr": 8, "flock": 32, "munmap": 215,
})  # fmt: skip
ALLOW, EPERM, ENOSYS, KILL = 0x7FFF0000, 0x00050001, 0x00050026, 0x80000000
EOPNOTSUPP = 0x0005005F


def run_filter(program: list, arch: str, nr: int, *args: int, audit: int | None = None) -> int:
    """Run the seccomp BPF program on one call, as the kernel would (the few opcodes
    it uses), and return the action."""
    import struct

    audit = sandbox._AUDIT_ARCH[arch] if audit is None else audit
    argv = [a & 0xFFFFFFFFFFFFFFFF for a in (*args, 0, 0, 0, 0, 0, 0)[:6]]
    data = struct.pack("<IIQ6Q", nr, audit, 0, *argv)
    pc, acc = 0, 0
    for _ in range(10_000):
        code, jt, jf, k = program[pc]
        if code == 0x20:  # ld w abs
            acc = struct.unpack_from("<I", data, k)[0]
            pc += 1
        elif code in (0x15, 0x35, 0x45):  # jeq, jge, jset
            hit = {0x15: acc == k, 0x35: acc >= k, 0x45: bool(acc & k)}[code]
            pc += 1 + (jt if hit else jf)
        elif code == 0x06:
            return k
        else:
            raise AssertionError(f"unexpected opcode {code:#x}")
    raise AssertionError("the program does not end")


@pytest.mark.parametrize("arch", ["x86_64", "aarch64"])
def test_filter_refuses_calls_aimed_at_other_processes(arch: str) -> None:
    me, other = 4242, 4243
    prog = sandbox._filter_program(arch, me)
    assert len(prog) < 1024  # well under BPF_MAXINSNS (4096), and cheap to run
    nr = NR[arch]

    def verdict(name: str, *args: int) -> int:
        return run_filter(prog, arch, nr[name], *args)

    assert verdict("read", 0) == ALLOW
    assert verdict("getpid") == ALLOW
    for name in ("kill", "tgkill", "rt_sigqueueinfo", "rt_tgsigqueueinfo"):
        assert verdict(name, me, me) == ALLOW, name
        assert verdict(name, (1 << 32) | me, me) == ALLOW, name  # the kernel reads an int
        for pid in (other, 1, 0, -1, -me):
            assert verdict(name, pid, pid) == EPERM, (name, pid)
    for name in (
        "prlimit64",
        "sched_setparam",
        "sched_setscheduler",
        "sched_setaffinity",
        "sched_setattr",
        "migrate_pages",
        "move_pages",
        "get_robust_list",
    ):
        assert verdict(name, 0) == ALLOW, name
        assert verdict(name, me) == ALLOW, name
        assert verdict(name, other) == EPERM, name
        assert verdict(name, 1) == EPERM, name
    assert verdict("setpriority", 0, 0, 5) == ALLOW  # PRIO_PROCESS, myself
    assert verdict("setpriority", 0, me, 5) == ALLOW
    assert verdict("setpriority", 0, other, 5) == EPERM
    assert verdict("setpriority", 1, 0, 5) == EPERM  # my process group
    assert verdict("setpriority", 2, 0, 5) == EPERM  # my user: every process of it
    assert verdict("ioprio_set", 1, 0, 0) == ALLOW  # IOPRIO_WHO_PROCESS, myself
    assert verdict("ioprio_set", 1, other, 0) == EPERM
    assert verdict("ioprio_set", 2, 0, 0) == EPERM
    assert verdict("ioprio_set", 3, 0, 0) == EPERM
    for name in (
        "tkill",
        "mknod",
        "mknodat",
        "capset",
        "pidfd_send_signal",
        "pidfd_open",
        "pidfd_getfd",
        "process_madvise",
        "process_mrelease",
    ):
        if name in nr:
            assert verdict(name, me, me) == EPERM, name
    assert verdict("clone", 0x00010000 | 0x100) == ALLOW  # a thread
    assert verdict("clone", 17) == EPERM  # fork
    assert verdict("clone3", 0) == ENOSYS
    assert run_filter(prog, arch, 1, audit=0x40000003) == KILL  # i386


@pytest.mark.parametrize("arch", ["x86_64", "aarch64"])
def test_filter_bounds_memory_ipc_and_what_root_owns(arch: str) -> None:
    """Disk and memory past the limits (fallocate, memfd, shared anonymous memory),
    state that outlives the attempt (SysV IPC, POSIX message queues), and what a
    root without capabilities may still do to files it owns (leases, modes, owners,
    times, extended attributes) are refused; their harmless neighbours are not."""
    prog = sandbox._filter_program(arch, 4242)
    assert len(prog) < 1024
    nr = NR[arch]

    def verdict(name: str, *args: int) -> int:
        return run_filter(prog, arch, nr[name], *args)

    falloc_keep_size = 1
    assert verdict("fallocate", 3, falloc_keep_size, 0, 6 << 30) == EOPNOTSUPP
    assert verdict("fallocate", 3, 0, 0, 4096) == EOPNOTSUPP
    assert verdict("memfd_create", 0, 0) == ENOSYS
    assert verdict("memfd_secret", 0) == ENOSYS
    shared, private, anonymous, shared_validate = 0x01, 0x02, 0x20, 0x03
    prot_rw = 3
    assert verdict("mmap", 0, 1 << 20, prot_rw, shared | anonymous, -1, 0) == EPERM
    assert verdict("mmap", 0, 1 << 20, prot_rw, shared_validate | anonymous, -1, 0) == EPERM
    assert verdict("mmap", 0, 1 << 20, prot_rw, shared | anonymous | 0x4000, -1, 0) == EPERM
    assert verdict("mmap", 0, 1 << 20, prot_rw, private | anonymous, -1, 0) == ALLOW
    assert verdict("mmap", 0, 1 << 20, prot_rw, shared, 5, 0) == ALLOW  # a file: quota
    assert verdict("mmap", 0, 1 << 20, 1, private, 5, 0) == ALLOW  # a library
    assert verdict("mmap", 0, 1 << 20, prot_rw, (1 << 32) | shared | anonymous) == EPERM
    for name in (
        "shmget", "shmat", "shmctl", "shmdt", "semget", "semop", "semctl", "semtimedop",
        "msgget", "msgsnd", "msgrcv", "msgctl", "mq_open", "mq_unlink", "mq_timedsend",
        "mq_timedreceive", "mq_notify", "mq_getsetattr",
        "chmod", "fchmod", "fchmodat", "fchmodat2", "chown", "fchown", "lchown",
        "fchownat", "utime", "utimes", "futimesat", "utimensat", "setxattr",
        "lsetxattr", "fsetxattr", "removexattr", "lremovexattr", "fremovexattr",
        "setxattrat", "removexattrat",
    ):  # fmt: skip
        if name in nr:
            assert verdict(name, 0, 0, 0) == EPERM, name
    f_setlease, f_getlease, f_getfl, f_setfl, f_setlk, f_dupfd_cloexec = 1024, 1025, 3, 4, 6, 1030
    assert verdict("fcntl", 3, f_setlease, 1) == EPERM  # F_RDLCK: a read lease
    assert verdict("fcntl", 3, f_setlease, 2) == EPERM  # F_UNLCK too: nothing to undo
    assert verdict("fcntl", 3, (1 << 32) | f_setlease, 1) == EPERM  # the kernel reads an int
    f_setown, f_setown_ex, f_getown = 8, 15, 9  # SIGIO aimed at another process
    assert verdict("fcntl", 3, f_setown, 1) == EPERM
    assert verdict("fcntl", 3, f_setown_ex, 0) == EPERM
    assert verdict("fcntl", 3, f_getown, 0) == ALLOW
    for cmd in (f_getlease, f_getfl, f_setfl, f_setlk, f_dupfd_cloexec, 0, 1, 2):
        assert verdict("fcntl", 3, cmd, 1) == ALLOW, cmd
    for name in ("write", "ftruncate", "getxattr", "flock", "munmap"):
        assert verdict(name, 3, 0, 0) == ALLOW, name


@needs_linux
def test_no_memory_disk_or_state_beyond_the_limits(dirs) -> None:
    """What the filter above refuses, live: disk reserved around RLIMIT_FSIZE on a
    descriptor opened before confining (on the real disk), memory held outside
    RLIMIT_DATA (memfd, shared anonymous mappings, /dev/zero), SysV IPC and POSIX
    message queues, which outlive the process. Their ordinary uses still work."""
    _, hidden = dirs
    out = run_confined(
        dirs,
        """
        import ctypes, errno, mmap
        libc = ctypes.CDLL(None, use_errno=True)
        def checked(res):
            if res == -1 or (isinstance(res, int) and res < 0 and res != -1):
                e = ctypes.get_errno()
                raise OSError(e, os.strerror(e))
            return res
        libc.fallocate.argtypes = [ctypes.c_int, ctypes.c_int, ctypes.c_long, ctypes.c_long]
        attempt("fallocate_keep_size", lambda: checked(libc.fallocate(log, 1, 0, 1 << 30)))
        attempt("fallocate", lambda: checked(libc.fallocate(log, 0, 0, 1 << 20)))
        def posix_fallocate():  # glibc falls back to writing, which the limits bound
            fd = os.open(scratch / "reserved", os.O_RDWR | os.O_CREAT, 0o600)
            os.posix_fallocate(fd, 0, 1 << 20)
            return os.fstat(fd).st_size
        attempt("posix_fallocate", posix_fallocate)
        attempt("memfd", lambda: os.memfd_create("hoard"))
        attempt("shared_anon", lambda: len(mmap.mmap(-1, 1 << 20)))
        attempt("private_anon", lambda: len(mmap.mmap(-1, 1 << 20, flags=mmap.MAP_PRIVATE)))
        def shared_file():
            with open(scratch / "mapped", "w+b") as f:
                f.truncate(1 << 20)
                m = mmap.mmap(f.fileno(), 1 << 20)
                m[:5] = b"hello"
                return bytes(m[:5]).decode()
        attempt("shared_file", shared_file)
        attempt("dev_zero", lambda: open("/dev/zero", "rb"))
        libc.shmget.argtypes = [ctypes.c_int, ctypes.c_size_t, ctypes.c_int]
        def ipc(make, remove):  # IPC_PRIVATE, IPC_CREAT | 0600; removed should it work
            made = checked(make(0o1600))
            remove(made)  # IPC_RMID
            return made
        attempt("shmget", lambda: ipc(lambda f: libc.shmget(0, 1 << 20, f),
                                      lambda i: libc.shmctl(i, 0, None)))
        attempt("semget", lambda: ipc(lambda f: libc.semget(0, 1, f),
                                      lambda i: libc.semctl(i, 0, 0)))
        attempt("msgget", lambda: ipc(lambda f: libc.msgget(0, f),
                                      lambda i: libc.msgctl(i, 0, None)))
        attempt("shmctl", lambda: checked(libc.shmctl(0, 2, None)))  # IPC_STAT, id 0
        libc.mq_open.argtypes = [ctypes.c_char_p, ctypes.c_int, ctypes.c_int, ctypes.c_void_p]
        attempt("mq_open", lambda: checked(libc.mq_open(b"/workbook-test", 0o102, 0o600, None)))
        attempt("mq_unlink", lambda: checked(libc.mq_unlink(b"/workbook-test")))
        """,
        before="""
        log = os.open(hidden / "native.log", os.O_WRONLY | os.O_CREAT, 0o600)
        """,
    )
    import errno

    assert out["protection"]["seccomp"], out["protection"]
    for name in ("fallocate_keep_size", "fallocate"):
        assert refused(out[name], errno.EOPNOTSUPP), (name, out[name])
    assert (hidden / "native.log").stat().st_blocks == 0
    assert out["posix_fallocate"] == {"ok": True, "value": 1 << 20}, out["posix_fallocate"]
    assert refused(out["memfd"], errno.ENOSYS), out["memfd"]
    assert refused(out["shared_anon"], errno.EPERM), out["shared_anon"]
    assert out["private_anon"] == {"ok": True, "value": 1 << 20}, out["private_anon"]
    assert out["shared_file"] == {"ok": True, "value": "hello"}, out["shared_file"]
    assert refused(out["dev_zero"]), out["dev_zero"]
    for name in ("shmget", "semget", "msgget", "shmctl", "mq_open"):
        assert refused(out[name], errno.EPERM), (name, out[name])
    assert refused(out["mq_unlink"]), out["mq_unlink"]  # glibc says EACCES for EPERM


@needs_linux
def test_no_owner_rights_over_files_it_may_only_read(dirs) -> None:
    """A root subject without capabilities still owns root's files: leases (which
    stall every other opener), modes, owners, times and extended attributes are
    refused on any file it can name or has open (Landlock does not cover these), in
    scratch too; other fcntl commands and locks still work. The target is the test's
    own file, opened read-only before confining, never the system's."""
    _, hidden = dirs
    owned = hidden / "owned.txt"
    owned.write_text("the caller's file", encoding="utf-8")
    owned.chmod(0o644)
    before = owned.stat()
    out = run_confined(
        dirs,
        """
        import ctypes, fcntl
        target = str(owned)
        st = os.stat(target)
        out["owned"] = st.st_uid == os.geteuid()
        def lease():
            fcntl.fcntl(ro, 1024, fcntl.F_RDLCK)  # F_SETLEASE
            fcntl.fcntl(ro, 1024, fcntl.F_UNLCK)
            return True
        attempt("lease", lease)
        attempt("getlease", lambda: fcntl.fcntl(ro, 1025))  # F_GETLEASE
        attempt("getfl", lambda: fcntl.fcntl(ro, fcntl.F_GETFL) >= 0)
        attempt("cloexec", lambda: fcntl.fcntl(ro, fcntl.F_SETFD, fcntl.FD_CLOEXEC))
        mine = os.open(scratch / "mine", os.O_RDWR | os.O_CREAT, 0o600)
        attempt("lockf", lambda: fcntl.lockf(mine, fcntl.LOCK_EX) or True)
        attempt("flock", lambda: fcntl.flock(mine, fcntl.LOCK_EX) or True)
        mode = st.st_mode & 0o7777
        attempt("chmod", lambda: os.chmod(target, mode))
        attempt("fchmod", lambda: os.fchmod(ro, mode))
        attempt("chown", lambda: os.chown(target, st.st_uid, st.st_gid))
        attempt("lchown", lambda: os.lchown(target, st.st_uid, st.st_gid))
        attempt("fchown", lambda: os.fchown(ro, st.st_uid, st.st_gid))
        attempt("utime", lambda: os.utime(target, ns=(st.st_atime_ns, st.st_mtime_ns)))
        libc = ctypes.CDLL(None, use_errno=True)
        def legacy_utime():
            if libc.utime(target.encode(), None) != 0:  # utime(2) itself on x86_64
                e = ctypes.get_errno()
                raise OSError(e, os.strerror(e))
        attempt("legacy_utime", legacy_utime)
        def setxattr():
            os.setxattr(target, "user.workbook-test", b"x")
            os.removexattr(target, "user.workbook-test")  # leave no trace
        attempt("setxattr", setxattr)
        attempt("removexattr", lambda: os.removexattr(target, "user.workbook-test"))
        attempt("scratch_chmod", lambda: os.chmod(scratch / "mine", 0o644))
        attempt("scratch_utime", lambda: os.utime(scratch / "mine"))
        attempt("scratch_write", lambda: os.write(mine, b"still writable"))
        """,
        before="""
        owned = hidden / "owned.txt"
        ro = os.open(owned, os.O_RDONLY)
        """,
    )
    after = owned.stat()
    assert (after.st_mode, after.st_uid, after.st_mtime_ns) == (
        before.st_mode, before.st_uid, before.st_mtime_ns,
    ), "a refused call changed the file"  # fmt: skip
    assert os.listxattr(owned) == []
    import errno

    assert out["protection"]["seccomp"], out["protection"]
    for name in (
        "lease", "chmod", "fchmod", "chown", "lchown", "fchown", "utime", "legacy_utime",
        "setxattr", "removexattr", "scratch_chmod", "scratch_utime",
    ):  # fmt: skip
        assert refused(out[name], errno.EPERM), (name, out[name])
    assert out["getlease"] == {"ok": True, "value": 2}, out["getlease"]  # F_UNLCK: none
    for name in ("getfl", "lockf", "flock"):
        assert out[name] == {"ok": True, "value": True}, (name, out[name])
    assert out["cloexec"]["ok"] and out["scratch_write"] == {"ok": True, "value": 14}


def test_scratch_may_hold_no_special_files_by_landlock_rules() -> None:
    special = (1 << 6) | (1 << 9) | (1 << 10) | (1 << 11)  # char, sock, fifo, block
    for abi in range(1, 8):
        rights = sandbox._access_rights(abi)
        assert rights["write"] & special == 0, abi
        assert rights["write"] & 1 == 0, abi  # no execute
        assert rights["write"] & (1 << 1 | 1 << 8 | 1 << 7), abi  # write, make reg, dir


@needs_linux
def test_no_device_or_fifo_files_in_scratch(dirs) -> None:
    """seccomp refuses mknod outright; Landlock alone (seccomp left out here) refuses
    it in scratch too, for fifos as well as devices."""
    body = """
        import stat
        attempt("char", lambda: os.mknod(scratch / "null", stat.S_IFCHR | 0o666, os.makedev(1, 3)))
        attempt("fifo", lambda: os.mkfifo(scratch / "fifo"))
        attempt("plain", lambda: (scratch / "plain").write_text("x"))
        """
    with_seccomp = run_confined(dirs, body)
    landlock_only = run_confined(
        dirs,
        body,
        before="""
        import workbook.grading.subject.sandbox as sb
        sb._seccomp_available = lambda notes: False
        """,
    )
    import errno

    assert with_seccomp["protection"]["seccomp"]
    for name in ("char", "fifo"):
        assert refused(with_seccomp[name], errno.EPERM), (name, with_seccomp[name])
        assert refused(landlock_only[name]), (name, landlock_only[name])
    assert not landlock_only["protection"]["seccomp"]
    assert landlock_only["protection"]["landlock_abi"]
    assert landlock_only["fifo"]["errno"] == errno.EACCES  # Landlock's answer
    assert with_seccomp["plain"]["ok"] and landlock_only["plain"]["ok"]


@needs_linux
def test_reads_only_what_python_and_the_libraries_need(dirs) -> None:
    """Not /etc whole (/etc/shadow), not /opt, not /usr whole, not /dev/random; the
    listed /etc files, the CPU layout in /sys and the time zone still work."""
    opt_file = None
    if Path("/opt").is_dir() and os.access("/opt", os.W_OK):
        fd, opt_file = tempfile.mkstemp(prefix="sbx-opt-", dir="/opt")
        os.write(fd, b"not for learners")
        os.close(fd)
        os.chmod(opt_file, 0o644)
    try:
        out = run_confined(
            dirs,
            f"""
            import pwd, time
            opt_file = {opt_file!r}
            attempt("shadow", lambda: open("/etc/shadow").read())
            attempt("hostname", lambda: open("/etc/hostname").read())
            if opt_file:
                attempt("opt", lambda: open(opt_file).read())
            attempt("usr_bin", lambda: open("/usr/bin/env", "rb").read(4))
            attempt("usr_include", lambda: os.listdir("/usr/include"))
            attempt("random", lambda: open("/dev/random", "rb").read(1))
            attempt("zero", lambda: open("/dev/zero", "rb").read(1))
            attempt("passwd", lambda: pwd.getpwuid(0).pw_name)
            attempt("localtime", lambda: time.localtime().tm_year > 2000)
            attempt("ld_cache", lambda: len(open("/etc/ld.so.cache", "rb").read(4)))
            attempt("cpu_online", lambda: len(open("/sys/devices/system/cpu/online").read()) > 0)
            attempt("cpu_count", lambda: os.cpu_count() > 0)
            attempt("stdlib", lambda: __import__("xml.dom.minidom").__name__)
            attempt("executable", lambda: len(open(os.path.realpath(sys.executable), "rb").read(4)))
            """,
        )
    finally:
        if opt_file:
            os.unlink(opt_file)
    for name in ("shadow", "usr_bin", "usr_include", "random", "zero"):
        assert refused(out[name]), (name, out[name])
    if Path("/etc/hostname").exists():
        assert refused(out["hostname"]), out["hostname"]
    if opt_file:
        assert refused(out["opt"]), out["opt"]
    assert out["passwd"] == {"ok": True, "value": "root"}
    for name in ("localtime", "cpu_online", "cpu_count"):
        assert out[name] == {"ok": True, "value": True}, (name, out[name])
    for name in ("ld_cache", "stdlib", "executable"):
        assert out[name]["ok"], (name, out[name])


QUOTA_BODY = """
import errno
mib = b"x" * (1024 * 1024)
def fill(prefix, files, mib_each):
    for i in range(files):
        with open(scratch / f"{prefix}{i}", "wb") as f:
            for _ in range(mib_each):
                f.write(mib)
    return files * mib_each
attempt("small", lambda: fill("small", 1, 10))
for p in scratch.glob("small*"):
    p.unlink()
attempt("big", lambda: fill("big", 6, 50))  # 300 MiB, each file under 64 MiB
st = os.statvfs(scratch)
out["size_mib"] = st.f_blocks * st.f_frsize // (1024 * 1024)
attempt("relative", lambda: open("rel.txt", "w").write("x"))
out["cwd_on_tmpfs"] = os.stat(".").st_dev == os.stat(scratch).st_dev
import ctypes
libc = ctypes.CDLL(None, use_errno=True)
def umount():
    if libc.umount2(str(scratch).encode(), 0) != 0:
        e = ctypes.get_errno()
        raise OSError(e, os.strerror(e))
    return True
attempt("umount", umount)
"""


@needs_linux
def test_scratch_quota(dirs) -> None:
    """Scratch is a 256 MiB tmpfs of the subject's own: 10 MiB fit, 300 MiB answer
    ENOSPC, and nothing of it reaches the real folder, where a file the caller opened
    before confining stays."""
    scratch, _ = dirs
    out = run_confined(
        dirs,
        QUOTA_BODY + "os.write(log, b'written through the old descriptor')\n",
        before="""
        log = os.open(scratch / "native.log", os.O_WRONLY | os.O_CREAT, 0o600)
        """,
    )
    prot = out["protection"]
    if prot["scratch_quota_mb"] is None:
        pytest.skip(f"no scratch quota on this machine: {prot['notes']}")
    import errno

    assert prot["scratch_quota_mb"] == 256 and "quota-256mb" in prot["label"], prot
    assert out["small"] == {"ok": True, "value": 10}, out["small"]
    assert refused(out["big"], errno.ENOSPC), out["big"]
    assert 250 <= out["size_mib"] <= 256, out["size_mib"]
    assert out["relative"]["ok"] and out["cwd_on_tmpfs"], out
    assert refused(out["umount"]), out["umount"]  # the subject cannot unmount it
    assert not list(scratch.glob("big*")) and not (scratch / "rel.txt").exists()
    assert (scratch / "native.log").read_bytes() == b"written through the old descriptor"


@needs_linux
@needs_root
@pytest.mark.skipif(not SYSTEM_PYTHON.exists(), reason="needs a Python that nobody can read")
@pytest.mark.skipif(not shutil.which("setpriv"), reason="needs setpriv to become nobody")
def test_scratch_quota_without_root(dirs) -> None:
    """Not root: the tmpfs comes with a user namespace that maps only the own ids,
    whose capabilities are dropped again at once."""
    scratch, _ = dirs
    os.chown(scratch, 65534, 65534)
    out = run_confined(
        dirs,
        QUOTA_BODY + CAP_STATUS + "out['uid_map'] = open('/proc/self/uid_map').read().split()\n",
        python=str(SYSTEM_PYTHON),
        env={"PYTHONNOUSERSITE": "1"},
        prefix=("setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"),
    )
    prot = out["protection"]
    if prot["scratch_quota_mb"] is None:
        pytest.skip(f"no user namespaces for nobody here: {prot['notes']}")
    import errno

    assert prot["uid"] is None and prot["capabilities"] == "dropped", prot
    assert out["uid_map"] == ["65534", "65534", "1"]
    assert set(out["caps"].values()) == {0}, out["caps"]
    assert out["small"]["ok"], out["small"]
    assert refused(out["big"], errno.ENOSPC), out["big"]
    assert out["relative"]["ok"] and out["cwd_on_tmpfs"], out
    assert refused(out["umount"]), out["umount"]


def test_degrades_and_says_so_elsewhere(dirs) -> None:
    """Not Linux (simulated): rlimits only, and notes that say what is unprotected."""
    out = run_confined(
        dirs,
        """
        import resource
        out["core"] = resource.getrlimit(resource.RLIMIT_CORE)
        """,
        before="""
        import workbook.grading.subject.sandbox as sb
        sb._LINUX = False
        out["probe"] = sb.probe(Confinement(scratch=scratch, hidden=(hidden,))).to_json()
        """,
    )
    prot = out["protection"]
    assert prot["landlock_abi"] is None and prot["seccomp"] is False
    assert any("files are not confined" in n for n in prot["notes"])
    assert any("no syscall filter" in n for n in prot["notes"])
    assert out["probe"] == prot
    assert out["core"] == [0, 0]
