"""How many lessons a course platform's container can grade at once.

A container reports the host's cores (`os.cpu_count()`), not its share of them: at
Gradescope's default (0.5 CPU, 768 MB), grading as many lessons at once as the host has
cores ran four TensorFlow lessons side by side, one was killed for memory and the learner
read "your code crashed". So the autograders size their thread pool from what the
container may really use:

* **CPU**: the CFS quota of the container's cgroup (v2 `cpu.max`, v1
  `cpu.cfs_quota_us` / `cpu.cfs_period_us`), rounded down (0.5 CPU → 1 lesson at a
  time, 2.5 → 2), and never more than the cores this process may run on
  (`os.sched_getaffinity`, which a cpuset narrows).
* **Memory**: the cgroup's limit (v2 `memory.max`, v1 `memory.limit_in_bytes`), or,
  without one, the memory the machine has available (`MemAvailable` in
  /proc/meminfo). From it, `RESERVED_MIB` for the run's own process, and each lesson
  graded at once needs its budget: `TENSORFLOW_LESSON_MIB` for a lesson that imports
  TensorFlow, `NUMPY_LESSON_MIB` for any other.

Both limits are the strictest along the cgroup path: the process's own cgroup (from
/proc/self/cgroup) and each of its ancestors up to the mount point, since a parent's
limit binds its children too; inside a container with its own cgroup namespace the
path is `/` and the mount point is the container's own cgroup. The cgroup root and the
/proc files are parameters, so the tests read fake trees.

The budgets are deliberately above what was measured (`benchmarks/bench_platform.py`,
a submission of every reference solution in a cgroup, 2-core Linux VM, TensorFlow 2.21;
a private grading service per run forks each attempt's judge, and its subject from a
zygote, TensorFlow imported once per run): on 2026-12-03 one lesson at a time peaked at
368 MiB of cgroup memory and 656 MiB of proportional set size (PSS: TensorFlow's shared
libraries counted, which a fresh container's page cache is charged for); two at a time
at 423 MiB (708 MiB with the libraries read afresh) and 740 MiB PSS; a NumPy lesson
alone, 75 MiB. Four TensorFlow lessons at once in 768 MB had one killed (when each
attempt imported TensorFlow itself, as when the issue was found).
"""

from __future__ import annotations

import math
import os
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

CGROUP_ROOT = Path("/sys/fs/cgroup")
PROC_SELF_CGROUP = Path("/proc/self/cgroup")
PROC_MEMINFO = Path("/proc/meminfo")
MIB = 1024 * 1024
TENSORFLOW_LESSON_MIB = 500  # one lesson that imports TensorFlow: judge + subject
NUMPY_LESSON_MIB = 100  # any other lesson: judge + subject with NumPy
RESERVED_MIB = 150  # the run's own process (the course, the results) and the harness
# A limit at least this large is "no limit" (cgroup v1 writes 2**63 rounded to a page).
_UNLIMITED = 1 << 60


