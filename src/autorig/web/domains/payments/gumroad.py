"""Gumroad's side: reading a ping, matching its product to credits, and confirming a sale
through Gumroad's API.

A ping is ``application/x-www-form-urlencoded`` with fields such as ``seller_id, product_id,
product_permalink, short_product_id, product_name, email, price, gumroad_fee, currency,
quantity, variants[<name>]=<option>, sale_id, sale_timestamp, order_number, refunded, disputed,
resource_name, test, url_params[<key>]``. Pings are not signed; the ping URL carries a secret
token, and with an access token each sale is also looked up at ``GET /v2/sales/{sale_id}``,
which answers ``{"success": true, "sale": {...}}``.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote, urlencode

import httpx

from autorig.config import GumroadProduct, WebSettings
from autorig.web.errors import BadRequest, Unavailable

log = logging.getLogger(__name__)

USERID_FIELD = "url_params[userid]"
REFUND_RESOURCES = frozenset({"refund", "sale_refunded", "dispute"})
SALE_RESOURCES = frozenset({"", "sale"})  # others (cancellation, subscription_*, dispute_won) move no credits
MAX_QUANTITY = 1000  # more in one ping is a mistake, not a purchase
DEFAULT_BUY_BASE = "https://gumroad.com/l/"


def _true(value: str | None) -> bool:
    return (value or "").strip().lower() in ("true", "1", "yes")


@dataclass(frozen=True)
class GumroadPing:
    sale_id: str
    kind: str  # "sale", "refund" (refunds and disputes take the credits back), or "other" (nothing to do)
    userid: str | None  # url_params[userid]: the email of the person in our service
    buyer_email: str | None  # Gumroad's buyer email: stored, never used to find the person
    seller_id: str | None
    product_ids: tuple[str, ...]  # permalink, product_permalink, product_id, short_product_id
    product_name: str | None
    variants: dict[str, str]
    quantity: int
    test: bool
    payload: dict[str, str] = field(default_factory=dict)

    @property
    def event_key(self) -> str:
        return f"{self.kind}:{self.sale_id}"

    @property
    def product(self) -> str | None:
        return self.product_ids[0] if self.product_ids else self.product_name


def parse_ping(form: Mapping[str, str]) -> GumroadPing:
    """A ping from its form fields, or ``BadRequest`` when it is not one."""
    data = {str(k): str(v) for k, v in form.items()}
    sale_id = data.get("sale_id", "").strip()
    if not sale_id or len(sale_id) > 128:
        raise BadRequest("not a Gumroad sale ping: no sale_id")
    resource = data.get("resource_name", "").strip().lower()
    refund = (
        _true(data.get("refunded"))
        or resource in REFUND_RESOURCES
        or (_true(data.get("disputed")) and not _true(data.get("dispute_won")))
    )
    try:
        quantity = int(data.get("quantity") or 1)
    except ValueError:
        raise BadRequest(f"bad quantity {data.get('quantity')!r}") from None
    if not 1 <= quantity <= MAX_QUANTITY:
        raise BadRequest(f"bad quantity {quantity}")
    ids = []
    for name in ("product_permalink", "permalink", "product_id", "short_product_id"):
        value = data.get(name, "").strip()
        if value and value not in ids:
            ids.append(value)
    variants = {k[len("variants[") : -1]: v for k, v in data.items() if k.startswith("variants[") and k.endswith("]")}
    userid = data.get(USERID_FIELD, "").strip().lower() or None
    return GumroadPing(
        sale_id=sale_id,
        kind="refund" if refund else "sale" if resource in SALE_RESOURCES else "other",
        userid=userid,
        buyer_email=(data.get("email") or "").strip().lower() or None,
        seller_id=data.get("seller_id") or None,
        product_ids=tuple(ids),
        product_name=data.get("product_name") or None,
        variants=variants,
        quantity=quantity,
        test=_true(data.get("test")),
        payload=data,
    )


def _permalink_of(url: str) -> str:
    """``https://x.gumroad.com/l/abc?y`` -> ``abc`` (pings give ``permalink`` in either form)."""
    return url.split("?", 1)[0].rstrip("/").rsplit("/", 1)[-1]


def match_product(products: list[GumroadProduct], ping: GumroadPing) -> GumroadProduct | None:
    """The settings row for the ping's product: one naming its variant first, else the product's."""
    ids = {i.lower() for i in ping.product_ids} | {_permalink_of(i).lower() for i in ping.product_ids}
    options = {v.strip().lower() for v in ping.variants.values()}
    general = None
    for p in products:
        if p.product.lower() not in ids:
            continue
        if p.variant is None:
            general = general or p
        elif p.variant.strip().lower() in options:
            return p
    return general


def buy_url(product: GumroadProduct, email: str | None) -> str:
    """The product's buy link; ``userid`` comes back in the ping as ``url_params[userid]``."""
    base = product.url or DEFAULT_BUY_BASE + quote(product.product)
    params = {"wanted": "true", **({"userid": email} if email else {})}
    return base + ("&" if "?" in base else "?") + urlencode(params)


class GumroadApi:
    """Looks a sale up on Gumroad (``GUMROAD_API_BASE``, ``GUMROAD_ACCESS_TOKEN``)."""

    def __init__(self, settings: WebSettings, http: httpx.AsyncClient) -> None:
        self.settings = settings
        self.http = http

    @property
    def enabled(self) -> bool:
        return bool(self.settings.gumroad_access_token and self.settings.gumroad_access_token.get_secret_value())

    def _access_token(self) -> str:
        token = self.settings.gumroad_access_token
        return token.get_secret_value() if token else ""

    async def sale(self, sale_id: str) -> dict[str, Any] | None:
        """The sale as Gumroad knows it; ``None`` when Gumroad says there is no such sale.
        ``Unavailable`` when Gumroad cannot be asked now (the ping is refused, and retried)."""
        url = f"{self.settings.gumroad_api_base.rstrip('/')}/v2/sales/{quote(sale_id, safe='')}"
        try:
            resp = await self.http.get(url, params={"access_token": self._access_token()})
        except httpx.HTTPError as exc:
            log.warning("Gumroad API unreachable: %s", exc)
            raise Unavailable("could not confirm the sale with Gumroad now") from None
        if resp.status_code >= 500 or resp.status_code == 429:
            raise Unavailable(f"could not confirm the sale with Gumroad now (HTTP {resp.status_code})")
        try:
            body = resp.json()
        except ValueError:
            raise Unavailable("Gumroad's API answered something that is not JSON") from None
        if resp.status_code != 200 or not body.get("success") or not isinstance(body.get("sale"), dict):
            return None
        sale: dict[str, Any] = body["sale"]
        return sale

    async def confirm(self, ping: GumroadPing) -> None:
        """Refuse (``BadRequest``) a ping that Gumroad's own record of the sale contradicts."""
        sale = await self.sale(ping.sale_id)
        if sale is None or str(sale.get("id")) != ping.sale_id:
            raise BadRequest(f"Gumroad has no sale {ping.sale_id!r}")
        product = str(sale.get("product_id") or "")
        ping_ids = set(ping.product_ids)
        if product and ping_ids and product not in ping_ids and str(sale.get("product_permalink") or "") not in ping_ids:
            raise BadRequest("the ping's product is not the sale's product")
        if ping.kind == "refund" and not any(sale.get(k) for k in ("refunded", "partially_refunded", "chargedback", "disputed")):
            raise BadRequest("Gumroad does not report this sale as refunded")
