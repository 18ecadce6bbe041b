"""Helpers for the course-platform tests: the platforms' schemas (tests/data/platforms),
a validator for them, a venv that gets a wheel without reinstalling TensorFlow, and a
cgroup with a platform's CPU quota and memory limit.

The schemas are written for these tests from the platforms' documented fields (no
network). `validate` uses the `jsonschema` package when it is importable, else the
small validator below, which knows the keywords the schemas use: type, enum,
properties, required, additionalProperties (false), items, minimum, maximum,
pattern, anyOf and local `$ref`s (#/definitions/…).
"""

from __future__ import annotations

import json
import os
import re
import site
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
SCHEMAS = Path(__file__).resolve().parent / "data" / "platforms"
CGROUP = Path("/sys/fs/cgroup")
_TYPES = {
    "object": dict,
    "array": list,
    "string": str,
    "boolean": bool,
    "integer": int,
    "number": (int, float),
}


def schema(name: str) -> dict:
    return json.loads((SCHEMAS / f"{name}.schema.json").read_text(encoding="utf-8"))


def validate(instance, name: str) -> None:
    """Raise AssertionError with every violation of schema `name` by `instance`."""
    document = schema(name)
    try:
        import jsonschema
    except ImportError:
        problems = _check(instance, document, document, "$")
    else:
        validator = jsonschema.Draft7Validator(document)
        problems = [
            f"{'/'.join(map(str, e.absolute_path)) or '$'}: {e.message}"
            for e in validator.iter_errors(instance)
        ]
    assert not problems, f"{name}:\n" + "\n".join(problems)


def _is(value, kind: str) -> bool:
    if isinstance(value, bool) and kind in ("integer", "number"):
        return False
    return isinstance(value, _TYPES[kind])


def _check(value, rule: dict, root: dict, where: str) -> list[str]:
    if "$ref" in rule:
        target = root
        for part in rule["$ref"].removeprefix("#/").split("/"):
            target = target[part]
        rule = {**target, **{k: v for k, v in rule.items() if k != "$ref"}}
    problems: list[str] = []
    kinds = rule.get("type")
    if kinds is not None:
        kinds = [kinds] if isinstance(kinds, str) else kinds
        if not any(_is(value, kind) for kind in kinds):
            return [f"{where}: {value!r} is not of type {kinds}"]
    if "enum" in rule and value not in rule["enum"]:
        problems.append(f"{where}: {value!r} is not one of {rule['enum']}")
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        if "minimum" in rule and value < rule["minimum"]:
            problems.append(f"{where}: {value} < {rule['minimum']}")
        if "maximum" in rule and value > rule["maximum"]:
            problems.append(f"{where}: {value} > {rule['maximum']}")
    if isinstance(value, str) and "pattern" in rule and not re.search(rule["pattern"], value):
        problems.append(f"{where}: {value!r} does not match {rule['pattern']}")
    if isinstance(value, dict):
        properties = rule.get("properties", {})
        for key in rule.get("required", []):
            if key not in value:
                problems.append(f"{where}: {key!r} is required")
        for key, item in value.items():
            if key in properties:
                problems += _check(item, properties[key], root, f"{where}.{key}")
            elif rule.get("additionalProperties") is False:
                problems.append(f"{where}: {key!r} is not allowed")
    if isinstance(value, list) and "items" in rule:
        for index, item in enumerate(value):
            problems += _check(item, rule["items"], root, f"{where}[{index}]")
    if "anyOf" in rule and not any(
        not _check(value, option, root, where) for option in rule["anyOf"]
    ):
        problems.append(f"{where}: matches none of anyOf")
    return problems


# --- a venv with this venv's dependencies ------------------------------------------

# What a fresh venv installs itself (ensurepip), and the checkout's own install.
_OWN = ("pip", "setuptools", "pkg_resources", "_distutils_hack", "distutils-precedence.pth")


