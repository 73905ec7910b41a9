"""The worker app and ``autorig worker``.

create_app(settings)  FastAPI app: routes, error rendering, start-up recovery, clean-up loop
cli_worker(args)      run it with uvicorn (``autorig worker [--host H] [--port P]``)
"""

from __future__ import annotations

import argparse
import ipaddress
import logging
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from http import HTTPStatus

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from autorig import __version__
from autorig.config import WorkerSettings, worker_settings
from autorig.protocol import error_body
from autorig.worker.endpoints import router
from autorig.worker.errors import ApiError
from autorig.worker.jobs import JobManager
from autorig.worker.loops import CleanupLoop

log = logging.getLogger("autorig.worker")


def _field(loc: tuple[int | str, ...] | list[int | str]) -> str:
    parts = [str(p) for p in loc if p not in ("body", "query", "path", "header")]
    return ".".join(parts) or "body"


def create_app(settings: WorkerSettings | None = None) -> FastAPI:
    settings = settings or worker_settings()
    manager = JobManager(settings)
    cleanup = CleanupLoop(manager)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        manager.recover()
        cleanup.start()
        log.info("worker ready at %s: capacity %d, data in %s", settings.base_url, settings.capacity, settings.worker_dir)
        try:
            yield
        finally:
            await cleanup.stop()
            manager.shutdown()

    app = FastAPI(title="autorig worker", version=__version__, lifespan=lifespan)
    app.state.manager = manager
    app.state.cleanup = cleanup
    app.include_router(router)

    @app.exception_handler(ApiError)
    async def _api_error(request: Request, exc: ApiError) -> JSONResponse:
        return JSONResponse(error_body(exc.error, exc.detail), status_code=exc.status_code, headers=exc.headers)

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
        problems = [f"{_field(e.get('loc', ()))}: {e.get('msg', 'invalid')}" for e in exc.errors()]
        fields = [_field(e.get("loc", ())) for e in exc.errors()]
        return JSONResponse(error_body("invalid request", "; ".join(problems), fields=fields), status_code=422)

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        # An unknown route or method: the same shape as every other error ("not found", ...).
        detail = exc.detail if isinstance(exc.detail, str) else str(exc.detail)
        body = error_body(HTTPStatus(exc.status_code).phrase.lower(), detail)
        return JSONResponse(body, status_code=exc.status_code, headers=exc.headers)

    return app


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def cli_worker(args: argparse.Namespace) -> int:
    import uvicorn

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    overrides = {k: v for k, v in (("host", args.host), ("port", args.port)) if v is not None}
    settings = worker_settings().model_copy(update=overrides)
    if not settings.token.get_secret_value():
        if not _is_loopback(settings.host):
            print(
                f"autorig: error: set AUTORIG_WORKER_TOKEN: a worker listening on {settings.host} "
                "must not accept jobs from anyone",
                file=sys.stderr,
            )
            return 2
        log.warning("AUTORIG_WORKER_TOKEN is empty: any program on this machine may submit jobs")
    uvicorn.run(create_app(settings), host=settings.host, port=settings.port, log_level="info", access_log=False)
    return 0
