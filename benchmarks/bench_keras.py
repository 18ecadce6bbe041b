"""Timing and memory figures for the Keras lessons (16–21), reference solutions only.

Per lesson, median of N runs of:
  grade    the full `grade()` of the reference solution (what a learner waits for);
  import   `import keras` (TensorFlow backend) inside a grading-like child;
  checks   the hidden checks alone, run by the real child code after that import.
With --memory, it also finds the smallest RLIMIT_DATA (memory_mb) under which the
reference solution still passes, by bisection over grade() with a patched limit.

    /work/main/.venv/bin/python benchmarks/bench_keras.py [--runs 3] [--memory]

Measured on the 2-core dev box, other jobs running (load ≈ 1.9), --runs 3 --memory:

    lesson                    grade s  import s  checks s  memory
    16-keras-dataset             0.30      0.00      0.24     280   (no TensorFlow)
    17-keras-model-edits         3.22      2.10      1.13     304
    18-keras-predict-next        4.61      2.06      2.45     448
    19-keras-weight-bridge       5.43      3.57      1.90     328
    20-keras-stacked             5.93      3.82      1.98     304
    21-keras-forecast            4.74      1.93      2.69     448

"checks" includes the first Keras model build/trace (≈ 0.5–1 s of one-off start-up).
"memory" is the smallest passing RLIMIT_DATA in MiB (bisection to 32 MiB; 16's search
started at 256). The lessons ship with memory_mb = 1024: over 2× the worst case, since
TensorFlow's thread pools and malloc arenas (virtual, but counted) grow with cores.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from workbook.grading.results import Verdict  # noqa: E402
from workbook.grading.runner import child_env, grade  # noqa: E402
from workbook.workspace import init_workspace  # noqa: E402

LESSONS = [16, 17, 18, 19, 20, 21]

# Runs in a fresh interpreter: time the Keras import, then the real grading child's run().
SPLIT = r"""
import json, os, sys, time
job = json.loads(sys.stdin.read())
out = os.dup(1)
t = time.perf_counter()
if job.pop("tensorflow"):
    import keras
imported = time.perf_counter() - t
from workbook.grading.judge import main as child
t = time.perf_counter()
child.run(job)
checks = time.perf_counter() - t
os.write(out, json.dumps({"import": imported, "checks": checks}).encode())
os._exit(0)
"""


def split_timing(workspace, lesson) -> dict[str, float]:
    with tempfile.TemporaryDirectory() as tmp:
        job = {
            "report": str(Path(tmp) / "report.jsonl"),
            "exercise": str(workspace.path(lesson.exercise)),
            "check": str(workspace.path(lesson.check)),
            "shown_as": lesson.exercise,
            "memory_mb": lesson.memory_mb,
            "timeout_s": lesson.timeout_s,
            "tensorflow": lesson.uses_tensorflow,
        }
        done = subprocess.run(
            [sys.executable, "-c", SPLIT],
            input=json.dumps(job).encode(),
            capture_output=True,
            cwd=workspace.root,
            env=child_env(),
            check=True,
        )
        events = [json.loads(line) for line in Path(job["report"]).read_text().splitlines()]
    failed = [e for e in events if e.get("event") == "check" and e["outcome"] != "passed"]
    assert not failed, failed
    return json.loads(done.stdout.decode().strip().splitlines()[-1])


def smallest_memory(workspace, lesson, lo: int = 256, hi: int = 1024) -> int:
    """Smallest memory_mb (to 32 MiB) that still passes; assumes `hi` passes."""
    while hi - lo > 32:
        mid = (lo + hi) // 2
        trial = dataclasses.replace(lesson, memory_mb=mid)
        if grade(workspace, trial).verdict is Verdict.PASSED:
            hi = mid
        else:
            lo = mid
    return hi


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--memory", action="store_true")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        workspace = init_workspace(Path(tmp) / "ws")
        print(f"{'lesson':24} {'grade s':>8} {'import s':>9} {'checks s':>9} {'memory':>7}")
        for number in LESSONS:
            lesson = workspace.course.lesson(number)
            workspace.path(lesson.exercise).write_text(workspace.solution_for(lesson))
            totals, imports, checks = [], [], []
            for _ in range(args.runs):
                started = time.perf_counter()
                result = grade(workspace, lesson)
                totals.append(time.perf_counter() - started)
                assert result.verdict is Verdict.PASSED, result.headline
                split = split_timing(workspace, lesson)
                imports.append(split["import"])
                checks.append(split["checks"])
            memory = f"{smallest_memory(workspace, lesson)}" if args.memory else "-"
            print(
                f"{lesson.id:24} {statistics.median(totals):8.2f} "
                f"{statistics.median(imports):9.2f} {statistics.median(checks):9.2f} "
                f"{memory:>7}",
                flush=True,
            )


if __name__ == "__main__":
    main()
