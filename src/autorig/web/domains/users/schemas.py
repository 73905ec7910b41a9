"""What the sign-in and ``/api/me`` routes answer, and the mapper from a task row to its summary."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field

from autorig.web.domains.notifications.service import task_page_url
from autorig.web.models import Task, User


class EmailSignIn(BaseModel):
    email: str = Field(max_length=320)
    next: str | None = Field(None, max_length=2000, description="a path on this site to go to after signing in")


class LinkSent(BaseModel):
    sent: bool = True
    email: str
    expires_in_minutes: float


class AuthConfig(BaseModel):
    email: bool = True
    google: bool = Field(description="Google sign-in is configured (GOOGLE_CLIENT_ID/SECRET)")
    google_url: str | None
    anon_free_limit: int
    user_free_limit: int


class Me(BaseModel):
    id: str
    email: str
    name: str | None
    balance_credits: int
    is_admin: bool
    signed_in_via: str = Field(description="session or api_key")
    created_at: datetime


class TaskSummary(BaseModel):
    task_id: str
    task_url: str
    status: str
    source_name: str
    progress: float
    created_at: datetime
    finished_at: datetime | None


ME_COLUMNS = ("id", "email", "name", "balance_credits", "created_at")


def me_view(user: User, *, is_admin: bool, via: str) -> Me:
    return Me(**{c: getattr(user, c) for c in ME_COLUMNS}, is_admin=is_admin, signed_in_via=via)


def task_summary(task: Task, base_url: str) -> TaskSummary:
    return TaskSummary(
        task_id=task.id,
        task_url=task_page_url(base_url, task.id),
        status=task.status,
        source_name=task.source_name,
        progress=round(task.progress, 4),
        created_at=task.created_at,
        finished_at=task.finished_at,
    )


class MyTasks(BaseModel):
    tasks: list[TaskSummary]


class SignedOut(BaseModel):
    signed_out: bool = True
