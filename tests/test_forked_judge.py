"""A cold judge forked by the console script (`boot.fork_judge`, Linux): what its
subject can see of the process it came from, and when a judge is started instead."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import write_solution
from tests.test_clean_room import HEAP_SCAN

pytestmark = pytest.mark.skipif(
    not sys.platform.startswith("linux"), reason="a judge is forked on Linux only"
)

LESSON = "01-activations"

# The console script's `main`, with a note of whether the judge was forked (the
# forked child never returns from `fork_judge`: only the parent prints). The service's
# link is imported before the fork, as it is when warm grading is on: a subject may
# not hold it.
CONSOLE = """
import json, sys
from workbook.grading.subject import boot
real = boot.fork_judge
def traced():
    found = real()
    print("FORKED:", json.dumps(found is not None), file=sys.stderr, flush=True)
    return found
boot.fork_judge = traced
import workbook.grading.service_link  # as `launch` imports it where grading is warm
from workbook import launch
sys.argv = ["workbook", "--workspace", sys.argv[1], "check", "1", "--json"]
launch.main()
"""

PRELUDE = (
    "with open('/proc/self/environ', 'rb') as f:\n"
    "    print('ENVIRON:', f.read().replace(b'\\0', b' ').decode())\n"
    "with open('/proc/self/cmdline', 'rb') as f:\n"
    "    print('CMDLINE:', f.read().replace(b'\\0', b' ').decode())\n" + HEAP_SCAN
)


def _clean_env(tmp_path: Path, **extra: str) -> dict[str, str]:
    """A shell's environment with markers a subject must not see."""
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(tmp_path),
        "XDG_CACHE_HOME": str(tmp_path / "cache"),
        "LANG": "C.UTF-8",
        "WORKBOOK_WARM": "0",
        "WORKBOOK_MARKER": "secret-of-the-shell",
        "PYTEST_MARKER": "pytest-of-the-shell",
        "PYTHONDONTWRITEBYTECODE": "1",
    }
    env.update(extra)
    return env


def _console_check(workspace, tmp_path: Path, *, run=None, **extra: str) -> tuple[bool, dict]:
    done = subprocess.run(
        [sys.executable, "-c", CONSOLE, str(workspace.root)],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=tmp_path,
        env=_clean_env(tmp_path, **extra),
        **(run or {}),
    )
    forked = [line for line in done.stderr.splitlines() if line.startswith("FORKED: ")]
    assert forked, done.stderr
    return json.loads(forked[0].split(" ", 1)[1]), json.loads(done.stdout)


def _line(output: str, tag: str) -> str:
    for line in output.splitlines():
        if line.startswith(f"{tag}: "):
            return line.split(": ", 1)[1]
    raise AssertionError(f"no {tag} line in {output!r}")


def test_the_subject_of_a_forked_judge_sees_nothing_of_the_console_script(workspace, tmp_path):
    """Its environment block and command line are scrubbed (they are read from the
    memory the fork copied), and its heap holds no judge code."""
    lesson = workspace.course.lesson(LESSON)
    write_solution(workspace, lesson, PRELUDE + "\n" + workspace.solution_for(lesson))
    forked, result = _console_check(workspace, tmp_path)
    assert forked
    assert result["verdict"] == "passed", result
    environ = _line(result["output"], "ENVIRON")
    for word in ("WORKBOOK", "PYTEST", "PYTHONDONTWRITEBYTECODE", "secret", str(workspace.root)):
        assert word not in environ, environ
    cmdline = _line(result["output"], "CMDLINE")
    assert str(workspace.root) not in cmdline and "--json" not in cmdline, cmdline
    assert _line(result["output"], "JUDGE") == "[]"


