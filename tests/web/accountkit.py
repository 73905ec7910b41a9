"""Real parts for the account tests (issue 6): sign in through the emailed link that arrived
at the real SMTP server, a task finished by a fake-worker process, an API key."""

from __future__ import annotations

import asyncio
import email
import re
from pathlib import Path
from typing import Any

import httpx
from webkit import TINY_GLB, Backend, web_settings

LINK = re.compile(r"(https?://\S+/auth/email/\S+)")


def account_settings(tmp: Path, db_url: str, workers: list[str], port: int, smtp: Any, **overrides: Any):
    """Test settings with email through ``smtp`` (the aiosmtpd fixture) and the limits of the issue."""
    values: dict[str, Any] = dict(smtp_host="127.0.0.1", smtp_port=smtp.port, smtp_tls="none", anon_free_limit=3)
    values.update(overrides)
    return web_settings(tmp, db_url, workers, port, **values)


async def wait_for_mail(b: Backend, smtp: Any, to: str, count: int = 1, timeout: float = 20.0) -> email.message.Message:
    """The ``count``-th message to ``to`` that reached the SMTP server (the mailer is woken on
    commit; its loop may also be off in tests, so run it too)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        mine = [m for (_, rcpts, m) in smtp.inbox.messages if to in rcpts]
        if len(mine) >= count:
            return email.message_from_bytes(mine[count - 1])
        if loop.time() > deadline:
            raise TimeoutError(f"no email #{count} to {to}")
        await b.ctx.mailer.run_once()
        await asyncio.sleep(0.05)


def link_in(msg: email.message.Message) -> str:
    body = msg.get_payload(decode=True).decode()
    found = LINK.search(body)
    assert found, body
    return found.group(1)


def client(b: Backend, **kw: Any) -> httpx.AsyncClient:
    """A browser of its own: its own cookie jar."""
    return httpx.AsyncClient(base_url=b.url, timeout=30, **kw)


async def sign_in(
    b: Backend, smtp: Any, address: str, browser: httpx.AsyncClient | None = None, nth: int = 1
) -> httpx.AsyncClient:
    """Ask for the link, take it from the email, open it: the browser is signed in."""
    browser = browser or client(b)
    r = await browser.post("/api/auth/email", json={"email": address, "next": "/account"})
    assert r.status_code == 202, r.text
    url = link_in(await wait_for_mail(b, smtp, address.lower(), nth))
    r = await browser.get(url)
    assert r.status_code == 303 and r.headers["location"] == "/account", r.text
    return browser


async def api_key(browser: httpx.AsyncClient, name: str = "script") -> str:
    r = await browser.post("/api/keys", json={"name": name})
    assert r.status_code == 201, r.text
    return r.json()["key"]


async def done_task(b: Backend, browser: httpx.AsyncClient | None = None, name: str = "hero.glb") -> dict[str, Any]:
    """A task created (by ``browser``, default anonymous) and run to ``done`` on the fake worker."""
    http = browser or b.http
    r = await http.post("/api/task/create", files={"file": (name, TINY_GLB)})
    assert r.status_code == 201, r.text
    t = await b.until(r.json()["task_id"], {"done", "error"})
    assert t["status"] == "done", t
    return t


async def balance(browser: httpx.AsyncClient) -> int:
    r = await browser.get("/api/me")
    assert r.status_code == 200, r.text
    return r.json()["balance_credits"]
