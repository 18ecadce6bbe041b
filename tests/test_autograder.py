"""Course-platform bundles: the Gradescope autograder and the PrairieLearn grader.

Each entry point runs as the platform would run it (the bundle's own script, in a
subprocess), in a temporary root (`AUTOGRADER_ROOT`, `GRADE_ROOT`), on a correct, a
wrong and two hostile submissions. A hostile one must earn exactly what its honest
files deserve: its attack is wrapped so that, failed or not, the honest part is graded
as it stands. Only lessons 1-3 carry code (the rest are stubs, graded without a
process), to keep this quick. Results are checked against the platforms' schemas
(tests/data/platforms); the bundles' points, visibility and partial credit against
the course's [grading] table and the commands' flags.
"""

from __future__ import annotations

import io
import json
import os
import shlex
import stat
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
from click.testing import CliRunner

from tests.platform_support import validate
from workbook import __version__
from workbook.cli import cli
from workbook.grading.results import Verdict
from workbook.instructor.autograder import PRAIRIELEARN_QUESTIONS, WHEEL_NAME

TANH = "    return np.tanh(x)\n"
# Honest verdicts of the files below, per lesson number (1 = passed).
CORRECT, WRONG = "correct", "wrong"

# The exercise writes the progress store: 'passed' for every lesson, into any
# .workbook/progress.db found walking up from its working folder, and a new one there.
STORE_ATTACK = """
def _forge_store():
    import os, sqlite3, time
    here = os.getcwd()
    places = [os.path.join(here, ".workbook")]
    while True:
        if os.path.isfile(os.path.join(here, ".workbook", "progress.db")):
            places.append(os.path.join(here, ".workbook"))
        if os.path.dirname(here) == here:
            break
        here = os.path.dirname(here)
    for place in places:
        try:
            os.makedirs(place, exist_ok=True)
            db = sqlite3.connect(os.path.join(place, "progress.db"))
            db.execute("CREATE TABLE IF NOT EXISTS attempts (id INTEGER PRIMARY KEY, at TEXT, "
                       "lesson TEXT, verdict TEXT, failing TEXT DEFAULT '[]', duration_s REAL, "
                       "hints_shown INTEGER DEFAULT 0, summary TEXT DEFAULT '')")
            for n in LESSON_IDS:
                db.execute("INSERT INTO attempts (at, lesson, verdict, duration_s) "
                           "VALUES (?, ?, 'passed', 0.1)", (time.strftime("%FT%T"), n))
            db.commit()
            db.close()
        except Exception:
            pass


try:
    _forge_store()
except Exception:
    pass
"""

# The exercise drops a conftest.py that makes every check pass without running it.
CONFTEST_ATTACK = '''
_EVERYTHING_PASSES = """
import pytest

@pytest.hookimpl(tryfirst=True)
def pytest_pyfunc_call(pyfuncitem):
    return True
"""
for _place in ("../conftest.py", "conftest.py"):
    try:
        with open(_place, "w") as _handle:
            _handle.write(_EVERYTHING_PASSES)
    except Exception:
        pass
'''


def _file(repo_workspace, number: int, kind: str, attack: str = "") -> str:
    lesson = repo_workspace.course.lessons[number - 1]
    text = repo_workspace.solution_for(lesson)
    if kind == WRONG:
        wrong = {
            1: (TANH, "    return x\n"),
            2: ("return np.vstack((h_prev, x_t))", "return np.vstack((x_t, h_prev))"),
            3: ("return sigmoid(np.dot(W_f, z) + b_f)", "return sigmoid(np.dot(W_f, z))"),
        }[number]
        assert wrong[0] in text, (number, wrong[0])
        text = text.replace(wrong[0], wrong[1])
    if attack:
        ids = [one.id for one in repo_workspace.course.lessons]
        text += f"\nLESSON_IDS = {ids!r}\n{attack}"
    return text


