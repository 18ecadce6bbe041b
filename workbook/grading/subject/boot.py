"""How a subject's interpreter is started: its command line and its environment.

Apart from `zygote` because a cold `workbook check` builds its judge's command
before anything else (`spare.prestart`, called by the console script before click is
imported): this module imports only `os` and `sys`, so the judge's interpreter starts
a few milliseconds after the learner pressed Enter, not after `json`, `socket` and
`typing` were loaded for a command line.
"""

from __future__ import annotations

import os
import sys

# os.path, not pathlib: every millisecond before the judge starts is waited for.
PACKAGE_PARENT = os.path.dirname(
    os.path.dirname(os.path.dirname(os.path.dirname(os.path.realpath(__file__))))
)

# Environment variables a subject inherits, when set: the locale, where the dynamic
# linker looks, and the numeric libraries' thread and kernel settings (some CPUs
# need OPENBLAS_CORETYPE for correct results). Nothing else crosses.
PASSED_ENV = (
    "LANG",
    "LC_ALL",
    "LC_CTYPE",
    "TZ",
    "LD_LIBRARY_PATH",
    "OPENBLAS_CORETYPE",
    "OPENBLAS_L2_SIZE",
    "OMP_NUM_THREADS",
    "KERAS_BACKEND",
    "CUDA_VISIBLE_DEVICES",
)
_BOOT = (
    "import sys; sys.path.insert(0, {parent!r}); "
    "from workbook.grading.subject.zygote import main; main()"
)

# A cold judge's command: the subject first (`zygote`), then the judge. The two are
# joined here, on the command line, so that nothing of this package imports the
# judge: the parent imports it after the fork, the subject never does.
_JUDGE_BOOT = (
    "import sys; sys.path.insert(0, {parent!r}); "
    "from workbook.grading.subject.zygote import fork_subject_ahead; "
    "ahead = fork_subject_ahead(); "
    "from workbook.grading.judge.main import main; main(ahead=ahead)"
)


def subject_env() -> dict[str, str]:
    """The whole environment block of a subject: nothing about the grader in it."""
    env = {name: os.environ[name] for name in PASSED_ENV if name in os.environ}
    env.setdefault("PATH", "/usr/bin:/bin")
    env.setdefault("KERAS_BACKEND", "tensorflow")
    env.update(
        # One BLAS thread: NumPy then starts no thread at import (the sandbox confines
        # only a single-threaded process), and the learner's tiny matrices are
        # charged the CPU seconds they need, not those of idle spinning workers.
        OPENBLAS_NUM_THREADS="1",
        MKL_NUM_THREADS="1",
        TF_CPP_MIN_LOG_LEVEL="3",
        # glibc gives each thread its own malloc arena, and arenas count against the
        # RLIMIT_DATA cap: without this, TensorFlow's thread pool on a many-core
        # machine can exhaust a memory limit that is ample on two cores.
        MALLOC_ARENA_MAX="2",
    )
    return env


def judge_command(parent: int) -> list[str]:
    """The command of a cold judge that forks its subject before it imports the
    judge (`zygote.fork_subject_ahead`). Run it with `subject_env()`: the subject
    keeps that block. It dies with `parent`."""
    boot = _JUDGE_BOOT.format(parent=PACKAGE_PARENT)
    return [sys.executable, "-I", "-B", "-c", boot, str(parent)]
