"""Errors the API shows to people, each with its HTTP status; one handler renders them all as
``protocol.ErrorBody``: ``{"error": <class name>, "detail": <message>}`` (the workers answer the same shape).

    AutorigError (500)
    ├── BadRequest (400)
    │   ├── BadUpload (400)          not a GLB/glTF/FBX/OBJ/ZIP, empty, no file and no URL
    │   └── RestartNotAllowed (409)  restart asked before it is offered
    ├── NotFound (404)               no such task or file
    ├── SignInRequired (401)         no valid session or API key where one is needed
    ├── Forbidden (403)              signed in, but not allowed (not an admin)
    ├── PaymentRequired (402)        too few credits; carries ``buy_url``
    ├── UploadTooLarge (413)
    ├── TooManyRequests (429)        e.g. sign-in emails asked too often
    └── Unavailable (503)

Everything else a request can end in has the same shape: FastAPI's validation errors (422, or
400 for a body that is not JSON at all), Starlette's HTTP errors (404 for an unknown route,
405, FastAPI's 400 for an unparseable body) and, last, any other exception (500, logged with
its traceback, the body saying only that it is an internal error).
"""

from __future__ import annotations

import logging

import sqlalchemy.exc
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from autorig.protocol import error_body

log = logging.getLogger(__name__)

# Names in the "error" field for errors that are not AutorigErrors.
HTTP_ERROR_NAMES = {400: "BadRequest", 401: "SignInRequired", 403: "Forbidden", 404: "NotFound", 405: "MethodNotAllowed",
                    413: "UploadTooLarge", 422: "ValidationError", 429: "TooManyRequests", 503: "Unavailable"}


class AutorigError(Exception):
    status_code = 500

    def __init__(self, detail: str, *, status_code: int | None = None, **extra: object) -> None:
        super().__init__(detail)
        self.detail = detail
        self.extra = extra  # more fields of the JSON body (e.g. ``buy_url``)
        if status_code is not None:
            self.status_code = status_code


class BadRequest(AutorigError):
    status_code = 400


class BadUpload(BadRequest):
    status_code = 400


class RestartNotAllowed(BadRequest):
    status_code = 409


class NotFound(AutorigError):
    status_code = 404


class SignInRequired(AutorigError):
    status_code = 401


class Forbidden(AutorigError):
    status_code = 403


class PaymentRequired(AutorigError):
    status_code = 402


class UploadTooLarge(AutorigError):
    status_code = 413


class TooManyRequests(AutorigError):
    status_code = 429


class Unavailable(AutorigError):
    status_code = 503


async def _handle(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, AutorigError)
    return JSONResponse(error_body(type(exc).__name__, exc.detail, **exc.extra), status_code=exc.status_code)


def _field(loc: tuple[object, ...] | list[object]) -> str:
    parts = [str(p) for p in loc if p not in ("body", "query", "path", "header", "cookie")]
    return ".".join(parts) or "body"


async def _invalid(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    errors = exc.errors()
    if any(e.get("type") == "json_invalid" for e in errors):
        msg = next(str(e.get("ctx", {}).get("error", "")) for e in errors if e.get("type") == "json_invalid")
        return JSONResponse(error_body("BadRequest", f"the body is not valid JSON: {msg}".rstrip(": ")), status_code=400)
    problems = [f"{_field(e.get('loc', ()))}: {e.get('msg', 'invalid')}" for e in errors[:20]]
    fields = [_field(e.get("loc", ())) for e in errors[:20]]
    return JSONResponse(error_body("ValidationError", "; ".join(problems) or "invalid request", fields=fields), status_code=422)


async def _http(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    detail = exc.detail if isinstance(exc.detail, str) else str(exc.detail)
    name = HTTP_ERROR_NAMES.get(exc.status_code, "HTTPError")
    return JSONResponse(error_body(name, detail), status_code=exc.status_code, headers=exc.headers)


async def _internal(request: Request, exc: Exception) -> JSONResponse:
    if isinstance(exc, RecursionError):  # e.g. a JSON body nested thousands deep
        return JSONResponse(error_body("BadRequest", "the request is nested too deeply"), status_code=400)
    if isinstance(exc, sqlalchemy.exc.TimeoutError):  # every pooled connection busy for POOL_TIMEOUT_S
        log.warning("database pool exhausted on %s %s", request.method, request.url.path)
        body = error_body("Unavailable", "the service is busy; try again in a few seconds")
        return JSONResponse(body, status_code=503, headers={"Retry-After": "5"})
    log.exception("internal error on %s %s", request.method, request.url.path, exc_info=exc)
    return JSONResponse(error_body("InternalError", "internal error (it was logged)"), status_code=500)


def install_error_handler(app: FastAPI) -> None:
    app.add_exception_handler(AutorigError, _handle)
    app.add_exception_handler(RequestValidationError, _invalid)
    app.add_exception_handler(StarletteHTTPException, _http)
    app.add_exception_handler(Exception, _internal)
