"""What ``/api/keys`` answers, and the mapper from a key row (never its hash)."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field

from autorig.web.models import ApiKey


class ApiKeyCreate(BaseModel):
    name: str = Field(min_length=1, max_length=100, description="what the key is for, e.g. 'build server'")


class ApiKeyInfo(BaseModel):
    id: str
    name: str
    prefix: str = Field(description="the first characters of the key, to tell keys apart")
    created_at: datetime
    last_used_at: datetime | None
    revoked_at: datetime | None


def key_info(key: ApiKey) -> ApiKeyInfo:
    return ApiKeyInfo.model_validate(key, from_attributes=True)


class ApiKeyCreated(ApiKeyInfo):
    key: str = Field(description="the key itself: shown this once, store it now")
