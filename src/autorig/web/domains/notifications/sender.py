"""Deliver one email: over SMTP (aiosmtplib) when ``SMTP_HOST`` is set, otherwise to the log
and a ``.eml`` file in the outbox folder, so someone running autorig locally sees it."""

from __future__ import annotations

import logging
import re
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from pathlib import Path

import aiosmtplib

from autorig.config import WebSettings

log = logging.getLogger(__name__)
SMTP_TIMEOUT_S = 30.0


def build_message(settings: WebSettings, to: str, subject: str, body: str) -> EmailMessage:
    msg = EmailMessage()
    msg["From"] = settings.email_from
    msg["To"] = to
    msg["Subject"] = subject
    msg["Date"] = formatdate(localtime=False)
    msg["Message-ID"] = make_msgid(domain="autorig")
    msg.set_content(body)
    return msg


class EmailSender:
    def __init__(self, settings: WebSettings) -> None:
        self.settings = settings

    @property
    def uses_smtp(self) -> bool:
        return bool(self.settings.smtp_host)

    async def send(self, to: str, subject: str, body: str, *, ref: str = "") -> None:
        msg = build_message(self.settings, to, subject, body)
        if self.uses_smtp:
            s = self.settings
            await aiosmtplib.send(
                msg,
                hostname=s.smtp_host,
                port=s.smtp_port,
                username=s.smtp_user or None,
                password=s.smtp_password.get_secret_value() or None if s.smtp_password else None,
                use_tls=s.smtp_tls == "ssl",
                start_tls=True if s.smtp_tls == "starttls" else False,
                timeout=SMTP_TIMEOUT_S,
            )
            return
        outbox: Path = self.settings.outbox_root
        outbox.mkdir(parents=True, exist_ok=True)
        safe = re.sub(r"[^A-Za-z0-9_.-]+", "_", f"{ref or msg['Message-ID']}")[:80]
        path = outbox / f"{safe}.eml"
        path.write_bytes(bytes(msg))
        log.info("email (no SMTP configured) to %s: %s -> %s\n%s", to, subject, path, body)
