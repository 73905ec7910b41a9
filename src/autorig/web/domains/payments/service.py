"""Credits bought on Gumroad: record each ping once, credit the person it names, take credits
back on a refund, and keep pings for emails without an account until that email signs up.

The ping is the only source of truth: ``/payment/success`` adds nothing. An event's key is
``sale:<sale_id>`` or ``refund:<sale_id>``; it is inserted doing nothing on conflict, and acted
on only when the row is new (STYLE.md habit 8).
"""

from __future__ import annotations

import logging

import httpx
from sqlalchemy.ext.asyncio import AsyncSession

from autorig.config import WebSettings
from autorig.web.db import utcnow
from autorig.web.domains.credits.service import CreditService, Reason
from autorig.web.domains.payments import gumroad, repository
from autorig.web.domains.payments.gumroad import GumroadApi, GumroadPing
from autorig.web.domains.payments.schemas import Offer
from autorig.web.domains.users import repository as users_repo
from autorig.web.models import GumroadEvent, User

log = logging.getLogger(__name__)

HTTP_TIMEOUT_S = 15.0


class EventStatus:
    applied = "applied"
    pending = "pending"
    ignored = "ignored"


class PaymentService:
    def __init__(self, settings: WebSettings, credits: CreditService) -> None:
        self.settings = settings
        self.credits = credits
        self.http = httpx.AsyncClient(timeout=HTTP_TIMEOUT_S)
        self.api = GumroadApi(settings, self.http)

    async def aclose(self) -> None:
        await self.http.aclose()

    def offers(self, email: str | None) -> list[Offer]:
        return [
            Offer(label=p.label or f"{p.credits} credits", credits=p.credits, url=gumroad.buy_url(p, email))
            for p in self.settings.gumroad_products
            if p.credits > 0
        ]

    # --- pings -----------------------------------------------------------------------------------

    async def record(self, session: AsyncSession, ping: GumroadPing) -> GumroadEvent | None:
        """Record the ping and act on it; ``None`` when this ping was recorded before."""
        status, note, credits, email = EventStatus.pending, None, 0, ping.userid
        if ping.kind == "sale":
            product = gumroad.match_product(self.settings.gumroad_products, ping)
            credits = product.credits * ping.quantity if product else 0
            if product is None:
                status, note = EventStatus.ignored, f"no credits set for product {ping.product!r} (GUMROAD_PRODUCTS)"
        else:
            sale = await repository.by_key(session, f"sale:{ping.sale_id}")
            credits = sale.credits if sale is not None else 0
            email = email or (sale.email if sale is not None else None)  # a refund ping may lack url_params
        if ping.test and not self.settings.gumroad_accept_test:
            status, note = EventStatus.ignored, "test ping (GUMROAD_ACCEPT_TEST is off)"
        elif not email and status == EventStatus.pending:
            status, note = EventStatus.ignored, "no url_params[userid]: the buy link did not name the person"
        event = await repository.insert_new(
            session,
            dict(
                event_key=ping.event_key,
                sale_id=ping.sale_id,
                kind=ping.kind,
                email=email,
                buyer_email=ping.buyer_email,
                product=(ping.product or "")[:255] or None,
                variants=ping.variants,
                quantity=ping.quantity,
                credits=credits,
                test=ping.test,
                status=status,
                note=note,
                applied_credits=0,
                shortfall=0,
                payload=ping.payload,
                created_at=utcnow(),
            ),
        )
        if event is None:
            log.info("Gumroad ping %s seen before: nothing to do", ping.event_key)
            return None
        if event.status == EventStatus.pending and event.email:
            user = await users_repo.by_email(session, event.email)
            if user is not None:
                await self.apply(session, event, user)
        log.info(
            "Gumroad %s %s for %s: %s (%d credits)", ping.kind, ping.sale_id, ping.userid, event.status, event.applied_credits
        )
        return event

    async def apply(self, session: AsyncSession, event: GumroadEvent, user: User) -> None:
        """Move the credits of one event for ``user``."""
        ref = dict(sale_id=event.sale_id)
        if event.kind == "sale":
            refunded = await repository.by_key(session, f"refund:{event.sale_id}")
            if refunded is not None:
                event.note = "refunded before it was credited"
            elif event.credits > 0:
                await self.credits.add(session, user.id, event.credits, Reason.gumroad_sale, note=event.product, **ref)
                event.applied_credits = event.credits
        else:
            sale = await repository.by_key(session, f"sale:{event.sale_id}")
            owed = sale.applied_credits if sale is not None and sale.status == EventStatus.applied else 0
            if owed <= 0:
                event.note = event.note or "no credited sale to take back"
            else:
                entry, shortfall = await self.credits.take_up_to(
                    session, user.id, owed, Reason.gumroad_refund, note=f"refund of {owed} credits", **ref
                )
                event.applied_credits = -(owed - shortfall)
                event.shortfall = shortfall
                if shortfall:
                    event.note = f"{shortfall} of the {owed} refunded credits were already spent"
                    if entry is not None:
                        entry.note = f"refund of {owed} credits; {shortfall} already spent"
        if event.buyer_email:
            user.gumroad_email = event.buyer_email
        event.user_id = user.id
        event.status = EventStatus.applied
        event.applied_at = utcnow()
        await session.flush()

    async def apply_pending(self, session: AsyncSession, user: User) -> int:
        """Credit the pings that waited for this email (called when the account is created)."""
        events = await repository.pending_for(session, user.email)
        for event in events:
            await self.apply(session, event, user)
        return len(events)

    async def recent(self, session: AsyncSession, limit: int, email: str | None = None) -> list[GumroadEvent]:
        """The latest pings, newest first; ``email``: only those for that address."""
        return await repository.recent(session, limit, email.strip().lower() if email else None)
