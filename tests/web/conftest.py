"""Backend fixtures: a fresh database per test on SQLite and on PostgreSQL, fake workers."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from webkit import FakeWorker

PG_URL = os.environ.get("AUTORIG_TEST_POSTGRES_URL")


def _pg_schema_url(base: str, schema: str) -> str:
    sep = "&" if "?" in base else "?"
    return f"{base}{sep}options=-csearch_path%3D{schema}"


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A database nobody else uses: a new SQLite file, or a new schema in the test PostgreSQL."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'test.db'}"
        return
    if not PG_URL:
        pytest.skip("PostgreSQL variant skipped: AUTORIG_TEST_POSTGRES_URL is not set (.ci/run sets it)")
    import psycopg
    from sqlalchemy.engine import make_url

    schema = f"t_{uuid.uuid4().hex[:12]}"
    conninfo = make_url(PG_URL).set(drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(conninfo, autocommit=True) as conn:
        conn.execute(f'CREATE SCHEMA "{schema}"')
    try:
        yield _pg_schema_url(PG_URL, schema)
    finally:
        with psycopg.connect(conninfo, autocommit=True) as conn:
            conn.execute(f'DROP SCHEMA "{schema}" CASCADE')


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'test.db'}"


@pytest.fixture
def fake_workers() -> Iterator[list[FakeWorker]]:
    """Started by the test (``fake_workers.append(FakeWorker(...).start())``), killed after it."""
    started: list[FakeWorker] = []
    yield started
    for w in started:
        w.kill()


class _Inbox:
    def __init__(self) -> None:
        self.messages: list[tuple[str, list[str], bytes]] = []

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 (aiosmtpd's hook name)
        self.messages.append((envelope.mail_from, list(envelope.rcpt_tos), envelope.content))
        return "250 OK"


@pytest.fixture
def smtp_server():
    """A real SMTP server on loopback (aiosmtpd); ``.inbox.messages`` collects what arrives."""
    from aiosmtpd.controller import Controller
    from webkit import free_port

    inbox = _Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=free_port())
    controller.start()
    controller.inbox = inbox
    try:
        yield controller
    finally:
        controller.stop()
