"""``gumroad_events``: every Gumroad ping we accepted, keyed by ``event_key`` (``sale:<sale_id>``
or ``refund:<sale_id>``), so a repeated ping inserts nothing and does nothing.

``status``: ``applied`` (the credits moved), ``pending`` (no account with that email yet: applied
when it signs up), ``ignored`` (unknown product, test ping, no buyer id: kept for the admin).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from autorig.web.db.base import Base, UTCDateTime, utcnow


class GumroadEvent(Base):
    __tablename__ = "gumroad_events"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    event_key: Mapped[str] = mapped_column(String(160), unique=True)
    sale_id: Mapped[str] = mapped_column(String(128), index=True)
    kind: Mapped[str] = mapped_column(String(16), doc="sale or refund")
    email: Mapped[str | None] = mapped_column(String(320), nullable=True, index=True, doc="url_params[userid]: our person")
    buyer_email: Mapped[str | None] = mapped_column(String(320), nullable=True, doc="Gumroad's buyer email")
    product: Mapped[str | None] = mapped_column(String(255), nullable=True)
    variants: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    quantity: Mapped[int] = mapped_column(Integer, default=1)
    credits: Mapped[int] = mapped_column(Integer, default=0, doc="credits the sale buys (positive for a refund too)")
    test: Mapped[bool] = mapped_column(Boolean, default=False)
    status: Mapped[str] = mapped_column(String(16))
    note: Mapped[str | None] = mapped_column(String(500), nullable=True)
    user_id: Mapped[str | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"), nullable=True)
    applied_credits: Mapped[int] = mapped_column(Integer, default=0, doc="the change made to the balance")
    shortfall: Mapped[int] = mapped_column(Integer, default=0, doc="refunded credits already spent")
    payload: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    applied_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
