"""Fixtures of the worker tests; the parts themselves are in workerkit.py."""

from __future__ import annotations

from pathlib import Path

import pytest
from workerkit import InputServer, WorkerProc, start_worker


@pytest.fixture
def input_server(tmp_path: Path):
    root = tmp_path / "served"
    root.mkdir()
    server = InputServer(root)
    yield server
    server.close()


@pytest.fixture
def worker_factory(tmp_path: Path):
    """``worker_factory(**settings)`` starts a worker; every one is stopped after the test."""
    started: list[WorkerProc] = []

    def make(**settings: object) -> WorkerProc:
        w = start_worker(tmp_path, **settings)
        started.append(w)
        return w

    yield make
    for w in started:
        w.stop()
