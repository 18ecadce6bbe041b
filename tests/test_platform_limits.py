"""How many lessons a platform's container grades at once: its CPU quota and memory
limit read from fake cgroup trees (v1 and v2), never more than memory holds for the
TensorFlow lessons, and at least one."""

from __future__ import annotations

from pathlib import Path

import pytest

from workbook.instructor.autograder import job_plan
from workbook.instructor.platform_limits import (
    NUMPY_LESSON_MIB,
    RESERVED_MIB,
    TENSORFLOW_LESSON_MIB,
    Limits,
    default_jobs,
    read_limits,
    required_memory_mib,
)

MB = 1024 * 1024
UNLIMITED_V1 = str(9223372036854771712)  # what cgroup v1 writes for "no limit"


def v2_tree(root: Path, *, cpu: str | None, memory: str | None, own: str = "/") -> Path:
    """A cgroup v2 mount at root: cgroup.controllers, and cpu.max / memory.max in the
    process's own cgroup `own` (relative to the mount). Returns /proc/self/cgroup."""
    root.mkdir(parents=True, exist_ok=True)
    (root / "cgroup.controllers").write_text("cpuset cpu io memory pids\n")
    folder = root.joinpath(*[part for part in own.split("/") if part])
    folder.mkdir(parents=True, exist_ok=True)
    if cpu is not None:
        (folder / "cpu.max").write_text(cpu + "\n")
    if memory is not None:
        (folder / "memory.max").write_text(memory + "\n")
    proc = root.parent / "proc-self-cgroup"
    proc.write_text(f"0::{own}\n")
    return proc


def v1_tree(
    root: Path,
    *,
    quota: int | None,
    period: int = 100000,
    limit: str | None,
    own: str = "/",
    cpu_name: str = "cpu,cpuacct",
) -> Path:
    """A cgroup v1 tree: cpu (named `cpu_name`) and memory hierarchies, the values in
    the process's own cgroup `own`; the mount points hold no limit. Returns
    /proc/self/cgroup."""
    parts = [part for part in own.split("/") if part]
    cpu = root / cpu_name
    memory = root / "memory"
    for mount in (cpu, memory):
        mount.mkdir(parents=True, exist_ok=True)
    (cpu / "cpu.cfs_quota_us").write_text("-1\n")
    (cpu / "cpu.cfs_period_us").write_text("100000\n")
    (memory / "memory.limit_in_bytes").write_text(UNLIMITED_V1 + "\n")
    cpu_own, memory_own = cpu.joinpath(*parts), memory.joinpath(*parts)
    cpu_own.mkdir(parents=True, exist_ok=True)
    memory_own.mkdir(parents=True, exist_ok=True)
    if quota is not None:
        (cpu_own / "cpu.cfs_quota_us").write_text(f"{quota}\n")
        (cpu_own / "cpu.cfs_period_us").write_text(f"{period}\n")
    if limit is not None:
        (memory_own / "memory.limit_in_bytes").write_text(limit + "\n")
    proc = root.parent / "proc-self-cgroup"
    proc.write_text(f"12:memory:{own}\n4:{cpu_name}:{own}\n1:name=systemd:{own}\n")
    return proc


def meminfo(folder: Path, available_mib: int) -> Path:
    path = folder / "meminfo"
    path.write_text(f"MemTotal: 99999999 kB\nMemAvailable: {available_mib * 1024} kB\n")
    return path


def limits(root: Path, proc: Path, cores: int, available_mib: int = 64000) -> Limits:
    return read_limits(
        root, proc_cgroup=proc, meminfo=meminfo(root.parent, available_mib), cores=cores
    )


