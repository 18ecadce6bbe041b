"""One hostile exercise file must never earn `passed`.

Every attack family of the grading-core issue (issue 8, "One exercise file can forge a
pass") gets at least one test here. Each writes a hostile exercise file into a fresh
workspace and grades it with the real grader (judge and subject, sandbox and all). The
hostile code is wrapped around a *wrong* answer (or none), so only a working hack could
make it pass; where the hack itself leaves a trace (a file written, a row inserted, a
reference read), the hostile file prints `ESCAPED: ...` and the test also asserts that
no such line came back and nothing outside the attempt's scratch folder changed.

A test that fails here is a hole in the grader: it must stay failing (never skipped)
until the grader is fixed.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import re
import sysconfig
import threading
import time
from pathlib import Path

import numpy
import pytest

from tests.conftest import write_solution
from workbook.grading.judge.expect import CheckFailure, expect_array
from workbook.grading.results import GradeResult, Verdict
from workbook.grading.runner import grade, run_cold
from workbook.grading.subject.server import OUTPUT_LIMIT
from workbook.manifest import (
    MANIFEST_PATH,
    build_manifest,
    load_manifest,
    relevant_to,
    tampered_files,
    tracked_files,
)
from workbook.progress import ProgressStore
from workbook.workspace import Workspace, bundled_root


@pytest.fixture
def workspace(course_workspace):
    """The whole course, checks and references included, in the workspace: the
    hardest case (an instructor's course, a course author's checkout). A learner's
    own workspace holds no answers at all (tests/test_learner_workspace.py)."""
    return course_workspace


REPO = bundled_root()
SITE = Path(sysconfig.get_paths()["purelib"])
FAST = 2.0  # CPU seconds per learner call: every hostile file here is quick or endless
WRITTEN_LESSONS = ("01-activations", "02-concat", "08-lstm-step", "14-lstm-backward",
                   "16-keras-dataset")  # fmt: skip

# -- the hostile files ----------------------------------------------------------------

# Placeholders filled in per test (as `repr` of a path): @WS@ the workspace root,
# @OUTSIDE@ the folder that holds it, @REPO@ the bundled course, @SITE@ site-packages.
PRELUDE = """\
import os
import sys

import numpy as np

WS = @WS@
OUTSIDE = @OUTSIDE@
REPO = @REPO@
SITE = @SITE@
L1_IDS = @IDS@


def escaped(what):
    print("ESCAPED:", what, flush=True)


def attempt(what, action):
    try:
        result = action()
    except BaseException as exc:  # refused: that is what the sandbox is for
        return None
    escaped(what)
    return result


def steal(x):
    return None
"""

# Lesson 1 with a wrong sigmoid (tanh) and a wrong tanh (x/2): `steal` is the only way
# to a right value.
WRONG_L1 = """
def sigmoid(x):
    loot = steal(x)
    return loot if loot is not None else np.tanh(np.asarray(x, dtype=float))


def tanh(x):
    loot = steal(x)
    return loot if loot is not None else np.asarray(x, dtype=float) * 0.5
"""

# Lesson 1 where the first call of sigmoid is right (one good check), then `EXIT` runs.
ONE_GOOD_CHECK_L1 = """
import signal

calls = []


def sigmoid(x):
    calls.append(1)
    if len(calls) > 1:
        EXIT
    x = np.asarray(x, dtype=float)
    return 0.5 * (1.0 + np.tanh(0.5 * x))


def tanh(x):
    EXIT
"""

FRAMES = {
    "sys-getframe": """
def steal(x):
    frame = sys._getframe(1)
    while frame is not None:
        for scope in (frame.f_locals, frame.f_globals):
            if callable(scope.get("_sigmoid")):
                escaped("a check's reference in a caller frame")
                return scope["_sigmoid"](x)
            for name, value in list(scope.items()):
                if name in ("expected", "wanted", "want") and isinstance(value, np.ndarray):
                    escaped("an expected value in a caller frame")
                    return value
        frame = frame.f_back
    return None
""",
    "inspect-stack": """
import inspect


def steal(x):
    for info in inspect.stack():
        names = {**info.frame.f_globals, **info.frame.f_locals}
        if "X" in names and callable(names.get("_sigmoid")):
            escaped("the check module on the stack")
            return names["_sigmoid"](x)
        if info.filename.endswith("01-activations.py") and "checks" in info.filename:
            escaped("a check frame on the stack")
    return None
""",
    "gc-get-objects": """
import gc
import types


def steal(x):
    for obj in gc.get_objects():
        if isinstance(obj, types.FunctionType) and obj.__name__ == "_sigmoid":
            escaped("the check's _sigmoid found by gc")
            return obj(x)
        if isinstance(obj, types.ModuleType) and "activations" in obj.__name__:
            escaped("the check module found by gc")
        if type(obj).__name__ in ("GradingPlugin", "Report", "RemoteModule"):
            escaped(f"a judge object found by gc: {type(obj).__name__}")
    return None
""",
    "check-module-in-sys-modules": """
def steal(x):
    for name, module in list(sys.modules.items()):
        if "activations" in name or name in ("checks", "_gates"):
            escaped(f"check module {name} in sys.modules")
            reference = getattr(module, "_sigmoid", None)
            if callable(reference):
                return reference(x)
    return None
""",
}

# Objects that hand back anything: only plain data may reach the judge, so each must
# fail with a message naming what was returned instead.
IMPOSTORS = {
    "eq-array-float-str": (
        """
class Anything:
    shape = (5, 1)
    dtype = np.dtype(float)
    def __eq__(self, other): return True
    def __ne__(self, other): return False
    def __array__(self, dtype=None, copy=None):
        frame = sys._getframe(1)
        while frame is not None:
            for value in frame.f_locals.values():
                if isinstance(value, np.ndarray) and value.shape == self.shape:
                    return value
            frame = frame.f_back
        return np.zeros(self.shape)
    def __float__(self): return 0.5
    def __str__(self): return "[[0.5]]"
    def __len__(self): return 5
    def __getitem__(self, i): return self
    def __lt__(self, other): return False
    def __gt__(self, other): return False
    def __le__(self, other): return True
    def __ge__(self, other): return True


def steal(x):
    return Anything()
""",
        "Anything",
    ),
    "ndarray-subclass": (
        """
class Sneaky(np.ndarray):
    def __eq__(self, other): return np.ones(np.shape(self), bool)
    def __array_finalize__(self, obj): pass


def steal(x):
    return np.tanh(np.asarray(x, dtype=float)).view(Sneaky)
""",
        "Sneaky",
    ),
    "object-array": (
        """
class Cell:
    def __eq__(self, other): return True
    def __float__(self): return 0.5


def steal(x):
    out = np.empty(np.shape(x), dtype=object)
    out.fill(Cell())
    return out
""",
        "dtype object",
    ),
    "float-subclass": (
        """
class Chameleon(float):
    def __eq__(self, other): return True
    def __array__(self, dtype=None, copy=None): return np.full((5, 1), 0.5)


def steal(x):
    return Chameleon(0.5)
""",
        "Chameleon",
    ),
    "str-subclass": (
        """
class Says(str):
    def __eq__(self, other): return True
    __hash__ = str.__hash__


def steal(x):
    return Says("[[0.5]]")
