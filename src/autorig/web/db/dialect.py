"""Every difference between SQLite and PostgreSQL lives here.

- URLs: the user writes ``sqlite:///x.db`` or ``postgresql://...``; the app runs on the async
  drivers (aiosqlite, psycopg 3) and Alembic on the sync ones.
- SQLite connections get their PRAGMAs on connect and explicit ``BEGIN``s, so a session that
  will write can take the write lock up front (``BEGIN IMMEDIATE``).
- The queue claim: ``SELECT ... FOR UPDATE SKIP LOCKED`` on PostgreSQL; on SQLite the claiming
  transaction is ``BEGIN IMMEDIATE``, which already makes it the only writer.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Select, event
from sqlalchemy.engine import Engine, make_url

# Execution option read by the "begin" hook: take SQLite's write lock when the transaction starts.
IMMEDIATE = "autorig_sqlite_immediate"

SQLITE_BUSY_TIMEOUT_MS = 30_000


def is_sqlite(url: str) -> bool:
    return make_url(url).get_backend_name() == "sqlite"


def async_url(url: str) -> str:
    """The URL with the async driver of its dialect."""
    u = make_url(url)
    backend = u.get_backend_name()
    if backend == "sqlite":
        return u.set(drivername="sqlite+aiosqlite").render_as_string(hide_password=False)
    if backend == "postgresql":
        return u.set(drivername="postgresql+psycopg").render_as_string(hide_password=False)
    raise ValueError(f"unsupported database {backend!r}: use sqlite:/// or postgresql://")


def sync_url(url: str) -> str:
    """The URL with the sync driver (Alembic, scripts)."""
    u = make_url(url)
    backend = u.get_backend_name()
    if backend == "sqlite":
        return u.set(drivername="sqlite").render_as_string(hide_password=False)
    if backend == "postgresql":
        return u.set(drivername="postgresql+psycopg").render_as_string(hide_password=False)
    raise ValueError(f"unsupported database {backend!r}: use sqlite:/// or postgresql://")


# Connection pools (issue 11). No request holds a connection while it sends a file or builds a
# ZIP, and polled views are cached, so connections are held for milliseconds; the pool is sized
# for bursts of parallel requests (50 downloads at once), and a request that still finds it
# empty waits POOL_TIMEOUT_S, then gets 503 (errors.py) instead of hanging for half a minute.
SQLITE_POOL = {"pool_size": 20, "max_overflow": 20}  # each aiosqlite connection is a thread
POSTGRES_POOL = {"pool_size": 20, "max_overflow": 30}  # PostgreSQL's default max_connections is 100
POOL_TIMEOUT_S = 10.0


def engine_kwargs(url: str) -> dict[str, Any]:
    if is_sqlite(url):
        if ":memory:" in url or url.rstrip("/").endswith("sqlite:"):
            return {"connect_args": {"timeout": SQLITE_BUSY_TIMEOUT_MS / 1000}}
        return {"connect_args": {"timeout": SQLITE_BUSY_TIMEOUT_MS / 1000}, "pool_timeout": POOL_TIMEOUT_S, **SQLITE_POOL}
    return {**POSTGRES_POOL, "pool_timeout": POOL_TIMEOUT_S, "pool_pre_ping": True}


def configure_engine(sync_engine: Engine) -> None:
    """Install the per-connection set-up for the engine's dialect."""
    if sync_engine.dialect.name != "sqlite":
        return

    @event.listens_for(sync_engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Let SQLAlchemy, not the sqlite3 module, decide when transactions begin (see "begin").
        dbapi_connection.isolation_level = None
        cur = dbapi_connection.cursor()
        # WAL: readers never block the writer and the writer never blocks readers.
        cur.execute("PRAGMA journal_mode=WAL")
        # SQLite ignores foreign keys unless asked, per connection.
        cur.execute("PRAGMA foreign_keys=ON")
        # Wait for the write lock instead of failing at once with "database is locked".
        cur.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        # With WAL, NORMAL is durable across application crashes and much faster than FULL.
        cur.execute("PRAGMA synchronous=NORMAL")
        cur.close()

    @event.listens_for(sync_engine, "begin")
    def _on_begin(conn: Any) -> None:
        # A deferred transaction that reads and then writes fails with SQLITE_BUSY (snapshot
        # out of date) when another writer committed in between; writers take the lock first.
        if conn.get_execution_options().get(IMMEDIATE):
            conn.exec_driver_sql("BEGIN IMMEDIATE")
        else:
            conn.exec_driver_sql("BEGIN")


def claim_rows(stmt: Select[Any], dialect_name: str) -> Select[Any]:
    """Lock the selected queue rows for this transaction, skipping rows others hold."""
    if dialect_name == "postgresql":
        return stmt.with_for_update(skip_locked=True)
    # SQLite: the transaction began IMMEDIATE, so no other writer exists until it ends.
    return stmt


def insert_ignoring_conflicts(model: Any, dialect_name: str) -> Any:
    """``INSERT ... ON CONFLICT DO NOTHING`` for ``model`` (issue 6: webhook events, purchases).

    Both dialects spell it the same way, from their own modules; the caller adds
    ``.on_conflict_do_nothing(index_elements=[...])`` and usually ``.returning(...)``.
    """
    if dialect_name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert as pg_insert

        return pg_insert(model)
    from sqlalchemy.dialects.sqlite import insert as sqlite_insert

    return sqlite_insert(model)


def serialize_on(key: str, dialect_name: str) -> tuple[str, dict[str, str]] | None:
    """SQL that makes transactions about ``key`` wait for each other until they end (issue 6:
    the anonymous task limit): a transaction-scoped advisory lock on PostgreSQL; ``None`` on
    SQLite, where the writing session's ``BEGIN IMMEDIATE`` already lets one writer at a time."""
    if dialect_name == "postgresql":
        return "SELECT pg_advisory_xact_lock(hashtext(:key))", {"key": key}
    return None
