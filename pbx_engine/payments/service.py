"""What the caller's page and the server wiring use: the providers a project offers, starting
an order with one, and the sweep that expires unpaid orders."""

from __future__ import annotations

import asyncio
import logging

import aiohttp

from cards.db import Database
from cards.errors import CardsError, NotFound
from cards.journal import STORAGE_ERRORS
from cards.services import order_moves, orders
from cards.services.orders import OrderView
from pbx_engine.payments.paypal import PaypalProvider
from pbx_engine.payments.paypal_api import PaypalApi, PaypalRefused
from pbx_engine.payments.provider import NextStep, Provider, ProviderUnavailable
from pbx_engine.payments.settings import PaymentSettings
from pbx_engine.payments.transfer import Transfer
from pbx_engine.payments.webhook import Webhook

log = logging.getLogger(__name__)


STUCK_AFTER_S = 60
"""An order this long in ``authorized`` (or a PayPal one in ``credited``) was left half done."""


class Payments:
    def __init__(self, db: Database, settings: PaymentSettings) -> None:
        self.db, self.settings = db, settings
        self._http: aiohttp.ClientSession | None = None
        self._paypal: PaypalProvider | None = None

    def offered(self, project: str) -> tuple[str, ...]:
        """The providers the project's page may show, in the config's order."""
        return self.settings.offered(project)

    def paypal(self) -> PaypalProvider:
        paypal, public = self.settings.paypal, self.settings.public_url
        if paypal is None or public is None:
            raise NotFound("PayPal is not configured")
        if self._paypal is None:
            # One session and one API client: PayPal's token is fetched once, not per payment.
            self._http = aiohttp.ClientSession()
            self._paypal = PaypalProvider(self.db, PaypalApi(paypal, self._http), public)
        return self._paypal

    def provider(self, project: str, name: str) -> Provider:
        if name not in self.offered(project):
            raise NotFound(f"project {project!r} does not take {name!r} payments")
        if name == "transfer":
            return Transfer(self.settings.bank_lines)
        if name == "webhook":
            return Webhook(str(self.settings.projects[project].checkout_url))
        return self.paypal()

    async def start(
        self, *, project: str, serial: str, amount: int, provider: str, actor: str
    ) -> tuple[OrderView, NextStep]:
        """A new order and what the page does next. A provider that fails to begin voids the
        order (nothing moved) and is ``provider_unavailable``."""
        chosen = self.provider(project, provider)
        view = await orders.create_order(
            self.db, project=project, serial=serial, amount=amount, provider=provider, actor=actor
        )
        try:
            return view, await chosen.begin(view)
        except (CardsError, PaypalRefused) as exc:
            why = f"{provider} could not start the payment: {str(exc)[:100]}"
            await order_moves.void(self.db, view.reference, why=why, actor=actor)
            if isinstance(exc, CardsError):
                raise
            raise ProviderUnavailable(why) from exc

    async def sweep_forever(self) -> None:
        """Every ``sweep_seconds``: expire unpaid orders and finish half-done ones; an
        unreachable database waits."""
        while True:
            try:
                await self.sweep_once()
            except STORAGE_ERRORS as exc:
                log.warning("order sweep: the database does not answer: %s", exc)
            await asyncio.sleep(self.settings.sweep_seconds)

    async def sweep_once(self) -> None:
        expired = await order_moves.expire_orders(self.db, self.settings.ttl_seconds)
        if expired:
            log.info("orders expired unpaid: %s", ", ".join(expired))
        stuck = await order_moves.stuck_orders(self.db, older_than_s=STUCK_AFTER_S)
        for reference, provider, status in stuck:
            # Nothing that moves money stays half done after a crash: the payer's money is
            # reserved (authorized) or the card already credited (captured next).
            log.warning("order %s was left %s: the sweep finishes it", reference, status.value)
            try:
                if provider == "paypal":
                    if self.settings.paypal is not None:
                        await self.paypal().resume(reference)
                else:
                    await order_moves.credit(self.db, reference, actor=f"sweep ({provider})")
            except CardsError as exc:
                log.warning("order %s: the sweep could not finish it: %s", reference, exc)

    async def close(self) -> None:
        if self._http is not None:
            await self._http.close()
