"""The FastAPI app: ``create_app()`` (uvicorn: ``autorig.web.app:create_app --factory``).

The lifespan migrates the database, resumes what this instance was doing before it stopped,
and runs the background services (dispatch, progress, mailer) in the same process.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager

from fastapi import APIRouter, FastAPI
from starlette.responses import FileResponse, Response

from autorig.config import WebSettings
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
from autorig.web.storage import LocalStorage
from autorig.web.storage.base import check_key

log = logging.getLogger(__name__)

pages = APIRouter(include_in_schema=False)


@pages.get("/api/health")
async def health() -> dict[str, str]:
    return {"status": "ok"}


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
    parts = key.split("/")
    if len(parts) < 4 or parts[0] != "tasks" or parts[2] != "input":
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
        await ctx.start(run_services=run_services)
        log.info("autorig backend at %s, workers: %s", settings.base_url, ", ".join(settings.workers) or "none")
        try:
            yield
        finally:
            await ctx.stop()
            for fn in on_shutdown or []:
                fn()
            ctx.admin.reexec_if_requested()  # POST /api/admin/service/restart: start afresh, last

    app = FastAPI(title="autorig", lifespan=lifespan)
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
