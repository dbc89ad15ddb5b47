"""A local stand-in for PayPal's REST API (no provider is reachable from this machine): it
answers the request and response shapes of PayPal's documentation for the OAuth2 token, Orders v2
create and authorize, and Payments v2 capture and void, and an approve page that sends the browser
back as PayPal does (``?token=<order id>&PayerID=…``). It can be told to decline the
authorization or to refuse the capture, with the documented error bodies."""

from __future__ import annotations

import base64
import secrets
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

from aiohttp import web

CLIENT_ID, CLIENT_SECRET = "standin-client", "standin-secret"
ALNUM = "ABCDEFGHJKLMNPQRSTUVWXYZ0123456789"
Answer = tuple[int, dict[str, Any] | None]
UNSIGNED = "Token signature verification failed"
NO_SUCH_ID = "Specified resource ID does not exist."


def _id() -> str:
    return "".join(secrets.choice(ALNUM) for _ in range(17))


def _unprocessable(issue: str, description: str) -> Answer:
    """PayPal's documented 422 body (``name``, ``details[].issue``, ``message``, ``debug_id``)."""
    return 422, {
        "name": "UNPROCESSABLE_ENTITY",
        "details": [{"issue": issue, "description": description}],
        "message": "The requested action could not be performed, semantically incorrect, or "
        "failed business validation.",
        "debug_id": secrets.token_hex(6),
        "links": [{"href": f"https://developer.paypal.com/docs/api/orders/v2/#error-{issue}",
                   "rel": "information_link", "method": "GET"}],
    }  # fmt: skip


def _links(base: str, kind: str, ident: str, rels: tuple[str, ...]) -> list[dict[str, str]]:
    return [
        {"href": f"{base}/{kind}/{ident}" + ("" if rel == "self" else f"/{rel}"),
         "rel": rel, "method": "GET" if rel == "self" else "POST"}
        for rel in rels
    ]  # fmt: skip


@dataclass
class StandinOrder:
    id: str
    amount: dict[str, str]
    reference: str
    return_url: str
    cancel_url: str
    approved: bool = False


