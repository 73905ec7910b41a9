"""Database access: ``Base`` for models, ``Database`` for engines and sessions."""

from autorig.web.db.base import Base, UTCDateTime, utcnow
from autorig.web.db.database import Database, commit, on_commit

__all__ = ["Base", "Database", "UTCDateTime", "commit", "on_commit", "utcnow"]
