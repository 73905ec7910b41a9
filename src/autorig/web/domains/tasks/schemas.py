from __future__ import annotations

from datetime import datetime

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
    anon_id: str | None = None


class FbxStep(BaseModel):
    status: str
    glb_url: str | None
    worker: str | None
    error: str | None
    started_at: datetime | None
    finished_at: datetime | None


class TaskFile(BaseModel):
    name: str
    url: str
    kind: str = Field(description="download (paid later) or preview (free)")
    size: int | None = Field(None, description="bytes, when storage can tell at once (local storage)")


class RestartOffer(BaseModel):
    allowed: bool
    available_at: datetime | None


class QueueInfo(BaseModel):
    position: int | None
    estimated_wait_seconds: float | None
    estimated_wait_formatted: str


class TaskView(BaseModel):
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
    worker: str | None
    worker_task_id: str | None
    guid: str | None
    progress_page: str | None
    output_urls: list[str]
    ready_urls: list[str]
    ready_count: int
    total_count: int
    files: list[TaskFile]
    missing_files: list[str]
    preview_video_url: str | None
    download_all_url: str | None = Field(None, description="all downloadable files as one ZIP (when done)")
    error: str | None
    last_error: str | None
    attempts: int
    restarts: int
    restart: RestartOffer
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    updated_at: datetime
