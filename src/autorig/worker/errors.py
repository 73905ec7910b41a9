"""One error base class for the worker; the app renders every one as ``protocol.ErrorBody``.

    ApiError (500)
    ├── Unauthorized (401)      missing or wrong token
    ├── NotFound (404)          unknown job, or an output that is not complete yet
    ├── InputRefused (400)      the input URL is not allowed (scheme, private address, ...)
    ├── ConversionFailed (422)  the engine could not convert the input (its code and reason)
    ├── InputUnavailable (422)  fetching the input failed (HTTP error, too large, timeout)
    ├── Busy (503)              all slots taken: try again after Retry-After
    ├── NotAccepting (503)      free disk below the limit
    └── TimeLimit (504)         a synchronous conversion ran out of time

Each also carries ``code``, the job's ``error_code`` when it ends a job (``protocol.INPUT_ERROR_CODES``
for the input's fault, else an infrastructure code: ``internal``, ``crashed``, ``timeout``,
``worker_restarted``). Errors that end a job or a conversion render ``error`` as that code.
"""

from __future__ import annotations

from autorig import protocol


class ApiError(Exception):
    status_code = 500
    error = code = protocol.INTERNAL

    def __init__(self, detail: str, *, headers: dict[str, str] | None = None, code: str | None = None) -> None:
        super().__init__(detail)
        self.detail = detail
        self.headers = headers or {}
        if code is not None:
            self.code = self.error = code


class Unauthorized(ApiError):
    status_code = 401
    error = "unauthorized"


class NotFound(ApiError):
    status_code = 404
    error = "not found"


class InputRefused(ApiError):
    status_code = 400
    error = code = protocol.REFUSED_URL


class ConversionFailed(ApiError):
    """The engine refused the input; ``code`` is the engine's (``corrupt_file``, ...)."""

    status_code = 422
    error = code = "corrupt_file"


class InputUnavailable(ApiError):
    status_code = 422
    error = code = protocol.DOWNLOAD_FAILED


class Busy(ApiError):
    status_code = 503
    error = "busy"

    def __init__(self, detail: str, *, retry_after_s: int) -> None:
        super().__init__(detail, headers={"Retry-After": str(retry_after_s)})


class NotAccepting(ApiError):
    status_code = 503
    error = "not accepting jobs"

    def __init__(self, detail: str, *, retry_after_s: int) -> None:
        super().__init__(detail, headers={"Retry-After": str(retry_after_s)})


class TimeLimit(ApiError):
    status_code = 504
    error = code = protocol.TIMEOUT
