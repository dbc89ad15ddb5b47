"""The engine's sweep expires orders not paid within their provider's time, and only those,
and finishes the ones a crash left half done."""

from __future__ import annotations

import asyncio

import pytest

from cards.db import Database
from cards.domain import OrderStatus
from cards.services import order_moves, orders
from pbx_engine.payments import service
from pbx_engine.payments.provider import Redirect
from pbx_engine.payments.service import Payments
from pbx_engine.payments.settings import PaymentSettings
from tests.cards.order_helpers import EUR, bound_card
from tests.payments.conftest import Shop
from tests.support.browser_hops import hop


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


async def test_the_sweep_credits_an_order_left_authorized(
    db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The engine stopped between the shop's authorization and the credit: the payer's money
    is reserved, the card has nothing. The sweep books the credit (once)."""
    monkeypatch.setattr(service, "STUCK_AFTER_S", 0)
    card = await bound_card(db)
    view = await orders.create_order(db, project="astro", serial=card.serial, amount=15 * EUR,
                                     provider="webhook", actor="page")  # fmt: skip
    await order_moves.authorize(db, view.reference, provider="webhook", authorization_id="A1",
                                actor="webhook")  # fmt: skip
    payments = Payments(db, PaymentSettings(sweep_seconds=0))
    await payments.sweep_once()
    await payments.sweep_once()
    done = await orders.order_view(db, view.reference)
    assert done is not None and done.status is OrderStatus.CREDITED
    assert done.balance_after == 25 * EUR


async def test_the_sweep_captures_a_paypal_order_left_credited(
    db: Database, shop: Shop, monkeypatch: pytest.MonkeyPatch
) -> None:
    """PayPal authorized and the card was credited, then the engine stopped before the
    capture: the sweep takes the money at PayPal (once), so the credit is paid for."""
    monkeypatch.setattr(service, "STUCK_AFTER_S", 0)
    view, step = await shop.payments.start(
        project="astro", serial=shop.card.serial, amount=25 * EUR, provider="paypal",
        actor="page",
    )  # fmt: skip
    assert isinstance(step, Redirect)
    back = await hop(step.url)  # approved at PayPal; the browser's return never comes
    assert back.startswith(f"{shop.url}/pay/paypal/return/")
    found = await orders.order_view(db, view.reference)
    assert found is not None and found.provider_order_id is not None
    auth = await shop.payments.paypal().api.authorize(found.provider_order_id, view.reference)
    await order_moves.authorize(db, view.reference, provider="paypal", authorization_id=auth.id,
                                actor="paypal")  # fmt: skip
    await order_moves.credit(db, view.reference, actor="paypal")
    await shop.payments.sweep_once()
    await shop.payments.sweep_once()
    done = await orders.order_view(db, view.reference)
    assert done is not None and done.status is OrderStatus.CAPTURED
    assert list(shop.paypal.captures) == [auth.id]
