"""Tamper evidence for the grading files: SHA-256 hashes of the checks and the catalog.

The package ships `workbook/manifest.json`, the hashes of every file under `course/`
(catalog, lesson texts with their hints and limits, glossary, reference solutions)
and `checks/` as released. Grading compares a workspace against it and reports any
file that was modified, removed or added (a `conftest.py` dropped into `checks/`
would change how checks run), as nbgrader does for its grade cells. For
self-study this is only information; for a course it says which results to distrust.

Regenerate after editing the course: `workbook dev manifest` (or
`python -m workbook.manifest`); a test fails while the committed file is stale.
"""

from __future__ import annotations

import hashlib
import json
import os
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from workbook.catalog import Course, Lesson
    from workbook.workspace import Workspace

MANIFEST_PATH = Path(__file__).with_name("manifest.json")
MANIFEST_FORMAT = 1
TRACKED_DIRS = ("course", "checks")
_SKIPPED_PARTS = {"__pycache__", ".pytest_cache"}


def tracked_files(root: Path) -> list[str]:
    """Workspace-relative POSIX paths of the grading files under `root`.

    Walked with `os.walk` (as `Path.rglob` would: symlinked folders are not entered):
    every attempt checks the course for tampering, and pathlib's walk cost the TUI
    about 3 ms of each save."""
    found = []
    for folder in TRACKED_DIRS:
        base = os.path.join(root, folder)
        if not os.path.isdir(base):
            continue
        for current, dirs, files in os.walk(base):
            dirs[:] = [name for name in dirs if name not in _SKIPPED_PARTS]
            rel_dir = os.path.relpath(current, root).replace(os.sep, "/")
            for name in files:
                if name.endswith((".pyc", ".tmp")) or not os.path.isfile(
                    os.path.join(current, name)
                ):
                    continue
                found.append(f"{rel_dir}/{name}")
    return sorted(found)


def file_hash(path: Path, rel: str = "") -> str:
    """SHA-256 of the file with line endings normalised, so that a Windows checkout
    (CRLF) of an unchanged course is not reported as tampered. A lesson text (`rel`
    under course/lessons/) is hashed as a learner's workspace holds it: without what
    it shows after passing (`catalog.before_passing`)."""
    stat = os.stat(path)
    lesson_text = rel.startswith("course/lessons/") and rel.endswith(".md")
    return _hash_of(str(path), stat.st_mtime_ns, stat.st_size, lesson_text)


@lru_cache(maxsize=4096)
def _hash_of(path: str, mtime_ns: int, size: int, lesson_text: bool = False) -> str:
    """Cached by modification time and size: every attempt compares the whole course,
    and re-reading ~70 unchanged files would cost the TUI a few ms per save."""
    data = Path(path).read_bytes().replace(b"\r\n", b"\n")
    if lesson_text:
        from workbook.catalog import before_passing

        data = before_passing(data.decode("utf-8", errors="replace")).encode("utf-8")
    return hashlib.sha256(data).hexdigest()


def build_manifest(root: Path) -> dict:
    """The manifest of the course at `root` (a workspace or the repository)."""
    return {
        "format": MANIFEST_FORMAT,
        "algorithm": "sha256",
        "files": {rel: file_hash(root / rel, rel) for rel in tracked_files(root)},
    }


def write_manifest(root: Path | None = None, path: Path = MANIFEST_PATH) -> dict:
    """Write the manifest of `root` (default: the shipped course) to `path`."""
    from workbook.workspace import bundled_root

    manifest = build_manifest(root or bundled_root())
    path.write_text(json.dumps(manifest, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    load_manifest.cache_clear()
    return manifest


@lru_cache(maxsize=1)
def load_manifest(path: Path = MANIFEST_PATH) -> dict | None:
    """The shipped manifest, or None if this installation has none (a dev tree)."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (FileNotFoundError, json.JSONDecodeError):
        return None
    return data if data.get("format") == MANIFEST_FORMAT else None


ANSWER_DIRS = ("checks/", "course/solutions/")  # a learner's workspace holds none


def tampered_files(
    root: Path, manifest: dict | None = None, *, answers: Path | None = None
) -> list[str]:
    """Paths under `root` whose content differs from the manifest: modified, missing
    or extra. Empty when they all match, when no manifest ships with the package, or
    for another course (none of the shipped check files is present). `answers`: where
    the checks and references are when `root` (a learner's workspace) holds none."""
    manifest = manifest if manifest is not None else load_manifest()
    if manifest is None:
        return []
    expected: dict[str, str] = manifest["files"]
    present = {rel: root / rel for rel in tracked_files(root)}
    if answers is not None and not any(rel.startswith(ANSWER_DIRS) for rel in present):
        present.update(
            (rel, answers / rel) for rel in tracked_files(answers) if rel.startswith(ANSWER_DIRS)
        )
    if not any(rel.startswith("checks/") and rel in present for rel in expected):
        return []  # another course on the same engine: the manifest is not about it
    changed = [
        rel
        for rel, digest in expected.items()
        if rel not in present or file_hash(present[rel], rel) != digest
    ]
    changed.extend(rel for rel in present if rel not in expected)
    return sorted(changed)


def workspace_tampered(workspace: Workspace) -> list[str]:
    """`tampered_files` of a workspace, its answers wherever they live."""
    return tampered_files(workspace.root, answers=workspace.answers_root)


def _lesson_files(lesson: Lesson) -> set[str]:
    return {lesson.check, lesson.solution, f"course/lessons/{lesson.id}.md"}


def relevant_to(paths: list[str], lesson: Lesson, course: Course) -> list[str]:
    """The tampered paths that can affect `lesson`: its own files, and every file that
    belongs to no single lesson (course.toml, glossary, an added conftest.py)."""
    others = set().union(*(_lesson_files(x) for x in course.lessons if x.id != lesson.id))
    return [path for path in paths if path not in others]


if __name__ == "__main__":
    written = write_manifest()
    print(f"wrote {MANIFEST_PATH} ({len(written['files'])} files)")
