"""Errors the API shows to people, each with its HTTP status; one handler renders them all as
``{"error": <class name>, "detail": <message>}``.

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
"""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse


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
    body = {"error": type(exc).__name__, "detail": exc.detail, **exc.extra}
    return JSONResponse(body, status_code=exc.status_code)


def install_error_handler(app: FastAPI) -> None:
    app.add_exception_handler(AutorigError, _handle)