""",
        "Says",
    ),
    "tuple-subclass": (
        """
from collections import namedtuple

Pair = namedtuple("Pair", "a b")


def steal(x):
    return Pair(np.tanh(x), np.tanh(x))
""",
        "Pair",
    ),
}

# Forged report events, then the process killed. `ROUTE` picks where the report is
# looked for.
FORGE = """
import glob
import json
import signal
import tempfile

ROUTE = @ROUTE@
EVENTS = [{"event": "collected", "ids": L1_IDS}]
EVENTS += [{"event": "check", "id": i, "name": i, "outcome": "passed", "message": ""}
           for i in L1_IDS]
EVENTS += [{"event": "done", "output": ""}]
FORGED = "".join(json.dumps(e) + "\\n" for e in EVENTS)


def candidates():
    found = []
    if ROUTE in ("self-fd", "parent-fd"):
        pid = "self" if ROUTE == "self-fd" else str(os.getppid())
        try:
            for fd in os.listdir(f"/proc/{pid}/fd"):
                try:
                    target = os.readlink(f"/proc/{pid}/fd/{fd}")
                except OSError:
                    continue
                # its own scratch files (output, native log) are no report
                own = target.startswith(os.getcwd() + os.sep)
                if not own and not target.startswith(("socket:", "pipe:", "anon_inode:", "/dev/")):
                    found.append(f"/proc/{pid}/fd/{fd}")
        except OSError:
            pass
    else:
        for pattern in ("/tmp/workbook-grade-*/*.jsonl", tempfile.gettempdir() + "/*/*.jsonl",
                        os.path.dirname(os.getcwd()) + "/*.jsonl",
                        f"/proc/{os.getppid()}/cwd/*.jsonl"):
            found.extend(glob.glob(pattern))
        try:
            for entry in os.scandir(os.path.dirname(os.getcwd())):
                if entry.name.endswith(".jsonl"):
                    found.append(entry.path)
        except OSError:
            pass
    return found


for path in candidates():
    def write(path=path):
        with open(path, "a") as stream:
            stream.write(FORGED)
    attempt(f"forged events written to {path}", write)
attempt("killed the judge", lambda: os.kill(os.getppid(), signal.SIGKILL))
os.kill(os.getpid(), signal.SIGKILL)
"""

# Patching libraries and the grader in the subject: none of it reaches the judge, so
# the wrong answer must be judged wrong (`failed`), by the real checks.
PATCHES = {
    "numpy-allclose": "np.allclose = lambda *a, **k: True",
    "numpy-isclose": "np.isclose = lambda *a, **k: True",
    "numpy-asarray": "np.asarray = lambda a, *r, **k: a",
    "numpy-testing": ("import numpy.testing\nnumpy.testing.assert_allclose = lambda *a, **k: None"),
    "numpy-internals": (
        "import numpy._core.numeric as _nn\n"
        "_nn.isclose = lambda a, b, **k: np.ones(np.broadcast(a, b).shape, bool)"
    ),
    "builtins-isinstance": "import builtins\nbuiltins.isinstance = lambda *a: True",
    "pytest-approx": "import pytest\npytest.approx = lambda *a, **k: a[0]",
    "pytest-internals": (
        "import _pytest.runner as _r\n_r.check_interactive_exception = lambda *a: False"
    ),
    "workbook-expect": (
        "import workbook.grading.judge.expect as _e\n_e.expect_array = lambda *a, **k: None\n"
        "escaped('imported workbook.grading.judge.expect')"
    ),
    "workbook-plugin": (
        "import workbook.grading.judge.plugin as _p\n"
        "_p.GradingPlugin._explain = lambda *a, **k: {'outcome': 'passed', 'message': ''}\n"
        "escaped('imported workbook.grading.judge.plugin')"
    ),
    "workbook-recurrent": (
        "import workbook.grading.judge.references as _r\n_r.sigmoid = np.tanh\n"
        "escaped('imported workbook.grading.judge.references')"
    ),
    "fake-gates-module": (
        "import types\nsys.modules['_gates'] = types.SimpleNamespace(check_gate=lambda *a: None)"
    ),
    "fake-numpy-module": "import types\nsys.modules['numpy'] = types.SimpleNamespace()",
    "gc-judge-instances": (
        "import gc\n"
        "for _o in gc.get_objects():\n"
        "    if type(_o).__name__ in ('GradingPlugin', 'Report', 'Subject'):\n"
        "        escaped('found ' + type(_o).__name__)\n"
        "        _o.__call__ = lambda *a, **k: None"
    ),
    "sys-modules-workbook": (
        "for _n, _m in list(sys.modules.items()):\n"
        "    if _n.startswith('workbook'):\n"
        "        escaped('judge module still loaded: ' + _n)"
    ),
}

# These break the subject's own machinery (its wire encoder, the learner's numpy).
BREAKS_THE_SUBJECT = {"fake-numpy-module", "builtins-isinstance"}

TRACERS = {
    "settrace": """
def _tracer(frame, event, arg):
    for value in frame.f_locals.values():
        if callable(value) and getattr(value, "__name__", "") == "_sigmoid":
            escaped("settrace saw a check's reference")
    if "expected" in frame.f_locals:
        escaped("settrace saw an expected value")
    return _tracer


sys.settrace(_tracer)
import threading
threading.settrace(_tracer)
""",
    "setprofile": """
def _profiler(frame, event, arg):
    if event == "return" and frame.f_code.co_name in ("expect_array", "assert_allclose"):
        escaped("setprofile saw the judge's comparison")


sys.setprofile(_profiler)
import threading
threading.setprofile(_profiler)
""",
    "audit-hook": """
def _hook(event, args):
    if event == "open" and args and "checks" in str(args[0]):
        escaped("audit hook saw the checks being opened")


sys.addaudithook(_hook)
""",
}

CODE_SWAPS = {
    "dunder-code": """
always = (lambda *a, **k: True).__code__
for target in (np.allclose, np.isclose, np.array_equal):
    try:
        target.__code__ = always
    except (AttributeError, TypeError, ValueError):
        pass
""",
    "ctypes-code-pointer": """
import ctypes


def swap_code(function, code):
    words = ctypes.cast(id(function), ctypes.POINTER(ctypes.c_void_p))
    for index in range(2, 16):
        if words[index] == id(function.__code__):
            ctypes.pythonapi.Py_IncRef(ctypes.py_object(code))
            words[index] = id(code)
            return True
    return False


def _true(*a, **k):
    return True


for name in ("allclose", "isclose", "array_equal"):
    target = getattr(np, name)
    target = getattr(target, "_implementation", target)
    if hasattr(target, "__code__"):
        swap_code(target, _true.__code__)
""",
}

PYTEST_ENV = """
with open("hostile_plugin.py", "w") as stream:
    stream.write(
        "import pytest\\n"
        "@pytest.hookimpl(hookwrapper=True)\\n"
        "def pytest_runtest_makereport(item, call):\\n"
        "    outcome = yield\\n"
        "    outcome.get_result().outcome = 'passed'\\n"
    )
