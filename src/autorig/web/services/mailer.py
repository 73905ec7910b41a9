"""Send the emails waiting in the outbox table.

Several backends may share the database: each run claims a batch of unsent emails (a lease
named after this instance, the rows taken ``FOR UPDATE SKIP LOCKED`` on PostgreSQL), so two
backends never send the same email; a claim whose holder died expires after ``CLAIM_LEASE_S``
and the email goes out from another backend (at least once, never twice while all live).
"""

from __future__ import annotations

import logging
from datetime import timedelta

from sqlalchemy import or_, select

from autorig.config import WebSettings
from autorig.web.db import Database, utcnow
from autorig.web.db.dialect import claim_rows
from autorig.web.domains.notifications.sender import EmailSender
from autorig.web.models import OutboxEmail
from autorig.web.services.base import LoopService

log = logging.getLogger(__name__)

BATCH = 50
MAX_SEND_ATTEMPTS = 5


class MailerService(LoopService):
    name = "mailer"

    def __init__(self, db: Database, sender: EmailSender, settings: WebSettings) -> None:
        super().__init__(settings.mailer_interval_s)
        self.db = db
        self.sender = sender
        self.settings = settings

    async def run_once(self) -> None:
        now = utcnow()
        lease = timedelta(seconds=self.settings.claim_lease_s)
        until = now + lease
        me = self.settings.instance_id
        async with self.db.session() as s:
            free = or_(OutboxEmail.claimed_by.is_(None), OutboxEmail.claim_until.is_(None), OutboxEmail.claim_until < now)
            stmt = (
                select(OutboxEmail)
                .where(OutboxEmail.sent_at.is_(None), OutboxEmail.attempts < MAX_SEND_ATTEMPTS, free)
                .order_by(OutboxEmail.id)
                .limit(BATCH)
            )
            pending = (await s.scalars(claim_rows(stmt, s.get_bind().dialect.name))).all()
            for e in pending:
                e.claimed_by, e.claim_until = me, until
            emails = [(e.id, e.to_addr, e.subject, e.body, e.task_id) for e in pending]
        for n, (email_id, to, subject, body, task_id) in enumerate(emails):
            if utcnow() > until - lease / 2:
                # The claim is running out (a slow mail server): leave the rest to the next run.
                await self._release([e[0] for e in emails[n:]])
                return
            error: str | None = None
            try:
                await self.sender.send(to, subject, body, ref=f"{email_id}-{task_id or 'mail'}")
            except Exception as exc:  # SMTP down, refused address...: keep it and try again later
                error = f"{type(exc).__name__}: {exc}"
                log.warning("email %s to %s not sent: %s", email_id, to, error)
            async with self.db.session() as s:
                row = await s.get(OutboxEmail, email_id)
                if row is None:
                    continue
                row.attempts += 1
                row.claimed_by = row.claim_until = None
                if error is None:
                    row.sent_at = utcnow()
                else:
                    row.last_error = error[:2000]

    async def _release(self, ids: list[int]) -> None:
        async with self.db.session() as s:
            for row in (await s.scalars(select(OutboxEmail).where(OutboxEmail.id.in_(ids)))).all():
                if row.claimed_by == self.settings.instance_id and row.sent_at is None:
                    row.claimed_by = row.claim_until = None