@dataclass(frozen=True)
class Limits:
    """What this process may use: `cpus` is the CPU quota in cores (None: no quota),
    `memory_bytes` the cgroup's memory limit (None: none), `available_bytes` the
    machine's available memory (None: unknown), `cores` the cores it may run on."""

    cpus: float | None
    memory_bytes: int | None
    available_bytes: int | None
    cores: int
    source: str  # "cgroup v2", "cgroup v1" or "no cgroup"

    @property
    def usable_bytes(self) -> int | None:
        """The memory grading may plan for: the cgroup limit, else what is available."""
        if self.memory_bytes is not None:
            return self.memory_bytes
        return self.available_bytes

    def cpu_jobs(self) -> int:
        """Lessons at once for the CPU alone: the quota rounded down, at most the cores,
        at least 1."""
        jobs = self.cores
        if self.cpus is not None:
            jobs = min(jobs, math.floor(self.cpus + 1e-9))
        return max(1, jobs)

    def memory_jobs(self, lesson_mib: int) -> int | None:
        """Lessons of `lesson_mib` each that fit in memory at once (at least 1), or None
        when the memory is unknown."""
        usable = self.usable_bytes
        if usable is None:
            return None
        return max(1, (usable // MIB - RESERVED_MIB) // lesson_mib)

    def jobs(self, lesson_mib: int) -> int:
        """Lessons of `lesson_mib` each to grade at once: what both CPU and memory allow."""
        memory = self.memory_jobs(lesson_mib)
        return self.cpu_jobs() if memory is None else max(1, min(self.cpu_jobs(), memory))

    def describe(self) -> str:
        cpu = "no CPU quota" if self.cpus is None else f"{self.cpus:g} CPU"
        if self.memory_bytes is not None:
            memory = f"{self.memory_bytes // MIB} MiB"
        elif self.available_bytes is not None:
            memory = f"no memory limit, {self.available_bytes // MIB} MiB available"
        else:
            memory = "no memory limit"
        return f"{self.source}: {cpu}, {memory}, {self.cores} cores"


def lesson_mib(lesson) -> int:
    """The memory one lesson's grading needs (judge and subject), in MiB."""
    return TENSORFLOW_LESSON_MIB if lesson.uses_tensorflow else NUMPY_LESSON_MIB


def read_limits(
    root: Path = CGROUP_ROOT,
    *,
    proc_cgroup: Path = PROC_SELF_CGROUP,
    meminfo: Path = PROC_MEMINFO,
    cores: int | None = None,
) -> Limits:
    """This process's CPU quota and memory limit from the cgroup tree at `root`
    (v2 if `root/cgroup.controllers` exists, else v1), its own cgroup read from
    `proc_cgroup`; `cores` defaults to the CPU affinity."""
    if cores is None:
        cores = _affinity()
    available = _mem_available(meminfo)
    own = _own_cgroups(proc_cgroup)
    if (root / "cgroup.controllers").is_file():
        dirs = _chain(root, own.get("", "/"))
        cpus = _min(_v2_cpu(d / "cpu.max") for d in dirs)
        memory = _min(_bytes(d / "memory.max") for d in dirs)
        return Limits(cpus, memory, available, cores, "cgroup v2")
    cpu_root = _v1_mount(root, ("cpu", "cpu,cpuacct", "cpuacct,cpu"))
    memory_root = _v1_mount(root, ("memory",))
    if cpu_root is None and memory_root is None:
        return Limits(None, None, available, cores, "no cgroup")
    cpus = memory = None
    if cpu_root is not None:
        path = own.get("cpu") or own.get("cpu,cpuacct") or own.get("cpuacct,cpu") or "/"
        cpus = _min(_v1_cpu(d) for d in _chain(cpu_root, path))
    if memory_root is not None:
        dirs = _chain(memory_root, own.get("memory", "/"))
        memory = _min(_bytes(d / "memory.limit_in_bytes") for d in dirs)
    return Limits(cpus, memory, available, cores, "cgroup v1")


def default_jobs(lessons: Iterable, limits: Limits | None = None) -> int:
    """Lessons to grade at once when grading `lessons` in one pool: sized for the
    hungriest of them, so that any of them may run side by side."""
    limits = read_limits() if limits is None else limits
    budget = max((lesson_mib(lesson) for lesson in lessons), default=NUMPY_LESSON_MIB)
    return limits.jobs(budget)


def required_memory_mib(jobs: int, lesson_mib_each: int = TENSORFLOW_LESSON_MIB) -> int:
    """The memory a container needs to grade `jobs` such lessons at once."""
    return RESERVED_MIB + max(1, jobs) * lesson_mib_each


# --- reading the files -----------------------------------------------------------


def _affinity() -> int:
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except (AttributeError, OSError):  # macOS has no sched_getaffinity
        return max(1, os.cpu_count() or 1)


def _read(path: Path) -> str | None:
    try:
        return path.read_text(encoding="ascii").strip()
    except (OSError, UnicodeDecodeError):
        return None


def _own_cgroups(proc_cgroup: Path) -> dict[str, str]:
    """controller list → path, from /proc/self/cgroup (`4:memory:/docker/abc`,
    `0::/user.slice` for v2, whose controller list is empty)."""
    own: dict[str, str] = {}
    for line in (_read(proc_cgroup) or "").splitlines():
        parts = line.split(":", 2)
        if len(parts) == 3:
            own[parts[1]] = parts[2]
            for name in parts[1].split(","):
                own.setdefault(name, parts[2])
    return own


def _v1_mount(root: Path, names: tuple[str, ...]) -> Path | None:
    for name in names:
        if (root / name).is_dir():
            return root / name
    return None


def _chain(mount: Path, path: str) -> list[Path]:
    """The cgroup folders from the process's own (if it is visible under `mount`) up
    to `mount` itself, which is always included."""
    dirs = [mount]
    parts = [part for part in path.split("/") if part and part not in (".", "..")]
    for depth in range(1, len(parts) + 1):
        candidate = mount.joinpath(*parts[:depth])
        if not candidate.is_dir():
            break
        dirs.append(candidate)
    return dirs


def _min(values: Iterable[float | int | None]):
    known = [value for value in values if value is not None]
    return min(known) if known else None


def _v2_cpu(path: Path) -> float | None:
    """`max 100000` → None; `50000 100000` → 0.5."""
    text = _read(path)
    if not text:
        return None
    quota, _, period = text.partition(" ")
    return _ratio(quota, period or "100000")


def _v1_cpu(folder: Path) -> float | None:
    quota = _read(folder / "cpu.cfs_quota_us")
    period = _read(folder / "cpu.cfs_period_us")
    if quota is None or period is None:
        return None
    return _ratio(quota, period)


def _ratio(quota: str, period: str) -> float | None:
    try:
        q, p = int(quota), int(period)
    except ValueError:  # "max"
        return None
    return q / p if q > 0 and p > 0 else None


def _bytes(path: Path) -> int | None:
    text = _read(path)
    try:
        value = int(text) if text else None
    except ValueError:  # "max"
        return None
    return value if value is not None and 0 < value < _UNLIMITED else None


def _mem_available(meminfo: Path) -> int | None:
    for line in (_read(meminfo) or "").splitlines():
        if line.startswith("MemAvailable:"):
            try:
                return int(line.split()[1]) * 1024
            except (IndexError, ValueError):
                return None
    return None