os.environ["PYTEST_PLUGINS"] = "hostile_plugin"
os.environ["PYTEST_ADDOPTS"] = "-p hostile_plugin --deselect x -k nothing_at_all"
os.environ["PYTHONPATH"] = os.getcwd()
os.putenv("PYTEST_ADDOPTS", "-p hostile_plugin")
"""

# A conftest that, wherever pytest would load it, marks itself as run and turns every
# check into an empty pass.
CONFTEST = """\
import os
open(os.path.join(@OUTSIDE@, "conftest-ran-" + @WHERE@), "w").close()


def pytest_collection_modifyitems(items):
    for item in items:
        item.runtest = lambda: None
"""

WRITE_CONFTEST = """
CONFTEST_TEXT = @CONFTEST@
for folder in (WS, OUTSIDE, os.path.join(WS, "checks"), os.path.join(WS, "exercises")):
    def write(folder=folder):
        with open(os.path.join(folder, "conftest.py"), "w") as stream:
            stream.write(CONFTEST_TEXT)
    attempt(f"wrote conftest.py in {folder}", write)
"""

REWRITE_CHECK = """
import importlib.abc
import importlib.util

LENIENT = "def test_sigmoid_values(learner):\\n    pass\\n"


def rewrite(path):
    with open(path, "w") as stream:
        stream.write(LENIENT)


# Only the workspace's copy: a hole here must not damage the repository's own checks.
path = os.path.join(WS, "checks", "01-activations.py")
attempt(f"rewrote {path}", lambda: rewrite(path))
with open("lenient.py", "w") as stream:
    stream.write(LENIENT)
attempt(f"renamed over {path}", lambda: os.replace("lenient.py", path))


