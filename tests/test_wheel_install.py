"""The workbook installed from its wheel, as `pip install lstm-workbook` and the course
platforms (Gradescope's venv, the PrairieLearn image) have it, rather than the editable
checkout the rest of the suite runs from.

Made once per session and shared by the xdist workers (under a file lock): hatchling
builds the wheel from pyproject.toml, and a fresh venv outside the checkout gets it with
`pip install --no-deps`. Reinstalling TensorFlow would take minutes, so the venv's
site-packages gets a symbolic link to every entry of this venv's site-packages instead,
except the checkout's own install (the `workbook` leftovers, its dist-info and the
editable install's .pth hook). The dependencies thus sit next to the installed
`workbook` in one site-packages folder, as on the platforms, which matters: the grading
child drops the package's folder from sys.path.

Every command runs with its working folder outside the checkout and no PYTHONPATH, so
that `workbook` can only come from the venv (`test_the_venv_imports_the_installed_copy`
checks that). Lesson 8 (NumPy) and the Keras lessons are graded with their reference
solutions by the installed `workbook check`; the installed workbook also builds a
Gradescope bundle, whose `run_autograder` grades with the venv's Python.
"""

from __future__ import annotations

import fcntl
import importlib.util
import json
import os
import shutil
import site
import subprocess
import sys
import zipfile
from dataclasses import dataclass
from pathlib import Path

import pytest

from workbook import __version__
from workbook.instructor.autograder import WHEEL_NAME, build_wheel
from workbook.workspace import Workspace

REPO = Path(__file__).resolve().parents[1]
CHECKOUT = Workspace(REPO)
COURSE = CHECKOUT.course
NUMPY_LESSON = 8
KERAS_LESSONS = [lesson.number for lesson in COURSE.lessons if lesson.topic == "keras"]


@dataclass(frozen=True)
class Install:
    wheel: Path  # built by hatchling from pyproject.toml
    venv: Path
    site: Path  # the venv's site-packages

    @property
    def python(self) -> Path:
        return self.venv / "bin" / "python"

    @property
    def workbook(self) -> Path:
        return self.venv / "bin" / "workbook"


def _env(**extra: str) -> dict[str, str]:
    env = dict(os.environ)
    for name in ("PYTHONPATH", "PYTHONHOME", "VIRTUAL_ENV", "WORKBOOK_PYTHON"):
        env.pop(name, None)
    return {**env, **extra}


def _run(command: list, cwd: Path, timeout: float = 300, **extra: str):
    """Run `command` in `cwd` (never the checkout); fail with its output if it fails."""
    assert not Path(cwd).resolve().is_relative_to(REPO)
    done = subprocess.run(
        [str(part) for part in command],
        cwd=cwd,
        env=_env(**extra),
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    assert done.returncode == 0, f"{command}\n{done.stdout}\n{done.stderr}"
    return done


def _is_this_checkout(entry: Path) -> bool:
    """The checkout's own install in this venv's site-packages: the package (an editable
    install leaves `workbook/_bundled` there), its dist-info, the editable hook."""
    name = entry.name
    if name == "workbook" or name.startswith(("lstm_workbook", "__editable__")):
        return True
    if name.startswith("_editable_impl_lstm_workbook"):
        return True
    if name.endswith(".pth"):
        return str(REPO) in entry.read_text(encoding="utf-8", errors="replace")
    return False


def _make(where: Path) -> Install:
    wheels = where / "wheels"
    # Offline with hatchling installed (the `test` extra); else pip fetches the backend.
    isolation = ["--no-build-isolation"] if importlib.util.find_spec("hatchling") else []
    _run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", *isolation, "--quiet",
         "-w", wheels, REPO],
        where,
    )  # fmt: skip
    [wheel] = wheels.glob("lstm_workbook-*.whl")
    venv = where / "venv"
    _run([sys.executable, "-m", "venv", "--without-pip", venv], where)
    python = venv / "bin" / "python"
    purelib = "import sysconfig; print(sysconfig.get_path('purelib'))"
    target = Path(_run([python, "-c", purelib], where).stdout.strip())
    for source in map(Path, site.getsitepackages()):
        for entry in sorted(source.iterdir()):
            if not _is_this_checkout(entry) and not (target / entry.name).exists():
                (target / entry.name).symlink_to(entry)
    _run(
        [sys.executable, "-m", "pip", "--python", python, "install", "--no-deps", "--no-index",
         "--quiet", wheel],
        where,
    )  # fmt: skip
    return Install(wheel=wheel, venv=venv, site=target)