@dataclass
class PaypalStandin:
    base: str = ""
    """Where the stand-in listens (``http://127.0.0.1:PORT``): its links point there."""
    decline_authorization: bool = False
    fail_capture: bool = False
    orders: dict[str, StandinOrder] = field(default_factory=dict)
    calls: list[str] = field(default_factory=list)
    """``METHOD /path`` of every API request, in order."""
    voided: list[str] = field(default_factory=list)
    captures: dict[str, str] = field(default_factory=dict)
    """authorization id → capture id."""
    replies: dict[str, Answer] = field(default_factory=dict)
    """``PayPal-Request-Id`` → the first answer: a repeat gets it again and does nothing."""
    token: str = field(default_factory=lambda: "A21AA" + secrets.token_urlsafe(24))
    on_approve: Callable[[], Awaitable[None]] | None = None
    """Run while the payer is "at PayPal" (a test changes the world between order and return)."""
    on_authorize: Callable[[], Awaitable[None]] | None = None
    """Run while PayPal reserves the money (a test changes the world during that request)."""

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_post("/v1/oauth2/token", self.oauth)
        app.router.add_post("/v2/checkout/orders", self._api(self.create))
        app.router.add_post("/v2/checkout/orders/{id}/authorize", self._api(self.authorize))
        app.router.add_post("/v2/payments/authorizations/{id}/capture", self._api(self.capture))
        app.router.add_post("/v2/payments/authorizations/{id}/void", self._api(self.void))
        app.router.add_get("/checkoutnow", self.approve)
        return app

    def _api(
        self, answer: Callable[[web.Request, dict[str, Any]], Awaitable[Answer]]
    ) -> Callable[[web.Request], Awaitable[web.Response]]:
        """The bearer token, then ``PayPal-Request-Id`` replay, then the operation."""

        async def handler(request: web.Request) -> web.Response:
            self.calls.append(f"{request.method} {request.path}")
            if request.headers.get("Authorization") != f"Bearer {self.token}":
                got: Answer = (401, {"error": "invalid_token", "error_description": UNSIGNED})
            elif (key := request.headers.get("PayPal-Request-Id", "")) in self.replies:
                got = self.replies[key]
            else:
                got = await answer(request, await request.json() if request.can_read_body else {})
                if key and got[0] < 300:
                    self.replies[key] = got
            status, body = got
            return (
                web.Response(status=204) if body is None else web.json_response(body, status=status)
            )

        return handler

    async def oauth(self, request: web.Request) -> web.Response:
        self.calls.append(f"{request.method} {request.path}")
        expected = base64.b64encode(f"{CLIENT_ID}:{CLIENT_SECRET}".encode()).decode()
        form = await request.post()
        if (
            request.headers.get("Authorization") != f"Basic {expected}"
            or form.get("grant_type") != "client_credentials"
        ):
            return web.json_response(
                {"error": "invalid_client", "error_description": "Client Authentication failed"},
                status=401,
            )
        return web.json_response({
            "scope": "https://uri.paypal.com/services/payments/payment/authcapture",
            "access_token": self.token, "token_type": "Bearer",
            "app_id": "APP-80W284485P519543T", "expires_in": 32400,
            "nonce": "2026-12-05T04:00:00Z" + secrets.token_hex(8),
        })  # fmt: skip

    async def create(self, request: web.Request, body: dict[str, Any]) -> Answer:
        unit = body["purchase_units"][0]
        context = body["payment_source"]["paypal"]["experience_context"]
        if body.get("intent") != "AUTHORIZE":
            return _unprocessable("INTENT_NOT_SUPPORTED", "this stand-in only authorizes")
        order = StandinOrder(_id(), unit["amount"], unit["reference_id"],
                             context["return_url"], context["cancel_url"])  # fmt: skip
        self.orders[order.id] = order
        return 200, {
            "id": order.id,
            "status": "PAYER_ACTION_REQUIRED",
            "payment_source": {"paypal": {}},
            "links": [
                {"href": f"{self.base}/v2/checkout/orders/{order.id}", "rel": "self",
                 "method": "GET"},
                {"href": f"{self.base}/checkoutnow?token={order.id}", "rel": "payer-action",
                 "method": "GET"},
            ],
        }  # fmt: skip

    async def approve(self, request: web.Request) -> web.Response:
        """The payer logs in and approves (or, with ``?cancel=1``, turns back)."""
        order = self.orders.get(request.query.get("token", ""))
        if order is None:
            return web.Response(status=404, text="unknown token")
        if request.query.get("cancel"):
            target = f"{order.cancel_url}?{urlencode({'token': order.id})}"
        else:
            order.approved = True
            if self.on_approve is not None:
                await self.on_approve()
            target = (
                f"{order.return_url}?{urlencode({'token': order.id, 'PayerID': 'QYR5Z8XDVJNXQ'})}"
            )
        return web.Response(status=302, headers={"Location": target})

    async def authorize(self, request: web.Request, _body: dict[str, Any]) -> Answer:
        order = self.orders.get(request.match_info["id"])
        if order is None:
            return 404, {
                "name": "RESOURCE_NOT_FOUND",
                "details": [{"issue": "INVALID_RESOURCE_ID", "description": NO_SUCH_ID}],
                "message": "The specified resource does not exist.",
                "debug_id": secrets.token_hex(6),
            }
        if not order.approved:
            return _unprocessable("ORDER_NOT_APPROVED", "Payer has not yet approved the Order.")
        if self.decline_authorization:
            return _unprocessable("INSTRUMENT_DECLINED", "The instrument presented was either "
                                  "declined by the processor or bank, or it can't be used for "
                                  "this payment.")  # fmt: skip
        if self.on_authorize is not None:
            await self.on_authorize()
        auth = _id()
        return 201, {
            "id": order.id,
            "intent": "AUTHORIZE",
            "status": "COMPLETED",
            "purchase_units": [{
                "reference_id": order.reference,
                "amount": order.amount,
                "payments": {"authorizations": [{
                    "status": "CREATED", "id": auth, "amount": order.amount,
                    "seller_protection": {"status": "ELIGIBLE", "dispute_categories": [
                        "ITEM_NOT_RECEIVED", "UNAUTHORIZED_TRANSACTION"]},
                    "expiration_time": "2027-01-03T15:57:51Z",
                    "links": _links(self.base, "v2/payments/authorizations", auth,
                                    ("self", "capture", "void", "reauthorize")),
                    "create_time": "2026-12-05T04:00:00Z", "update_time": "2026-12-05T04:00:00Z",
                }]},
            }],
            "links": [{"href": f"{self.base}/v2/checkout/orders/{order.id}", "rel": "self",
                       "method": "GET"}],
        }  # fmt: skip

    async def capture(self, request: web.Request, _body: dict[str, Any]) -> Answer:
        auth = request.match_info["id"]
        if self.fail_capture:
            return _unprocessable("PAYER_CANNOT_PAY", "Combination of payer and payee settings "
                                  "mean that this buyer cannot pay this seller.")  # fmt: skip
        capture = self.captures.setdefault(auth, _id())
        return 201, {
            "id": capture,
            "status": "COMPLETED",
            "links": _links(self.base, "v2/payments/captures", capture, ("self", "refund")),
        }

    async def void(self, request: web.Request, _body: dict[str, Any]) -> Answer:
        self.voided.append(request.match_info["id"])
        return 204, None


async def start(port: int) -> tuple[PaypalStandin, web.AppRunner]:
    standin = PaypalStandin(base=f"http://127.0.0.1:{port}")
    runner = web.AppRunner(standin.app(), access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    return standin, runner
