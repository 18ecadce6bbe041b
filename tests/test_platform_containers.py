"""The platform bundles run the way the platforms run them.

*Gradescope.* The zip is unzipped into /autograder/source (modes kept), `setup.sh` runs
as root, then `/autograder/run_autograder` grades /autograder/submission, all with
/autograder bound to a temporary folder in a private mount namespace (`unshare -m`), so
the real paths are used and nothing outside the test's folder changes. `setup.sh` is the
bundle's own, unchanged; only pip's configuration differs from Gradescope's: the
environment sets PIP_NO_INDEX=1, and the venv's site-packages is seeded, before setup.sh
makes the venv around it, with links to this venv's dependencies, so that `pip install
--upgrade pip` and the wheel's dependencies are found already installed instead of
downloaded (TensorFlow alone would take minutes). The run itself happens in a cgroup with
Gradescope's default limits (0.5 CPU, 768 MB) where this machine lets the test make one,
and must then grade one lesson at a time. results.json is checked against Gradescope's
documented fields (tests/data/platforms).

*PrairieLearn.* The bundle's wheel goes into a fresh venv (`--no-deps`, the dependencies
linked the same way), the grader's entry point runs on a /grade-shaped folder as a
question's server.py and file editor leave it, and results.json and every question's
info.json are checked against PrairieLearn's schemas. question.html is read as
PrairieLearn's elements would read it.

Only NumPy lessons carry code in these submissions (the other lessons are stubs, graded
without a process), to stay near a minute on two cores.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from html.parser import HTMLParser
from pathlib import Path

import pytest
from click.testing import CliRunner

from tests.platform_support import (
    Cgroup,
    base_python,
    link_dependencies,
    site_packages,
    validate,
    venv_with_wheel,
)
from workbook import __version__
from workbook.cli import cli
from workbook.instructor.autograder import PRAIRIELEARN_QUESTIONS, WHEEL_NAME
from workbook.workspace import Workspace, bundled_root

REPO = Path(__file__).resolve().parents[1]
SHIPPED = Workspace(bundled_root())
COURSE = SHIPPED.course
WRONG_3 = ("sigmoid(np.dot(W_f, z) + b_f)", "sigmoid(np.dot(W_f, z))")


def _solution(number: int) -> str:
    return SHIPPED.solution_for(COURSE.lessons[number - 1])


def _unzip(archive_path: Path, folder: Path) -> None:
    """As `unzip` does: each entry's mode kept (zipfile drops it)."""
    import zipfile

    with zipfile.ZipFile(archive_path) as archive:
        for info in archive.infolist():
            target = Path(archive.extract(info, folder))
            if mode := info.external_attr >> 16 & 0o777:
                target.chmod(mode)


def _private_mounts_work() -> str | None:
    """Why the Gradescope test cannot run here, or None."""
    if sys.platform != "linux":
        return "needs Linux mount namespaces"
    if os.geteuid() != 0:
        return "setup.sh runs as root and /autograder is bind-mounted: needs root"
    if shutil.which("unshare") is None or shutil.which("mount") is None:
        return "needs unshare(1) and mount(8)"
    probe = subprocess.run(
        ["unshare", "-m", "--propagation", "private", "true"], capture_output=True, timeout=30
    )
    if probe.returncode != 0:
        return f"unshare -m is not permitted here: {probe.stderr.decode(errors='replace')}"
    if Path("/autograder").exists() and not Path("/autograder").is_dir():
        return "/autograder exists and is not a folder"
    return None


@pytest.fixture
def autograder_mountpoint():
    """/autograder, made (empty) for the bind mount if missing, and removed after:
    yields whether it was made here."""
    if _private_mounts_work() is not None:
        yield False
        return
    made = not Path("/autograder").exists()
    if made:
        Path("/autograder").mkdir()
    try:
        yield made
    finally:
        if made:
            Path("/autograder").rmdir()  # empty: the mount was private


