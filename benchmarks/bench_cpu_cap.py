"""Grading with a fifth of a core: the references of the given lessons, timed.

Issue 8: on a busy machine correct Keras and GRU solutions timed out, because the
wall-clock limit also paid for `import tensorflow`. Busy loops beside the grader do
not reproduce that reliably (TensorFlow's import threads win a larger share), a CPU
cgroup does: this script makes a cgroup v1 `cpu` group limited to QUOTA/PERIOD of one
core, runs a fresh interpreter whose first act is to join it (so the judge and the
subject it forks are capped too), grades each lesson's reference solution in a new
workspace there, and prints the verdict and the wall time per lesson. The group is
removed afterwards.

    sudo .venv/bin/python benchmarks/bench_cpu_cap.py 12 16 17 18 19 20 21
    sudo .venv/bin/python benchmarks/bench_cpu_cap.py --pytest            # Keras/GRU tests
    sudo .venv/bin/python benchmarks/bench_cpu_cap.py --pytest -k "gru or 18-keras"

`--pytest` instead runs tests/test_lessons.py (default selection: the GRU and Keras
lessons, `-k "gru or keras"`) under the same cap and prints pytest's summary.

Needs root and cgroup v1 with the cpu controller at /sys/fs/cgroup/cpu (the dev and
CI machines); elsewhere it says why it cannot run. tests/test_cpu_cap.py uses the
helpers here.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CPU_ROOT = Path("/sys/fs/cgroup/cpu")
PERIOD_US = 100_000
QUOTA_US = 20_000  # a fifth of one core
DEFAULT_LESSONS = ["12", "16", "17", "18", "19", "20", "21"]

# Run in the capped interpreter: join the group first (before anything is imported,
# so the whole grading, start-up included, is capped), then grade each reference.
GRADE_SCRIPT = r"""
import os, sys
with open(os.path.join(sys.argv[1], "cgroup.procs"), "w") as stream:
    stream.write(str(os.getpid()))
import json, shutil, tempfile, time
from pathlib import Path
from workbook.grading.runner import grade
from workbook.workspace import init_workspace

folder = Path(tempfile.mkdtemp(prefix="workbook-cpu-cap-"))
try:
    workspace = init_workspace(folder / "ws")
    for ref in sys.argv[2:]:
        lesson = workspace.course.lesson(ref)
        workspace.path(lesson.exercise).write_text(
            workspace.solution_for(lesson), encoding="utf-8")
        started = time.perf_counter()
        result = grade(workspace, lesson)
        print(json.dumps({
            "lesson": lesson.id,
            "verdict": result.verdict.value,
            "wall_s": round(time.perf_counter() - started, 2),
            "error": None if result.error is None else result.error.message,
            "checks": [[c.id, c.outcome] for c in result.checks],
            "protection": (result.protection or {}).get("label"),
        }), flush=True)
finally:
    shutil.rmtree(folder, ignore_errors=True)
"""

# Join the group, then become pytest.
PYTEST_SCRIPT = r"""
import os, sys
with open(os.path.join(sys.argv[1], "cgroup.procs"), "w") as stream:
    stream.write(str(os.getpid()))
