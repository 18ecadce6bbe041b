"""The grading service against its floors: `workbook check` warm, cold, and for Keras.

Run: .venv/bin/python benchmarks/bench_service.py [--repeat 7] [--busy 0|2]

Prints medians and ratios from one run, the commands of each pair alternated
(A B A B …) so that a change in the machine's load hits both alike:

* `workbook check 17` with the service warm / `python -c "import keras"`
  (target ≤ 0.15×, ≤ 1.0 s);
* `workbook check 8` with the service warm / `python -c "import numpy, pytest"`
  (target ≤ 0.6×);
* `workbook check 8` with `WORKBOOK_WARM=0` / the same floor (target ≤ 1.3×).

`--busy N` runs N busy loops beside the measurements (as a loaded machine would).
The package's bytecode is compiled first, as pip compiles an installed one: a cold
judge runs with `python -B`, so in a checkout where nothing else compiled its modules
it would compile them on every check. Figures go into issue notes, never into
assertions.
"""

from __future__ import annotations

import argparse
import compileall
import contextlib
import multiprocessing
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from workbook.grading import service  # noqa: E402
from workbook.workspace import init_workspace  # noqa: E402


def _spin() -> None:
    while True:
        pass


@contextlib.contextmanager
def busy(count: int) -> Iterator[None]:
    loops = [multiprocessing.Process(target=_spin, daemon=True) for _ in range(count)]
    for loop in loops:
        loop.start()
    try:
        yield
    finally:
        for loop in loops:
            loop.kill()


def run(cmd: list[str], env: dict[str, str]) -> float:
    started = time.perf_counter()
    subprocess.run(cmd, capture_output=True, check=False, env=env)
    return time.perf_counter() - started


def pair(a: list[str], b: list[str], env_a: dict, env_b: dict, repeat: int) -> tuple[float, float]:
    """Medians of A and of B, alternated, after one untimed run of each."""
    run(a, env_a)
    run(b, env_b)
    times_a, times_b = [], []
    for _ in range(repeat):
        times_a.append(run(a, env_a))
        times_b.append(run(b, env_b))
    return statistics.median(times_a), statistics.median(times_b)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeat", type=int, default=7)
    parser.add_argument("--busy", type=int, default=0)
    args = parser.parse_args()
    os.environ.pop("PYTHONDONTWRITEBYTECODE", None)
    compileall.compile_dir(str(REPO / "workbook"), quiet=1)
    warm_env = {k: v for k, v in os.environ.items() if k != "WORKBOOK_WARM"}
    cold_env = {**warm_env, "WORKBOOK_WARM": "0"}
    py = sys.executable
    with tempfile.TemporaryDirectory() as tmp:
        ws = init_workspace(Path(tmp) / "ws")
        for number in ("08-lstm-step", "17-keras-model-edits"):
            lesson = ws.course.lesson(number)
            ws.path(lesson.exercise).write_text(ws.solution_for(lesson))
        # What a learner types: the console script (`python -m` adds runpy's ~5 ms).
        script = Path(py).with_name("workbook")
        command = [str(script)] if script.is_file() else [py, "-m", "workbook"]
        base = [*command, "--workspace", str(ws.root), "check"]
        grader = service.ServiceGrader(ws.root)
        grader.preload_tensorflow()
        if not grader.wait_until_ready(300):
            sys.exit("the grading service did not start")
        try:
            with busy(args.busy):
                keras, keras_floor = pair(
                    [*base, "17"], [py, "-c", "import keras"], warm_env, warm_env, args.repeat
                )
                numpy_warm, floor = pair(
                    [*base, "8"], [py, "-c", "import numpy, pytest"], warm_env, warm_env,
                    args.repeat,
                )  # fmt: skip
                numpy_cold, floor_again = pair(
                    [*base, "8"], [py, "-c", "import numpy, pytest"], cold_env, cold_env,
                    args.repeat,
                )  # fmt: skip
        finally:
            service.stop(ws.root)
    print(f"busy loops beside: {args.busy}; medians of {args.repeat}, pairs alternated")
    rows = [
        ("check 17, service warm", keras, "import keras", keras_floor, 0.15),
        ("check 8, service warm", numpy_warm, "import numpy, pytest", floor, 0.6),
        ("check 8, WORKBOOK_WARM=0", numpy_cold, "import numpy, pytest", floor_again, 1.3),
    ]
    print(f"{'measure':<28}{'s':>8}  {'floor':<22}{'s':>8}{'ratio':>8}{'target':>9}")
    for name, value, floor_name, floor_value, target in rows:
        ratio = value / floor_value
        print(
            f"{name:<28}{value:>8.3f}  {floor_name:<22}{floor_value:>8.3f}"
            f"{ratio:>7.2f}×{'≤ ' + format(target, 'g') + '×':>9}"
        )


if __name__ == "__main__":
    main()
