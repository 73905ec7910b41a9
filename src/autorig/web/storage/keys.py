"""Where a task's files are kept in storage: every key is built, and read back, here.

tasks/<task id>/input/<name>.<format>          the upload (public: workers fetch it)
tasks/<task id>/out/<file>                     an output, as the worker produced it
tasks/<task id>/zip/<job guid>/<name><suffix>  the ZIP of one job's downloads
"""

from __future__ import annotations

from autorig import protocol

TASKS = "tasks"
INPUT = "input"
OUT = "out"
ZIP = "zip"


def task_prefix(task_id: str) -> str:
    """Everything stored for a task is under this (``tasks/<id>/``)."""
    return f"{TASKS}/{task_id}/"


def input_key(task_id: str, stem: str, fmt: str) -> str:
    return f"{task_prefix(task_id)}{INPUT}/{protocol.safe_name(stem)}.{fmt}"


def output_key(task_id: str, filename: str) -> str:
    return f"{task_prefix(task_id)}{OUT}/{filename}"


def archive_key(task_id: str, job_guid: str, output_name: str, suffix: str) -> str:
    return f"{task_prefix(task_id)}{ZIP}/{protocol.safe_name(job_guid)}/{output_name}{suffix}"


def is_input(key: str) -> bool:
    """True for an upload's key (``tasks/<id>/input/...``): the only public files."""
    parts = key.split("/")
    return len(parts) >= 4 and parts[0] == TASKS and parts[2] == INPUT