os.execv(sys.executable, [sys.executable, "-m", "pytest", *sys.argv[2:]])
"""


class CapUnavailable(Exception):
    """No CPU cgroup can be made here; the message says why."""


def cap_unavailable_reason() -> str | None:
    """Why a capped group cannot be made on this machine (None: it can)."""
    if not sys.platform.startswith("linux"):
        return "CPU cgroups are Linux-only"
    if not (CPU_ROOT / "cpu.cfs_quota_us").exists():
        return f"no cgroup v1 cpu controller at {CPU_ROOT} (cgroup v2 or none)"
    if os.geteuid() != 0 and not os.access(CPU_ROOT, os.W_OK):
        return f"making a group under {CPU_ROOT} needs root"
    return None


@contextlib.contextmanager
def cpu_cap(quota_us: int = QUOTA_US, period_us: int = PERIOD_US) -> Iterator[Path]:
    """A fresh cgroup v1 cpu group limited to quota/period of a core; removed on exit
    (any process of ours still in it is moved back to the root group first)."""
    reason = cap_unavailable_reason()
    if reason:
        raise CapUnavailable(reason)
    group = CPU_ROOT / f"workbook-cpu-cap-{os.getpid()}-{time.monotonic_ns()}"
    try:
        group.mkdir()
    except OSError as exc:
        raise CapUnavailable(f"cannot make {group}: {exc}") from None
    try:
        (group / "cpu.cfs_period_us").write_text(str(period_us))
        (group / "cpu.cfs_quota_us").write_text(str(quota_us))
        yield group
    finally:
        _remove_group(group)


def _remove_group(group: Path) -> None:
    for _ in range(50):
        try:
            group.rmdir()
            return
        except OSError:
            # Stragglers of the run (a grading process being reaped): back to the root.
            with contextlib.suppress(OSError):
                for pid in (group / "cgroup.procs").read_text().split():
                    with contextlib.suppress(OSError):
                        (CPU_ROOT / "cgroup.procs").write_text(pid)
            time.sleep(0.1)
    print(f"warning: could not remove {group}", file=sys.stderr)


def throttling(group: Path) -> dict[str, int]:
    """The group's cpu.stat: periods, throttled periods, throttled nanoseconds."""
    stat = {}
    with contextlib.suppress(OSError):
        for line in (group / "cpu.stat").read_text().splitlines():
            name, _, value = line.partition(" ")
            with contextlib.suppress(ValueError):
                stat[name] = int(value)
    return stat


def grade_capped(group: Path, lessons: list[str], timeout_s: float = 1800) -> list[dict]:
    """Grade the references of `lessons` in a fresh interpreter inside `group`."""
    proc = subprocess.run(
        [sys.executable, "-c", GRADE_SCRIPT, str(group), *lessons],
        capture_output=True,
        text=True,
        timeout=timeout_s,
        cwd=ROOT,
    )
    rows = []
    for line in proc.stdout.splitlines():
        with contextlib.suppress(json.JSONDecodeError):
            rows.append(json.loads(line))
    if proc.returncode != 0 or len(rows) != len(lessons):
        raise RuntimeError(
            f"the capped grading run failed (exit {proc.returncode}):\n"
            f"{proc.stdout[-2000:]}\n{proc.stderr[-4000:]}"
        )
    return rows


def pytest_capped(group: Path, args: list[str]) -> int:
    """Run pytest with `args` inside `group`, its output shown as it comes."""
    return subprocess.run(
        [sys.executable, "-c", PYTEST_SCRIPT, str(group), *args], cwd=ROOT
    ).returncode


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("lessons", nargs="*", help="lesson numbers or ids (default: 12, 16-21)")
    parser.add_argument("--quota-us", type=int, default=QUOTA_US, help="of a 100 ms period")
    parser.add_argument("--pytest", action="store_true", help="run tests/test_lessons.py")
    parser.add_argument("-k", default="gru or keras", help="with --pytest: the selection")
    args = parser.parse_args()
    share = args.quota_us / PERIOD_US
    try:
        with cpu_cap(args.quota_us) as group:
            if args.pytest:
                pytest_args = ["-n", "0", "-q", "tests/test_lessons.py", "-k", args.k]
                print(f"pytest {' '.join(pytest_args)} at {share:.2f} of a core", flush=True)
                started = time.perf_counter()
                code = pytest_capped(group, pytest_args)
                stat = throttling(group)
                print(
                    f"wall time {time.perf_counter() - started:.0f} s, exit code {code}, "
                    f"throttled {stat.get('throttled_time', 0) / 1e9:.0f} s"
                )
                return code
            print(f"references graded at {share:.2f} of a core (cgroup {group.name})")
            print(f"{'lesson':<26}{'verdict':<10}{'wall s':>8}  note")
            failed = 0
            for ref in args.lessons or DEFAULT_LESSONS:
                (row,) = grade_capped(group, [ref])
                note = row["error"] or ""
                print(f"{row['lesson']:<26}{row['verdict']:<10}{row['wall_s']:>8.1f}  {note}")
                failed += row["verdict"] != "passed"
            stat = throttling(group)
            print(
                f"throttled in {stat.get('nr_throttled', 0)} of {stat.get('nr_periods', 0)} "
                f"periods, {stat.get('throttled_time', 0) / 1e9:.0f} s in all"
            )
            return 1 if failed else 0
    except CapUnavailable as exc:
        print(f"cannot cap the CPU here: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
