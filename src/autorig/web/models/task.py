"""``tasks``: one user request, from upload to downloadable files.

Life: ``created`` (in the backend queue; for FBX input the FBX->GLB step runs on a worker while
the task stays here, its state in ``fbx_*``) -> ``processing`` (a job on ``worker``) -> ``done``
or ``error``. A failed job or a silent worker puts the task back to ``created`` until
``attempts`` reaches the limit. ``claimed_by``/``claim_until`` is a lease: the backend instance
that is talking to a worker about this task right now (submitting a job, converting).
"""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import Enum
from typing import Any

from sqlalchemy import JSON, Float, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from autorig.web.db.base import Base, UTCDateTime, utcnow


class TaskStatus(str, Enum):
    created = "created"
    processing = "processing"
    done = "done"
    error = "error"


class FbxStatus(str, Enum):
    pending = "pending"
    running = "running"
    done = "done"
    error = "error"


def new_task_id() -> str:
    return uuid.uuid4().hex


class Task(Base):
    __tablename__ = "tasks"
    __table_args__ = (Index("ix_tasks_status_queued_at", "status", "queued_at"),)

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_task_id)
    status: Mapped[str] = mapped_column(String(16), default=TaskStatus.created.value)

    # Who: an account (issue 6), or an anonymous browser id, and where to send the email.
    owner_id: Mapped[str | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"), nullable=True, index=True)
    anon_id: Mapped[str | None] = mapped_column(String(64), nullable=True, index=True)
    client_ip: Mapped[str | None] = mapped_column(String(64), nullable=True, index=True)  # anonymous limit (issue 6)
    notify_email: Mapped[str | None] = mapped_column(String(320), nullable=True)

    # What: the source and the job options.
    source_name: Mapped[str] = mapped_column(String(255))
    source_format: Mapped[str] = mapped_column(String(8))
    input_url: Mapped[str] = mapped_column(Text)
    upload_key: Mapped[str | None] = mapped_column(String(512), nullable=True)
    output_name: Mapped[str] = mapped_column(String(80))
    options: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)

    # The FBX->GLB step (only for .fbx input).
    fbx_status: Mapped[str | None] = mapped_column(String(16), nullable=True)
    fbx_glb_url: Mapped[str | None] = mapped_column(Text, nullable=True)
    fbx_worker: Mapped[str | None] = mapped_column(String(512), nullable=True)
    fbx_started_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    fbx_finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    fbx_error: Mapped[str | None] = mapped_column(Text, nullable=True)

    # The current job.
    worker: Mapped[str | None] = mapped_column(String(512), nullable=True, index=True)
    worker_task_id: Mapped[str | None] = mapped_column(String(128), nullable=True)
    guid: Mapped[str | None] = mapped_column(String(128), nullable=True)
    progress_page: Mapped[str | None] = mapped_column(Text, nullable=True)
    output_urls: Mapped[list[str]] = mapped_column(JSON, default=list)
    ready_urls: Mapped[list[str]] = mapped_column(JSON, default=list)
    ready_count: Mapped[int] = mapped_column(Integer, default=0)
    missing_files: Mapped[list[str]] = mapped_column(JSON, default=list)
    progress: Mapped[float] = mapped_column(Float, default=0.0)
    stage: Mapped[str] = mapped_column(String(64), default="")
    # What to check in a finished rig (from its rig.json): [{"kind", "text", ...}].
    warnings: Mapped[list[dict[str, Any]] | None] = mapped_column(JSON, nullable=True)

    # Failures and retries.
    error: Mapped[str | None] = mapped_column(Text, nullable=True)
    error_code: Mapped[str | None] = mapped_column(
        String(32), nullable=True
    )  # protocol.INPUT_ERROR_CODES or an infrastructure code
    last_error: Mapped[str | None] = mapped_column(Text, nullable=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    restarts: Mapped[int] = mapped_column(Integer, default=0)
    failed_workers: Mapped[list[str]] = mapped_column(JSON, default=list)
    claimed_by: Mapped[str | None] = mapped_column(String(128), nullable=True)
    claim_until: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)

    # When.
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    queued_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    last_progress_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)

    @property
    def needs_fbx_step(self) -> bool:
        return self.source_format == "fbx" and self.fbx_status != FbxStatus.done.value

    @property
    def rig_input_url(self) -> str:
        """What the rig job downloads: the converted .glb for FBX input, else the input itself."""
        return self.fbx_glb_url if self.source_format == "fbx" and self.fbx_glb_url else self.input_url
