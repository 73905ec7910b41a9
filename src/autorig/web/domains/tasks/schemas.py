from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field

from autorig import protocol
from autorig.web.domains.notifications.service import task_page_url
from autorig.web.domains.tasks import files
from autorig.web.domains.tasks.service import TaskService, file_name, public_text
from autorig.web.models import Task, TaskStatus
from autorig.web.storage.keys import output_key


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


def task_view(
    task: Task,
    tasks: TaskService,
    base_url: str,
    queue_info: QueueInfo | None,
    *,
    internal: bool = False,
    workers: list[str] | None = None,
    may_restart: bool = True,
) -> TaskView:
    """The task's public view; ``internal`` adds where it runs (admins); ``may_restart``: the
    viewer is its owner or an admin (others are never offered the restart)."""
    ready = tasks.ready_files(task)
    preview = protocol.PREVIEW_VIDEO
    hidden = [*(workers or []), task.worker or "", task.fbx_worker or "", *task.failed_workers]
    glb_url = task.fbx_glb_url
    if glb_url and any(w and glb_url.startswith(w) for w in hidden):
        glb_url = None  # a task converted before the .glb was kept in storage: the worker's URL
    failed = task.status == TaskStatus.error.value
    return TaskView(
        task_id=task.id,
        task_url=task_page_url(base_url, task.id),
        status=task.status,
        source_name=task.source_name,
        source_format=task.source_format,
        input_url=task.input_url,
        progress=round(task.progress, 4),
        stage=task.stage,
        queue=queue_info,
        fbx=None
        if task.fbx_status is None
        else FbxStep(
            status=task.fbx_status,
            glb_url=glb_url,
            error=public_text(task.fbx_error, hidden),
            started_at=task.fbx_started_at,
            finished_at=task.fbx_finished_at,
        ),
        expected_files=[file_name(u) for u in task.output_urls],
        ready_count=task.ready_count,
        total_count=len(task.output_urls),
        files=[
            TaskFile(
                name=n,
                url=files.file_url(base_url, task.id, n),
                kind="download" if protocol.is_download(n) else "preview",
                size=tasks.storage.known_size(output_key(task.id, n)),
            )
            for n in ready
        ],
        missing_files=task.missing_files,
        preview_video_url=files.file_url(base_url, task.id, preview) if preview in ready else None,
        download_all_url=files.download_all_url(base_url, task.id)
        if task.status == TaskStatus.done.value and any(protocol.is_download(n) for n in ready)
        else None,
        error=public_text(task.error, hidden) if failed else None,
        error_code=task.error_code if failed else None,
        warnings=warning_views(task.warnings) if task.status == TaskStatus.done.value else [],
        attempts=task.attempts,
        restarts=task.restarts,
        restart=RestartOffer(
            allowed=may_restart and tasks.restart_allowed(task),
            available_at=tasks.restart_available_at(task) if may_restart else None,
        ),
        created_at=task.created_at,
        started_at=task.started_at,
        finished_at=task.finished_at,
        updated_at=task.updated_at,
        internal=TaskInternals(
            worker=task.worker,
            worker_task_id=task.worker_task_id,
            guid=task.guid,
            progress_page=task.progress_page,
            output_urls=list(task.output_urls),
            ready_urls=list(task.ready_urls),
            fbx_worker=task.fbx_worker,
            failed_workers=list(task.failed_workers),
            last_error=task.last_error,
            claimed_by=task.claimed_by,
        )
        if internal
        else None,
    )
