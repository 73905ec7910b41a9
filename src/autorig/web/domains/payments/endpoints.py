"""Gumroad: ``POST /api-gumroad?token=...`` (the ping, the only source of bought credits) and
``GET /api/payments/offers`` (the credit packs with buy links for the person asking)."""

from __future__ import annotations

import hmac
from typing import Annotated

from fastapi import APIRouter, Depends, Request

from autorig.web.deps import CreditServiceDep, PaymentServiceDep, ReadSessionDep, SessionDep, SettingsDep, ViewerDep
from autorig.web.domains.payments.gumroad import GumroadPing, parse_ping
from autorig.web.domains.payments.schemas import Offers, PingResult
from autorig.web.errors import BadRequest, Forbidden, NotFound

router = APIRouter(tags=["payments"])

MAX_PING_BYTES = 64 * 1024


async def verified_ping(request: Request, settings: SettingsDep, payments: PaymentServiceDep, token: str = "") -> GumroadPing:
    """The ping, after its URL token, its seller and (with an access token) Gumroad's own record
    of the sale agree; 404 while no webhook token is configured, 403 for a wrong token."""
    if not settings.gumroad_webhook_token or not settings.gumroad_webhook_token.get_secret_value():
        raise NotFound("Gumroad pings are not enabled (GUMROAD_WEBHOOK_TOKEN)")
    if not hmac.compare_digest(token.encode(), settings.gumroad_webhook_token.get_secret_value().encode()):
        raise Forbidden("bad token")
    if int(request.headers.get("content-length") or 0) > MAX_PING_BYTES:
        raise BadRequest("ping too large")
    try:
        form = await request.form()
    except Exception:
        raise BadRequest("send the ping as application/x-www-form-urlencoded") from None
    ping = parse_ping({k: str(v) for k, v in form.multi_items()})
    if settings.gumroad_seller_id and ping.seller_id != settings.gumroad_seller_id:
        raise Forbidden("the ping is for another seller")
    if payments.api.enabled:
        await payments.api.confirm(ping)
    return ping


VerifiedPing = Annotated[GumroadPing, Depends(verified_ping)]


@router.post("/api-gumroad", response_model=PingResult)
async def gumroad_ping(ping: VerifiedPing, session: SessionDep, payments: PaymentServiceDep) -> PingResult:
    """Gumroad's sale ping (form-urlencoded). Idempotent by sale: a repeated ping adds nothing."""
    if ping.kind == "other":
        return PingResult(recorded=False, status="ignored")  # e.g. a subscription cancellation
    event = await payments.record(session, ping)
    if event is None:
        return PingResult(recorded=False, status="duplicate")
    return PingResult(recorded=True, status=event.status)


@router.get("/api/payments/offers", response_model=Offers)
async def offers(viewer: ViewerDep, session: ReadSessionDep, payments: PaymentServiceDep, credits: CreditServiceDep) -> Offers:
    """The credit packs; for a signed-in person each link carries their email as ``userid``."""
    balance = await credits.balance(session, viewer.user_id) if viewer.user_id else None
    return Offers(signed_in=viewer.signed_in, balance=balance, offers=payments.offers(viewer.email))
