"""The worker's routes (see ``protocol.py``): parse, call the JobManager, return a schema."""

from __future__ import annotations

import hmac
from typing import Annotated

from fastapi import APIRouter, Depends, Header, Request
from fastapi.responses import HTMLResponse, Response

from autorig import protocol
from autorig.protocol import (
    ConvertRequest,
    ConvertResponse,
    JobAccepted,
    JobRequest,
    JobsStatusRequest,
    JobsStatusResponse,
    JobStatus,
    WorkerStatus,
)
from autorig.worker import files
from autorig.worker.errors import Unauthorized
from autorig.worker.jobs import JobManager
from autorig.worker.pages import progress_page


def get_manager(request: Request) -> JobManager:
    manager: JobManager = request.app.state.manager  # Starlette's app.state is untyped
    return manager


def require_token(request: Request, token: Annotated[str | None, Header(alias=protocol.TOKEN_HEADER)] = None) -> None:
    expected = get_manager(request).settings.token.get_secret_value()
    if not expected:
        return  # no token configured: allowed only on loopback (cli_worker refuses otherwise)
    if token is None:
        raise Unauthorized(f"the {protocol.TOKEN_HEADER} header is missing")
    if not hmac.compare_digest(token.encode(), expected.encode()):
        raise Unauthorized(f"wrong {protocol.TOKEN_HEADER}")


ManagerDep = Annotated[JobManager, Depends(get_manager)]
TokenDep = Annotated[None, Depends(require_token)]

router = APIRouter()


# Plain `def` routes run in the thread pool: they resolve host names and touch the disk.
@router.post(protocol.JOBS_PATH, response_model=JobAccepted)
def submit_job(body: JobRequest, manager: ManagerDep, _: TokenDep) -> JobAccepted:
    return manager.submit(body)


@router.post(protocol.JOBS_STATUS_PATH, response_model=JobsStatusResponse)
def jobs_status(body: JobsStatusRequest, manager: ManagerDep, _: TokenDep) -> JobsStatusResponse:
    """Many jobs in one answer (the backend's progress cycle asks once per worker): state,
    progress, error and the outputs complete so far, so the backend needs no HEAD per file."""
    jobs, unknown = [], []
    for job_id in body.worker_task_ids:
        record = manager.store.get(job_id)
        if record is None:
            unknown.append(job_id)
        else:
            jobs.append(record.to_status())
    return JobsStatusResponse(jobs=jobs, unknown=unknown)


@router.get(protocol.JOBS_PATH + "/{worker_task_id}", response_model=JobStatus)
def job_status(worker_task_id: str, manager: ManagerDep) -> JobStatus:
    return manager.job_status(worker_task_id)


@router.get(protocol.STATUS_PATH, response_model=WorkerStatus)
def worker_status(manager: ManagerDep) -> WorkerStatus:
    return manager.status()


@router.post(protocol.CONVERT_PATH, response_model=ConvertResponse)
def convert(body: ConvertRequest, manager: ManagerDep, _: TokenDep) -> ConvertResponse:
    return manager.convert(body)


@router.get("/jobs/{worker_task_id}", response_class=HTMLResponse)
def job_page(worker_task_id: str, manager: ManagerDep) -> HTMLResponse:
    job = manager.get(worker_task_id)
    return HTMLResponse(progress_page(job, manager.store), headers={"Cache-Control": "no-store"})


# Outputs include the paid files: only the backend (with the token) may read them; it serves
# users from its own storage.
@router.api_route("/files/{guid}/{filename}", methods=["GET", "HEAD"])
def output_file(guid: str, filename: str, request: Request, manager: ManagerDep, _: TokenDep) -> Response:
    return files.serve(manager.output_path(guid, filename), request)
