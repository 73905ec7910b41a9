"""What ``/api/credits`` answers, and the mapper from a ledger row."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field

from autorig.web.models import CreditEntry


class LedgerEntry(BaseModel):
    id: int
    amount: int = Field(description="credits added (> 0) or taken (< 0)")
    balance_after: int
    reason: str = Field(description="signup, download, download_all, gumroad_sale, gumroad_refund or admin")
    task_id: str | None
    item: str | None = Field(description="the file bought, '*' for the whole set")
    sale_id: str | None
    actor: str | None = Field(description="the admin who changed the balance")
    note: str | None
    created_at: datetime


def ledger_entry(e: CreditEntry) -> LedgerEntry:
    return LedgerEntry.model_validate(e, from_attributes=True)


class Prices(BaseModel):
    file: int = Field(description="credits for one downloadable file")
    all: int = Field(description="credits for the whole set of a task as one ZIP")


class CreditsView(BaseModel):
    balance_credits: int
    prices: Prices
    buy_url: str
    ledger: list[LedgerEntry]


class TaskPurchases(BaseModel):
    task_id: str
    balance_credits: int | None = Field(description="None when not signed in")
    is_admin: bool = Field(description="admins download without paying")
    paid: list[str] = Field(description="files already paid for (downloading them again is free)")
    all_paid: bool = Field(description="the whole set is paid for")
    prices: Prices
    buy_url: str


class PaymentProblem(BaseModel):
    """The body of a 401 or 402 from a paid download."""

    error: str = Field(description="SignInRequired or PaymentRequired")
    detail: str
    sign_in_url: str | None = Field(None, description="401: where to sign in")
    buy_url: str | None = Field(None, description="402: where to buy credits")
    balance: int | None = Field(None, description="402: the balance now")
    price: int | None = Field(None, description="402: what the item costs")


PAID_DOWNLOAD_RESPONSES: dict[int | str, dict[str, object]] = {
    200: {"description": "the file"},
    401: {"model": PaymentProblem, "description": "not signed in (anonymous visitors cannot download)"},
    402: {"model": PaymentProblem, "description": "too few credits; buy_url links to /buy-credits"},
}
