"""The payment callbacks served on a local port, over a money project whose card is bound to a
line, with all three providers configured (PayPal pointing at the local stand-in)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass

import pytest
from aiohttp import web

from cards.db import Database
from cards.services.cardbatch import NewCard
from pbx_engine.payments.routes import PaymentRoutes
from pbx_engine.payments.service import Payments
from pbx_engine.payments.settings import PaymentSettings, Paypal, ProjectPayments
from testbed import paypal_standin
from testbed.paypal_standin import PaypalStandin
from testbed.postgres import free_port
from tests.cards.order_helpers import bound_card

SECRET = "whsec-0123456789abcdef"
BANK = ("Astro Hotline GmbH", "IBAN DE02 1203 0000 0000 2020 51", "BIC BYLADEM1001")


@dataclass
class Shop:
    url: str
    payments: Payments
    card: NewCard
    paypal: PaypalStandin


@pytest.fixture
async def shop(db: Database) -> AsyncIterator[Shop]:
    card = await bound_card(db)
    standin, standin_runner = await paypal_standin.start(free_port())
    port = free_port()
    settings = PaymentSettings(
        projects={
            "astro": ProjectPayments(
                ("transfer", "webhook", "paypal"), SECRET, "https://shop.example/pay"
            )
        },
        public_url=f"http://127.0.0.1:{port}",
        bank_lines=BANK,
        ttl_seconds={"webhook": 3600, "paypal": 3600, "transfer": 86_400},
        paypal=Paypal(standin.base, paypal_standin.CLIENT_ID, paypal_standin.CLIENT_SECRET),
    )
    payments = Payments(db, settings)
    app = web.Application()
    PaymentRoutes(payments).add_to(app)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    yield Shop(settings.public_url or "", payments, card, standin)
    await runner.cleanup()
    await payments.close()
    await standin_runner.cleanup()
