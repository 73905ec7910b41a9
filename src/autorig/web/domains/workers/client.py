"""Talks to workers over HTTP in the words of ``autorig.protocol``, and nothing else.

aiohttp rather than httpx here: the progress service keeps dozens of requests in flight, and
httpx's connection pool slows down as connections are added (measured on loopback: 1,000
HEADs took 3.4 s over 1 connection and 10.8 s over 64 with httpx, 1.1 s over 64 with aiohttp).

Failures are sorted into what the caller does next:

    WorkerError
    ├── WorkerUnreachable   no answer, timeout, 5xx: try later; the worker may be dead
    ├── WorkerBusy          503 on submit: no free slot right now
    └── WorkerRejected      4xx: this request will never work on this worker (e.g. job unknown);
                            ``code`` is the worker's ``error`` (a protocol code such as
                            ``refused_url`` or ``corrupt_file`` when the input is at fault)

Every request carries the shared token (``protocol.TOKEN_HEADER``), file HEADs and GETs
included: workers serve outputs only to the backend. Error texts never name the worker's address
in a way users see; callers add it where only admins read it.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import aiohttp

from autorig import protocol

DOWNLOAD_CHUNK = 1024 * 1024


class WorkerError(Exception):
    pass


class WorkerUnreachable(WorkerError):
    pass


class WorkerBusy(WorkerError):
    pass


class WorkerRejected(WorkerError):
    def __init__(self, message: str, status_code: int, code: str | None = None, detail: str | None = None) -> None:
        super().__init__(message)
        self.status_code = status_code
        self.code = code
        self.detail = detail if detail is not None else message

    @property
    def input_error(self) -> bool:
        """The input is at fault (``protocol.is_input_error``): another attempt cannot help."""
        return protocol.is_input_error(self.code)


def _reason(status: int, text: str) -> str:
    return _error_body(status, text)[1]


def _error_body(status: int, text: str) -> tuple[str | None, str]:
    """The worker's ``protocol.ErrorBody`` (``{"error": code, "detail": sentence}``): (code, sentence)."""
    try:
        body = protocol.ErrorBody.model_validate_json(text)
    except ValueError:  # pydantic's ValidationError is a ValueError: not JSON, or not that shape
        return None, text[:500] or f"HTTP {status}"
    return body.error[:64], body.detail[:500]


def _rejected(what: str, status: int, text: str) -> WorkerRejected:
    code, detail = _error_body(status, text)
    return WorkerRejected(f"{what}: HTTP {status}: {detail}", status, code, detail)


