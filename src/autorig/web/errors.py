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

Everything else a request can end in gets the same shape from the same handler (``as_error``
turns it into an ``AutorigError`` first): FastAPI's validation errors (422 ``ValidationError``
with ``fields``, or 400 for a body that is not JSON at all), Starlette's HTTP errors (404 for an
unknown route, 405, FastAPI's 400 for an unparseable body), a body nested too deeply (400), an
exhausted database pool (503 with ``Retry-After``) and, last, any other exception (500
``InternalError``, logged with its traceback, the body saying only that it is an internal error).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

import sqlalchemy.exc
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from autorig.protocol import error_body

log = logging.getLogger(__name__)

# Names in the "error" field for errors that are not AutorigErrors.
HTTP_ERROR_NAMES = {
    400: "BadRequest",
    401: "SignInRequired",
    403: "Forbidden",
    404: "NotFound",
    405: "MethodNotAllowed",
    413: "UploadTooLarge",
    422: "ValidationError",
    429: "TooManyRequests",
    503: "Unavailable",
}


class AutorigError(Exception):
    """An error with its HTTP status; ``extra`` keywords become more fields of the JSON body
    (e.g. ``buy_url``). A subclass names its status in its header: ``class X(AutorigError, status=400)``."""

    status_code = 500

    def __init_subclass__(cls, *, status: int | None = None, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if status is not None:
            cls.status_code = status

    def __init__(
        self,
        detail: str,
        *,
        status_code: int | None = None,
        name: str | None = None,
        headers: dict[str, str] | None = None,
        **extra: object,
    ) -> None:
        super().__init__(detail)
        self.detail = detail
        self.name = name or type(self).__name__  # the "error" field
        self.headers = headers
        self.extra = extra
        if status_code is not None:
            self.status_code = status_code

    def body(self) -> dict[str, object]:
        return error_body(self.name, self.detail, **self.extra)


class BadRequest(AutorigError, status=400): ...


class BadUpload(BadRequest): ...


class RestartNotAllowed(BadRequest, status=409): ...


class NotFound(AutorigError, status=404): ...


class SignInRequired(AutorigError, status=401): ...


class Forbidden(AutorigError, status=403): ...


class PaymentRequired(AutorigError, status=402): ...


class UploadTooLarge(AutorigError, status=413): ...


class TooManyRequests(AutorigError, status=429): ...


class Unavailable(AutorigError, status=503): ...


def _field(loc: Sequence[object]) -> str:
    parts = [str(p) for p in loc if p not in ("body", "query", "path", "header", "cookie")]
    return ".".join(parts) or "body"


def _invalid(exc: RequestValidationError) -> AutorigError:
    errors = exc.errors()
    bad_json = [e for e in errors if e.get("type") == "json_invalid"]
    if bad_json:
        msg = str(bad_json[0].get("ctx", {}).get("error", ""))
        return BadRequest(f"the body is not valid JSON: {msg}".rstrip(": "))
    problems = [f"{_field(e.get('loc', ()))}: {e.get('msg', 'invalid')}" for e in errors[:20]]
    fields = [_field(e.get("loc", ())) for e in errors[:20]]
    return AutorigError("; ".join(problems) or "invalid request", status_code=422, name="ValidationError", fields=fields)


def as_error(request: Request, exc: Exception) -> AutorigError:
    """Whatever a request ended in, as an ``AutorigError``: ours as they are, FastAPI's validation
    errors, Starlette's HTTP errors, and anything else (500, logged with its traceback)."""
    if isinstance(exc, AutorigError):
        return exc
    if isinstance(exc, RequestValidationError):
        return _invalid(exc)
    if isinstance(exc, StarletteHTTPException):
        detail = exc.detail if isinstance(exc.detail, str) else str(exc.detail)
        name = HTTP_ERROR_NAMES.get(exc.status_code, "HTTPError")
        return AutorigError(detail, status_code=exc.status_code, name=name, headers=dict(exc.headers or {}))
    if isinstance(exc, RecursionError):  # e.g. a JSON body nested thousands deep
        return BadRequest("the request is nested too deeply")
    if isinstance(exc, sqlalchemy.exc.TimeoutError):  # every pooled connection busy for POOL_TIMEOUT_S
        log.warning("database pool exhausted on %s %s", request.method, request.url.path)
        return Unavailable("the service is busy; try again in a few seconds", headers={"Retry-After": "5"})
    log.exception("internal error on %s %s", request.method, request.url.path, exc_info=exc)
    return AutorigError("internal error (it was logged)", name="InternalError")


async def _render(request: Request, exc: Exception) -> JSONResponse:
    err = as_error(request, exc)
    return JSONResponse(err.body(), status_code=err.status_code, headers=err.headers)


def install_error_handler(app: FastAPI) -> None:
    """The one handler, for every kind of exception a request can end in."""
    for kind in (AutorigError, RequestValidationError, StarletteHTTPException, Exception):
        app.add_exception_handler(kind, _render)
