"""The ``webhook`` provider: a signed callback from the operator's shop moves an order; a bad
signature, a stale timestamp, a replayed event, an unknown order and a wrong amount move nothing
and are logged with their reason (never the secret)."""

from __future__ import annotations

import asyncio
import json
import logging
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from sqlalchemy import update

from cards.db import Database
from cards.domain import CardStatus, EntryKind, OrderStatus
from cards.errors import NotFound
from cards.journal import Journal
from cards.models import Card
from cards.services import order_moves, orders
from cards.services.ledger import append, locked_card
from pbx_engine.api.app import Api, Status, serve
from pbx_engine.api.limits import Limits
from pbx_engine.payments.provider import Instructions, Redirect
from pbx_engine.payments.routes import PaymentRoutes
from pbx_engine.payments.webhook import HEADER, sign
from testbed.postgres import free_port
from tests.cards.order_helpers import EUR
from tests.payments.conftest import BANK, SECRET, Shop

S = OrderStatus


async def _order(shop: Shop, amount: int = 25 * EUR) -> str:
    view, step = await shop.payments.start(
        project="astro", serial=shop.card.serial, amount=amount, provider="webhook", actor="page"
    )
    assert isinstance(step, Redirect)
    assert step.url == f"https://shop.example/pay?reference={view.reference}&amount={amount}"
    return view.reference


def _event(ref: str, kind: str, *, amount: int = 25 * EUR, event_id: str | None = None,
           payment: str = "pay_1") -> dict[str, Any]:  # fmt: skip
    return {"id": event_id or f"evt_{kind}_{ref}", "type": kind, "order": ref,
            "amount": amount, "payment_id": payment}  # fmt: skip


async def _post(shop: Shop, event: dict[str, Any] | bytes, *, stamp: int | None = None,
                secret: str = SECRET, header: str | None = None,
                project: str = "astro") -> tuple[int, dict[str, Any]]:  # fmt: skip
    body = event if isinstance(event, bytes) else json.dumps(event).encode()
    signature = header if header is not None else sign(secret, body, stamp or int(time.time()))
    async with (
        aiohttp.ClientSession() as http,
        http.post(f"{shop.url}/pay/webhook/{project}", data=body,
                  headers={HEADER: signature, "Content-Type": "application/json"}) as resp,
    ):  # fmt: skip
        return resp.status, await resp.json(content_type=None)


async def _balance(db: Database, shop: Shop) -> int:
    async with db.read() as session:
        return (await session.get_one(Card, shop.card.card_id)).balance


async def test_paid_credits_and_captures_once(db: Database, shop: Shop) -> None:
    ref = await _order(shop)
    status, body = await _post(shop, _event(ref, "paid"))
    assert status == 200 and body["order"]["status"] == "captured"
    assert body["order"]["balance_after"] == 35 * EUR == await _balance(db, shop)
    again, body = await _post(shop, _event(ref, "paid"))  # its first answer was lost
    assert again == 200 and body["order"]["status"] == "captured"
    other = await _order(shop)
    taken, problem = await _post(shop, _event(other, "paid", event_id=f"evt_paid_{ref}"))
    assert (taken, problem["code"]) == (409, "replayed")
    retry, body = await _post(shop, _event(ref, "paid", event_id="evt_retry"))
    assert retry == 200 and body["order"]["status"] == "captured"
    assert await _balance(db, shop) == 35 * EUR


async def test_reserve_then_capture(db: Database, shop: Shop) -> None:
    ref = await _order(shop)
    status, body = await _post(shop, _event(ref, "authorized", payment="auth_9"))
    assert status == 200 and body["order"]["status"] == "credited"
    assert await _balance(db, shop) == 35 * EUR  # credited at authorization: usable at once
    status, body = await _post(shop, _event(ref, "captured", payment="cap_9"))
    assert status == 200 and body["order"]["status"] == "captured"
    other, problem = await _post(shop, _event(ref, "authorized", payment="auth_X",
                                              event_id="evt_other"))  # fmt: skip
    assert (other, problem["code"]) == (409, "conflict")
    assert await _balance(db, shop) == 35 * EUR


async def test_two_identical_callbacks_at_once_credit_once(db: Database, shop: Shop) -> None:
    ref = await _order(shop)
    answers = await asyncio.gather(*(_post(shop, _event(ref, "paid")) for _ in range(4)))
    assert 200 in {status for status, _ in answers}
    assert {status for status, _ in answers} <= {200, 409}
    assert await _balance(db, shop) == 35 * EUR