def test_gradescope_setup_and_run_as_gradescope_does(tmp_path, autograder_mountpoint):
    if (why := _private_mounts_work()) is not None:
        pytest.skip(why)
    zip_path = tmp_path / "autograder.zip"
    done = CliRunner().invoke(
        cli,
        ["autograder", "gradescope", "-o", str(zip_path), "--weight", "8=3", "--partial-credit"],
        obj={},
    )
    assert done.exit_code == 0, done.output

    # The folder bound to /autograder: mode 0755 so that the grading uid can reach the
    # venv through it (pytest's own folders are 0700).
    ag = tmp_path / "ag"
    ag.mkdir(mode=0o755)
    ag.chmod(0o755)
    _unzip(zip_path, ag / "source")
    for name in ("submission", "results"):
        (ag / name).mkdir()
    # Lesson 8 right, lesson 3 wrong, every other lesson the stub.
    for lesson in COURSE.lessons:
        text = SHIPPED.stub_for(lesson)
        if lesson.number == 8:
            text = _solution(8)
        elif lesson.number == 3:
            text = _solution(3).replace(*WRONG_3)
            assert text != _solution(3)
        (ag / "submission" / Path(lesson.exercise).name).write_text(text, encoding="utf-8")
    # The venv's site-packages, seeded: `python3 -m venv` keeps it, pip finds them.
    link_dependencies(site_packages(ag / "workbook-venv"))
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / "python3").symlink_to(base_python())

    # Gradescope's default container where a cgroup can be made: 0.5 CPU, 768 MB.
    try:
        group = Cgroup(0.5, 768)
    except OSError as exc:
        group = None
        why_not = f"no cgroup ({exc}): graded with this machine's limits"
    join = " ".join(f'echo $$ > "{path}/cgroup.procs";' for path in group.paths) if group else ""
    script = (
        f'mount --bind "{ag}" /autograder\n'
        "cd /autograder/source && bash ./setup.sh\n"
        "cp /autograder/source/run_autograder /autograder/run_autograder\n"
        f"{join}\n"
        "cd /autograder && exec /autograder/run_autograder\n"
    )
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("PYTHON", "VIRTUAL_ENV", "WORKBOOK", "AUTOGRADER"))
    }
    env.update(
        PATH=f"{bin_dir}:/usr/sbin:/usr/bin:/sbin:/bin",
        PIP_NO_INDEX="1",  # never the network: the dependencies are already there
        PIP_DISABLE_PIP_VERSION_CHECK="1",
        HOME=str(tmp_path),
    )
    try:
        ran = subprocess.run(
            ["unshare", "-m", "--propagation", "private", "sh", "-euc", script],
            cwd=tmp_path,
            env=env,
            capture_output=True,
            text=True,
            timeout=600,
        )
    finally:
        if group is not None:
            group.remove()
    assert ran.returncode == 0, f"{ran.stdout}\n{ran.stderr}"
    print(ran.stdout)
    assert not (ag / "source" / WHEEL_NAME).exists()  # setup.sh deleted it
    if autograder_mountpoint:  # made empty here: the mount stayed private
        assert list(Path("/autograder").iterdir()) == []

    data = json.loads((ag / "results" / "results.json").read_text(encoding="utf-8"))
    validate(data, "gradescope-results")
    assert data["extra_data"]["workbook_version"] == __version__
    tests = {int(test["number"]): test for test in data["tests"]}
    assert len(tests) == len(COURSE.lessons)
    assert (tests[1]["score"], tests[1]["status"]) == (0.0, "failed")  # the stub
    assert "not started" in tests[1]["output"]
    assert (tests[8]["score"], tests[8]["max_score"], tests[8]["status"]) == (3.0, 3.0, "passed")
    assert tests[3]["status"] == "failed" and 0 < tests[3]["score"] < 1  # partial credit
    assert "Partial credit" in tests[3]["output"] and tests[3]["output_format"] == "md"
    assert data["score"] == pytest.approx(sum(test["score"] for test in tests.values()))
    assert data["output_format"] == "md" and data["stdout_visibility"] == "hidden"
    if group is not None:
        # Gradescope's default: one lesson at a time, whatever the host's cores.
        # (The TensorFlow lessons are stubs here: no TensorFlow pool is started.)
        assert data["extra_data"]["jobs"] == {"numpy": 1}, ran.stdout
        assert "0.5 CPU, 768 MiB" in data["extra_data"]["limits"]
    else:
        print(why_not)
        assert all(width >= 1 for width in data["extra_data"]["jobs"].values())


class _Elements(HTMLParser):
    """The elements of question.html, with their attributes, as PrairieLearn finds them."""

    def __init__(self) -> None:
        super().__init__()
        self.found: list[tuple[str, dict[str, str | None]]] = []

    def handle_starttag(self, tag: str, attrs) -> None:
        self.found.append((tag, dict(attrs)))


@pytest.fixture(scope="module")
def prairielearn(tmp_path_factory) -> Path:
    """The PrairieLearn bundle for lessons 3 and 8, as the CLI makes it."""
    folder = tmp_path_factory.mktemp("pl") / "bundle"
    done = CliRunner().invoke(
        cli,
        ["autograder", "prairielearn", "-o", str(folder), "--image", "myorg/lstm-grader",
         "--lessons", "3,8"],
        obj={},
    )  # fmt: skip
    assert done.exit_code == 0, done.output
    assert f"docker build --platform linux/amd64 -t myorg/lstm-grader:{__version__}" in (
        done.output
    )
    return folder


