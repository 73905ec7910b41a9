"""``GET /api/queue/status``."""

from __future__ import annotations

from fastapi import APIRouter

from autorig.web.deps import QueueServiceDep, ReadSessionDep, TaskServiceDep
from autorig.web.domains.queue.schemas import QueueStatus

router = APIRouter(prefix="/api/queue", tags=["queue"])


@router.get("/status", response_model=QueueStatus)
async def queue_status(
    session: ReadSessionDep, queue: QueueServiceDep, tasks: TaskServiceDep, task_id: str | None = None
) -> QueueStatus:
    task = await tasks.get(session, task_id) if task_id else None
    return await queue.status(session, task)
