"""The engine's sweep expires orders not paid within their provider's time, and only those."""

from __future__ import annotations

import asyncio

from cards.db import Database
from cards.domain import OrderStatus
from cards.services import orders
from pbx_engine.payments.service import Payments
from pbx_engine.payments.settings import PaymentSettings
from tests.cards.order_helpers import EUR, bound_card


async def test_the_sweep_expires_unpaid_orders(db: Database) -> None:
    card = await bound_card(db)
    late = await orders.create_order(db, project="astro", serial=card.serial, amount=15 * EUR,
                                     provider="webhook", actor="page")  # fmt: skip
    patient = await orders.create_order(
        db, project="astro", serial=card.serial, amount=15 * EUR, provider="transfer",
        actor="page",
    )  # fmt: skip
    payments = Payments(db, PaymentSettings(ttl_seconds={"webhook": 0, "transfer": 86_400}))
    sweeping = asyncio.create_task(payments.sweep_forever())
    try:

        async def status(reference: str) -> OrderStatus:
            view = await orders.order_view(db, reference)
            assert view is not None
            return view.status

        for _ in range(200):
            if await status(late.reference) is OrderStatus.EXPIRED:
                break
            await asyncio.sleep(0.01)
        assert await status(late.reference) is OrderStatus.EXPIRED
        assert await status(patient.reference) is OrderStatus.CREATED
    finally:
        sweeping.cancel()
        await asyncio.gather(sweeping, return_exceptions=True)
