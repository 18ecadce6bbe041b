"""Helpers shared by the tests that grade on a grading service (`workbook.grading.service`):
its status, starting it, and stopping it so that none outlives its test."""

from __future__ import annotations

import os
import time
from pathlib import Path

import psutil

from workbook.grading import service
from workbook.workspace import Workspace


def _root(where: Workspace | Path) -> Path:
    return where.root if isinstance(where, Workspace) else Path(where)


def service_status(where: Workspace | Path) -> dict:
    """The status of the workspace's grading service (its pid, attempts, what runs)."""
    return service.request(_root(where), {"op": "status"}, timeout=10.0)


def service_ready(where: Workspace | Path) -> dict:
    """Start the workspace's grading service unless one runs; its status once it answers."""
    grader = service.ServiceGrader(_root(where))
    assert grader.wait_until_ready(60), "the service did not start"
    return service_status(where)


def stop_service(where: Workspace | Path, timeout: float = 30.0) -> None:
    """Stop the workspace's grading service, one being started too, and wait until
    none runs: a service holds its lock for its whole life, and this process started
    the services it has (they are its children)."""
    root = _root(where)
    path = service.socket_path(root)
    if path is None:
        return
    deadline = time.monotonic() + timeout
    while True:
        service.stop(root)
        ours = [
            child
            for child in psutil.Process().children()
            if _is_running(child) and str(path) in _cmdline(child)
        ]
        lock = service._holds_lock(path)
        if lock is not None:
            os.close(lock)
            if not ours:
                return
        assert time.monotonic() < deadline, f"a grading service outlived its test: {ours}"
        time.sleep(0.05)


def _is_running(process) -> bool:
    try:
        return process.status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False


def _cmdline(process) -> str:
    try:
        return " ".join(process.cmdline())
    except psutil.Error:
        return ""