def test_each_question_is_one_prairielearn_can_load(prairielearn):
    questions = prairielearn / "questions" / PRAIRIELEARN_QUESTIONS
    for lesson in (COURSE.lesson("3"), COURSE.lesson("8")):
        place = questions / lesson.id
        info = json.loads((place / "info.json").read_text(encoding="utf-8"))
        validate(info, "prairielearn-info-question")
        assert info["externalGradingOptions"]["image"] == f"myorg/lstm-grader:{__version__}"

        parser = _Elements()
        parser.feed((place / "question.html").read_text(encoding="utf-8"))
        tags = [tag for tag, _ in parser.found]
        assert tags.count("pl-question-panel") == 1 and "pl-external-grader-results" in tags
        [editor] = [attrs for tag, attrs in parser.found if tag == "pl-file-editor"]
        name = Path(lesson.exercise).name
        assert editor["file-name"] == name and editor["source-file-name"] == name
        # Pre-filled with the stub, the file PrairieLearn reads it from.
        assert (place / name).read_text(encoding="utf-8") == SHIPPED.stub_for(lesson)
        assert "{{" not in (place / "question.html").read_text(encoding="utf-8")

        namespace: dict = {}
        exec((place / "server.py").read_text(encoding="utf-8"), namespace)
        data: dict = {"params": {}}
        namespace["generate"](data)
        assert data["params"]["lessons"] == [lesson.id]


def _grade_folder(root: Path, lesson_id: str, files: dict[str, str]) -> Path:
    """/grade as PrairieLearn lays it out: data/data.json (with the params server.py
    set), student/ (the file editor's files)."""
    (root / "data").mkdir(parents=True)
    (root / "student").mkdir()
    data = {
        "params": {"lessons": [lesson_id]},
        "correct_answers": {},
        "submitted_answers": {"_files": [{"name": name} for name in files]},
        "format_errors": {},
        "partial_scores": {},
        "score": 0,
        "feedback": {},
        "variant_seed": 1,
        "options": {},
        "raw_submitted_answers": {},
        "gradable": True,
    }
    (root / "data" / "data.json").write_text(json.dumps(data), encoding="utf-8")
    for name, text in files.items():
        (root / "student" / name).write_text(text, encoding="utf-8")
    return root


def test_the_grader_grades_a_question_with_the_bundles_own_wheel(prairielearn, tmp_path):
    python = venv_with_wheel(tmp_path / "venv", prairielearn / "grader" / WHEEL_NAME)
    probe = subprocess.run(
        [str(python), "-c", "import workbook; print(workbook.__file__, workbook.__version__)"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=True,
    )
    where, version = probe.stdout.split()
    assert version == __version__ and Path(where).is_relative_to(tmp_path / "venv")
    entry = prairielearn / "grader" / "grade"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTHON", "WORKBOOK"))}

    def grade(root: Path) -> dict:
        (root / "tmp").mkdir()
        ran = subprocess.run(
            [str(entry)],
            cwd=tmp_path,
            env={**env, "GRADE_ROOT": str(root), "WORKBOOK_PYTHON": str(python),
                 "TMPDIR": str(root / "tmp")},
            capture_output=True,
            text=True,
            timeout=300,
        )  # fmt: skip
        assert ran.returncode == 0, ran.stderr
        data = json.loads((root / "results" / "results.json").read_text(encoding="utf-8"))
        validate(data, "prairielearn-grader-results")
        return data

    right = grade(
        _grade_folder(tmp_path / "right", "08-lstm-step", {"08-lstm-step.py": _solution(8)})
    )
    assert right["gradable"] is True and right["score"] == 1.0
    assert [test["name"] for test in right["tests"]] == ["8. " + COURSE.lesson("8").title]

    wrong = _solution(3).replace(*WRONG_3)
    graded = grade(
        _grade_folder(tmp_path / "wrong", "03-forget-gate", {"03-forget-gate.py": wrong})
    )
    assert graded["gradable"] is True and graded["score"] == 0.0
    assert "format_errors" not in graded

    broken = grade(
        _grade_folder(tmp_path / "broken", "03-forget-gate", {"03-forget-gate.py": "def f(:\n"})
    )
    assert broken["gradable"] is False and broken["score"] == 0.0
    assert broken["format_errors"][0].startswith("03-forget-gate.py, line 1")