def test_a_forked_judge_fails_a_wrong_answer_with_its_diagnosis(workspace, tmp_path):
    lesson = workspace.course.lesson(LESSON)
    write_solution(workspace, lesson, workspace.solution_for(lesson).replace("np.tanh(x)", "1 / 0"))
    forked, result = _console_check(workspace, tmp_path)
    assert forked
    assert result["verdict"] == "failed"
    assert any("ZeroDivisionError" in check["message"] for check in result["checks"]), result


def test_a_judge_forked_from_a_console_script_without_stdin_grades(workspace, tmp_path):
    """Started with descriptor 0 closed, the console script has no `sys.stdin`; its
    forked judge reads the job all the same."""
    lesson = workspace.course.lesson(LESSON)
    write_solution(workspace, lesson)
    forked, result = _console_check(workspace, tmp_path, run={"preexec_fn": lambda: os.close(0)})
    assert forked
    assert result["verdict"] == "passed", result


ARENAS = """
import ctypes, re, threading
libc = ctypes.CDLL(None)
libc.malloc.restype = ctypes.c_void_p
def work():
    for _ in range(5000):
        libc.malloc(1000)
threads = [threading.Thread(target=work) for _ in range(8)]
for thread in threads:
    thread.start()
for thread in threads:
    thread.join()
text, size = ctypes.c_char_p(), ctypes.c_size_t()
libc.open_memstream.restype = ctypes.c_void_p
stream = libc.open_memstream(ctypes.byref(text), ctypes.byref(size))
libc.malloc_info(0, ctypes.c_void_p(stream))
libc.fclose(ctypes.c_void_p(stream))
print("ARENAS:", len(re.findall("<heap nr=", text.value.decode())))
"""


def test_the_subject_of_a_forked_judge_has_its_malloc_arenas_capped(workspace, tmp_path):
    """MALLOC_ARENA_MAX (which keeps TensorFlow's threads within the memory limit) is
    read by malloc only at start-up: the fork applies it itself."""
    lesson = workspace.course.lesson(LESSON)
    write_solution(workspace, lesson, ARENAS + "\n" + workspace.solution_for(lesson))
    forked, result = _console_check(workspace, tmp_path)
    assert forked
    assert int(_line(result["output"], "ARENAS")) <= 2, result["output"]


def test_a_forked_judge_that_fails_leaves_its_traceback(tmp_path):
    """As a started interpreter would print it: the attempt's stderr file is what a
    crash report shows."""
    done = _in_a_child(
        "pid, write = boot.fork_judge()\n"
        "os.write(write, json.dumps({'stderr': sys.argv[1], 'cwd': '.'}).encode())\n"
        "os.close(write)\n"
        "print(os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1]))\n",
        tmp_path,
        str(tmp_path / "stderr"),
    )
    assert done.stdout.strip() == "1", done.stderr
    assert "KeyError: 'job'" in (tmp_path / "stderr").read_text()


def test_under_python_optimize_the_judge_is_started_and_still_asserts(workspace, tmp_path):
    """A fork would inherit -O, which strips the checks' asserts: every wrong answer
    would pass. The started judge (`python -I`) ignores PYTHONOPTIMIZE."""
    lesson = workspace.course.lesson(LESSON)
    write_solution(workspace, lesson, workspace.solution_for(lesson).replace("np.tanh(x)", "x"))
    forked, result = _console_check(workspace, tmp_path, PYTHONOPTIMIZE="1")
    assert not forked
    assert result["verdict"] == "failed", result


