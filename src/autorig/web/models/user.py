"""``users``: an account, found by its email. The balance is ``balance_credits``; every change
to it is also a row in ``credit_ledger`` (see ``domains/credits``)."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import CheckConstraint, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from autorig.web.db.base import Base, UTCDateTime, utcnow


class User(Base):
    __tablename__ = "users"
    # The conditional charge (balance >= cost) keeps it so; the constraint makes sure.
    __table_args__ = (CheckConstraint("balance_credits >= 0", name="balance_not_negative"),)

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=lambda: uuid.uuid4().hex)
    email: Mapped[str] = mapped_column(String(320), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    # Issue 6: accounts and credits.
    balance_credits: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    name: Mapped[str | None] = mapped_column(String(255), nullable=True)
    gumroad_email: Mapped[str | None] = mapped_column(
        String(320), nullable=True, doc="the buyer email Gumroad gave; never used to find the person"
    )
    last_login_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