async def test_capture_failure_after_partial_use(db: Database, shop: Shop) -> None:
    ref = await _order(shop, 50 * EUR)
    await _post(shop, _event(ref, "authorized", amount=50 * EUR))
    async with db.transaction() as session:  # the caller talks 40 of the 65 EUR away
        card = await locked_card(session, shop.card.card_id)
        await append(session, card, EntryKind.ADJUST, -40 * EUR, actor="t", reason="calls")
    status, body = await _post(shop, _event(ref, "capture_failed", amount=50 * EUR))
    assert status == 200 and body["order"]["status"] == "failed"
    assert (body["order"]["taken_back"], body["order"]["receivable"]) == (25 * EUR, 30 * EUR)
    assert await _balance(db, shop) == 0


async def test_refusals_move_nothing_and_are_logged(
    db: Database, shop: Shop, caplog: pytest.LogCaptureFixture
) -> None:
    ref = await _order(shop)
    event = _event(ref, "paid")
    body = json.dumps(event).encode()
    now = int(time.time())
    tampered = body.replace(b'"pay_1"', b'"pay_2"')
    cases = [
        (_post(shop, event, stamp=now - 301), 401, "stale_timestamp"),
        (_post(shop, event, stamp=now + 301), 401, "stale_timestamp"),
        (_post(shop, event, secret="another-secret-0123"), 401, "bad_signature"),
        (_post(shop, tampered, header=sign(SECRET, body, now)), 401, "bad_signature"),
        (_post(shop, event, header="v1=00"), 401, "bad_signature"),
        (_post(shop, _event("MC-2222-2222", "paid")), 404, "unknown_order"),
        (_post(shop, _event(ref, "paid", amount=50 * EUR)), 422, "wrong_amount"),
        (_post(shop, _event(ref, "refund")), 400, "bad_event"),
        (_post(shop, event, project="other"), 404, "not_found"),
    ]
    with caplog.at_level(logging.WARNING):
        for call, status, code in cases:
            got, problem = await call
            assert (got, problem["code"]) == (status, code)
    assert await _balance(db, shop) == 10 * EUR
    assert (await orders.order_view(db, ref)).status is S.CREATED  # type: ignore[union-attr]
    reasons = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert len(reasons) == len(cases) and all("refused" in r for r in reasons)
    assert not any(SECRET in r for r in reasons)
    status, _ = await _post(shop, event)  # the good one after all that: it still works
    assert status == 200 and await _balance(db, shop) == 35 * EUR


async def test_a_card_expired_before_payment_is_refused_for_release(
    db: Database, shop: Shop
) -> None:
    ref = await _order(shop)
    async with db.transaction() as session:
        await session.execute(
            update(Card).where(Card.id == shop.card.card_id).values(status=CardStatus.EXPIRED)
        )
    status, problem = await _post(shop, _event(ref, "paid"))
    assert (status, problem["code"]) == (422, "order_voided")
    assert (await orders.order_view(db, ref)).status is S.VOIDED  # type: ignore[union-attr]
    assert await _balance(db, shop) == 10 * EUR


async def test_declined_fails_the_order(db: Database, shop: Shop) -> None:
    ref = await _order(shop)
    status, body = await _post(shop, _event(ref, "declined"))
    assert status == 200 and body["order"]["status"] == "failed"
    late, problem = await _post(shop, _event(ref, "paid", event_id="evt_late"))
    assert (late, problem["code"]) == (409, "conflict")
    assert await _balance(db, shop) == 10 * EUR


async def test_transfer_gives_instructions_and_only_offered_providers_start(shop: Shop) -> None:
    view, step = await shop.payments.start(
        project="astro", serial=shop.card.serial, amount=15 * EUR, provider="transfer",
        actor="page",
    )  # fmt: skip
    assert step == Instructions(view.reference, 15 * EUR, BANK)
    with pytest.raises(NotFound):
        await shop.payments.start(project="other", serial=shop.card.serial, amount=15 * EUR,
                                  provider="transfer", actor="page")  # fmt: skip
    done = await order_moves.mark_paid(shop.payments.db, view.reference, actor="alice",
                                      amount=15 * EUR)  # fmt: skip
    assert done.status is S.CAPTURED


async def test_a_callback_through_the_engines_own_server_is_read_whole(
    db: Database, shop: Shop, tmp_path: Path
) -> None:
    """``cardengine`` serves the callbacks on the API's server, whose middleware reads every
    body first (its timeout): the receiver must still see the body the shop signed."""
    status = Status(lambda: True, lambda: 0, lambda: 0, Journal(tmp_path / "j.jsonl"))
    port = free_port()
    runner = await serve(
        Api(db, status, Limits()), "127.0.0.1", port, [PaymentRoutes(shop.payments).add_to]
    )
    try:
        ref = await _order(shop)
        answer = await _post(replace(shop, url=f"http://127.0.0.1:{port}"), _event(ref, "paid"))
    finally:
        await runner.cleanup()
    assert (answer[0], answer[1].get("code")) == (200, None)
    assert answer[1]["order"]["status"] == "captured" and await _balance(db, shop) == 35 * EUR