def _not_linked(entry: Path) -> bool:
    name = entry.name
    if name in _OWN or name.startswith(("pip-", "setuptools-")):
        return True
    if name == "workbook" or name.startswith(("lstm_workbook", "__editable__")):
        return True
    if name.startswith("_editable_impl_lstm_workbook"):
        return True
    if name.endswith(".pth"):
        return str(REPO) in entry.read_text(encoding="utf-8", errors="replace")
    return False


def link_dependencies(site_packages: Path) -> None:
    """A symbolic link in `site_packages` to every entry of this venv's site-packages
    except pip's own and the checkout's install: the dependencies (TensorFlow
    included) without reinstalling them, in the same folder as the wheel's
    `workbook`, as on the platforms."""
    site_packages.mkdir(parents=True, exist_ok=True)
    for source in map(Path, site.getsitepackages()):
        for entry in sorted(source.iterdir()):
            if not _not_linked(entry) and not (site_packages / entry.name).exists():
                (site_packages / entry.name).symlink_to(entry)


def base_python() -> Path:
    """The interpreter this venv was made from."""
    return Path(getattr(sys, "_base_executable", sys.executable)).resolve()


def site_packages(venv: Path) -> Path:
    version = f"python{sys.version_info.major}.{sys.version_info.minor}"
    return venv / "lib" / version / "site-packages"


def venv_with_wheel(venv: Path, wheel: Path) -> Path:
    """A fresh venv (no pip) with this venv's dependencies linked and `wheel`
    installed from its file (--no-deps, --no-index); its Python."""
    subprocess.run(
        [str(base_python()), "-m", "venv", "--without-pip", str(venv)], check=True, timeout=120
    )
    link_dependencies(site_packages(venv))
    python = venv / "bin" / "python"
    subprocess.run(
        [sys.executable, "-m", "pip", "--python", str(python), "install", "--quiet",
         "--no-deps", "--no-index", str(wheel)],
        check=True,
        timeout=300,
        env={k: v for k, v in os.environ.items() if k != "PYTHONPATH"},
    )  # fmt: skip
    return python


# --- a cgroup with a platform's limits ----------------------------------------------


class Cgroup:
    """A fresh cgroup (v1: cpu and memory; v2: one with both controllers) with a CPU
    quota and a memory limit; `paths` are the folders whose cgroup.procs a process
    joins. Raises OSError where this process may not make one."""

    def __init__(self, cpus: float, memory_mb: int) -> None:
        name = f"workbook-test-{os.getpid()}-{time.monotonic_ns()}"
        self.paths: list[Path] = []
        if (CGROUP / "cgroup.controllers").is_file():
            own = Path("/proc/self/cgroup").read_text().strip().split("::", 1)[-1]
            parent = CGROUP / own.lstrip("/")
            enabled = (parent / "cgroup.subtree_control").read_text().split()
            for controller in ("cpu", "memory"):
                if controller not in enabled:
                    (parent / "cgroup.subtree_control").write_text(f"+{controller}")
            folder = parent / name
            folder.mkdir()
            self.paths.append(folder)
            (folder / "cpu.max").write_text(f"{int(cpus * 100000)} 100000")
            (folder / "memory.max").write_text(str(memory_mb * 2**20))
        else:
            try:
                for controller in ("cpu", "memory"):
                    folder = CGROUP / controller / name
                    folder.mkdir()
                    self.paths.append(folder)
                (self.paths[0] / "cpu.cfs_quota_us").write_text(str(int(cpus * 100000)))
                limit = self.paths[1] / "memory.limit_in_bytes"
                limit.write_text(str(memory_mb * 2**20))
            except OSError:
                self.remove()
                raise

    def remove(self) -> None:
        for folder in self.paths:
            for _ in range(100):
                try:
                    folder.rmdir()
                    break
                except FileNotFoundError:
                    break
                except OSError:  # processes still leaving
                    time.sleep(0.1)
