from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field


class TaskCreated(BaseModel):
    task_id: str
    task_url: str = Field(description="the task page")
    status: str


class CreateFromUrl(BaseModel):
    input_url: str = Field(min_length=8, max_length=4096)
    email: str | None = None
    skeleton: str | None = None
    mixamo_prefix: bool = False
    fingers: str | None = None
    anon_id: str | None = None


class FbxStep(BaseModel):
    status: str
    glb_url: str | None = Field(description="the converted .glb, in the backend's storage (free: it is the input)")
    error: str | None
    started_at: datetime | None
    finished_at: datetime | None


class TaskFile(BaseModel):
    name: str
    url: str
    kind: str = Field(description="download (paid later) or preview (free)")
    size: int | None = Field(None, description="bytes, when storage can tell at once (local storage)")


class RestartOffer(BaseModel):
    allowed: bool = Field(description="the restart is offered now, to this viewer (the task's owner or an admin)")
    available_at: datetime | None


class QueueInfo(BaseModel):
    position: int | None
    estimated_wait_seconds: float | None
    estimated_wait_formatted: str


class TaskWarning(BaseModel):
    """Something to check in a finished rig (from its ``rig.json``)."""

    kind: str = Field(description="low_confidence (cue, level), output_failed (file, reason) or engine")
    text: str = Field(description="in English")
    cue: str | None = None
    level: str | None = None
    value: float | None = None
    file: str | None = None
    reason: str | None = None


class TaskInternals(BaseModel):
    """Where the task runs: for admins only (workers' addresses and file URLs stay private)."""

    worker: str | None
    worker_task_id: str | None
    guid: str | None
    progress_page: str | None
    output_urls: list[str]
    ready_urls: list[str]
    fbx_worker: str | None
    failed_workers: list[str]
    last_error: str | None
    claimed_by: str | None


class TaskView(BaseModel):
    """What anyone with the task's link sees: names, sizes and the backend's own URLs only."""

    task_id: str
    task_url: str
    status: str
    source_name: str
    source_format: str
    input_url: str
    progress: float
    stage: str
    queue: QueueInfo | None
    fbx: FbxStep | None
    expected_files: list[str] = Field(description="every file the job may produce, in production order")
    ready_count: int
    total_count: int
    files: list[TaskFile]
    missing_files: list[str]
    preview_video_url: str | None
    download_all_url: str | None = Field(None, description="all downloadable files as one ZIP (when done)")
    error: str | None = Field(description="why the task failed (only when status is error)")
    error_code: str | None = Field(description="an input error (final: not_a_biped, corrupt_file, ...) or an infrastructure one")
    warnings: list[TaskWarning] = Field(description="what to check in the finished rig")
    attempts: int
    restarts: int
    restart: RestartOffer
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    updated_at: datetime
    internal: TaskInternals | None = Field(None, description="admins only")


def warning_views(raw: list[dict[str, Any]] | None) -> list[TaskWarning]:
    out = []
    for w in raw or []:
        try:
            out.append(TaskWarning.model_validate(w))
        except ValueError:
            continue
    return out