class WorkerClient:
    """One shared ``aiohttp.ClientSession`` (connection pool) for every worker; created on first
    use, inside the running event loop."""

    def __init__(self, token: str, timeout_s: float, max_connections: int = 100) -> None:
        self.token = token
        self.timeout_s = timeout_s
        self.max_connections = max_connections
        self._session: aiohttp.ClientSession | None = None

    @property
    def session(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession(
                connector=aiohttp.TCPConnector(limit=self.max_connections),
                timeout=aiohttp.ClientTimeout(total=self.timeout_s),
            )
        return self._session

    async def aclose(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None

    async def _request(self, method: str, url: str, timeout_s: float | None = None, **kw: Any) -> tuple[int, str]:
        timeout = aiohttp.ClientTimeout(total=timeout_s) if timeout_s else None
        try:
            async with self.session.request(method, url, timeout=timeout, **kw) as resp:
                text = "" if method == "HEAD" else await resp.text(errors="replace")
                status = resp.status
        except (TimeoutError, aiohttp.ClientError) as exc:
            raise WorkerUnreachable(f"{type(exc).__name__}: {exc}".strip(": ")) from exc
        if status >= 500 and status != 503:
            raise WorkerUnreachable(f"HTTP {status}: {_reason(status, text)}")
        return status, text

    def _auth(self) -> dict[str, str]:
        return {protocol.TOKEN_HEADER: self.token}

    async def status(self, worker: str) -> protocol.WorkerStatus:
        status, text = await self._request("GET", worker + protocol.STATUS_PATH, headers=self._auth())
        if status != 200:
            raise WorkerUnreachable(f"status: HTTP {status}: {_reason(status, text)}")
        return protocol.WorkerStatus.model_validate_json(text)

    async def submit(self, worker: str, job: protocol.JobRequest) -> protocol.JobAccepted:
        status, text = await self._request(
            "POST", worker + protocol.JOBS_PATH, json=job.model_dump(mode="json"), headers=self._auth()
        )
        if status == 503:
            raise WorkerBusy(_reason(status, text))
        if status >= 400:
            raise _rejected("job refused", status, text)
        return protocol.JobAccepted.model_validate_json(text)

    async def job(self, worker: str, worker_task_id: str) -> protocol.JobStatus:
        status, text = await self._request("GET", f"{worker}{protocol.JOBS_PATH}/{worker_task_id}", headers=self._auth())
        if status >= 400:
            raise _rejected("job status", status, text)
        return protocol.JobStatus.model_validate_json(text)

    async def jobs(self, worker: str, worker_task_ids: list[str]) -> protocol.JobsStatusResponse:
        """Many jobs in one request (``protocol.MAX_STATUS_BATCH`` ids at most). A worker from
        before this route answers 404 or 405: ``WorkerRejected`` with that status."""
        body = protocol.JobsStatusRequest(worker_task_ids=worker_task_ids).model_dump()
        status, text = await self._request("POST", worker + protocol.JOBS_STATUS_PATH, json=body, headers=self._auth())
        if status >= 400:
            raise WorkerRejected(f"jobs status: HTTP {status}: {_reason(status, text)}", status)
        return protocol.JobsStatusResponse.model_validate_json(text)

    async def convert(self, worker: str, input_url: str, timeout_s: float) -> str:
        """FBX -> GLB; the returned URL is a finished file (the worker answers when it is done)."""
        status, text = await self._request(
            "POST",
            worker + protocol.CONVERT_PATH,
            timeout_s=timeout_s,
            json=protocol.ConvertRequest(input_url=input_url).model_dump(),
            headers=self._auth(),
        )
        if status == 503:
            raise WorkerBusy(_reason(status, text))
        if status >= 400:
            raise _rejected("conversion failed", status, text)
        return protocol.ConvertResponse.model_validate_json(text).output_url

    async def exists(self, url: str) -> bool:
        """HEAD an output URL: 200 when the file is complete, 404 before."""
        status, _ = await self._request("HEAD", url, headers=self._auth(), allow_redirects=False)
        if status in (401, 403):
            raise WorkerUnreachable(f"HEAD {url}: HTTP {status}: the worker refused the token")
        return status == 200

    async def download(self, url: str, dest: Path) -> int | None:
        """Stream ``url`` into ``dest``; ``None`` when it does not exist (404)."""
        tmp = dest.with_name(dest.name + ".part")
        # No total limit for big files: only connecting and each read are bounded.
        timeout = aiohttp.ClientTimeout(total=None, connect=self.timeout_s, sock_read=self.timeout_s)
        try:
            async with self.session.get(url, timeout=timeout, headers=self._auth(), allow_redirects=False) as resp:
                if resp.status == 404:
                    return None
                if resp.status != 200:
                    raise WorkerUnreachable(f"download {url}: HTTP {resp.status}")
                size = 0
                with open(tmp, "wb") as f:
                    async for chunk in resp.content.iter_chunked(DOWNLOAD_CHUNK):
                        f.write(chunk)
                        size += len(chunk)
            os.replace(tmp, dest)
            return size
        except (TimeoutError, aiohttp.ClientError) as exc:
            raise WorkerUnreachable(f"download {url}: {type(exc).__name__}: {exc}") from exc
        finally:
            tmp.unlink(missing_ok=True)
