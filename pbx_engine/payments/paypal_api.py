"""A small client of PayPal's REST API as documented (OAuth2 client credentials, Orders v2 with
intent AUTHORIZE, Payments v2 capture and void). Tested only against
``testbed.paypal_standin``, which answers PayPal's documented examples."""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

import aiohttp

from pbx_engine.payments.provider import ProviderUnavailable
from pbx_engine.payments.settings import Paypal
from rating.money import format_eur, parse_eur

TIMEOUT = aiohttp.ClientTimeout(total=15)
TOKEN_MARGIN_S = 60


class PaypalRefused(Exception):
    """PayPal answered 4xx (a declined instrument, a capture it will not do): its issue."""

    def __init__(self, status: int, issue: str) -> None:
        super().__init__(f"PayPal {status}: {issue}")
        self.status, self.issue = status, issue


@dataclass(frozen=True)
class Authorized:
    id: str
    status: str
    amount: int
    """1/10,000 EUR; -1 when PayPal named another currency."""


@dataclass(frozen=True)
class Captured:
    id: str
    status: str


def eur_value(amount: int) -> str:
    """PayPal's ``value``: EUR with two decimals (whole cents only)."""
    if amount % 100:
        raise ValueError(f"PayPal takes whole cents, not {amount} 1/10,000 EUR")
    return format_eur(amount)


class PaypalApi:
    def __init__(self, settings: Paypal, http: aiohttp.ClientSession) -> None:
        self.settings, self.http = settings, http
        self._token: tuple[str, int] | None = None

    async def _bearer(self) -> str:
        """One token until shortly before ``expires_in`` runs out."""
        now = time.monotonic_ns() // 1_000_000_000
        if self._token and self._token[1] > now:
            return self._token[0]
        basic = aiohttp.encode_basic_auth(self.settings.client_id, self.settings.client_secret)
        body = await self._send(
            "POST", "/v1/oauth2/token", headers={"Authorization": basic},
            data={"grant_type": "client_credentials"},
        )  # fmt: skip
        token, ttl = body.get("access_token"), body.get("expires_in")
        if not isinstance(token, str) or type(ttl) is not int:
            raise ProviderUnavailable("PayPal's token answer has no access_token/expires_in")
        self._token = (token, now + ttl - TOKEN_MARGIN_S)
        return token

    async def _send(self, method: str, path: str, **kwargs: Any) -> dict[str, Any]:
        url = self.settings.api_base + path
        try:
            async with self.http.request(method, url, timeout=TIMEOUT, **kwargs) as response:
                if response.status == 204:
                    return {}
                body = await response.json(content_type=None)
                status = response.status
        except (aiohttp.ClientError, TimeoutError, ValueError) as exc:
            raise ProviderUnavailable(f"PayPal did not answer {method} {path}: {exc}") from exc
        if 400 <= status < 500:
            details = body.get("details") if isinstance(body, dict) else None
            issue = (details[0].get("issue") if details and isinstance(details[0], dict)
                     else body.get("name") if isinstance(body, dict) else None)  # fmt: skip
            raise PaypalRefused(status, str(issue or "refused"))
        if status >= 300 or not isinstance(body, dict):
            raise ProviderUnavailable(f"PayPal answered {status} to {method} {path}")
        return body

    async def _call(self, path: str, body: dict[str, Any], request_id: str) -> dict[str, Any]:
        """POST as JSON with ``PayPal-Request-Id``: a repeat is answered, not done again."""
        headers = {
            "Authorization": f"Bearer {await self._bearer()}",
            "PayPal-Request-Id": request_id,
            "Prefer": "return=representation",
        }
        return await self._send("POST", path, json=body, headers=headers)

    async def create_order(
        self, reference: str, amount: int, return_url: str, cancel_url: str
    ) -> tuple[str, str]:
        """The PayPal order's id and the link the payer approves it at."""
        body = {
            "intent": "AUTHORIZE",
            "purchase_units": [
                {
                    "reference_id": reference,
                    "custom_id": reference,
                    "amount": {"currency_code": "EUR", "value": eur_value(amount)},
                }
            ],
            "payment_source": {
                "paypal": {
                    "experience_context": {
                        "return_url": return_url,
                        "cancel_url": cancel_url,
                        "user_action": "CONTINUE",
                        "shipping_preference": "NO_SHIPPING",
                    }
                }
            },
        }
        answer = await self._call("/v2/checkout/orders", body, f"{reference}-create")
        links = {
            link.get("rel"): link.get("href")
            for link in answer.get("links", [])
            if isinstance(link, dict)
        }
        approve = links.get("payer-action") or links.get("approve")
        if not isinstance(answer.get("id"), str) or not isinstance(approve, str):
            raise ProviderUnavailable("PayPal's order has no id or approve link")
        return answer["id"], approve

    async def authorize(self, order_id: str, reference: str) -> Authorized:
        answer = await self._call(
            f"/v2/checkout/orders/{order_id}/authorize", {}, f"{reference}-authorize"
        )
        try:
            found = answer["purchase_units"][0]["payments"]["authorizations"][0]
            money = found["amount"]
            amount = parse_eur(money["value"]) if money["currency_code"] == "EUR" else -1
            return Authorized(str(found["id"]), str(found["status"]), amount)
        except (KeyError, IndexError, TypeError, ValueError) as exc:
            raise ProviderUnavailable("PayPal's authorization answer is not as documented") from exc

    async def capture(self, authorization_id: str, reference: str) -> Captured:
        answer = await self._call(
            f"/v2/payments/authorizations/{authorization_id}/capture",
            {"final_capture": True, "invoice_id": reference},
            f"{reference}-capture",
        )
        if not isinstance(answer.get("id"), str) or not isinstance(answer.get("status"), str):
            raise ProviderUnavailable("PayPal's capture answer has no id or status")
        return Captured(answer["id"], answer["status"])

    async def void(self, authorization_id: str, reference: str) -> None:
        await self._call(
            f"/v2/payments/authorizations/{authorization_id}/void", {}, f"{reference}-void"
        )
