"""The payment callbacks on the API's server: the ``webhook`` receiver, and PayPal's return and
cancel addresses (which then send the browser to the page's view of the order). Refusals are
RFC 9457 problems, logged at WARNING with their reason (never a secret)."""

from __future__ import annotations

import logging
import time

from aiohttp import web
from sqlalchemy import select

from cards.errors import CardsError, Conflict, NotFound
from cards.journal import STORAGE_ERRORS
from cards.models import Project
from pbx_engine.payments import webhook
from pbx_engine.payments.service import Payments

log = logging.getLogger(__name__)
MAX_BODY = 64 * 1024
ORDER_PAGE = "/pay/{project}/orders/{reference}"


def problem(status: int, code: str, detail: str) -> web.Response:
    body = {"type": f"urn:minutecard:problem:{code}", "title": code.replace("_", " "),
            "status": status, "detail": detail, "code": code}  # fmt: skip
    return web.json_response(body, status=status, content_type="application/problem+json")


def _status_of(exc: CardsError) -> int:
    return 404 if isinstance(exc, NotFound) else 409 if isinstance(exc, Conflict) else 422


class PaymentRoutes:
    def __init__(self, payments: Payments) -> None:
        self.payments = payments

    def add_to(self, app: web.Application) -> None:
        app.router.add_post("/pay/webhook/{project}", self.webhook)
        app.router.add_get("/pay/paypal/return/{reference}", self.paypal_return)
        app.router.add_get("/pay/paypal/cancel/{reference}", self.paypal_cancel)

    async def webhook(self, request: web.Request) -> web.Response:
        name = request.match_info["project"]
        try:
            return await self._webhook(request, name)
        except webhook.Refusal as exc:
            log.warning("webhook %r refused (%s): %s", name[:40], exc.code, exc.reason)
            return problem(exc.status, exc.code, exc.reason)
        except CardsError as exc:
            log.warning("webhook %r refused (%s): %s", name[:40], exc.code, exc)
            return problem(_status_of(exc), exc.code, str(exc))
        except STORAGE_ERRORS:
            log.warning("webhook %r: the database does not answer", name[:40])
            return problem(503, "unavailable", "the database does not answer; try again")

    async def _webhook(self, request: web.Request, name: str) -> web.Response:
        config = self.payments.settings.projects.get(name)
        if config is None or config.webhook_secret is None:
            raise webhook.Refusal(404, "not_found", "no webhook payments for this project")
        if (request.content_length or 0) > MAX_BODY:
            raise webhook.Refusal(413, "too_large", "the body is over 64 KiB")
        try:
            # read(), not the stream: the API's middleware has read the body already (cached)
            body = await request.read()
        except web.HTTPRequestEntityTooLarge as exc:
            raise webhook.Refusal(413, "too_large", "the body is over 64 KiB") from exc
        if len(body) > MAX_BODY:
            raise webhook.Refusal(413, "too_large", "the body is over 64 KiB")
        header = request.headers.get(webhook.HEADER, "")
        webhook.verify(config.webhook_secret, header, body, int(time.time()))
        event = webhook.parse(body)
        async with self.payments.db.read() as session:
            project = await session.scalar(select(Project).where(Project.name == name))
        if project is None:
            raise webhook.Refusal(404, "not_found", "no such project")
        view = await webhook.apply(self.payments.db, project, event)
        return web.json_response({"order": view.as_json()})

    async def paypal_return(self, request: web.Request) -> web.StreamResponse:
        return await self._paypal(request, cancel=False)

    async def paypal_cancel(self, request: web.Request) -> web.StreamResponse:
        return await self._paypal(request, cancel=True)

    async def _paypal(self, request: web.Request, *, cancel: bool) -> web.StreamResponse:
        """PayPal sends the browser back with ``?token=<its order id>``; the caller then sees
        the order on the page, whatever happened (the page reads its state)."""
        reference = request.match_info["reference"]
        token = request.query.get("token", "")
        try:
            provider = self.payments.paypal()
            handle = provider.cancel if cancel else provider.complete
            view = await handle(reference, token)
        except CardsError as exc:
            log.warning("PayPal return for %r refused (%s): %s", reference[:20], exc.code, exc)
            return problem(_status_of(exc), exc.code, str(exc))
        except STORAGE_ERRORS:
            log.warning("PayPal return for %r: the database does not answer", reference[:20])
            return problem(503, "unavailable", "the database does not answer; reload the page")
        page = ORDER_PAGE.format(project=view.project, reference=view.reference)
        return web.Response(status=303, headers={"Location": page})