@pytest.fixture(scope="session")
def installed(tmp_path_factory) -> Install:
    """The wheel, and a venv with it installed: made by the first worker, reused by the
    others (xdist gives each its own basetemp, under one folder per session)."""
    base = tmp_path_factory.getbasetemp()
    shared = base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base
    where = shared / "wheel-install"
    where.mkdir(exist_ok=True)
    with open(shared / "wheel-install.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            done = where / "made.json"
            if done.is_file():
                made = json.loads(done.read_text(encoding="utf-8"))
                return Install(**{key: Path(value) for key, value in made.items()})
            for leftover in where.iterdir():  # from a worker that failed half-way
                if leftover.is_dir() and not leftover.is_symlink():
                    shutil.rmtree(leftover)
                else:
                    leftover.unlink()
            install = _make(where)
            made = {key: str(value) for key, value in vars(install).items()}
            done.write_text(json.dumps(made), encoding="utf-8")
            return install
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


@pytest.fixture(scope="module")
def outside(tmp_path_factory) -> Path:
    """A working folder outside the checkout."""
    return tmp_path_factory.mktemp("outside")


@pytest.fixture(scope="module")
def workspace(installed, outside) -> Path:
    """`workbook init` by the installed copy (one per worker: tests in a worker run one
    after another, each lesson writes only its own exercise)."""
    done = _run([installed.workbook, "init", outside / "ws"], outside)
    assert f"Created a workspace with {len(COURSE.lessons)} lessons" in done.stdout
    return outside / "ws"


def test_the_venv_imports_the_installed_copy(installed, outside):
    probe = (
        "import json, sys, importlib.metadata as md, workbook\n"
        "from workbook.workspace import bundled_root\n"
        "dist = md.distribution('lstm-workbook')\n"
        "print(json.dumps({'file': workbook.__file__, 'version': workbook.__version__,\n"
        "    'bundled': str(bundled_root()), 'path': sys.path,\n"
        "    'dist': str(dist.locate_file('')), 'direct_url': dist.read_text('direct_url.json'),\n"
        "    'numpy': __import__('numpy').__file__}))"
    )
    seen = json.loads(_run([installed.python, "-c", probe], outside).stdout)
    site_dir = installed.site.resolve()
    assert Path(seen["file"]).resolve() == site_dir / "workbook" / "__init__.py"
    assert seen["version"] == __version__
    assert Path(seen["bundled"]).resolve() == site_dir / "workbook" / "_bundled"
    assert Path(seen["dist"]).resolve() == site_dir
    assert '"editable": true' not in (seen["direct_url"] or "")
    # Nothing of the checkout on the path; the dependencies sit in the same folder.
    assert not [p for p in seen["path"] if p and Path(p).resolve().is_relative_to(REPO)]
    assert Path(seen["numpy"]).parent.parent == installed.site
    script = installed.workbook.read_text(encoding="utf-8").splitlines()[0]
    assert script == f"#!{installed.python}"


def test_the_wheel_carries_the_course_and_the_checks(installed):
    with zipfile.ZipFile(installed.wheel) as wheel:
        names = set(wheel.namelist())
    for folder in ("course", "checks"):
        shipped = {
            f"workbook/_bundled/{folder}/{path.relative_to(REPO / folder).as_posix()}"
            for path in (REPO / folder).rglob("*")
            if path.is_file() and "__pycache__" not in path.parts
        }
        assert shipped and shipped <= names, sorted(shipped - names)[:5]


def test_the_platform_wheel_holds_the_same_files(installed, tmp_path):
    """`workbook autograder` builds its own wheel (no build backend needed): from the
    checkout, the same package files as hatchling's."""
    ours = build_wheel(tmp_path)
    with zipfile.ZipFile(installed.wheel) as a, zipfile.ZipFile(ours) as b:
        package = {n: a.read(n) for n in a.namelist() if n.startswith("workbook/")}
        bundled = {n: b.read(n) for n in b.namelist() if n.startswith("workbook/")}
        entry = f"lstm_workbook-{__version__}.dist-info/entry_points.txt"
        assert a.read(entry) == b.read(entry)
    assert sorted(package) == sorted(bundled)
    assert [n for n in package if package[n] != bundled[n]] == []


def test_init_copies_the_installed_course(installed, workspace):
    shipped = installed.site / "workbook" / "_bundled"
    name = "course/course.toml"
    assert (workspace / name).read_bytes() == (shipped / name).read_bytes()
    # A learner's workspace carries no answers: the installed copy grades from its own
    # bundled checks and references, which the wheel does ship.
    assert (shipped / "checks" / "08-lstm-step.py").is_file()
    assert not (workspace / "checks").exists()
    assert not (workspace / "course" / "solutions").exists()
    lesson = COURSE.lessons[NUMPY_LESSON - 1]
    assert (workspace / lesson.exercise).read_text(encoding="utf-8") != (
        REPO / lesson.solution
    ).read_text(encoding="utf-8")  # a stub


def _check(installed: Install, workspace: Path, number: int, cwd: Path) -> dict:
    """Put lesson `number`'s reference solution in place; the installed `workbook
    check N --json`'s report."""
    lesson = COURSE.lessons[number - 1]
    shutil.copyfile(REPO / lesson.solution, workspace / lesson.exercise)
    done = subprocess.run(
        [str(installed.workbook), "--workspace", str(workspace), "check", str(number), "--json"],
        cwd=cwd,
        env=_env(),
        capture_output=True,
        text=True,
        timeout=300,
    )
    try:
        report = json.loads(done.stdout)
    except ValueError:
        pytest.fail(f"no JSON report (exit {done.returncode}):\n{done.stdout}\n{done.stderr}")
    assert (done.returncode == 0) == (report["verdict"] == "passed"), done.stderr
    return report


def _why(report: dict) -> str:
    failing = [f"{c['id']}: {c['message']}" for c in report["checks"] if c["outcome"] != "passed"]
    return json.dumps({"error": report["error"], "failing": failing, "output": report["output"]})


@pytest.mark.parametrize("number", [lesson.number for lesson in COURSE.lessons])
def test_a_reference_solution_passes_when_installed_from_the_wheel(
    installed, workspace, outside, number
):
    report = _check(installed, workspace, number, outside)
    assert report["lesson"] == COURSE.lessons[number - 1].id
    assert report["verdict"] == "passed", _why(report)


@pytest.fixture(scope="module")
def gradescope(installed, outside) -> Path:
    """The Gradescope bundle, built by the installed workbook (its wheel from the
    installed files and metadata): the folder it is unzipped in."""
    folder = outside / "autograder-source"
    _run([installed.workbook, "autograder", "gradescope", "-o", outside / "ag.zip"], outside)
    with zipfile.ZipFile(outside / "ag.zip") as archive:
        archive.extractall(folder)
    return folder


def test_the_installed_workbook_builds_the_same_wheel(installed, gradescope):
    with zipfile.ZipFile(installed.wheel) as a, zipfile.ZipFile(gradescope / WHEEL_NAME) as b:
        package = {n: a.read(n) for n in a.namelist() if n.startswith("workbook/")}
        rebuilt = {n: b.read(n) for n in b.namelist() if n.startswith("workbook/")}
        metadata = b.read(f"lstm_workbook-{__version__}.dist-info/METADATA").decode()
    assert sorted(package) == sorted(rebuilt)
    assert [n for n in package if package[n] != rebuilt[n]] == []
    assert f"Version: {__version__}" in metadata and "Requires-Dist: numpy" in metadata


GRADESCOPE_RUNS = {
    # name: ({lesson: reference solution, or a wrong one}, lessons that must pass)
    "numpy": ({1: True, 3: False, NUMPY_LESSON: True}, {1, NUMPY_LESSON}),
    "keras": ({KERAS_LESSONS[1]: True}, {KERAS_LESSONS[1]}),
}


@pytest.mark.parametrize("name", list(GRADESCOPE_RUNS))
def test_run_autograder_grades_with_the_installed_workbook(installed, gradescope, tmp_path, name):
    """The bundle's run_autograder with the venv's Python (setup.sh's venv), on a
    submission of reference solutions, a wrong one and stubs for the rest."""
    files, deserved = GRADESCOPE_RUNS[name]
    root = tmp_path / "autograder"
    (root / "submission").mkdir(parents=True)
    (root / "tmp").mkdir()
    for lesson in COURSE.lessons:
        target = root / "submission" / Path(lesson.exercise).name
        if files.get(lesson.number) is True:
            shutil.copyfile(REPO / lesson.solution, target)
        elif lesson.number in files:  # wrong: lesson 3 without the forget gate's bias
            solution = (REPO / lesson.solution).read_text(encoding="utf-8")
            text = solution.replace("sigmoid(np.dot(W_f, z) + b_f)", "sigmoid(np.dot(W_f, z))")
            assert text != solution
            target.write_text(text, encoding="utf-8")
        else:  # the stub, as `workbook init` writes it
            target.write_text(CHECKOUT.stub_for(lesson), encoding="utf-8")
    _run(
        ["bash", gradescope / "run_autograder"],
        root,
        timeout=600,
        AUTOGRADER_ROOT=str(root),
        WORKBOOK_PYTHON=str(installed.python),
        TMPDIR=str(root / "tmp"),
    )
    data = json.loads((root / "results" / "results.json").read_text(encoding="utf-8"))
    assert data["extra_data"]["workbook_version"] == __version__
    earned = {int(t["number"]) for t in data["tests"] if t["status"] == "passed"}
    outputs = {t["number"]: t["output"] for t in data["tests"] if int(t["number"]) in files}
    assert earned == deserved, outputs
