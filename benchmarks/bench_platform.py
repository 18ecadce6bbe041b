"""Grade a full submission as a course platform's container would, under its limits.

    sudo python benchmarks/bench_platform.py                      # Gradescope's settings
    sudo python benchmarks/bench_platform.py --cpus 0.9 --memory-mb 2048 --lessons 18
    sudo python benchmarks/bench_platform.py --platform prairielearn --lessons 8
    sudo python benchmarks/bench_platform.py --wheel     # as installed: the platform wheel

Writes every lesson's reference solution into a submission folder (or only those of
`--lessons`, the others left out), then runs `python -m workbook.instructor.autograder
gradescope-run` (or `prairielearn-run`) in a fresh cgroup with that CPU quota and
memory limit (cgroup v1 or v2; needs root), with `--jobs auto`, so the run sizes its
pool from those limits as on the platform. Prints, per setting, the lessons graded at
once, the wall time, the CPU time the cgroup used (v1: `cpuacct.usage`, v2: `cpu.stat`;
unlike the wall time, it does not depend on what else the machine runs), the load
average after it, the cgroup's peak memory (v1: `memory.max_usage_in_bytes`, v2:
`memory.peak`), the largest sum of proportional set sizes (PSS) of the run's processes
sampled every 0.2 s, and any lesson that did not pass. The figures go into
`workbook.instructor.autograder.MEASURED_*` and the README; nothing asserts them. The page cache
already holding TensorFlow's libraries (from earlier runs on the machine) is not charged
to the new cgroup, so its peak can read lower than a fresh container's: PSS counts them.
It runs the `workbook` package of the checkout it lives in, or with `--wheel` the
platform wheel built from it, installed in a fresh venv outside the checkout.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from workbook.workspace import Workspace  # noqa: E402

CGROUP = Path("/sys/fs/cgroup")
SETTINGS = [(0.5, 768), (1.0, 1024), (2.0, 2048)]  # Gradescope: default, then larger


class Cgroup:
    """A fresh cgroup with a CPU quota and a memory limit (v2, or v1's cpu + memory)."""

    def __init__(self, cpus: float, memory_mb: int) -> None:
        name = f"workbook-bench-{os.getpid()}-{time.monotonic_ns()}"
        self.v2 = (CGROUP / "cgroup.controllers").is_file()
        if self.v2:
            own = Path("/proc/self/cgroup").read_text().strip().split("::", 1)[-1]
            parent = CGROUP / own.lstrip("/")
            for controller in ("+cpu", "+memory"):
                (parent / "cgroup.subtree_control").write_text(controller)
            self.dirs = [parent / name]
            self.dirs[0].mkdir()
            (self.dirs[0] / "cpu.max").write_text(f"{int(cpus * 100000)} 100000")
            (self.dirs[0] / "memory.max").write_text(str(memory_mb * 2**20))
        else:
            cpuacct = CGROUP / "cpuacct" if (CGROUP / "cpuacct").is_dir() else CGROUP / "cpu"
            self.dirs = [CGROUP / "cpu" / name, cpuacct / name, CGROUP / "memory" / name]
            self.dirs = list(dict.fromkeys(self.dirs))  # cpu,cpuacct mounted together
            for folder in self.dirs:
                folder.mkdir()
            (self.dirs[0] / "cpu.cfs_quota_us").write_text(str(int(cpus * 100000)))
            (self.dirs[-1] / "memory.limit_in_bytes").write_text(str(memory_mb * 2**20))

    @property
    def memory(self) -> Path:
        return self.dirs[-1]

    def enter(self) -> None:
        for folder in self.dirs:
            (folder / "cgroup.procs").write_text(str(os.getpid()))

    def pids(self) -> list[int]:
        return [int(pid) for pid in (self.memory / "cgroup.procs").read_text().split()]

    def cpu_s(self) -> float:
        if self.v2:
            stat = (self.dirs[0] / "cpu.stat").read_text().split()
            return int(stat[stat.index("usage_usec") + 1]) / 1e6
        return int((self.dirs[-2] / "cpuacct.usage").read_text()) / 1e9

    def peak_mib(self) -> int:
        name = "memory.peak" if self.v2 else "memory.max_usage_in_bytes"
        return int((self.memory / name).read_text()) // 2**20

    def remove(self) -> None:
        for folder in self.dirs:
            for _ in range(50):
                try:
                    folder.rmdir()
                    break
                except OSError:
                    time.sleep(0.1)


def _pss_mib(pids: list[int]) -> int:
    total = 0
    for pid in pids:
        try:
            for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
                if line.startswith("Pss:"):
                    total += int(line.split()[1])
        except OSError:
            pass
    return total // 1024


def installed_python(where: Path) -> Path:
    """A fresh venv outside the checkout with this checkout's platform wheel installed
    (not editable, as both bundles install it), its dependencies linked from this
    venv rather than reinstalled; its Python."""
    sys.path.insert(0, str(REPO / "tests"))
    from platform_support import venv_with_wheel

    from workbook.instructor.autograder import build_wheel

    return venv_with_wheel(where / "venv", build_wheel(where))


def run(
    platform: str, cpus: float, memory_mb: int, lessons: list[str], python: Path | None = None
) -> dict:
    workspace = Workspace(REPO)
    course = workspace.course
    chosen = [course.lesson(ref) for ref in lessons] or list(course.lessons)
    with tempfile.TemporaryDirectory(prefix="workbook-bench-") as tmp:
        root = Path(tmp)
        inbox = root / ("submission" if platform == "gradescope" else "student")
        inbox.mkdir()
        (root / "tmp").mkdir()
        for lesson in chosen:
            shutil.copyfile(REPO / lesson.solution, inbox / Path(lesson.exercise).name)
        variable = "AUTOGRADER_ROOT" if platform == "gradescope" else "GRADE_ROOT"
        env = {
            **{k: v for k, v in os.environ.items() if not k.startswith("WORKBOOK")},
            variable: str(root),
            "TMPDIR": str(root / "tmp"),
        }
        if python is None:
            env["PYTHONPATH"] = str(REPO)  # this checkout's package, whatever is installed
        refs = ",".join(lesson.id for lesson in chosen)
        command = [str(python or sys.executable), "-m", "workbook.instructor.autograder"]
        command += [f"{platform}-run"]
        command += ["--jobs", "auto", "--lessons", refs]
        group = Cgroup(cpus, memory_mb)
        peak = {"pss": 0}
        done = threading.Event()

        def sample() -> None:
            while not done.is_set():
                peak["pss"] = max(peak["pss"], _pss_mib(group.pids()))
                time.sleep(0.2)

        sampler = threading.Thread(target=sample)
        sampler.start()
        started = time.perf_counter()
        try:
            finished = subprocess.run(
                command, cwd=root, env=env, preexec_fn=group.enter, capture_output=True, text=True
            )
        finally:
            done.set()
            sampler.join()
        wall = time.perf_counter() - started
        data = json.loads((root / "results" / "results.json").read_text(encoding="utf-8"))
        cgroup_peak = group.peak_mib()
        cpu = group.cpu_s()
        group.remove()
    jobs = next((line for line in finished.stdout.splitlines() if "at once" in line), "")
    tests = data.get("tests", [])
    if platform == "gradescope":
        failed = [f"{t['name']}: {t['output'][:200]}" for t in tests if t["status"] != "passed"]
    else:
        failed = [
            f"{t['name']}: {t['output'][:200]}" for t in tests if t["points"] < t["max_points"]
        ]
    return {
        "platform": platform,
        "installed": "wheel" if python is not None else "checkout",
        "cpus": cpus,
        "memory_mb": memory_mb,
        "lessons": len(chosen),
        "wall_s": round(wall, 1),
        "cpu_s": round(cpu, 1),
        "load": os.getloadavg()[0],
        "cgroup_peak_mib": cgroup_peak,
        "pss_peak_mib": peak["pss"],
        "jobs": jobs,
        "failed": failed,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--platform", choices=["gradescope", "prairielearn"], default="gradescope")
    parser.add_argument("--cpus", type=float, help="one setting's CPU quota")
    parser.add_argument("--memory-mb", type=int, help="one setting's memory limit")
    parser.add_argument("--lessons", default="", help="comma-separated (default: all)")
    parser.add_argument(
        "--wheel", action="store_true", help="grade with the platform wheel in a fresh venv"
    )
    args = parser.parse_args()
    if os.geteuid() != 0:
        sys.exit("making a cgroup needs root")
    settings = [(args.cpus, args.memory_mb)] if args.cpus and args.memory_mb else SETTINGS
    lessons = [part for part in args.lessons.split(",") if part.strip()]
    with tempfile.TemporaryDirectory(prefix="workbook-wheel-") as where:
        python = installed_python(Path(where)) if args.wheel else None
        for cpus, memory_mb in settings:
            print(json.dumps(run(args.platform, cpus, memory_mb, lessons, python)), flush=True)


if __name__ == "__main__":
    main()
