"""The FastAPI app: ``create_app()`` (uvicorn: ``autorig.web.app:create_app --factory``).

The lifespan migrates the database, resumes what this instance was doing before it stopped,
and runs the background services (dispatch, progress, mailer) in the same process.
"""

from __future__ import annotations

import asyncio
import logging
import os
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager

from fastapi import APIRouter, FastAPI
from starlette.responses import FileResponse, Response

from autorig.config import WebSettings
from autorig.web import processes
from autorig.web.context import AppContext
from autorig.web.deps import ContextDep
from autorig.web.domains.admin.endpoints import router as admin_router
from autorig.web.domains.apikeys.endpoints import router as apikeys_router
from autorig.web.domains.credits.endpoints import router as credits_router
from autorig.web.domains.payments.endpoints import router as payments_router
from autorig.web.domains.queue.endpoints import router as queue_router
from autorig.web.domains.tasks.endpoints import router as tasks_router
from autorig.web.domains.users.endpoints import api as users_api
from autorig.web.domains.users.endpoints import browser as users_browser
from autorig.web.domains.users.security import SameOriginOnly
from autorig.web.errors import NotFound, install_error_handler
from autorig.web.pages import install_pages
from autorig.web.storage import LocalStorage, keys
from autorig.web.storage.base import check_key

log = logging.getLogger(__name__)

pages = APIRouter(include_in_schema=False)


HEALTH_PROBE_TIMEOUT_S = 3.0
HEALTH_CACHE_S = 2.0  # a load balancer polling health costs one probe per worker per this


@pages.get("/api/health")
async def health(ctx: ContextDep) -> dict[str, object]:
    """``ok`` when at least one worker answers its status request now, else ``degraded`` (the
    backend itself answers either way: 200). Asks the workers directly, not the database."""

    async def probe() -> dict[str, object]:
        async def one(url: str) -> bool:
            try:
                await asyncio.wait_for(ctx.client.status(url), HEALTH_PROBE_TIMEOUT_S)
                return True
            except Exception:  # unreachable, timed out, or an answer that is not a status
                return False

        answers = await asyncio.gather(*(one(u) for u in ctx.settings.workers))
        online = sum(answers)
        return {
            "status": "ok" if online else "degraded",
            "workers_online": online,
            "workers_total": len(answers),
            "detail": "" if online else "no worker answers: tasks wait in the queue",
        }

    now = time.monotonic()
    if ctx.health_cache is None or now - ctx.health_cache[0] > HEALTH_CACHE_S:
        ctx.health_cache = (now, await probe())
    return ctx.health_cache[1]


@pages.api_route("/storage/{key:path}", methods=["GET", "HEAD"])
async def storage_file(key: str, ctx: ContextDep) -> Response:
    """Local storage, public by design: workers fetch uploads from here."""
    storage = ctx.storage
    if not isinstance(storage, LocalStorage):
        raise NotFound("storage is not served by this backend")
    try:
        path = storage.path(check_key(key))
    except ValueError:
        raise NotFound(f"no file {key!r}") from None
    if not keys.is_input(key):
        # Only uploads are public (workers fetch them); results are paid for at /api/task/.../files.
        raise NotFound(f"no file {key!r}")
    if not path.is_file():
        raise NotFound(f"no file {key!r}")
    return FileResponse(path)


def create_app(
    settings: WebSettings | None = None,
    *,
    run_services: bool = True,
    on_shutdown: list[Callable[[], object]] | None = None,
) -> FastAPI:
    """The backend app; ``on_shutdown`` callbacks run when the server stops (``autorig serve``
    stops its local worker there: uvicorn re-raises SIGTERM after shutdown, so code after
    ``uvicorn.run`` may never run)."""
    settings = settings or WebSettings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        ctx = AppContext.build(settings)
        app.state.ctx = ctx
        # One of several processes of autorig serve (WEB_PROCESSES > 1): one of them runs the
        # background services (web/processes.py).
        several = processes.forked()
        lock = None
        services_here = run_services
        if run_services and several:
            lock = processes.take_services_lock(settings.data_dir)
            services_here = lock is not None
        await ctx.start(run_services=services_here)
        wakes = None
        if several:
            if services_here:
                wakes = await processes.listen_for_wakes(settings.data_dir, ctx.dispatch.wake)
            else:
                ctx.tasks.on_created.append(processes.waker(settings.data_dir))
        log.info(
            "autorig backend at %s, workers: %s%s",
            settings.base_url,
            ", ".join(settings.workers) or "none",
            "" if not several else f" (pid {os.getpid()}, services: {'here' if services_here else 'elsewhere'})",
        )
        try:
            yield
        finally:
            if wakes is not None:
                wakes.close()
            await ctx.stop()
            if lock is not None:
                lock.close()
            for fn in on_shutdown or []:
                fn()
            ctx.admin.reexec_if_requested()  # POST /api/admin/service/restart: start afresh, last

    app = FastAPI(title="autorig", lifespan=lifespan)
    if settings.forwarded_allow_ips.strip():
        # The client address from X-Forwarded-For only when the peer is a configured proxy
        # (autorig serve turns uvicorn's own handling off; see web/serve.py).
        from uvicorn.middleware.proxy_headers import ProxyHeadersMiddleware

        app.add_middleware(ProxyHeadersMiddleware, trusted_hosts=settings.forwarded_allow_ips)
    install_error_handler(app)
    app.add_middleware(SameOriginOnly, base_url=settings.base_url)  # cross-site POSTs with the session cookie: 403
    app.include_router(tasks_router)
    app.include_router(queue_router)
    app.include_router(users_api)
    app.include_router(users_browser)
    app.include_router(credits_router)
    app.include_router(apikeys_router)
    app.include_router(payments_router)
    app.include_router(admin_router)
    app.include_router(pages)
    install_pages(app)  # the web pages and /static (issue 7)
    return app
