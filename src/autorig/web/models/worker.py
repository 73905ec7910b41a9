"""``workers``: what the backend last heard from each worker in ``WORKERS``.

Kept in the database so a restarted backend still knows how long a worker has been silent.
``progress_owner``/``progress_until`` is a lease: the backend instance that follows this
worker's jobs (one progress request per cycle) until then; it renews it every cycle, and when
its holder dies the lease expires and another backend takes the worker over.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, Float, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from autorig.web.db.base import Base, UTCDateTime, utcnow


class WorkerNode(Base):
    __tablename__ = "workers"

    url: Mapped[str] = mapped_column(String(512), primary_key=True)
    online: Mapped[bool] = mapped_column(Boolean, default=False)
    accepting: Mapped[bool] = mapped_column(Boolean, default=False)
    capacity: Mapped[int] = mapped_column(Integer, default=0)
    free_slots: Mapped[int] = mapped_column(Integer, default=0)
    active_jobs: Mapped[int] = mapped_column(Integer, default=0)
    avg_job_seconds: Mapped[float | None] = mapped_column(Float, nullable=True)
    version: Mapped[str | None] = mapped_column(String(64), nullable=True)
    last_seen_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    last_checked_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    last_error: Mapped[str | None] = mapped_column(Text, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    progress_owner: Mapped[str | None] = mapped_column(String(128), nullable=True)
    progress_until: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
