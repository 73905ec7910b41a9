"""``GET /api/queue/status``."""

from __future__ import annotations

from fastapi import APIRouter
from starlette.responses import Response

from autorig.web.deps import ContextDep
from autorig.web.domains.queue.schemas import QueueStatus

router = APIRouter(prefix="/api/queue", tags=["queue"])


@router.get("/status", response_model=QueueStatus)
async def queue_status(ctx: ContextDep, task_id: str | None = None) -> Response:
    """Reused briefly like the task view (``VIEW_CACHE_S``, until the next commit here), as the
    JSON text itself: the same for everyone, so nothing is rendered per poll. The load reads in
    its own short session, not the request's: one load serves every poll for ``VIEW_CACHE_S``."""

    async def load() -> bytes:
        async with ctx.db.read_session() as session:
            task = await ctx.tasks.get(session, task_id) if task_id else None
            return (await ctx.queue.status(session, task)).model_dump_json().encode()

    return Response(await ctx.queue_views.get(task_id, load), media_type="application/json")
