"""``backends``: the backend processes sharing this database, each with its last heartbeat.

Several backends on one PostgreSQL split the progress work: each follows an equal share of the
workers (a lease on the ``workers`` row), the share counted from the backends seen lately.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from autorig.web.db.base import Base, UTCDateTime, utcnow


class BackendInstance(Base):
    __tablename__ = "backends"

    instance_id: Mapped[str] = mapped_column(String(128), primary_key=True)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    seen_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
