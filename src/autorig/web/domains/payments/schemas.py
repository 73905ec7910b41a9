"""What the Gumroad routes answer, and the mapper from a stored ping."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field

from autorig.web.models import GumroadEvent


class PingResult(BaseModel):
    recorded: bool = Field(description="False for a ping seen before (nothing done)")
    status: str = Field(description="applied, pending (no account with that email yet), ignored, or duplicate")


class Offer(BaseModel):
    label: str
    credits: int
    url: str = Field(description="Gumroad buy link carrying the person's email as url_params[userid]")


class Offers(BaseModel):
    signed_in: bool
    balance: int | None
    offers: list[Offer]
    note: str = "credits are added when Gumroad confirms the payment (usually within a minute)"


class GumroadEventView(BaseModel):
    id: int
    sale_id: str
    kind: str
    status: str
    email: str | None
    buyer_email: str | None
    product: str | None
    credits: int
    applied_credits: int
    shortfall: int
    test: bool
    note: str | None
    user_id: str | None
    created_at: datetime
    applied_at: datetime | None


def event_view(e: GumroadEvent) -> GumroadEventView:
    return GumroadEventView.model_validate(e, from_attributes=True)