def test_gradescopes_default_container_grades_one_lesson_at_a_time(tmp_path):
    """0.5 CPU and 768 MB on a host of 8 cores: the case that killed lesson 18."""
    root = tmp_path / "cgroup"
    proc = v1_tree(root, quota=50000, limit=str(768 * MB), own="/docker/abc")
    found = limits(root, proc, cores=8)
    assert (found.cpus, found.memory_bytes, found.source) == (0.5, 768 * MB, "cgroup v1")
    assert found.jobs(TENSORFLOW_LESSON_MIB) == 1 and found.jobs(NUMPY_LESSON_MIB) == 1
    assert "0.5 CPU, 768 MiB, 8 cores" in found.describe()

    root2 = tmp_path / "v2" / "cgroup"
    proc2 = v2_tree(root2, cpu="50000 100000", memory=str(768 * MB))
    found2 = limits(root2, proc2, cores=8)
    assert (found2.cpus, found2.memory_bytes, found2.source) == (0.5, 768 * MB, "cgroup v2")
    assert found2.jobs(TENSORFLOW_LESSON_MIB) == 1


@pytest.mark.parametrize(
    ("cpu", "memory_mib", "cores", "tensorflow", "numpy"),
    [
        ("400000 100000", 6144, 8, 4, 4),  # 4 CPU, 6 GB: the CPU quota binds
        ("400000 100000", 1536, 8, 2, 4),  # 4 CPU, 1.5 GB: memory binds TensorFlow
        ("250000 100000", 4096, 8, 2, 2),  # 2.5 CPU rounds down
        ("max 100000", 1024, 8, 1, 8),  # no quota: the cores, then memory
        ("max 100000", 512, 8, 1, 3),  # less than one TensorFlow lesson: still 1
        ("800000 100000", 64000, 2, 2, 2),  # a quota over the affinity: the cores
        ("10000 100000", 64000, 8, 1, 1),  # 0.1 CPU: at least 1
    ],
)
def test_jobs_are_what_cpu_and_memory_both_allow(
    tmp_path, cpu, memory_mib, cores, tensorflow, numpy
):
    root = tmp_path / "cgroup"
    proc = v2_tree(root, cpu=cpu, memory=str(memory_mib * MB), own="/system.slice/job")
    found = limits(root, proc, cores=cores)
    assert found.jobs(TENSORFLOW_LESSON_MIB) == tensorflow
    assert found.jobs(NUMPY_LESSON_MIB) == numpy


def test_no_limit_at_all_uses_the_cores_and_the_available_memory(tmp_path):
    root = tmp_path / "v2"
    proc = v2_tree(root, cpu="max 100000", memory="max")
    found = limits(root, proc, cores=16, available_mib=RESERVED_MIB + 3 * TENSORFLOW_LESSON_MIB)
    assert (found.cpus, found.memory_bytes) == (None, None)
    assert found.jobs(TENSORFLOW_LESSON_MIB) == 3 and found.jobs(NUMPY_LESSON_MIB) == 15

    root1 = tmp_path / "v1"
    proc1 = v1_tree(root1, quota=-1, limit=UNLIMITED_V1)
    found1 = limits(root1, proc1, cores=4, available_mib=64000)
    assert (found1.cpus, found1.memory_bytes) == (None, None)
    assert found1.jobs(TENSORFLOW_LESSON_MIB) == 4

    empty = tmp_path / "none"
    empty.mkdir()
    bare = read_limits(empty, proc_cgroup=empty / "missing", meminfo=empty / "missing", cores=3)
    assert bare.source == "no cgroup" and bare.usable_bytes is None and bare.jobs(500) == 3


def test_a_parents_limit_binds_its_children(tmp_path):
    """Without a cgroup namespace the process sits deep in the host's tree: the
    strictest limit on the way up counts (here the parent's memory, the child's CPU)."""
    root = tmp_path / "cgroup"
    proc = v1_tree(root, quota=200000, limit=UNLIMITED_V1, own="/kubepods/pod1/ctr")
    (root / "memory" / "kubepods" / "pod1" / "memory.limit_in_bytes").write_text(str(1024 * MB))
    found = limits(root, proc, cores=8)
    assert found.cpus == 2.0 and found.memory_bytes == 1024 * MB
    assert found.jobs(TENSORFLOW_LESSON_MIB) == 1  # (1024 - 150) // 500

    root2 = tmp_path / "v2" / "cgroup"
    proc2 = v2_tree(root2, cpu="max 100000", memory="max", own="/a/b")
    (root2 / "a" / "cpu.max").write_text("150000 100000\n")
    assert limits(root2, proc2, cores=8).cpus == 1.5