@pytest.mark.parametrize(
    ("args", "env", "expected"),
    [
        ([], {}, True),
        (["-O"], {}, False),
        ([], {"PYTHONOPTIMIZE": "1"}, False),
        ([], {"PYTHONPATH": "/nowhere"}, False),
        ([], {"PYTHONWARNINGS": "error"}, False),
        (["-W", "error"], {}, False),
        (["-X", "importtime"], {}, False),
        (["-b"], {}, False),
        (["-v"], {}, False),
        ([], {"LD_PRELOAD": "libm.so.6"}, False),
        ([], {"GLIBC_TUNABLES": "glibc.malloc.arena_max=64"}, False),
        ([], {"MALLOC_CHECK_": "3"}, False),
        ([], {"LD_LIBRARY_PATH": "/nowhere"}, True),
    ],
)
def test_a_judge_is_forked_only_where_it_would_equal_a_started_one(tmp_path, args, env, expected):
    done = subprocess.run(
        [sys.executable, *args, "-c", "from workbook.grading.subject import boot\n"
         "print(boot.can_fork_judge())"],
        capture_output=True, text=True, timeout=60, env={**_clean_env(tmp_path), **env},
    )  # fmt: skip
    assert done.stdout.strip() == str(expected), done.stderr


def _in_a_child(body: str, tmp_path: Path, *args: str) -> subprocess.CompletedProcess:
    script = "import json, os, sys, threading, time\nfrom workbook.grading import spare\n"
    script += "from workbook.grading.subject import boot\n" + body
    return subprocess.run(
        [sys.executable, "-c", script, *args], capture_output=True, text=True, timeout=120,
        env=_clean_env(tmp_path),
    )  # fmt: skip


def test_no_judge_is_forked_beside_another_thread(tmp_path):
    done = _in_a_child(
        "stop = threading.Event()\n"
        "threading.Thread(target=stop.wait).start()\n"
        "print(json.dumps([boot.can_fork_judge(), boot.fork_judge()]))\n"
        "stop.set()\n",
        tmp_path,
    )
    assert json.loads(done.stdout) == [False, None], done.stderr


def test_a_forked_judge_holds_no_descriptor_of_its_parent_but_its_stdin(tmp_path):
    """A fork copies every descriptor, close-on-exec or not: the judge keeps only its
    job pipe and /dev/null, in a session of its own."""
    done = _in_a_child(
        f"private = os.open({str(tmp_path / 'private')!r}, os.O_CREAT | os.O_RDWR)\n"
        f"handed = os.open({str(tmp_path / 'handed')!r}, os.O_CREAT | os.O_RDWR)\n"
        "os.set_inheritable(handed, True)\n"
        "pid, write = boot.fork_judge()\n"
        "deadline = time.monotonic() + 60\n"
        "while open(f'/proc/{pid}/cmdline', 'rb').read().split(b'\\0')[0] != b'workbook-judge':\n"
        "    assert time.monotonic() < deadline, 'the judge never scrubbed its start-up block'\n"
        "    time.sleep(0.001)\n"
        "fds = {}\n"
        "for fd in os.listdir(f'/proc/{pid}/fd'):\n"
        "    try:\n"
        "        fds[int(fd)] = os.readlink(f'/proc/{pid}/fd/{fd}')\n"
        "    except FileNotFoundError:\n"
        "        pass\n"
        "print(json.dumps([fds, os.getsid(pid) == pid != os.getsid(0)]))\n"
        "child = spare.SpareChild.adopt(pid, write)\n"
        "spare.kill_group(child)\n",
        tmp_path,
    )
    assert done.returncode == 0, done.stderr
    fds, own_session = json.loads(done.stdout)
    assert own_session
    assert str(tmp_path / "private") not in fds.values()
    assert str(tmp_path / "handed") not in fds.values()
    assert fds["0"].startswith("pipe:")
    assert fds["1"] == fds["2"] == os.devnull


def test_a_forked_judge_discarded_at_once_is_killed_and_reaped(tmp_path):
    """Killed before it made its own session (its group does not exist yet), it must
    still be killed and reaped, not waited for."""
    done = _in_a_child(
        "codes = []\n"
        "for _ in range(10):\n"
        "    spare.prestart(boot.fork_judge())\n"
        "    child = spare._spare\n"
        "    spare.discard()\n"
        "    codes.append(child.returncode)\n"
        "print(json.dumps(codes))\n",
        tmp_path,
    )
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == [-9] * 10
