"""``credit_ledger``: every change of a balance, so a balance can always be explained:
``users.balance_credits`` equals the sum of ``amount`` over the person's rows.

``task_id`` is kept as plain text (no foreign key): the history outlives a deleted task.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from autorig.web.db.base import Base, UTCDateTime, utcnow


class CreditEntry(Base):
    __tablename__ = "credit_ledger"
    __table_args__ = (Index("ix_credit_ledger_user_id_created_at", "user_id", "created_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    amount: Mapped[int] = mapped_column(Integer, doc="credits added (> 0) or taken (< 0)")
    balance_after: Mapped[int] = mapped_column(Integer)
    reason: Mapped[str] = mapped_column(String(32), doc="a credits.Reason value")
    task_id: Mapped[str | None] = mapped_column(String(32), nullable=True, index=True)
    item: Mapped[str | None] = mapped_column(String(255), nullable=True, doc="the file bought, or '*' for the set")
    sale_id: Mapped[str | None] = mapped_column(String(128), nullable=True)
    actor: Mapped[str | None] = mapped_column(String(320), nullable=True, doc="the admin who made the change")
    note: Mapped[str | None] = mapped_column(Text, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
