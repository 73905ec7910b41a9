"""What ``/api/admin`` answers, and the mappers from rows to it."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field

from autorig.web.domains.apikeys.schemas import ApiKeyInfo
from autorig.web.domains.credits.schemas import LedgerEntry
from autorig.web.domains.payments.schemas import GumroadEventView
from autorig.web.domains.queue.schemas import QueueStatus
from autorig.web.domains.users.schemas import TaskSummary
from autorig.web.models import User, WorkerNode


class AdminUser(BaseModel):
    id: str
    email: str
    name: str | None
    balance_credits: int
    gumroad_email: str | None
    is_admin: bool = False
    tasks: int = 0
    created_at: datetime
    last_login_at: datetime | None


def admin_user(user: User, tasks: int, is_admin: bool) -> AdminUser:
    return AdminUser.model_validate(user, from_attributes=True).model_copy(update={"tasks": tasks, "is_admin": is_admin})


class UserList(BaseModel):
    total: int
    users: list[AdminUser]


class UserDetail(BaseModel):
    user: AdminUser
    ledger: list[LedgerEntry]
    ledger_sum: int = Field(description="equals balance_credits: the ledger explains the balance")
    api_keys: list[ApiKeyInfo]
    payments: list[GumroadEventView]


class UserTasks(BaseModel):
    user_id: str
    tasks: list[TaskSummary]


class BalanceChange(BaseModel):
    amount: int = Field(description="credits to add (> 0) or take (< 0)")
    note: str | None = Field(None, max_length=500)


class BalanceChanged(BaseModel):
    user_id: str
    balance_credits: int
    entry: LedgerEntry


class TaskDeleted(BaseModel):
    task_id: str
    deleted: bool = True
    files_deleted: int = Field(description="counted after the commit; 0 here means the files go right after")


class RestartAccepted(BaseModel):
    restarting: bool = True
    how: str = Field(description="the command run, or 're-execute' this process")
    pid: int


class ServiceInfo(BaseModel):
    pid: int
    started_at: datetime
    instance_id: str
    restart: str


class AdminWorker(BaseModel):
    url: str
    online: bool
    answering: bool = Field(description="online and heard from within WORKER_DEAD_AFTER_S")
    accepting: bool
    capacity: int
    free_slots: int
    active_jobs: int
    avg_job_seconds: float | None
    version: str | None
    last_seen_at: datetime | None
    last_checked_at: datetime | None
    last_error: str | None
    tasks: list[str] = Field(description="tasks processing on it")


def admin_worker(w: WorkerNode, answering: bool, tasks: list[str]) -> AdminWorker:
    """``None`` counts of a worker never heard from read as 0, unknown flags as False."""
    return AdminWorker(
        url=w.url,
        online=bool(w.online),
        answering=answering,
        accepting=bool(w.accepting),
        capacity=w.capacity or 0,
        free_slots=w.free_slots or 0,
        active_jobs=w.active_jobs or 0,
        avg_job_seconds=w.avg_job_seconds,
        version=w.version,
        last_seen_at=w.last_seen_at,
        last_checked_at=w.last_checked_at,
        last_error=w.last_error,
        tasks=tasks,
    )


class AdminWorkers(BaseModel):
    workers: list[AdminWorker]
    queue: QueueStatus
