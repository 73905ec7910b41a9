"""Gumroad pings in Gumroad's documented format, through HTTP, on SQLite and PostgreSQL:
credited once (replays ignored), refunds take the credits back (never below zero, the
shortfall recorded), a ping for an email without an account waits for its sign-up, bad tokens
and sales Gumroad's API does not confirm are refused."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from accountkit import account_settings, balance, done_task, sign_in
from fakes.gumroad import PERMALINK, FakeGumroadApi, sale_ping
from sqlalchemy import select
from webkit import FakeWorker, free_port, running_backend

from autorig.web.models import CreditEntry, GumroadEvent, User

pytestmark = pytest.mark.asyncio

TOKEN = "hook-secret-123"
PRODUCTS = [
    {"product": PERMALINK, "credits": 100, "label": "100 credits", "url": f"https://seller.gumroad.com/l/{PERMALINK}"},
    {"product": PERMALINK, "variant": "500 credits", "credits": 500},
]


@pytest.fixture
def gumroad_api() -> Iterator[FakeGumroadApi]:
    api = FakeGumroadApi(access_token="gr-access").start()
    yield api
    api.stop()


def _settings(tmp_path: Path, db_url: str, smtp, api: FakeGumroadApi | None, workers=(), **kw):
    extra = dict(gumroad_access_token=api.access_token, gumroad_api_base=api.url) if api else {}
    return account_settings(
        tmp_path, db_url, list(workers), free_port(), smtp, gumroad_webhook_token=TOKEN, gumroad_products=PRODUCTS, **extra, **kw
    )


async def _ping(b, fields: dict[str, str], token: str = TOKEN):
    # Gumroad posts application/x-www-form-urlencoded; httpx's data= sends exactly that.
    return await b.http.post(f"/api-gumroad?token={token}", data=fields)


async def test_sale_credited_once_replay_ignored_variant_priced(tmp_path: Path, db_url: str, smtp_server, gumroad_api) -> None:
    async with running_backend(_settings(tmp_path, db_url, smtp_server, gumroad_api)) as b:
        buyer = await sign_in(b, smtp_server, "Buyer@Example.com")
        offers = (await buyer.get("/api/payments/offers")).json()["offers"]
        assert (
            offers[0]["url"].startswith(f"https://seller.gumroad.com/l/{PERMALINK}?")
            and "userid=buyer%40example.com" in offers[0]["url"]
        )

        ping = sale_ping(userid="buyer@example.com", buyer_email="someone.else@gmail.example")
        gumroad_api.add_sale(ping)
        r = await _ping(b, ping)
        assert r.status_code == 200 and r.json() == {"recorded": True, "status": "applied"}
        assert await balance(buyer) == 130
        for _ in range(3):  # Gumroad retries; the same sale never adds twice
            r = await _ping(b, ping)
            assert r.json() == {"recorded": False, "status": "duplicate"}
        assert await balance(buyer) == 130
        assert any(ping["sale_id"] in path for path in gumroad_api.requests)

        big = sale_ping(userid="buyer@example.com", buyer_email="someone.else@gmail.example", variant="500 credits", quantity=2)
        gumroad_api.add_sale(big)
        assert (await _ping(b, big)).json()["status"] == "applied"
        assert await balance(buyer) == 1130

        async with b.ctx.db.read_session() as s:
            user = await s.scalar(select(User).where(User.email == "buyer@example.com"))
            assert user.gumroad_email == "someone.else@gmail.example"
            rows = (await s.scalars(select(CreditEntry).where(CreditEntry.user_id == user.id).order_by(CreditEntry.id))).all()
            assert [(e.reason, e.amount, e.sale_id) for e in rows] == [
                ("signup", 30, None),
                ("gumroad_sale", 100, ping["sale_id"]),
                ("gumroad_sale", 1000, big["sale_id"]),
            ]
        # The buyer's Gumroad email never finds an account: a ping naming only it is kept, unused.
        stray = sale_ping(userid=None, buyer_email="buyer@example.com")
        gumroad_api.add_sale(stray)
        assert (await _ping(b, stray)).json()["status"] == "ignored"
        assert await balance(buyer) == 1130
        await buyer.aclose()


async def test_refund_takes_credits_back_never_below_zero(
    tmp_path: Path, db_url: str, smtp_server, gumroad_api, fake_workers
) -> None:
    w = FakeWorker(job_seconds=0.3).start()
    fake_workers.append(w)
    settings = _settings(tmp_path, db_url, smtp_server, gumroad_api, workers=[w.url], user_free_limit=0)
    async with running_backend(settings) as b:
        buyer = await sign_in(b, smtp_server, "r@example.com")
        first = sale_ping(userid="r@example.com")
        gumroad_api.add_sale(first)
        await _ping(b, first)
        assert await balance(buyer) == 100

        # Gumroad refunds it: the ping comes again with refunded=true (and as resource "refund").
        gumroad_api.add_sale(first, refunded=True)
        r = await _ping(b, {**first, "refunded": "true"})
        assert r.json()["status"] == "applied"
        assert await balance(buyer) == 0
        assert (await _ping(b, {**first, "resource_name": "refund"})).json()["status"] == "duplicate"
        assert await balance(buyer) == 0

        # Bought again, spent 3 credits, then refunded: the balance stops at zero, the rest is recorded.
        second = sale_ping(userid="r@example.com")
        gumroad_api.add_sale(second)
        await _ping(b, second)
        t = await done_task(b, buyer)
        await buyer.get(f"/api/task/{t['task_id']}/download-all")
        assert await balance(buyer) == 97
        gumroad_api.add_sale(second, refunded=True)
        async with b.ctx.db.session() as s:  # spend most of the rest, as many downloads would
            user = await s.scalar(select(User).where(User.email == "r@example.com"))
            from autorig.web.domains.credits.service import Reason

            await b.ctx.credits.take(s, user.id, 90, Reason.download, note="test spending")
        assert await balance(buyer) == 7
        r = await _ping(b, {**second, "refunded": "true"})
        assert r.json()["status"] == "applied"
        assert await balance(buyer) == 0
        async with b.ctx.db.read_session() as s:
            ev = await s.scalar(select(GumroadEvent).where(GumroadEvent.event_key == f"refund:{second['sale_id']}"))
            assert (ev.applied_credits, ev.shortfall) == (-7, 93) and "already spent" in ev.note
        await buyer.aclose()


async def test_ping_for_unknown_email_waits_for_sign_up(tmp_path: Path, db_url: str, smtp_server, gumroad_api) -> None:
    async with running_backend(_settings(tmp_path, db_url, smtp_server, gumroad_api)) as b:
        ping = sale_ping(userid="newcomer@example.com", buyer_email="nc@gumroad.example")
        gumroad_api.add_sale(ping)
        r = await _ping(b, ping)
        assert r.json() == {"recorded": True, "status": "pending"}
        assert (await _ping(b, ping)).json()["status"] == "duplicate"
        newcomer = await sign_in(b, smtp_server, "newcomer@example.com")
        assert await balance(newcomer) == 130
        reasons = [e["reason"] for e in (await newcomer.get("/api/credits")).json()["ledger"]]
        assert sorted(reasons) == ["gumroad_sale", "signup"]
        # Signing in again changes nothing.
        await newcomer.post("/api/auth/logout")
        await sign_in(b, smtp_server, "newcomer@example.com", newcomer, nth=2)
        assert await balance(newcomer) == 130
        # Other resource pings about the same sale (e.g. a cancellation) move nothing.
        other = sale_ping(userid="newcomer@example.com", sale_id=ping["sale_id"], resource_name="cancellation")
        assert (await _ping(b, other)).json() == {"recorded": False, "status": "ignored"}
        assert await balance(newcomer) == 130
        await newcomer.aclose()


async def test_bad_pings_are_refused_and_change_nothing(tmp_path: Path, db_url: str, smtp_server, gumroad_api) -> None:
    async with running_backend(_settings(tmp_path, db_url, smtp_server, gumroad_api)) as b:
        buyer = await sign_in(b, smtp_server, "b@example.com")
        ping = sale_ping(userid="b@example.com")
        gumroad_api.add_sale(ping)
        assert (await _ping(b, ping, token="wrong")).status_code == 403
        assert (await b.http.post("/api-gumroad", data=ping)).status_code == 403
        # Gumroad's API does not know the sale: a forged ping.
        forged = sale_ping(userid="b@example.com")
        r = await _ping(b, forged)
        assert r.status_code == 400 and "no sale" in r.json()["detail"]
        # A refund Gumroad does not report.
        assert (await _ping(b, {**ping, "refunded": "true"})).status_code == 400
        # Not a ping at all.
        assert (await _ping(b, {"hello": "world"})).status_code == 400
        # Gumroad's API is down: refused with 503, so Gumroad tries again later.
        gumroad_api.down = True
        assert (await _ping(b, ping)).status_code == 503
        gumroad_api.down = False
        assert await balance(buyer) == 30
        assert (await _ping(b, ping)).json()["status"] == "applied"
        # /payment/success informs; it never adds credits (no API adds credits but the ping).
        assert await balance(buyer) == 130
        await buyer.aclose()
    # Without a webhook token configured every ping is refused.
    settings = account_settings(tmp_path / "2", db_url.replace("test.db", "test2.db"), [], free_port(), smtp_server)
    async with running_backend(settings) as b2:
        assert (await b2.http.post("/api-gumroad?token=", data=ping)).status_code == 404


async def test_without_api_token_the_url_token_is_enough_and_test_pings_are_kept_aside(
    tmp_path: Path, sqlite_url: str, smtp_server
) -> None:
    async with running_backend(_settings(tmp_path, sqlite_url, smtp_server, None)) as b:
        buyer = await sign_in(b, smtp_server, "t@example.com")
        assert (await _ping(b, sale_ping(userid="t@example.com", test=True))).json()["status"] == "ignored"
        assert (await _ping(b, sale_ping(userid="t@example.com", permalink="other-product", product_id="x"))).json()[
            "status"
        ] == "ignored"
        assert await balance(buyer) == 30
        assert (await _ping(b, sale_ping(userid="t@example.com"))).json()["status"] == "applied"
        assert await balance(buyer) == 130
        await buyer.aclose()