def _submission(repo_workspace, folder: Path, files: dict[int, str], *, under: bool) -> Path:
    """Lessons in `files` with that text, every other lesson its untouched stub; at the
    top level of `folder` or under exercises/."""
    target = folder / "exercises" if under else folder
    target.mkdir(parents=True)
    for lesson in repo_workspace.course.lessons:
        text = files.get(lesson.number, repo_workspace.stub_for(lesson))
        (target / Path(lesson.exercise).name).write_text(text, encoding="utf-8")
    return folder


SUBMISSIONS = {
    # name: ({lesson: (kind, attack)}, under exercises/?, lessons that must pass)
    "correct": ({1: (CORRECT, ""), 2: (CORRECT, ""), 3: (CORRECT, "")}, False, {1, 2, 3}),
    "wrong": ({1: (WRONG, ""), 2: (CORRECT, ""), 3: (WRONG, "")}, True, {2}),
    "hostile-store": ({1: (CORRECT, STORE_ATTACK), 2: (WRONG, STORE_ATTACK)}, False, {1}),
    "hostile-conftest": (
        {1: (CORRECT, CONFTEST_ATTACK), 2: (WRONG, CONFTEST_ATTACK), 3: (WRONG, "")},
        True,
        {1},
    ),
}


@pytest.fixture(scope="module")
def bundles(tmp_path_factory) -> dict[str, Path]:
    """Both bundles, built by the CLI as an instructor would; the Gradescope zip
    unzipped as Gradescope does (into source/, modes kept)."""
    root = tmp_path_factory.mktemp("bundles")
    runner = CliRunner()
    done = runner.invoke(cli, ["autograder", "gradescope", "-o", str(root / "ag.zip")], obj={})
    assert done.exit_code == 0, done.output
    done = runner.invoke(cli, ["autograder", "prairielearn", "-o", str(root / "pl")], obj={})
    assert done.exit_code == 0, done.output
    unzip(root / "ag.zip", root / "source")
    return {
        "zip": root / "ag.zip",
        "gs_run": root / "source" / "run_autograder",
        "pl": root / "pl",
        "pl_grade": root / "pl" / "grader" / "grade",
    }


def unzip(archive_path: Path, folder: Path) -> None:
    """Extract a zip keeping each entry's mode (as `unzip` does; zipfile drops it)."""
    with zipfile.ZipFile(archive_path) as archive:
        for info in archive.infolist():
            target = Path(archive.extract(info, folder))
            mode = info.external_attr >> 16 & 0o777
            if mode:
                target.chmod(mode)


def _env(**extra: str) -> dict[str, str]:
    env = {**os.environ, "WORKBOOK_PYTHON": sys.executable, **extra}
    env.pop("PYTHONPATH", None)
    return env


