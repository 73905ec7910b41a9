from __future__ import annotations

from pydantic import BaseModel


class WaitEstimate(BaseModel):
    position: int | None
    estimated_wait_seconds: float | None
    estimated_wait_formatted: str


class QueueStatus(BaseModel):
    workers_online: int
    workers_total: int
    workers: str  # "5/5"
    free_slots: int
    capacity: int
    tasks_waiting: int
    tasks_processing: int
    avg_job_seconds: float
    position: int | None = None  # of task_id when given, else where a new task would be
    estimated_wait_seconds: float | None
    estimated_wait_formatted: str
