from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field


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


class MyTasks(BaseModel):
    tasks: list[TaskSummary]


class SignedOut(BaseModel):
    signed_out: bool = True
