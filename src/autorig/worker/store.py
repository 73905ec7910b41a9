"""Job records: one JSON file per job in the data dir, so state survives a restart.

Layout under ``data_dir``::

    jobs/<worker_task_id>/job.json     the record (written atomically: temp file, then rename)
    jobs/<worker_task_id>/input/       the downloaded input (deleted when the job ends)
    jobs/<worker_task_id>/out/         the engine's outputs, served as /files/<guid>/<name>
    jobs/<worker_task_id>/worker.log   the worker's own lines about the job
    jobs/<worker_task_id>/engine.out   the engine's stdout, engine.err its stderr
"""

from __future__ import annotations

import json
import os
import shutil
import threading
from datetime import UTC, datetime
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, Field, ValidationError

from autorig.protocol import JobOptions, JobState, JobStatus

RECORD = "job.json"


def utcnow() -> datetime:
    return datetime.now(UTC)


class JobRecord(BaseModel):
    """Everything the worker knows about one job (a rig job or a conversion)."""

    id: str
    guid: str
    kind: Literal["rig", "convert"] = "rig"
    input_url: str
    name: str
    options: JobOptions = Field(default_factory=JobOptions)
    outputs: list[str] = Field(default_factory=list, description="every file the job may produce, in order")
    state: JobState = JobState.queued
    stage: str = "queued"
    progress: float = 0.0
    error: str | None = None
    error_code: str | None = None
    outputs_ready: list[str] = Field(default_factory=list)
    pid: int | None = Field(None, description="the engine process while it runs (its own process group)")
    input_file: str | None = None
    created_at: datetime = Field(default_factory=utcnow)
    started_at: datetime | None = None
    finished_at: datetime | None = None

    @property
    def finished(self) -> bool:
        return self.state in (JobState.done, JobState.failed)

    def to_status(self) -> JobStatus:
        return JobStatus(
            worker_task_id=self.id,
            state=self.state,
            stage=self.stage,
            progress=self.progress,
            error=self.error,
            error_code=self.error_code,
            outputs_ready=list(self.outputs_ready),
            created_at=self.created_at,
            started_at=self.started_at,
            finished_at=self.finished_at,
        )


class JobStore:
    """Records in memory, mirrored to disk on every change; thread-safe."""

    def __init__(self, data_dir: Path) -> None:
        self.root = data_dir / "jobs"
        self.root.mkdir(parents=True, exist_ok=True)
        self._lock = threading.RLock()
        self._jobs: dict[str, JobRecord] = {}
        self._by_guid: dict[str, str] = {}

    # --- paths --------------------------------------------------------------------------
    def job_dir(self, job_id: str) -> Path:
        return self.root / job_id

    def out_dir(self, job_id: str) -> Path:
        return self.job_dir(job_id) / "out"

    def input_dir(self, job_id: str) -> Path:
        return self.job_dir(job_id) / "input"

    # --- records ------------------------------------------------------------------------
    def load_all(self) -> list[JobRecord]:
        """Read every record on disk (at start-up); unreadable ones are skipped and returned nowhere."""
        with self._lock:
            for path in sorted(self.root.glob(f"*/{RECORD}")):
                try:
                    job = JobRecord.model_validate_json(path.read_text())
                except (OSError, ValueError, ValidationError):
                    continue
                self._jobs[job.id] = job
                self._by_guid[job.guid] = job.id
            return list(self._jobs.values())

    def add(self, job: JobRecord) -> None:
        with self._lock:
            self.job_dir(job.id).mkdir(parents=True, exist_ok=True)
            self.out_dir(job.id).mkdir(exist_ok=True)
            self._jobs[job.id] = job
            self._by_guid[job.guid] = job.id
            self._write(job)

    def get(self, job_id: str) -> JobRecord | None:
        with self._lock:
            job = self._jobs.get(job_id)
            return job.model_copy(deep=True) if job else None

    def by_guid(self, guid: str) -> JobRecord | None:
        with self._lock:
            job_id = self._by_guid.get(guid)
            return self.get(job_id) if job_id else None

    def all(self) -> list[JobRecord]:
        with self._lock:
            return [j.model_copy(deep=True) for j in self._jobs.values()]

    def update(self, job_id: str, **changes: object) -> JobRecord:
        """Apply changes to a record and write it; returns a copy of the new record."""
        with self._lock:
            job = self._jobs[job_id]
            updated = job.model_copy(update=changes)
            # model_copy does not validate: keep the types honest for what we write.
            updated = JobRecord.model_validate(updated.model_dump())
            self._jobs[job_id] = updated
            self._write(updated)
            return updated.model_copy(deep=True)

    def delete(self, job_id: str) -> None:
        with self._lock:
            job = self._jobs.pop(job_id, None)
            if job:
                self._by_guid.pop(job.guid, None)
        shutil.rmtree(self.job_dir(job_id), ignore_errors=True)

    def _write(self, job: JobRecord) -> None:
        path = self.job_dir(job.id) / RECORD
        tmp = path.with_suffix(".json.tmp")
        tmp.write_text(json.dumps(job.model_dump(mode="json"), indent=1))
        os.replace(tmp, path)

    # --- logs ---------------------------------------------------------------------------
    def log(self, job_id: str, line: str) -> None:
        """Append a line to the job's worker.log (shown on the progress page)."""
        stamp = utcnow().strftime("%H:%M:%S")
        try:
            with open(self.job_dir(job_id) / "worker.log", "a") as f:
                f.write(f"{stamp} {line}\n")
        except OSError:
            pass
