"""Gumroad as far as autorig sees it, for tests: ping bodies in Gumroad's documented format,
and a real local HTTP server answering ``GET /v2/sales/{sale_id}?access_token=...`` the way
Gumroad's API does (``{"success": true, "sale": {...}}``, or 404 ``{"success": false, ...}``).

    api = FakeGumroadApi(access_token="tok").start()
    api.add_sale(sale_id="abc", product_id="p1", refunded=False)
    ... GUMROAD_API_BASE=api.url ...
    api.stop()
"""

from __future__ import annotations

import json
import threading
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, unquote, urlparse

SELLER_ID = "sellerFAKE1234=="
PRODUCT_ID = "prodFAKEid0001=="
PERMALINK = "autorig-credits"


def sale_ping(
    *,
    userid: str | None,
    sale_id: str | None = None,
    buyer_email: str = "buyer@gumroad-mail.example",
    permalink: str = PERMALINK,
    product_id: str = PRODUCT_ID,
    variant: str | None = None,
    quantity: int = 1,
    price_cents: int = 500,
    refunded: bool = False,
    test: bool = False,
    resource_name: str | None = None,
    **extra: str,
) -> dict[str, str]:
    """The form fields of a Gumroad sale ping (https://gumroad.com/ping), as Gumroad sends them."""
    sale_id = sale_id or uuid.uuid4().hex[:22] + "=="
    fields = {
        "seller_id": SELLER_ID,
        "product_id": product_id,
        "product_name": "autorig credits",
        "permalink": permalink,
        "product_permalink": f"https://seller.gumroad.com/l/{permalink}",
        "short_product_id": permalink[:6],
        "email": buyer_email,
        "price": str(price_cents),
        "gumroad_fee": str(price_cents // 10),
        "currency": "usd",
        "quantity": str(quantity),
        "discover_fee_charged": "false",
        "can_contact": "true",
        "referrer": "direct",
        "card[visual]": "**** **** **** 4242",
        "card[type]": "visa",
        "order_number": str(abs(hash(sale_id)) % 10**9),
        "sale_id": sale_id,
        "sale_timestamp": "2026-11-28T17:00:00Z",
        "purchaser_id": "9876543210",
        "full_name": "Buyer Person",
        "ip_country": "Germany",
        "is_gift_receiver_purchase": "false",
        "refunded": "true" if refunded else "false",
        "disputed": "false",
        "dispute_won": "false",
        "test": "true" if test else "false",
    }
    if resource_name:
        fields["resource_name"] = resource_name
    if userid is not None:
        fields["url_params[userid]"] = userid
        fields["url_params[wanted]"] = "true"
    if variant is not None:
        fields["variants[Pack]"] = variant
    fields.update(extra)
    return fields


class FakeGumroadApi:
    """A real HTTP server on loopback that knows the sales the test adds."""

    def __init__(self, access_token: str = "fake-access-token") -> None:
        self.access_token = access_token
        self.sales: dict[str, dict[str, Any]] = {}
        self.requests: list[str] = []
        self.down = False  # answer 503, like Gumroad having a bad minute
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:  # keep test output clean
                pass

            def _send(self, status: int, body: dict[str, Any]) -> None:
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def do_GET(self) -> None:  # noqa: N802 (http.server's name)
                url = urlparse(self.path)
                fake.requests.append(unquote(url.path))
                if fake.down:
                    return self._send(503, {"success": False, "message": "Service unavailable"})
                token = parse_qs(url.query).get("access_token", [""])[0]
                if token != fake.access_token:
                    return self._send(401, {"success": False, "message": "The access token is invalid."})
                parts = url.path.strip("/").split("/")
                if len(parts) != 3 or parts[:2] != ["v2", "sales"]:
                    return self._send(404, {"success": False, "message": "Not found"})
                sale = fake.sales.get(unquote(parts[2]))
                if sale is None:
                    return self._send(404, {"success": False, "message": "The sale was not found."})
                return self._send(200, {"success": True, "sale": sale})

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def start(self) -> FakeGumroadApi:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def add_sale(self, ping: dict[str, str], **changes: Any) -> dict[str, Any]:
        """Record the sale a ping describes, in the API's sale format."""
        sale = {
            "id": ping["sale_id"],
            "email": ping["email"],
            "seller_id": ping["seller_id"],
            "timestamp": "about 1 hour ago",
            "daystamp": "28 Nov 2026  5:00 PM",
            "created_at": ping["sale_timestamp"],
            "product_name": ping["product_name"],
            "product_has_variants": any(k.startswith("variants[") for k in ping),
            "price": int(ping["price"]),
            "gumroad_fee": int(ping["gumroad_fee"]),
            "formatted_display_price": f"${int(ping['price']) / 100:.2f}",
            "formatted_total_price": f"${int(ping['price']) / 100:.2f}",
            "currency_symbol": "$",
            "amount_refundable_in_currency": ping["price"],
            "product_id": ping["product_id"],
            "product_permalink": ping["permalink"],
            "refunded": ping.get("refunded") == "true",
            "partially_refunded": False,
            "chargedback": False,
            "purchase_email": ping["email"],
            "paid": True,
            "order_id": int(ping["order_number"]),
            "quantity": int(ping["quantity"]),
        }
        sale.update(changes)
        self.sales[ping["sale_id"]] = sale
        return sale
