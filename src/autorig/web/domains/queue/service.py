"""Queue figures and the wait estimate.

Estimate for the task at ``position`` (1 = next out): while it is within the free slots it
starts at the next dispatch. Otherwise it waits for ``position - free`` jobs to finish; with
``capacity`` jobs running side by side that is ``ceil((position - free) / capacity)`` rounds of
the average job length, the first round half done on average.
"""

from __future__ import annotations

import math
from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from autorig.config import WebSettings
from autorig.web.db import utcnow
from autorig.web.domains.queue.schemas import QueueStatus, WaitEstimate
from autorig.web.domains.tasks import repository as tasks_repo
from autorig.web.domains.workers import repository as workers_repo
from autorig.web.models import Task, TaskStatus, WorkerNode

RECENT_JOBS = 20  # finished jobs averaged for the duration estimate
RECENT_WINDOW = timedelta(days=7)


def format_wait(seconds: float | None) -> str:
    if seconds is None:
        return "unknown: no worker is online"
    if seconds < 60:
        return "less than a minute"
    minutes = math.ceil(seconds / 60)
    if minutes < 60:
        return f"about {minutes} min"
    h, m = divmod(minutes, 60)
    return f"about {h} h {m} min" if m else f"about {h} h"


def wait_seconds(position: int, free_slots: int, capacity: int, avg_job_s: float) -> float | None:
    if capacity <= 0:
        return None
    if position <= free_slots:
        return 0.0
    rounds = math.ceil((position - free_slots) / capacity)
    return (rounds - 0.5) * avg_job_s


class QueueService:
    def __init__(self, settings: WebSettings) -> None:
        self.settings = settings

    async def configured_workers(self, session: AsyncSession) -> list[WorkerNode]:
        """The rows of the workers in ``WORKERS``, in that order."""
        return await workers_repo.list_configured(session, self.settings.workers)

    def answering(self, w: WorkerNode, now: datetime) -> bool:
        return bool(w.online and w.last_seen_at and now - w.last_seen_at <= timedelta(seconds=self.settings.worker_dead_after_s))

    async def avg_job_seconds(self, session: AsyncSession, workers: list[WorkerNode], now: datetime) -> float:
        recent = await tasks_repo.recent_job_seconds(session, RECENT_JOBS, now - RECENT_WINDOW)
        if recent:
            return sum(recent) / len(recent)
        reported = [w.avg_job_seconds for w in workers if w.avg_job_seconds]
        if reported:
            return sum(reported) / len(reported)
        return self.settings.default_job_seconds

    async def status(self, session: AsyncSession, task: Task | None = None) -> QueueStatus:
        now = utcnow()
        workers = await workers_repo.list_configured(session, self.settings.workers)
        online = [w for w in workers if self.answering(w, now)]
        free = sum(max(0, w.free_slots) for w in online)
        capacity = sum(max(0, w.capacity) for w in online)
        counts = await tasks_repo.count_by_status(session)
        waiting = counts.get(TaskStatus.created.value, 0)
        avg = await self.avg_job_seconds(session, online, now)
        est = await self.estimate(session, task, free, capacity, avg, waiting)
        return QueueStatus(
            workers_online=len(online),
            workers_total=len(workers),
            workers=f"{len(online)}/{len(workers)}",
            free_slots=free,
            capacity=capacity,
            tasks_waiting=waiting,
            tasks_processing=counts.get(TaskStatus.processing.value, 0),
            avg_job_seconds=round(avg, 1),
            position=est.position,
            estimated_wait_seconds=est.estimated_wait_seconds,
            estimated_wait_formatted=est.estimated_wait_formatted,
        )

    async def estimate(
        self, session: AsyncSession, task: Task | None, free: int, capacity: int, avg: float, waiting: int
    ) -> WaitEstimate:
        if task is not None and task.status != TaskStatus.created.value:
            return WaitEstimate(position=None, estimated_wait_seconds=0.0, estimated_wait_formatted="not waiting")
        position = await tasks_repo.position(session, task) if task is not None else waiting + 1
        seconds = wait_seconds(position, free, capacity, avg)
        return WaitEstimate(
            position=position,
            estimated_wait_seconds=None if seconds is None else round(seconds, 1),
            estimated_wait_formatted=format_wait(seconds),
        )

    async def task_estimate(self, session: AsyncSession, task: Task) -> WaitEstimate:
        status = await self.status(session, task)
        return WaitEstimate(
            position=status.position,
            estimated_wait_seconds=status.estimated_wait_seconds,
            estimated_wait_formatted=status.estimated_wait_formatted,
        )