def test_a_cgroup_path_not_visible_falls_back_to_the_mount(tmp_path):
    """In a container with a cgroup namespace, /proc/self/cgroup may name a path the
    mount does not show; the mount is the container's own cgroup then."""
    root = tmp_path / "cgroup"
    v1_tree(root, quota=None, limit=None)
    (root / "cpu,cpuacct" / "cpu.cfs_quota_us").write_text("100000\n")
    (root / "memory" / "memory.limit_in_bytes").write_text(str(2048 * MB))
    proc = root.parent / "proc"
    proc.write_text("12:memory:/docker/elsewhere\n4:cpu,cpuacct:/docker/elsewhere\n")
    found = limits(root, proc, cores=8)
    assert (found.cpus, found.memory_bytes) == (1.0, 2048 * MB)


def test_v1_cpu_as_its_own_hierarchy_and_garbage_in_the_files(tmp_path):
    root = tmp_path / "cgroup"
    proc = v1_tree(root, quota=300000, period=200000, limit="garbage", cpu_name="cpu")
    found = limits(root, proc, cores=8)
    assert found.cpus == 1.5 and found.memory_bytes is None


def test_default_jobs_is_sized_for_the_hungriest_lesson(repo_workspace, tmp_path):
    root = tmp_path / "cgroup"
    proc = v2_tree(root, cpu="400000 100000", memory=str(1536 * MB))
    found = limits(root, proc, cores=8)
    lessons = repo_workspace.course.lessons
    numpy_only = [lesson for lesson in lessons if not lesson.uses_tensorflow]
    assert default_jobs(lessons, found) == 2
    assert default_jobs(numpy_only, found) == 4


def test_the_job_plan_keeps_tensorflow_lessons_within_memory(repo_workspace, tmp_path):
    """NumPy lessons and TensorFlow lessons run in pools of their own widths; a --jobs
    flag caps both, and memory caps the TensorFlow pool whatever the flag says."""
    root = tmp_path / "cgroup"
    proc = v2_tree(root, cpu="400000 100000", memory=str(1536 * MB))
    found = limits(root, proc, cores=8)
    lessons = list(repo_workspace.course.lessons)
    plan = {name: (width, len(group)) for name, width, group in job_plan(lessons, None, found)}
    tensorflow = sum(lesson.uses_tensorflow for lesson in lessons)
    assert plan == {"numpy": (4, len(lessons) - tensorflow), "tensorflow": (2, tensorflow)}
    flagged = {name: width for name, width, _ in job_plan(lessons, 8, found)}
    assert flagged == {"numpy": 8, "tensorflow": 2}
    assert {name: width for name, width, _ in job_plan(lessons, 1, found)} == {
        "numpy": 1,
        "tensorflow": 1,
    }
    one = [lesson for lesson in lessons if lesson.uses_tensorflow][:1]
    assert job_plan(one, None, found) == [("tensorflow", 1, one)]


def test_the_memory_a_setting_needs():
    assert required_memory_mib(1) == RESERVED_MIB + TENSORFLOW_LESSON_MIB <= 768
    assert required_memory_mib(4) == RESERVED_MIB + 4 * TENSORFLOW_LESSON_MIB


def test_this_machine_reads_without_error():
    found = read_limits()
    assert found.cores >= 1 and found.jobs(TENSORFLOW_LESSON_MIB) >= 1


def test_the_job_plan_takes_which_lessons_are_heavy(repo_workspace, tmp_path):
    root = tmp_path / "cgroup"
    proc = v2_tree(root, cpu="400000 100000", memory=str(1536 * MB))
    found = limits(root, proc, cores=8)
    lessons = list(repo_workspace.course.lessons)
    light = job_plan(lessons, None, found, heavy=lambda lesson: False)
    assert [(name, width, len(group)) for name, width, group in light] == [
        ("numpy", 4, len(lessons))
    ]
    one = job_plan(lessons, None, found, heavy=lambda lesson: lesson.number == 18)
    assert [(name, width, len(group)) for name, width, group in one] == [
        ("numpy", 4, len(lessons) - 1),
        ("tensorflow", 1, 1),
    ]
