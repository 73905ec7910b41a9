"""Send the emails waiting in the outbox table."""

from __future__ import annotations

import logging

from sqlalchemy import select

from autorig.web.db import utcnow
from autorig.web.models import OutboxEmail
from autorig.web.services.base import LoopService

log = logging.getLogger(__name__)

BATCH = 50
MAX_SEND_ATTEMPTS = 5


class MailerService(LoopService):
    name = "mailer"

    def __init__(self, ctx: object) -> None:
        from autorig.web.context import AppContext

        assert isinstance(ctx, AppContext)
        super().__init__(ctx.settings.mailer_interval_s)
        self.ctx = ctx

    async def run_once(self) -> None:
        async with self.ctx.db.read_session() as s:
            pending = (
                await s.scalars(
                    select(OutboxEmail)
                    .where(OutboxEmail.sent_at.is_(None), OutboxEmail.attempts < MAX_SEND_ATTEMPTS)
                    .order_by(OutboxEmail.id)
                    .limit(BATCH)
                )
            ).all()
            emails = [(e.id, e.to_addr, e.subject, e.body, e.task_id) for e in pending]
        for email_id, to, subject, body, task_id in emails:
            error: str | None = None
            try:
                await self.ctx.sender.send(to, subject, body, ref=f"{email_id}-{task_id or 'mail'}")
            except Exception as exc:  # SMTP down, refused address...: keep it and try again later
                error = f"{type(exc).__name__}: {exc}"
                log.warning("email %s to %s not sent: %s", email_id, to, error)
            async with self.ctx.db.session() as s:
                row = await s.get(OutboxEmail, email_id)
                if row is None:
                    continue
                row.attempts += 1
                if error is None:
                    row.sent_at = utcnow()
                else:
                    row.last_error = error[:2000]
