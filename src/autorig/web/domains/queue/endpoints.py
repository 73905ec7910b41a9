"""``GET /api/queue/status``."""

from __future__ import annotations

from fastapi import APIRouter

from autorig.web.deps import ContextDep
from autorig.web.domains.queue.schemas import QueueStatus

router = APIRouter(prefix="/api/queue", tags=["queue"])


@router.get("/status", response_model=QueueStatus)
async def queue_status(ctx: ContextDep, task_id: str | None = None) -> QueueStatus:
    """Reused briefly like the task view (``VIEW_CACHE_S``, until the next commit here)."""

    async def load() -> QueueStatus:
        async with ctx.db.read_session() as session:
            task = await ctx.tasks.get(session, task_id) if task_id else None
            return await ctx.queue.status(session, task)

    return await ctx.queue_views.get(task_id, load)