def _run(command: list[str], root: Path, inbox: str, root_var: str, submission) -> dict:
    """Lay out a platform root (the submission in root/inbox), run the platform's entry
    script in it as the platform would, and read the results.json it wrote."""
    (root / "tmp").mkdir(parents=True)
    if submission is not None:
        submission.rename(root / inbox)
    else:
        (root / inbox).mkdir()
    done = subprocess.run(
        command,
        env=_env(**{root_var: str(root)}, TMPDIR=str(root / "tmp")),
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stderr
    return json.loads((root / "results" / "results.json").read_text(encoding="utf-8"))


def run_gradescope(bundles, root: Path, submission: Path | None = None) -> dict:
    """The bundle's run_autograder, with /autograder moved to root."""
    return _run(["bash", str(bundles["gs_run"])], root, "submission", "AUTOGRADER_ROOT", submission)


def run_prairielearn(bundles, root: Path, submission: Path | None = None) -> dict:
    """The grader's entry point, with /grade moved to root."""
    return _run([str(bundles["pl_grade"])], root, "student", "GRADE_ROOT", submission)


def assert_gradescope_format(data: dict, lessons: int) -> None:
    """Gradescope's documented results.json (the schema), and this bundle's defaults:
    one test per lesson, 1 point each, all or nothing, Markdown."""
    validate(data, "gradescope-results")
    assert isinstance(data["execution_time"], (int, float)) and data["execution_time"] > 0
    assert data["output"] and data["output_format"] == "md"
    assert len(data["tests"]) == lessons
    for number, test in enumerate(data["tests"], start=1):
        assert set(test) >= {"name", "number", "score", "max_score", "status", "output"}
        assert test["number"] == str(number) and test["name"].startswith(f"{number}. ")
        assert test["max_score"] == 1.0 and test["score"] in (0.0, 1.0)
        assert test["status"] == ("passed" if test["score"] else "failed")
        assert test["output"] and test["output_format"] == "md"
    assert data["score"] == sum(test["score"] for test in data["tests"])


def assert_prairielearn_format(data: dict, lessons: int) -> None:
    """PrairieLearn's documented external-grader results.json (the schema)."""
    validate(data, "prairielearn-grader-results")
    assert isinstance(data["gradable"], bool)
    assert isinstance(data["message"], str) and isinstance(data["output"], str)
    assert len(data["tests"]) == lessons
    for test in data["tests"]:
        assert set(test) >= {"name", "description", "points", "max_points", "message", "output"}
        assert test["max_points"] == 1 and test["points"] in (0, 1)
    earned = sum(test["points"] for test in data["tests"])
    assert data["score"] == pytest.approx(earned / lessons)
    assert ("format_errors" in data) == (not data["gradable"])


@pytest.mark.parametrize("name", list(SUBMISSIONS))
@pytest.mark.parametrize("platform", ["gradescope", "prairielearn"])
def test_each_submission_earns_what_its_honest_files_deserve(
    platform, name, bundles, repo_workspace, tmp_path
):
    spec, under, deserved = SUBMISSIONS[name]
    files = {n: _file(repo_workspace, n, kind, attack) for n, (kind, attack) in spec.items()}
    submission = _submission(repo_workspace, tmp_path / "upload", files, under=under)
    lessons = len(repo_workspace.course.lessons)
    if platform == "gradescope":
        data = run_gradescope(bundles, tmp_path / "autograder", submission)
        assert_gradescope_format(data, lessons)
        earned = {int(t["number"]) for t in data["tests"] if t["status"] == "passed"}
        outputs = [t["output"] for t in data["tests"]]
    else:
        data = run_prairielearn(bundles, tmp_path / "grade", submission)
        assert_prairielearn_format(data, lessons)
        assert data["gradable"] is True
        earned = {n for n, t in enumerate(data["tests"], start=1) if t["points"]}
        outputs = [t["output"] for t in data["tests"]]
    assert earned == deserved, outputs[:3]
    for number in range(4, lessons + 1):  # the stubs
        assert "not started" in outputs[number - 1]


def test_a_wrong_lesson_says_what_is_wrong(bundles, repo_workspace, tmp_path):
    files = {1: _file(repo_workspace, 1, WRONG)}
    submission = _submission(repo_workspace, tmp_path / "upload", files, under=False)
    data = run_gradescope(bundles, tmp_path / "autograder", submission)
    first = data["tests"][0]
    assert first["status"] == "failed" and "tanh" in first["output"]
    total = len(data["tests"])
    assert data["output"].endswith(f"0 of {total} lessons passed, 0 of {total} points.")
    assert "```" in first["output"]  # the diagnosis in a code block


def test_an_empty_or_linked_submission_is_reported_not_followed(bundles, tmp_path):
    empty = run_prairielearn(bundles, tmp_path / "empty")
    assert empty["gradable"] is False and "No exercise file" in empty["message"]
    assert_prairielearn_format(empty, len(empty["tests"]))
    assert len(empty["format_errors"]) == len(empty["tests"])
    assert "01-activations.py: not submitted" in empty["format_errors"][0]

    secret = tmp_path / "secret.py"
    secret.write_text("def sigmoid(x):\n    return x\n", encoding="utf-8")
    upload = tmp_path / "upload" / "exercises"
    upload.mkdir(parents=True)
    (upload / "01-activations.py").symlink_to(secret)
    os.mkfifo(upload / "02-concat.py")
    data = run_gradescope(bundles, tmp_path / "autograder", upload.parent)
    first, second = data["tests"][:2]
    assert "symbolic link" in first["output"] and first["status"] == "failed"
    assert "named pipe" in second["output"] and second["status"] == "failed"
    assert "symbolic link" in data["output"]


def test_gradescope_zip_installs_this_exact_workbook(bundles, tmp_path):
    with zipfile.ZipFile(bundles["zip"]) as archive:
        names = set(archive.namelist())
        assert names == {"setup.sh", "run_autograder", "README.md", WHEEL_NAME}
        for script in ("setup.sh", "run_autograder"):
            mode = archive.getinfo(script).external_attr >> 16
            assert mode & stat.S_IXUSR, script
        setup = archive.read("setup.sh").decode()
        run = archive.read("run_autograder").decode()
        (tmp_path / WHEEL_NAME).write_bytes(archive.read(WHEEL_NAME))
    assert f"!= '{__version__}'" in setup
    assert "python3.11" in setup  # Gradescope's Ubuntu 22.04 image has Python 3.10
    assert "-m workbook.instructor.autograder gradescope-run" in run
    # The memory it needs is written where the instructor looks: setup.sh and the README.
    readme = zipfile.ZipFile(bundles["zip"]).read("README.md").decode()
    for text in (setup, readme):
        assert "768 MB" in text and "Autograder Settings" in text
        assert "500 MiB" in text  # a TensorFlow lesson's budget
    for script in (setup, run):  # both parse as bash
        subprocess.run(["bash", "-n"], input=script, text=True, check=True)

    # The wheel installs offline (dependencies aside) and carries the course.
    target = tmp_path / "site"
    subprocess.run(
        [sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--no-index",
         "--target", str(target), str(tmp_path / WHEEL_NAME)],
        check=True,
    )  # fmt: skip
    probe = subprocess.run(
        [sys.executable, "-I", "-c",
         "import sys; sys.path.insert(0, sys.argv[1]); import workbook; "
         "from workbook.workspace import bundled_root; print(workbook.__version__, bundled_root())",
         str(target)],
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    version, root = probe.stdout.split()
    assert version == __version__ and Path(root) == target / "workbook" / "_bundled"
    assert (Path(root) / "checks" / "01-activations.py").is_file()
    metadata = next(target.glob("lstm_workbook-*.dist-info")) / "METADATA"
    text = metadata.read_text(encoding="utf-8")
    assert f"Version: {__version__}" in text and "Requires-Dist: numpy" in text


def test_prairielearn_folder_builds_an_image_of_this_workbook(bundles, repo_workspace):
    folder = bundles["pl"]
    dockerfile = (folder / "grader" / "Dockerfile").read_text(encoding="utf-8")
    assert "FROM python:3.11" in dockerfile and f"pip install --no-cache-dir /tmp/{WHEEL_NAME}" in (
        dockerfile
    )
    assert (folder / "grader" / WHEEL_NAME).is_file()
    assert os.access(folder / "grader" / "grade", os.X_OK)
    assert sorted(p.name for p in folder.iterdir()) == [
        "README.md",
        "build-image.sh",
        "grader",
        "questions",
    ]
    questions = folder / "questions" / PRAIRIELEARN_QUESTIONS
    lessons = repo_workspace.course.lessons
    assert sorted(p.name for p in questions.iterdir()) == [lesson.id for lesson in lessons]
    image = f"YOUR-DOCKERHUB-USER/lstm-workbook-grader:{__version__}"
    for lesson in lessons:
        info = json.loads((questions / lesson.id / "info.json").read_text(encoding="utf-8"))
        validate(info, "prairielearn-info-question")
        assert info["type"] == "v3" and info["gradingMethod"] == "External"
        options = info["externalGradingOptions"]
        assert options["image"] == image and options["entrypoint"] == "/opt/workbook/grade"
        assert options["enabled"] is True and 60 <= options["timeout"] <= 600
    # Every place that names the image names it with the version, built for amd64.
    build = f"docker build --platform linux/amd64 -t {image}"
    assert build in (folder / "build-image.sh").read_text(encoding="utf-8")
    assert build in (folder / "README.md").read_text(encoding="utf-8")
    assert f"-t IMAGE:{__version__}" in dockerfile


def test_question_ids_stay_put_and_timeouts_cover_the_graders_limits(repo_workspace):
    """A question's uuid depends on its lesson only (PrairieLearn keys its history on
    it); its timeout covers the lesson's worst case under the grader's CPU limits."""
    from workbook.grading.runner import limits_for
    from workbook.instructor.autograder import question_timeout, question_uuid

    lessons = repo_workspace.course.lessons
    ids = [question_uuid(lesson) for lesson in lessons]
    assert len(set(ids)) == len(ids) and ids == [question_uuid(lesson) for lesson in lessons]
    for lesson in lessons:
        limits = limits_for(lesson)
        worst = (limits["startup_s"] + limits["total_s"]) / 0.9
        assert worst < question_timeout([lesson]) <= 600, lesson.id
    assert question_timeout(lessons) == 600  # the whole course: PrairieLearn's maximum


def _commands(script: str) -> list[tuple[str, list[str]]]:
    """The simple commands of a shell script, in order: (the separator before it, its
    words). Comments dropped, continued lines joined; `&&`, `||`, `;`, `|` and newlines
    separate commands."""
    commands: list[tuple[str, list[str]]] = []
    for line in script.replace("\\\n", " ").splitlines():
        lexer = shlex.shlex(line, posix=True, punctuation_chars=True)
        lexer.whitespace_split = True
        separator, words = "\n", []
        for token in lexer:
            if token in ("&&", "||", ";", "|"):
                if words:
                    commands.append((separator, words))
                separator, words = token, []
            else:
                words.append(token)
        if words:
            commands.append((separator, words))
    return commands


def _dockerfile(text: str) -> list[tuple[str, str]]:
    """A Dockerfile's instructions, in order: (INSTRUCTION, arguments), with comment
    lines dropped and continued lines joined, as Docker reads them."""
    instructions: list[tuple[str, str]] = []
    current = ""
    for line in text.splitlines():
        if line.lstrip().startswith("#"):
            continue
        if line.rstrip().endswith("\\"):
            current += line.rstrip()[:-1] + " "
            continue
        current = (current + line).strip()
        if current:
            keyword, _, arguments = current.partition(" ")
            instructions.append((keyword.upper(), arguments.strip()))
        current = ""
    return instructions


def test_gradescope_setup_deletes_the_wheel_once_installed(bundles):
    """The wheel carries the references and the checks: after setup.sh, only the
    installed package (which the sandbox hides) may hold them, not /autograder/source."""
    with zipfile.ZipFile(bundles["zip"]) as archive:
        commands = _commands(archive.read("setup.sh").decode())
    words = [command for _, command in commands]
    stops_on_error = [i for i, c in enumerate(words) if c[0] == "set" and "-euo" in c]
    at = [i for i, command in enumerate(words) if any(WHEEL_NAME in w for w in command)]
    assert len(at) == 2, [words[i] for i in at]  # installed, then deleted; nothing else
    install, remove = (words[i] for i in at)
    assert stops_on_error and stops_on_error[0] < at[0]  # set -e: no rm after a failed install
    assert install[0].endswith("/workbook-venv/bin/pip") and install[1] == "install"
    assert install[-1] == f"./{WHEEL_NAME}" and "--no-cache-dir" in install
    assert remove[0] == "rm" and remove[-1] == install[-1]
    # Both in the folder setup.sh moved to (its own, /autograder/source), never left.
    cds = [i for i, command in enumerate(words) if command[0] == "cd"]
    assert len(cds) == 1 and cds[0] < at[0] and words[cds[0]][1] == "$(dirname $0)"


def test_prairielearn_image_keeps_no_wheel(bundles):
    """The Dockerfile installs the wheel from /tmp and deletes it in that same RUN (one
    layer); the only file of the build folder the container keeps is `grade`."""
    dockerfile = bundles["pl"] / "grader" / "Dockerfile"
    instructions = _dockerfile(dockerfile.read_text(encoding="utf-8"))
    assert instructions[0] == ("FROM", "python:3.11-slim")
    assert not [i for i in instructions if i[0] in ("ADD", "VOLUME")]
    labels = " ".join(" ".join(args.split()) for kind, args in instructions if kind == "LABEL")
    assert f'org.opencontainers.image.version="{__version__}"' in labels
    kept: dict[str, str] = {}  # path in the image: the build folder's file
    wheel_runs = []
    for keyword, arguments in instructions:
        if keyword == "COPY":
            *sources, dest = shlex.split(arguments)
            assert not any(source.startswith("--") for source in sources), arguments
            for source in sources:
                kept[dest + source if dest.endswith("/") else dest] = source
        elif keyword == "RUN":
            commands = _commands(arguments)
            for _, command in commands:
                if command[0] == "rm":
                    for target in command[1:]:
                        kept.pop(target, None)
            if WHEEL_NAME in arguments:
                wheel_runs.append(commands)
    assert kept == {"/opt/workbook/grade": "grade"}
    [commands] = wheel_runs  # installed and deleted in one RUN, so in one layer
    wheel = f"/tmp/{WHEEL_NAME}"
    at = [i for i, (_, command) in enumerate(commands) if wheel in command]
    assert [commands[i][1][:2] for i in at] == [["pip", "install"], ["rm", wheel]]
    assert all(separator == "&&" for separator, _ in commands[1:])  # a failure stops the build


def _secret_lines(repo_workspace) -> set[str]:
    """Lines that give a reference solution or a check away: those of 20 characters or
    more in course/solutions and checks/ that nothing learners get holds (a stub, or
    anywhere in a lesson's text, which the PrairieLearn questions show)."""
    root = repo_workspace.root
    given = {
        line.strip()
        for lesson in repo_workspace.course.lessons
        for text in (repo_workspace.stub_for(lesson), lesson.text)
        for line in text.splitlines()
    }
    files = [*(root / "course" / "solutions").glob("*.py"), *(root / "checks").glob("*.py")]
    assert len(files) > 40
    texts = "\n".join(lesson.text for lesson in repo_workspace.course.lessons)
    return {
        line.strip()
        for path in files
        for line in path.read_text(encoding="utf-8").splitlines()
        if len(line.strip()) >= 20 and line.strip() not in given and line.strip() not in texts
    }


def test_only_the_wheel_carries_solutions_or_checks(bundles, repo_workspace):
    """Every other file of both bundles is plain text with no line of a reference
    solution or a check (and no archive inside): what the container keeps of them
    (setup.sh, run_autograder, grade) gives nothing away."""
    secret = _secret_lines(repo_workspace)
    files: dict[str, bytes] = {}
    with zipfile.ZipFile(bundles["zip"]) as archive:
        for name in archive.namelist():
            files[f"gradescope:{name}"] = archive.read(name)
    for path in sorted(bundles["pl"].rglob("*")):
        if path.is_file():
            files[f"prairielearn:{path.relative_to(bundles['pl']).as_posix()}"] = path.read_bytes()
    wheels = [name for name in files if name.endswith(WHEEL_NAME)]
    assert wheels == ["gradescope:" + WHEEL_NAME, f"prairielearn:grader/{WHEEL_NAME}"]
    questions = [name for name in files if name.endswith("/question.html")]
    assert len(questions) == len(repo_workspace.course.lessons)

    for name, data in files.items():
        if name.endswith(WHEEL_NAME):
            # The detector finds what the wheel does carry.
            with zipfile.ZipFile(io.BytesIO(data)) as wheel:
                inside = b"\n".join(wheel.read(n) for n in wheel.namelist()).decode("utf-8")
            assert len(secret & {line.strip() for line in inside.splitlines()}) == len(secret)
            continue
        assert b"PK\x03\x04" not in data, name
        text = data.decode("utf-8")
        assert [line for line in secret if line in text] == [], name


def test_a_question_grades_only_its_lessons(bundles, repo_workspace, tmp_path):
    """PrairieLearn questions name their lessons in params (data.json)."""
    files = {2: _file(repo_workspace, 2, CORRECT)}
    submission = _submission(repo_workspace, tmp_path / "upload", files, under=False)
    data_json = tmp_path / "grade" / "data" / "data.json"
    data_json.parent.mkdir(parents=True)
    data_json.write_text(json.dumps({"params": {"lessons": [2]}}), encoding="utf-8")
    data = run_prairielearn(bundles, tmp_path / "grade", submission)
    assert [t["name"][:3] for t in data["tests"]] == ["2. "]
    assert data["score"] == 1.0 and data["gradable"] is True


@pytest.mark.parametrize("under", [False, True], ids=["files", "exercises"])
def test_a_submission_zipped_inside_one_folder_is_found(repo_workspace, tmp_path, under):
    """Uploads often arrive wrapped (`lstm-main/exercises/…`), with macOS's __MACOSX."""
    from workbook.instructor.autograder import grade_submission

    upload = tmp_path / "upload"
    files = {1: _file(repo_workspace, 1, CORRECT)}
    _submission(repo_workspace, upload / "lstm-main", files, under=under)
    (upload / "__MACOSX").mkdir()
    graded = grade_submission(upload, lessons=["1"])
    verdicts = {lesson.number: result.verdict for lesson, result in graded.results}
    assert verdicts == {1: Verdict.PASSED}


def test_a_stubbed_tensorflow_lesson_starts_no_tensorflow_pool(repo_workspace, tmp_path):
    """Only lessons with code to run get TensorFlow's budget: a TensorFlow lesson left
    as the stub (or missing) is graded without a process, in the NumPy pool."""
    from workbook.instructor.autograder import grade_submission

    files = {1: _file(repo_workspace, 1, CORRECT)}
    upload = _submission(repo_workspace, tmp_path / "upload", files, under=False)
    (upload / "18-keras-predict-next.py").unlink()
    graded = grade_submission(upload, lessons=["1", "17", "18"])
    verdicts = {lesson.number: result.verdict for lesson, result in graded.results}
    assert verdicts[1] == Verdict.PASSED and verdicts[17] == Verdict.NOT_STARTED
    assert graded.results[2][1].error.kind == "missing"
    assert set(graded.jobs) == {"numpy"}


def test_a_gradescope_bundle_for_some_lessons_reports_only_those(repo_workspace, tmp_path):
    """`workbook autograder gradescope --lessons 1,3` (issue 20): the run grades and
    reports lessons 1 and 3 only, and the assignment's maximum is theirs (2 points)."""
    done = CliRunner().invoke(
        cli,
        ["autograder", "gradescope", "-o", str(tmp_path / "ag.zip"), "--lessons", "1,3"],
        obj={},
    )
    assert done.exit_code == 0, done.output
    unzip(tmp_path / "ag.zip", tmp_path / "source")
    readme = (tmp_path / "source" / "README.md").read_text(encoding="utf-8")
    assert "Set the assignment's total to 2 points" in readme
    assert "| 3. Forget gate" in readme and "| 2. " not in readme
    # Lesson 2 is handed in and correct, but not chosen: neither graded nor reported.
    files = {n: _file(repo_workspace, n, CORRECT) for n in (1, 2)}
    files[3] = _file(repo_workspace, 3, WRONG)
    submission = _submission(repo_workspace, tmp_path / "upload", files, under=False)
    bundle = {"gs_run": tmp_path / "source" / "run_autograder"}
    data = run_gradescope(bundle, tmp_path / "autograder", submission)
    validate(data, "gradescope-results")
    assert [t["number"] for t in data["tests"]] == ["1", "3"]
    assert sum(t["max_score"] for t in data["tests"]) == 2.0
    assert data["score"] == 1.0
    assert data["output"].endswith("1 of 2 lessons passed, 1 of 2 points.")

    wrong = CliRunner().invoke(
        cli, ["autograder", "gradescope", "-o", str(tmp_path / "x.zip"), "--lessons", "0"], obj={}
    )
    assert wrong.exit_code == 2 and "unknown lesson '0'" in wrong.output
    assert not (tmp_path / "x.zip").exists()