class Finder(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    def find_spec(self, name, path=None, target=None):
        if "activations" in name or name in ("checks", "_gates", "workbook.grading.judge.expect"):
            return importlib.util.spec_from_loader(name, self)
        return None

    def create_module(self, spec):
        return None

    def exec_module(self, module):
        exec(LENIENT, module.__dict__)


sys.meta_path.insert(0, Finder())
"""

# The answers: importing the judge's references, or reading the reference files.
ANSWER_IMPORTS = {
    "recurrent-sigmoid": (
        "01-activations",
        """
try:
    from workbook.grading.judge.references import sigmoid
    escaped("imported workbook.grading.judge.references.sigmoid")
except BaseException:
    def sigmoid(x):
        return np.tanh(x)


def tanh(x):
    return np.tanh(x)
""",
    ),
    "recurrent-lstm-step": (
        "08-lstm-step",
        """
try:
    from workbook.grading.judge.references import lstm_step as _reference
    escaped("imported workbook.grading.judge.references.lstm_step")

    def lstm_step(x_t, h_prev, C_prev, params):
        h, C, _ = _reference(x_t, h_prev, C_prev, params)
        return h, C
except BaseException:
    def lstm_step(x_t, h_prev, C_prev, params):
        return h_prev, C_prev
""",
    ),
    "recurrent-lstm-step-backward": (
        "14-lstm-backward",
        """
try:
    from workbook.grading.judge.references import lstm_step_backward
    escaped("imported workbook.grading.judge.references.lstm_step_backward")
except BaseException:
    pass
""",
    ),
    "kerascheck-windows": (
        "16-keras-dataset",
        """
try:
    from workbook.grading.judge.kerascheck import windows as make_dataset
    escaped("imported workbook.grading.judge.kerascheck.windows")
except BaseException:
    def make_dataset(data, sequence_length):
        return np.zeros((1, 1, 1)), np.zeros(1)
""",
    ),
    "workbook-by-file-path": (
        "01-activations",
        """
import importlib.util

for base in (REPO, os.path.join(SITE, "workbook", "_bundled", "..")):
    def load(base=base):
        spec = importlib.util.spec_from_file_location(
            "stolen", os.path.join(base, "workbook", "recurrent.py"))
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        return module
    stolen = attempt(f"loaded recurrent.py under {base}", load)
    if stolen is not None:
        sigmoid = stolen.sigmoid
        break
else:
    def sigmoid(x):
        return np.tanh(x)


def tanh(x):
    return np.tanh(x)
""",
    ),
}

# Reading a reference solution (or the lesson text's after-pass part) and running it.
# Each defines `read(path) -> str`; the text found is executed as the answer.
READERS = {
    "open": """
def read(path):
    with open(path, encoding="utf-8") as stream:
        return stream.read()
""",
    "os-open-dir-fd": """
def read(path):
    folder = os.open(os.path.dirname(path), os.O_RDONLY | os.O_DIRECTORY)
    try:
        fd = os.open(os.path.basename(path), os.O_RDONLY, dir_fd=folder)
    finally:
        os.close(folder)
    with os.fdopen(fd, encoding="utf-8") as stream:
        return stream.read()
""",
    "os-open-o-path": """
def read(path):
    folder = os.open(os.path.dirname(path), os.O_PATH)
    fd = os.open(os.path.basename(path), os.O_RDONLY, dir_fd=folder)
    with os.fdopen(fd, encoding="utf-8") as stream:
        return stream.read()
""",
    "ctypes-libc-open": """
import ctypes


def read(path):
    libc = ctypes.CDLL(None, use_errno=True)
    fd = libc.open(path.encode(), os.O_RDONLY)
    if fd < 0:
        raise OSError(ctypes.get_errno(), "libc open refused")
    with os.fdopen(fd, encoding="utf-8") as stream:
        return stream.read()
""",
    "proc-self-root": """
def read(path):
    with open("/proc/self/root" + path, encoding="utf-8") as stream:
        return stream.read()
""",
    "proc-parent-cwd": """
def read(path):
    # the judge's working folder is the attempt folder; go up to the workspace from there
    with open(f"/proc/{os.getppid()}/root" + path, encoding="utf-8") as stream:
        return stream.read()
""",
}

RUN_READ = """
TARGETS = [
    os.path.join(WS, "course", "solutions", "01-activations.py"),
    os.path.join(REPO, "course", "solutions", "01-activations.py"),
    os.path.join(SITE, "workbook", "_bundled", "course", "solutions", "01-activations.py"),
    os.path.join(WS, "exercises", "notes", "01-activations.py"),
]
for target in TARGETS:
    text = attempt(f"read {target}", lambda target=target: read(target))
    if text:
        exec(compile(text, "stolen", "exec"), globals())
        break
else:
    def sigmoid(x):
        return np.tanh(x)

    def tanh(x):
        return x * 0.5
"""

READ_MARKDOWN = """
import re

for base in (WS, REPO, os.path.join(SITE, "workbook", "_bundled")):
    path = os.path.join(base, "course", "lessons", "01-activations.md")
    text = attempt(f"read {path}", lambda path=path: open(path, encoding="utf-8").read())
    if text:
        after = text.partition("<!-- after passing -->")[2]
        for block in re.findall(r"```python\\n(.*?)```", after, re.S):
            try:
                exec(block, globals())
            except Exception:
                pass
        break
"""

# Hard exits after one good check, at load time, or in a later check.
EXITS = {
    "keyboard-interrupt": "raise KeyboardInterrupt",
    "system-exit": "raise SystemExit(0)",
    "sys-exit": "sys.exit(0)",
    "os-exit": "os._exit(0)",
    "posix-exit": "import posix; posix._exit(0)",
    "sigkill-self": "os.kill(os.getpid(), signal.SIGKILL)",
    "sigint-self": "os.kill(os.getpid(), signal.SIGINT)",
    "sigterm-raise": "signal.raise_signal(signal.SIGTERM)",
    "generator-exit": "raise GeneratorExit",
    "stop-everything-thread": (
        "import threading, _thread; threading.Thread(target=_thread.interrupt_main).start(); "
        "import time; time.sleep(1)"
    ),
}

PROGRESS_INSERT = """
import sqlite3


def insert():
    db = sqlite3.connect(os.path.join(WS, ".workbook", "progress.db"))
    tables = [r[0] for r in db.execute("select name from sqlite_master where type='table'")]
    for table in tables:
        columns = [r[1] for r in db.execute(f"pragma table_info({table})")]
        if "verdict" in columns or "status" in columns:
            column = "verdict" if "verdict" in columns else "status"
            values = {c: "01-activations" if c in ("lesson", "lesson_id") else "passed"
                      if c == column else "2026-01-01" for c in columns if c != "id"}
            names = ", ".join(values)
            marks = ", ".join("?" for _ in values)
            db.execute(f"insert into {table} ({names}) values ({marks})", list(values.values()))
    db.commit()
    db.close()


attempt("inserted passed rows into progress.db", insert)
"""

DELETE_EVERYTHING = """
import shutil

for path in (os.path.join(WS, ".workbook", "progress.db"),
             os.path.join(WS, "exercises", "04-input-gate.py"),
             os.path.join(WS, "checks", "01-activations.py"),
             os.path.join(WS, "course", "course.toml")):
    attempt(f"deleted {path}", lambda path=path: os.remove(path))
attempt("deleted the backups", lambda: shutil.rmtree(os.path.join(WS, ".workbook", "backups")))
attempt("deleted the exercises", lambda: shutil.rmtree(os.path.join(WS, "exercises")))
attempt("renamed the workspace", lambda: os.rename(WS, WS + ".gone"))
attempt("truncated another exercise",
        lambda: open(os.path.join(WS, "exercises", "03-forget-gate.py"), "w").close())
"""

SPAWNS = {
    "os-fork": """
def spawn():
    pid = os.fork()
    if pid == 0:
        open(MARKER, "w").close()
        import posix
        posix._exit(0)
    return pid
""",
    "subprocess": """
import subprocess


def spawn():
    return subprocess.Popen(["sh", "-c", f"touch {MARKER}; exec sleep 5"],
                            start_new_session=True)
""",
    "os-system": """
def spawn():
    if os.system(f"touch {MARKER}") != 0:
        raise OSError("refused")
""",
    "posix-spawn": """
def spawn():
    return os.posix_spawn("/bin/sh", ["sh", "-c", f"touch {MARKER}"], os.environ)
""",
    "ctypes-fork": """
import ctypes


def spawn():
    libc = ctypes.CDLL(None, use_errno=True)
    pid = libc.fork()
    if pid == 0:
        fd = libc.open(MARKER.encode(), os.O_WRONLY | os.O_CREAT, 0o644)
        libc._exit(0)
    if pid < 0:
        raise OSError(ctypes.get_errno(), "fork refused")
    return pid
""",
    "ctypes-syscall-clone": """
import ctypes


def spawn():
    libc = ctypes.CDLL(None, use_errno=True)
    pid = libc.syscall(56, 17, 0, 0, 0, 0)  # clone(SIGCHLD): a plain fork
    if pid == 0:
        fd = libc.open(MARKER.encode(), os.O_WRONLY | os.O_CREAT, 0o644)
        libc.syscall(60, 0)
    if pid < 0:
        raise OSError(ctypes.get_errno(), "clone refused")
    return pid
""",
    "multiprocessing": """
import multiprocessing


def _child():
    open(MARKER, "w").close()


def spawn():
    process = multiprocessing.Process(target=_child)
    process.start()
    process.join(5)
""",
}

SIGNALS = {
    "sigkill-judge": "os.kill(os.getppid(), signal.SIGKILL)",
    "sigterm-judge": "os.kill(os.getppid(), signal.SIGTERM)",
    "sigstop-judge": "os.kill(os.getppid(), signal.SIGSTOP)",
    "sigusr1-judge": "os.kill(os.getppid(), signal.SIGUSR1)",
    "killpg": "os.killpg(os.getpgid(0), signal.SIGKILL)",
    "pidfd-send-signal": "signal.pidfd_send_signal(os.pidfd_open(os.getppid()), signal.SIGKILL)",
}

PEEK = {
    "ptrace-attach": """
import ctypes
libc = ctypes.CDLL(None, use_errno=True)
if libc.ptrace(16, os.getppid(), 0, 0) == 0:  # PTRACE_ATTACH
    escaped("ptrace-attached to the judge")
""",
    "proc-parent-mem": """
def peek():
    with open(f"/proc/{os.getppid()}/mem", "rb") as stream:
        with open(f"/proc/{os.getppid()}/maps") as maps:
            start = int(maps.readline().split("-")[0], 16)
        stream.seek(start)
        return stream.read(16)


attempt("read the judge's memory", peek)
attempt("read the judge's environment",
        lambda: open(f"/proc/{os.getppid()}/environ", "rb").read())
""",
    "process-vm-readv": """
import ctypes


class IoVec(ctypes.Structure):
    _fields_ = [("base", ctypes.c_void_p), ("len", ctypes.c_size_t)]


def peek():
    libc = ctypes.CDLL(None, use_errno=True)
    with open(f"/proc/{os.getppid()}/maps") as maps:
        start = int(maps.readline().split("-")[0], 16)
    buffer = ctypes.create_string_buffer(16)
    local = IoVec(ctypes.addressof(buffer), 16)
    remote = IoVec(start, 16)
    if libc.process_vm_readv(os.getppid(), ctypes.byref(local), 1,
                             ctypes.byref(remote), 1, 0) != 16:
        raise OSError(ctypes.get_errno(), "refused")


attempt("process_vm_readv on the judge", peek)
""",
}

RESOURCES = {
    # name: (code run inside sigmoid before its wrong answer, verdicts allowed, message)
    "endless-loop": ("while True:\n        pass", {Verdict.TIMEOUT}, "CPU seconds"),
    "endless-loop-at-import": (None, {Verdict.TIMEOUT, Verdict.ERROR}, "CPU"),
    "memory-bomb": (
        "hog = []\n    while True:\n        hog.append(bytearray(50_000_000))",
        {Verdict.ERROR, Verdict.FAILED},
        "",
    ),
    "huge-array": ("return np.zeros((6000, 6000))", {Verdict.ERROR, Verdict.FAILED}, ""),
    "many-items": ("return [0.5] * 2_000_000", {Verdict.ERROR, Verdict.FAILED}, ""),
    "deep-nesting": (
        "deep = 0.5\n    for _ in range(10_000):\n        deep = [deep]\n    return deep",
        {Verdict.ERROR, Verdict.FAILED},
        "",
    ),
    "huge-string": ("return 'x' * 300_000_000", {Verdict.ERROR, Verdict.FAILED}, ""),
    # Root is exempt from RLIMIT_NPROC: the judge counts the threads.
    "thread-bomb": (
        "import threading\n    threading.stack_size(65536)\n    gate = threading.Event()\n"
        "    for _ in range(3000):\n        threading.Thread(target=gate.wait).start()",
        {Verdict.ERROR},
        "threads at once",
    ),
}


# -- helpers --------------------------------------------------------------------------


def _check_ids(workspace: Workspace, lesson_id: str) -> list[str]:
    """The checks (test functions) the shipped check file of a lesson defines."""
    check = workspace.path(workspace.course.lesson(lesson_id).check)
    return re.findall(r"^def (test_\w+)", check.read_text(encoding="utf-8"), re.M)


def _fill(source: str, workspace: Workspace, **extra: str) -> str:
    """The hostile file with the paths it aims at filled in (as Python literals)."""
    values: dict[str, object] = {
        "WS": str(workspace.root),
        "OUTSIDE": str(workspace.root.parent),
        "REPO": str(REPO),
        "SITE": str(SITE),
        "IDS": _check_ids(workspace, "01-activations"),
        **extra,
    }
    for name, value in values.items():
        source = source.replace(f"@{name}@", repr(value))
    return source


def _attack(
    workspace: Workspace, body: str, *, lesson_id: str = "01-activations", timeout_s=FAST, **extra
) -> GradeResult:
    """Grade PRELUDE + `body` as the learner's file for `lesson_id`."""
    lesson = workspace.course.lesson(lesson_id)
    write_solution(workspace, lesson, _fill(PRELUDE + body, workspace, **extra))
    return grade(workspace, lesson, timeout_s=timeout_s)


def _words(result: GradeResult) -> str:
    """Everything the result says, for messages and assertions."""
    parts = [f"verdict={result.verdict.value}"]
    parts += [f"{c.id}: {c.outcome}: {c.message}" for c in result.checks]
    if result.error is not None:
        parts.append(f"error {result.error.kind}: {result.error.message}")
    parts.append(f"output: {result.output[:2000]}")
    return "\n".join(parts)


def _not_passed(result: GradeResult) -> None:
    assert result.verdict is not Verdict.PASSED, _words(result)
    assert "ESCAPED" not in result.output, _words(result)


def _judged_wrong(result: GradeResult) -> None:
    """The wrong answer was judged by the real checks, unaffected by the attack."""
    _not_passed(result)
    assert result.verdict is Verdict.FAILED, _words(result)
    sigmoid = next(c for c in result.checks if c.id == "test_sigmoid_values")
    assert sigmoid.outcome == "failed" and "tanh where sigmoid belongs" in sigmoid.message


def _snapshot(root: Path) -> dict[str, str]:
    """Every file below `root` (the workspace and the folder around it) by content."""
    files = {}
    for path in sorted(root.rglob("*")):
        if path.is_file() and not path.is_symlink():
            files[str(path.relative_to(root))] = hashlib.sha256(path.read_bytes()).hexdigest()
        elif path.is_symlink():
            files[str(path.relative_to(root))] = f"-> {os.readlink(path)}"
    return files


@pytest.fixture
def guarded(workspace: Workspace):
    """A workspace with a progress store and a backup, checked afterwards for changes
    anywhere outside the attempt's scratch folder (the exercise file itself excepted)."""
    store = ProgressStore(workspace.progress_path)
    store.set_setting("probe", "kept")
    store.close()
    backups = workspace.state_dir / "backups"
    backups.mkdir(parents=True, exist_ok=True)
    (backups / "01-activations.py.bak").write_text("# an earlier attempt\n", encoding="utf-8")
    outside = workspace.root.parent
    written = [  # the exercise files the tests here write on purpose
        str(workspace.path(f"exercises/{lesson}.py").relative_to(outside))
        for lesson in WRITTEN_LESSONS
    ]
    before = _snapshot(outside)
    yield workspace
    after = _snapshot(outside)
    for name in written:
        before.pop(name, None)
        after.pop(name, None)
    changed = sorted(set(before.items()).symmetric_difference(after.items()))
    assert not changed, f"files outside the scratch folder changed: {changed}"


# -- sanity: correct code still passes -----------------------------------------------


@pytest.mark.parametrize("lesson_id", ["01-activations", "02-concat", "08-lstm-step"])
def test_reference_passes_in_a_workspace(guarded, lesson_id):
    lesson = guarded.course.lesson(lesson_id)
    write_solution(guarded, lesson)
    result = grade(guarded, lesson)
    assert result.verdict is Verdict.PASSED, _words(result)
    assert result.error is None and result.tampered == []


def test_protection_is_reported(workspace):
    """Which protection confined the subject is part of every result."""
    lesson = workspace.course.lesson("01-activations")
    write_solution(workspace, lesson)
    result = grade(workspace, lesson)
    assert result.verdict is Verdict.PASSED, _words(result)
    assert isinstance(result.protection, dict) and result.protection.get("label"), result.protection


def test_a_correct_file_that_patches_its_own_numpy_still_passes(workspace):
    """Patching libraries only changes the learner's own process: no false alarm."""
    body = "np.allclose = lambda *a, **k: True\n" + WRONG_L1.replace(
        "np.tanh(np.asarray(x, dtype=float))", "0.5 * (1 + np.tanh(0.5 * np.asarray(x, float)))"
    ).replace("np.asarray(x, dtype=float) * 0.5", "np.tanh(np.asarray(x, dtype=float))")
    result = _attack(workspace, body)
    assert result.verdict is Verdict.PASSED, _words(result)


# -- caller frames, inspect.stack, gc --------------------------------------------------


@pytest.mark.parametrize("name", sorted(FRAMES))
def test_caller_frames_hold_no_expected_values(guarded, name):
    result = _attack(guarded, FRAMES[name] + WRONG_L1)
    _judged_wrong(result)


# -- objects that claim to be anything -------------------------------------------------


@pytest.mark.parametrize("name", sorted(IMPOSTORS))
def test_objects_that_equal_anything_are_refused_by_type(guarded, name):
    body, type_name = IMPOSTORS[name]
    result = _attack(guarded, body + WRONG_L1)
    _not_passed(result)
    assert result.verdict is Verdict.FAILED, _words(result)
    sigmoid = next(c for c in result.checks if c.id == "test_sigmoid_values")
    assert type_name in sigmoid.message, _words(result)


def test_a_custom_class_instance_fails_naming_its_type(workspace):
    body = "\nclass Box:\n    pass\n\n\ndef steal(x):\n    return Box()\n" + WRONG_L1
    result = _attack(workspace, body)
    assert result.verdict is Verdict.FAILED, _words(result)
    messages = " ".join(c.message for c in result.checks)
    assert "`sigmoid` returned a `learner_exercise.Box`" in messages, _words(result)
    assert "return NumPy arrays" in messages


def test_a_tf_tensor_fails_naming_its_type(workspace):
    """Lesson 16 needs no TensorFlow, so the learner's file imports it (a generous
    CPU budget for that); the tensor must not be taken for an array."""
    body = """
def make_dataset(data, sequence_length):
    import tensorflow as tf
    data = np.asarray(data, dtype=float)
    samples = len(data) - sequence_length
    X = np.array([data[i : i + sequence_length] for i in range(samples)])
    y = np.array([data[i + sequence_length] for i in range(samples)])
    return tf.constant(X.reshape(samples, sequence_length, 1)), tf.constant(y)
"""
    result = _attack(workspace, body, lesson_id="16-keras-dataset", timeout_s=60)
    _not_passed(result)
    assert result.verdict is Verdict.FAILED, _words(result)
    messages = " ".join(c.message for c in result.checks)
    assert "Tensor" in messages and "tensorflow" in messages, _words(result)


# Arguments changed in place come back into the judge's arrays (by-reference
# semantics): zeroing them, then answering for zeros, must not move the expected value.
ZERO_INPUTS = """
def zero(value):
    if type(value) is np.ndarray and value.flags.writeable:
        value[...] = 0
    elif isinstance(value, (list, tuple)):
        for item in value:
            zero(item)
    elif isinstance(value, dict):
        for item in value.values():
            zero(item)
"""

IN_PLACE = {
    "01-activations": """
def sigmoid(x):
    zero(x)
    return np.full(np.shape(x), 0.5)


def tanh(x):
    zero(x)
    return np.zeros(np.shape(x))
""",
    "02-concat": """
def concat(h_prev, x_t):
    zero(h_prev)
    zero(x_t)
    return np.zeros((h_prev.shape[0] + x_t.shape[0], h_prev.shape[1]))
""",
    "08-lstm-step": """
def lstm_step(x_t, h_prev, C_prev, params):
    zero((x_t, h_prev, C_prev, params))
    return np.zeros(np.shape(h_prev)), np.zeros(np.shape(C_prev))
""",
}


@pytest.mark.parametrize("lesson_id", sorted(IN_PLACE))
def test_arguments_changed_in_place_do_not_move_the_expected_values(guarded, lesson_id):
    result = _attack(guarded, ZERO_INPUTS + IN_PLACE[lesson_id], lesson_id=lesson_id)
    _not_passed(result)


# -- forged report events --------------------------------------------------------------


@pytest.mark.parametrize("route", ["self-fd", "parent-fd", "guess-temp-folder"])
def test_forged_report_events_then_a_kill_do_not_pass(guarded, route):
    result = _attack(guarded, FORGE + WRONG_L1, ROUTE=route)
    _not_passed(result)
    assert not any(c.outcome == "passed" and c.message == "" and c.name == c.id
                   for c in result.checks), _words(result)  # fmt: skip


def test_scratch_symlink_does_not_leak_a_reference_through_the_output(guarded):
    """The judge reads the subject's output file from the scratch folder after a crash:
    a symlink planted there must not make it read (and show) a file the subject cannot."""
    body = """
target = os.path.join(WS, "course", "solutions", "01-activations.py")
try:
    os.unlink("output.txt")
except OSError:
    pass
os.symlink(target, "output.txt")
import signal
os.kill(os.getpid(), signal.SIGKILL)
"""
    result = _attack(guarded, body + WRONG_L1)
    _not_passed(result)
    assert "BEGIN SOLUTION" not in result.output, _words(result)
    assert "Logistic sigmoid" not in result.output, _words(result)


def test_a_fifo_in_the_scratch_folder_cannot_hang_the_grader(guarded):
    """The subject's output file replaced by a FIFO, then the subject killed: whoever
    reads that file afterwards (the judge, then the parent once the judge is killed)
    must not block on it. The safety net is shortened to 10 s here; the parent must
    return soon after it."""
    body = """
import signal
os.unlink("output.txt")
os.mkfifo("output.txt")
os.kill(os.getpid(), signal.SIGKILL)
"""
    lesson = guarded.course.lesson("01-activations")
    write_solution(guarded, lesson, _fill(PRELUDE + body + WRONG_L1, guarded))
    folders: list[Path] = []

    def short_net(job, tmp, cwd, cancel, deadline):
        folders.append(tmp)
        return run_cold(job, tmp, cwd, cancel, time.perf_counter() + 10)

    results: list[GradeResult] = []
    worker = threading.Thread(
        target=lambda: results.append(grade(guarded, lesson, timeout_s=FAST, execute=short_net)),
        daemon=True,
    )
    worker.start()
    worker.join(60)
    hung = worker.is_alive()
    if hung:  # let the blocked reader go: open the FIFO's other end
        for folder in folders:
            with contextlib.suppress(OSError):
                os.close(os.open(folder / "scratch" / "output.txt", os.O_WRONLY | os.O_NONBLOCK))
        worker.join(10)
    assert not hung, "grade() blocked reading a FIFO the learner's code left in scratch"
    _not_passed(results[0])


# -- patching libraries and the grader in the subject -------------------------------


@pytest.mark.parametrize("name", sorted(PATCHES))
def test_patching_in_the_subject_does_not_reach_the_judge(guarded, name):
    patch = "\n".join("    " + line for line in PATCHES[name].splitlines())
    body = f"\ntry:\n{patch}\nexcept BaseException:\n    pass\n" + WRONG_L1
    result = _attack(guarded, body)
    if name in BREAKS_THE_SUBJECT:  # the learner's own process breaks too: any failure
        _not_passed(result)
    else:
        _judged_wrong(result)


def test_patching_inside_a_learner_function_does_not_reach_the_judge(guarded):
    """(From the former test_tamper.) A patch made during a call, not at import."""
    body = WRONG_L1.replace(
        "    loot = steal(x)\n", "    np.allclose = lambda *a, **k: True\n    loot = steal(x)\n", 1
    )
    _judged_wrong(_attack(guarded, body))


def test_expect_compares_with_numpy_as_it_was_at_import(monkeypatch):
    """(From the former test_tamper.) Defence in depth in the judge: even a patched
    numpy in the judge's own process cannot change a comparison."""
    monkeypatch.setattr(numpy, "allclose", lambda *a, **k: True)
    monkeypatch.setattr(numpy, "isfinite", lambda a: numpy.ones_like(a, dtype=bool))
    with pytest.raises(CheckFailure, match="differs from the expected values"):
        expect_array(numpy.array([1.0, 2.0]), numpy.array([1.0, 3.0]), what="x")


def test_expect_compares_without_numpy_python_functions(monkeypatch):
    """(From the former test_tamper.) The comparison runs on ufuncs bound at import."""
    import numpy._core.numeric as numeric

    always = lambda a, b, **k: numpy.ones(numpy.broadcast(a, b).shape, bool)  # noqa: E731
    monkeypatch.setattr(numeric, "isclose", always)
    assert numpy.allclose([1.0], [9.0])  # what a check using numpy directly would see
    with pytest.raises(CheckFailure, match="differs from the expected values"):
        expect_array(numpy.array([1.0, 2.0]), numpy.array([1.0, 3.0]), what="x")


@pytest.mark.parametrize("name", sorted(TRACERS))
def test_trace_and_profile_hooks_see_nothing_of_the_judge(guarded, name):
    result = _attack(guarded, TRACERS[name] + WRONG_L1)
    _judged_wrong(result)


@pytest.mark.parametrize("name", sorted(CODE_SWAPS))
def test_code_swaps_do_not_reach_the_judge(guarded, name):
    result = _attack(guarded, CODE_SWAPS[name] + WRONG_L1)
    _judged_wrong(result)


def test_pytest_environment_variables_set_at_import_are_ignored(guarded):
    result = _attack(guarded, PYTEST_ENV + WRONG_L1)
    _judged_wrong(result)
    assert [c.id for c in result.checks] == _check_ids(guarded, "01-activations")


# -- conftest.py files -----------------------------------------------------------------


def test_conftest_written_at_import_is_refused(guarded):
    workspace = guarded
    conftest = _fill(CONFTEST, workspace, WHERE="import")
    result = _attack(guarded, WRITE_CONFTEST + WRONG_L1, CONFTEST=conftest)
    _judged_wrong(result)
    for folder in (workspace.root, workspace.root.parent, workspace.path("checks")):
        assert not (folder / "conftest.py").exists()
    assert not (workspace.root.parent / "conftest-ran-import").exists()


@pytest.mark.parametrize("where", ["workspace-root", "parent", "checks"])
def test_a_conftest_already_in_place_is_not_loaded(workspace, where):
    """A learner can drop a conftest.py by hand: the judge must not load it."""
    folder = {
        "workspace-root": workspace.root,
        "parent": workspace.root.parent,
        "checks": workspace.path("checks"),
    }[where]
    (folder / "conftest.py").write_text(_fill(CONFTEST, workspace, WHERE=where), "utf-8")
    result = _attack(workspace, WRONG_L1)
    _judged_wrong(result)
    assert not (workspace.root.parent / f"conftest-ran-{where}").exists()
    if where == "checks":
        assert "checks/conftest.py" in result.tampered


# -- the check files -------------------------------------------------------------------


def test_rewriting_a_check_at_import_is_refused(guarded):
    """The write itself must fail (the `guarded` fixture sees no change), and a
    meta_path finder in the subject cannot swap the judge's copy either."""
    result = _attack(guarded, REWRITE_CHECK + WRONG_L1)
    _judged_wrong(result)
    assert [c.id for c in result.checks] == _check_ids(guarded, "01-activations")


def test_a_check_rewritten_before_grading_is_refused(workspace):
    """(From the former test_tamper.) An edited check file is not run at all."""
    lesson = workspace.course.lesson("01-activations")
    check = workspace.path(lesson.check)
    check.write_text(
        check.read_text().replace("def test_sigmoid_values", "def _disabled"), encoding="utf-8"
    )
    write_solution(workspace, lesson, _fill(PRELUDE + WRONG_L1, workspace))
    result = grade(workspace, lesson)
    assert result.verdict is Verdict.ERROR, _words(result)
    assert result.error.kind == "check-error" and "was modified" in result.error.message
    assert result.checks == []
    assert result.tampered == [lesson.check]
    assert lesson.check in result.tamper_warning


def test_an_extra_helper_in_checks_is_refused(workspace):
    """A `_*.py` helper that the course does not ship is not imported by the judge."""
    helper = workspace.path("checks") / "_evil.py"
    helper.write_text(f"open({str(workspace.root.parent / 'helper-ran')!r}, 'w')\n", "utf-8")
    result = _attack(workspace, WRONG_L1)
    _not_passed(result)
    assert not (workspace.root.parent / "helper-ran").exists()


# -- the answers: imports, reference files, lesson text --------------------------------


@pytest.mark.parametrize("name", sorted(ANSWER_IMPORTS))
def test_the_judges_references_cannot_be_imported(guarded, name):
    lesson_id, body = ANSWER_IMPORTS[name]
    result = _attack(guarded, body, lesson_id=lesson_id)
    _not_passed(result)


@pytest.mark.parametrize("reader", sorted(READERS))
def test_reference_solutions_cannot_be_read(guarded, reader):
    solutions = guarded.path("course/solutions")
    os.symlink(solutions, guarded.path("exercises/notes"))  # made before grading
    try:
        result = _attack(guarded, READERS[reader] + RUN_READ)
    finally:
        guarded.path("exercises/notes").unlink()
    _not_passed(result)


def test_the_lesson_text_after_a_pass_cannot_be_read(guarded):
    result = _attack(guarded, READ_MARKDOWN + WRONG_L1)
    _judged_wrong(result)


# -- hard exits after one good check ---------------------------------------------------


@pytest.mark.parametrize("name", sorted(EXITS))
def test_an_exit_after_one_good_check_is_not_a_pass(guarded, name):
    result = _attack(guarded, ONE_GOOD_CHECK_L1.replace("EXIT", EXITS[name]))
    _not_passed(result)
    assert result.checks and result.checks[0].outcome == "passed", _words(result)


@pytest.mark.parametrize("name", ["system-exit", "keyboard-interrupt", "os-exit"])
def test_an_exit_while_loading_is_an_error(guarded, name):
    body = (
        "\nimport signal\n\n\ndef sigmoid(x):\n    return 0.5 * (1 + np.tanh(0.5 * x))\n\n\n"
        "def tanh(x):\n    return np.tanh(x)\n\n\n" + EXITS[name] + "\n"
    )
    result = _attack(guarded, body)
    assert result.verdict is Verdict.ERROR, _words(result)


# Exceptions a check might misread as a skip, an expected failure or a pass.
RAISED = {
    "pytest-skip": "import pytest; pytest.skip('nothing to see')",
    "pytest-xfail": "import pytest; pytest.xfail('expected')",
    "pytest-exit": "import pytest; pytest.exit('done', returncode=0)",
    "stop-iteration": "raise StopIteration",
    "empty-assertion": "raise AssertionError()",
    "skip-lookalike": "raise type('Skipped', (Exception,), {'__module__': 'builtins'})('x')",
}


@pytest.mark.parametrize("name", sorted(RAISED))
def test_raised_exceptions_are_never_a_pass_or_a_skip(guarded, name):
    body = f"\ndef sigmoid(x):\n    {RAISED[name]}\n\n\ndef tanh(x):\n    {RAISED[name]}\n"
    result = _attack(guarded, body)
    _not_passed(result)
    assert result.checks and all(c.outcome != "passed" for c in result.checks if "sigmoid" in c.id)


# -- the progress store, backups and other files ---------------------------------------


def test_passed_rows_cannot_be_inserted_into_the_progress_store(guarded):
    result = _attack(guarded, PROGRESS_INSERT + WRONG_L1)
    _judged_wrong(result)
    store = ProgressStore(guarded.progress_path)
    try:
        assert store.summary().get("01-activations") is None or (
            store.summary()["01-activations"].status != "passed"
        )
        assert store.get_setting("probe") == "kept"
    finally:
        store.close()


def test_nothing_can_be_deleted_at_import(guarded):
    result = _attack(guarded, DELETE_EVERYTHING + WRONG_L1)
    _judged_wrong(result)
    assert guarded.progress_path.exists()
    assert guarded.path("exercises/04-input-gate.py").exists()


# -- processes and signals -------------------------------------------------------------


@pytest.mark.parametrize("name", sorted(SPAWNS))
def test_no_process_can_be_started(guarded, name):
    marker = guarded.root.parent / f"spawned-{name}"
    body = (
        f"\nMARKER = {str(marker)!r}\n"
        + SPAWNS[name]
        + "\nattempt('started a process', spawn)\n"
        + WRONG_L1
    )
    result = _attack(guarded, body)
    time.sleep(0.5)  # a child that got out would have made its mark by now
    _not_passed(result)
    assert not marker.exists()


@pytest.mark.parametrize("name", sorted(SIGNALS))
def test_the_judge_cannot_be_signalled(guarded, name):
    body = f"\nimport signal\nattempt('signalled {name}', lambda: {SIGNALS[name]})\n" + WRONG_L1
    result = _attack(guarded, body)
    _judged_wrong(result)


@pytest.mark.parametrize("name", sorted(PEEK))
def test_the_judges_memory_cannot_be_read(guarded, name):
    result = _attack(guarded, PEEK[name] + WRONG_L1)
    _judged_wrong(result)


# -- floods and limits -----------------------------------------------------------------


def test_a_flood_of_output_is_bounded(guarded):
    body = (
        """
chunk = "spam " * 2000 + "\\n"
for _ in range(10_000):
    print(chunk, end="")
    sys.__stdout__.write(chunk)
for _ in range(1_000):
    os.write(1, chunk.encode())
"""
        + WRONG_L1
    )
    result = _attack(guarded, body)
    _not_passed(result)
    # The file ran into its file-size limit (the native log) or was judged wrong;
    # either way the output the learner sees stays bounded.
    assert result.verdict in (Verdict.FAILED, Verdict.ERROR), _words(result)
    assert len(result.output) <= OUTPUT_LIMIT
    assert result.output_truncated


TERMINAL_ESCAPES = """
ESC = "\\x1b"
print(ESC + "]52;c;ZWNobyBwd25lZA==\\x07" + ESC + "]0;TITLE\\x07" + ESC + "[2J" + ESC
      + "[32mall checks passed" + ESC + "[0m\\r\\x9b2J\\x00\\x7f|tab\\there|")
print("|\\u202edessap\\u202c|\\u2067\\u0645\\u2069|\\u200f|")


def sigmoid(x):
    raise ValueError(ESC + "[2J" + ESC + "[32mpassed" + ESC + "[0m\\r\\x85\\x08\\u202e")


def tanh(x):
    # a comment with ESC: \x1b[2J
    return np.tanh(np.asarray(x, dtype=float)) + ESC
"""


def test_terminal_escapes_from_learner_code_reach_no_face(guarded):
    """Output, messages, tracebacks and code lines that learner code writes keep no
    control character but newline and tab: no clipboard write (OSC 52), window title
    or cleared screen on the learner's terminal, no raw ESC or CR in an export."""
    result = _attack(guarded, TERMINAL_ESCAPES)
    _not_passed(result)

    def strings(value):
        if isinstance(value, str):
            yield value
        elif isinstance(value, dict):
            for item in value.values():
                yield from strings(item)
        elif isinstance(value, list | tuple):
            for item in value:
                yield from strings(item)

    text = "".join(strings(result.to_json()))
    controls = sorted({f"{ord(c):#x}" for c in text if c not in "\n\t" and (
        ord(c) < 0x20 or 0x7F <= ord(c) <= 0x9F or 0x202A <= ord(c) <= 0x202E
        or 0x2066 <= ord(c) <= 0x2069)})  # fmt: skip
    assert not controls, (controls, _words(result))
    assert "all checks passed" in result.output and "|tab\there|" in result.output
    # Bidirectional overrides go (they made "dessap" read "passed"); letters and marks stay.
    assert "|dessap|\u0645|\u200f|" in result.output, result.output
    messages = [c.message for c in result.checks if c.outcome != "passed"]
    assert any("[32mpassed" in m for m in messages), messages


@pytest.mark.parametrize("name", sorted(RESOURCES))
def test_resource_exhaustion_is_stopped(workspace, name):
    code, verdicts, words = RESOURCES[name]
    if code is None:
        body = "\nwhile True:\n    pass\n" + WRONG_L1
    else:
        body = WRONG_L1.replace("    loot = steal(x)\n", f"    {code}\n    loot = steal(x)\n", 1)
    started = time.perf_counter()
    # Touching a gigabyte costs CPU (page faults): with the usual 2 CPU seconds a busy
    # machine can stop the memory bomb for CPU first, which is true but not the point.
    result = _attack(workspace, body, timeout_s=10 if name == "memory-bomb" else FAST)
    _not_passed(result)
    assert result.verdict in verdicts, _words(result)
    assert words in _words(result)
    assert time.perf_counter() - started < 120, "the limit took far too long to act"


def test_an_idle_wait_is_stopped(workspace):
    """time.sleep uses no CPU: the idle limit, not the CPU budget, stops it."""
    body = WRONG_L1.replace("    loot = steal(x)\n", "    import time\n    time.sleep(10**6)\n", 1)
    result = _attack(workspace, body)
    assert result.verdict is Verdict.TIMEOUT, _words(result)
    assert "without computing" in result.error.message


# -- the manifest (from the former test_tamper) ----------------------------------------


def test_committed_manifest_matches_the_shipped_course():
    """Run `python -m workbook dev manifest` after editing course/ or checks/."""
    committed = json.loads(MANIFEST_PATH.read_text(encoding="utf-8"))
    fresh = build_manifest(bundled_root())
    stale = sorted(set(committed["files"].items()).symmetric_difference(fresh["files"].items()))
    assert not stale, f"workbook/manifest.json is stale for {stale}: run `workbook dev manifest`"
    assert committed == fresh


def test_manifest_covers_every_check_and_catalog_file(repo_workspace):
    files = load_manifest()["files"]
    assert "course/course.toml" in files and "course/glossary.toml" in files
    for lesson in repo_workspace.course.lessons:
        assert lesson.check in files and f"course/lessons/{lesson.id}.md" in files
    assert all(len(digest) == 64 for digest in files.values())


def test_fresh_workspace_is_not_tampered(workspace):
    assert tampered_files(workspace.root) == []


def test_edited_missing_and_extra_grading_files_are_reported(workspace):
    lesson = workspace.course.lesson("01-activations")
    check = workspace.path(lesson.check)
    check.write_text(check.read_text() + "\n# made lenient\n", encoding="utf-8")
    (workspace.root / "course" / "glossary.toml").unlink()
    (workspace.root / "checks" / "conftest.py").write_text("", encoding="utf-8")
    (workspace.root / "checks" / "__pycache__").mkdir()
    (workspace.root / "checks" / "__pycache__" / "x.pyc").write_bytes(b"")
    assert tampered_files(workspace.root) == sorted(
        [lesson.check, "course/glossary.toml", "checks/conftest.py"]
    )
    assert "checks/__pycache__/x.pyc" not in tracked_files(workspace.root)


def test_crlf_checkout_is_not_tampered(workspace):
    check = workspace.path(workspace.course.lesson("01-activations").check)
    check.write_bytes(check.read_bytes().replace(b"\n", b"\r\n"))
    assert tampered_files(workspace.root) == []


def test_a_lesson_is_warned_only_about_files_that_can_affect_it():
    from types import SimpleNamespace

    def lesson(lesson_id: str) -> SimpleNamespace:
        return SimpleNamespace(
            id=lesson_id,
            check=f"checks/{lesson_id}.py",
            solution=f"course/solutions/{lesson_id}.py",
        )

    one, two = lesson("01-a"), lesson("02-b")
    course = SimpleNamespace(lessons=(one, two))
    changed = [
        "checks/01-a.py",
        "checks/02-b.py",
        "checks/conftest.py",
        "course/course.toml",
        "course/lessons/02-b.md",
    ]
    assert relevant_to(changed, one, course) == [
        "checks/01-a.py",
        "checks/conftest.py",
        "course/course.toml",
    ]
    assert relevant_to(changed, two, course) == [
        "checks/02-b.py",
        "checks/conftest.py",
        "course/course.toml",
        "course/lessons/02-b.md",
    ]
