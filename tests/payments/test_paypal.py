"""PayPal end to end against the local stand-in (PayPal's documented shapes): approve, return,
authorize, credit, capture; a declined authorization; a refused capture after the credit; a card
that expired before the return; the payer cancelling; a return repeated."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pytest
from sqlalchemy import update

from cards.clock import utcnow
from cards.db import Database
from cards.domain import CardStatus, OrderStatus
from cards.models import Card
from cards.services import order_moves, orders
from cards.services.orders import OrderView
from pbx_engine.payments.provider import ProviderUnavailable, Redirect
from pbx_engine.payments.service import Payments
from tests.cards.order_helpers import EUR
from tests.payments.conftest import Shop
from tests.support.browser_hops import hop

S = OrderStatus


async def _pay(shop: Shop, *, cancel: bool = False) -> tuple[OrderView, str]:
    """The caller picks 25 EUR, approves (or turns back) at PayPal and comes back: the order as
    the page then shows it, and where the browser was sent."""
    view, step = await shop.payments.start(
        project="astro", serial=shop.card.serial, amount=25 * EUR, provider="paypal",
        actor="page",
    )  # fmt: skip
    assert isinstance(step, Redirect) and step.url.startswith(shop.paypal.base)
    back = await hop(step.url + ("&cancel=1" if cancel else ""))
    assert back.startswith(f"{shop.url}/pay/paypal/")
    page = await hop(back)
    found = await orders.order_view(shop.payments.db, view.reference)
    assert found is not None
    return found, page


async def _balance(db: Database, shop: Shop) -> int:
    async with db.read() as session:
        return (await session.get_one(Card, shop.card.card_id)).balance


async def test_approve_authorize_credit_capture(db: Database, shop: Shop) -> None:
    view, page = await _pay(shop)
    assert page == f"/pay/astro/orders/{view.reference}"
    assert view.status is S.CAPTURED and view.credited == 25 * EUR
    assert await _balance(db, shop) == 35 * EUR
    calls = [c.split(" ")[1].split("/")[-1] for c in shop.paypal.calls]
    assert calls == ["token", "orders", "authorize", "capture"]  # credit lies between the two
    again = await hop(
        f"{shop.url}/pay/paypal/return/{view.reference}?token={view.provider_order_id}"
    )
    assert again == page and await _balance(db, shop) == 35 * EUR
    assert len(shop.paypal.captures) == 1


async def test_a_declined_authorization_fails_and_credits_nothing(db: Database, shop: Shop) -> None:
    shop.paypal.decline_authorization = True
    view, _ = await _pay(shop)
    assert view.status is S.FAILED and "INSTRUMENT_DECLINED" in (view.note or "")
    assert await _balance(db, shop) == 10 * EUR


async def test_a_refused_capture_takes_the_credit_back(db: Database, shop: Shop) -> None:
    shop.paypal.fail_capture = True
    view, _ = await _pay(shop)
    assert view.status is S.FAILED and "PAYER_CANNOT_PAY" in (view.note or "")
    assert (view.credited, view.taken_back, view.receivable) == (25 * EUR, 25 * EUR, 0)
    assert await _balance(db, shop) == 10 * EUR


async def test_a_card_expired_before_the_return_voids_the_authorization(
    db: Database, shop: Shop
) -> None:
    async def expire_on_approve() -> None:
        async with db.transaction() as session:
            await session.execute(
                update(Card).where(Card.id == shop.card.card_id).values(status=CardStatus.EXPIRED)
            )

    shop.paypal.on_approve = expire_on_approve
    view, _ = await _pay(shop)
    assert view.status is S.VOIDED and "card_expired" in (view.note or "")
    assert shop.paypal.voided == [view.authorization_id] and not shop.paypal.captures
    assert await _balance(db, shop) == 10 * EUR


async def test_an_order_swept_while_paypal_authorizes_releases_the_reservation(
    db: Database, shop: Shop
) -> None:
    """The sweep expires the order during PayPal's authorize call: nothing is credited, and the
    payer's money PayPal has just reserved is released, not held until PayPal drops it."""

    async def sweep_now() -> None:
        later = utcnow() + timedelta(days=30)
        assert await order_moves.expire_orders(db, {"paypal": 60}, now=later)

    shop.paypal.on_authorize = sweep_now
    view, page = await _pay(shop)
    assert view.status is S.EXPIRED and page == f"/pay/astro/orders/{view.reference}"
    assert len(shop.paypal.voided) == 1 and not shop.paypal.captures
    assert await _balance(db, shop) == 10 * EUR


async def test_the_payer_cancels(db: Database, shop: Shop) -> None:
    view, page = await _pay(shop, cancel=True)
    assert view.status is S.VOIDED and page == f"/pay/astro/orders/{view.reference}"
    assert await _balance(db, shop) == 10 * EUR


async def test_a_return_with_a_wrong_token_is_refused(shop: Shop) -> None:
    view, _ = await shop.payments.start(
        project="astro", serial=shop.card.serial, amount=25 * EUR, provider="paypal",
        actor="page",
    )  # fmt: skip
    status = await hop(f"{shop.url}/pay/paypal/return/{view.reference}?token=FORGED")
    assert status == "404"


async def test_a_return_for_a_reference_no_database_would_take_is_not_found(shop: Shop) -> None:
    for reference in ("MC-%00", "MC-" + "A" * 40):
        assert await hop(f"{shop.url}/pay/paypal/return/{reference}?token=X") == "404"


async def test_paypal_refusing_our_credentials_voids_the_new_order(shop: Shop) -> None:
    settings = shop.payments.settings
    assert settings.paypal is not None
    wrong = replace(settings, paypal=replace(settings.paypal, client_secret="not-ours"))
    payments = Payments(shop.payments.db, wrong)
    try:
        with pytest.raises(ProviderUnavailable, match="paypal could not start the payment"):
            await payments.start(project="astro", serial=shop.card.serial, amount=25 * EUR,
                                 provider="paypal", actor="page")  # fmt: skip
    finally:
        await payments.close()
    page = await orders.list_orders(payments.db, status=S.VOIDED)
    assert [v.provider for v in page.items] == ["paypal"]
    assert shop.paypal.calls == ["POST /v1/oauth2/token"]
