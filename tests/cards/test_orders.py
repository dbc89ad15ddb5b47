"""Orders (issue 24): finding the card to pay for, creating an order, the money moves of each
transition, repeats that move nothing, and the expiry sweep."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest
from sqlalchemy import select, update

from cards.clock import utcnow
from cards.db import Database
from cards.domain import CardStatus, EntryKind, OrderStatus
from cards.errors import (
    CardBlocked,
    CardExpired,
    Conflict,
    DenominationNotAllowed,
    InvalidInput,
    NotFound,
)
from cards.models import Card, LedgerEntry, Order, Project
from cards.services import order_moves, orders
from cards.services.ledger import append, locked_card
from cards.services.order_moves import ledger_key
from cards.services.strict_audit import strict_audit
from tests.cards.order_helpers import EUR, LINE, bound_card

S = OrderStatus


async def _status(db: Database, card_id: int, status: CardStatus) -> None:
    async with db.transaction() as session:
        await session.execute(update(Card).where(Card.id == card_id).values(status=status))


async def _balance(db: Database, card_id: int) -> int:
    async with db.read() as session:
        return (await session.get_one(Card, card_id)).balance


async def test_the_card_is_found_by_line_and_serial_or_its_last_four(db: Database) -> None:
    card = await bound_card(db)
    for line in (LINE, "030 901820", "0049 30 901820"):
        for serial in (card.serial, card.serial[-4:]):
            found = await orders.find_card_for_payment(db, project="astro", line=line,
                                                       serial=serial)  # fmt: skip
            assert found is not None and found.serial == card.serial
    assert found.masked_serial == "…" + card.serial[-4:]
    assert found.balance == 10 * EUR and found.refusal is None
    assert found.denominations == [15 * EUR, 25 * EUR, 50 * EUR]
    assert found.minutes_left == 10 * EUR // 19_900  # the standard tariff: 1.99 EUR a minute


async def test_any_mismatch_is_one_neutral_none(db: Database) -> None:
    card = await bound_card(db)
    wrong_four = f"{(int(card.serial[-4:]) + 1) % 10_000:04d}"
    for line, serial, project in [
        ("+4930901821", card.serial, "astro"),  # another line
        (LINE, wrong_four, "astro"),
        (LINE, card.serial[:-1], "astro"),
        ("not a number", card.serial, "astro"),
        (LINE, card.serial, "other"),
    ]:
        assert await orders.find_card_for_payment(db, project=project, line=line,
                                                  serial=serial) is None  # fmt: skip


async def test_an_expired_or_blocked_card_is_found_with_its_refusal(db: Database) -> None:
    card = await bound_card(db)
    await _status(db, card.card_id, CardStatus.BLOCKED)
    found = await orders.find_card_for_payment(db, project="astro", line=LINE, serial=card.serial)
    assert found is not None and found.refusal == "card_blocked"
    with pytest.raises(CardBlocked):
        await orders.create_order(db, project="astro", serial=card.serial, amount=15 * EUR,
                                  provider="transfer", actor="page")  # fmt: skip
    await _status(db, card.card_id, CardStatus.EXPIRED)
    with pytest.raises(CardExpired):
        await orders.create_order(db, project="astro", serial=card.serial, amount=15 * EUR,
                                  provider="transfer", actor="page")  # fmt: skip


async def test_only_a_denomination_is_ordered(db: Database) -> None:
    card = await bound_card(db)
    with pytest.raises(DenominationNotAllowed):
        await orders.create_order(db, project="astro", serial=card.serial, amount=20 * EUR,
                                  provider="webhook", actor="page")  # fmt: skip


async def _order(db: Database, serial: str, amount: int = 50 * EUR) -> str:
    view = await orders.create_order(db, project="astro", serial=serial, amount=amount,
                                     provider="webhook", actor="page")  # fmt: skip
    assert view.status is S.CREATED and view.reference.startswith("MC-")
    return view.reference


async def _entries(db: Database, card_id: int) -> list[LedgerEntry]:
    async with db.read() as session:
        query = select(LedgerEntry).where(LedgerEntry.card_id == card_id).order_by(LedgerEntry.id)
        return list((await session.scalars(query)).all())


async def test_reserve_credit_capture_and_every_repeat_moves_nothing(db: Database) -> None:
    card = await bound_card(db)
    ref = await _order(db, card.serial)
    for _ in range(2):
        view = await order_moves.authorize(db, ref, provider="webhook", authorization_id="A1",
                                           actor="webhook")  # fmt: skip
        assert view.status is S.AUTHORIZED
    assert await _balance(db, card.card_id) == 10 * EUR  # authorized: not yet on the card
    for _ in range(2):
        view = await order_moves.credit(db, ref, actor="webhook")
        assert view.status is S.CREDITED and view.credited == 55 * EUR
    assert view.balance_after == 65 * EUR == await _balance(db, card.card_id)
    for _ in range(2):
        view = await order_moves.capture(db, ref, capture_id="C1", actor="webhook")
        assert view.status is S.CAPTURED
    again = await order_moves.authorize(db, ref, provider="webhook", authorization_id="A1",
                                        actor="webhook")  # fmt: skip
    assert again.status is S.CAPTURED
    with pytest.raises(Conflict):
        await order_moves.authorize(db, ref, provider="webhook", authorization_id="A2",
                                    actor="webhook")  # fmt: skip
    with pytest.raises(Conflict):
        await order_moves.capture(db, ref, capture_id="C2", actor="webhook")
    moved = [e for e in await _entries(db, card.card_id) if e.idempotency_key]
    assert [(e.kind, e.amount) for e in moved] == [(EntryKind.TOPUP, 50 * EUR),
                                                   (EntryKind.BONUS, 5 * EUR)]  # fmt: skip
    assert all(ref in (e.reason or "") and e.actor == "webhook" for e in moved)
    assert moved[0].idempotency_key == ledger_key(ref)


async def test_an_order_paid_after_its_denomination_was_dropped_is_credited(
    db: Database,
) -> None:
    """The operator stops selling 50 EUR while a caller's 50 EUR order is being paid: the payer
    paid what the page offered, so the credit is booked (nothing stranded as ``authorized``)."""
    card = await bound_card(db)
    ref = await _order(db, card.serial)
    async with db.transaction() as session:
        await session.execute(update(Project).values(settings={"denominations": [15 * EUR]}))
    await order_moves.authorize(db, ref, provider="webhook", authorization_id="A1",
                                actor="webhook")  # fmt: skip
    view = await order_moves.credit(db, ref, actor="webhook")
    assert (view.status, view.credited) == (S.CREDITED, 50 * EUR)  # today's settings: no bonus
    assert await _balance(db, card.card_id) == 60 * EUR
    with pytest.raises(DenominationNotAllowed):
        await _order(db, card.serial)  # a new order follows the new denominations


async def test_twenty_credits_at_once_credit_once(db: Database) -> None:
    card = await bound_card(db)
    ref = await _order(db, card.serial, 15 * EUR)
    await order_moves.authorize(db, ref, provider="webhook", authorization_id="A", actor="w")
    results = await asyncio.gather(
        *(order_moves.credit(db, ref, actor="w") for _ in range(20)), return_exceptions=True
    )
    assert all(not isinstance(r, Exception) and r.status is S.CREDITED for r in results)
    assert await _balance(db, card.card_id) == 25 * EUR


async def test_capture_failure_takes_back_the_unused_rest_is_owed(db: Database) -> None:
    card = await bound_card(db, value=5 * EUR)
    ref = await _order(db, card.serial)
    await order_moves.authorize(db, ref, provider="webhook", authorization_id="A", actor="w")
    await order_moves.credit(db, ref, actor="w")
    async with db.transaction() as session:  # the caller talks 45 of the 60 EUR away
        await append(session, await locked_card(session, card.card_id), EntryKind.ADJUST,
                     -45 * EUR, actor="test", reason="calls")  # fmt: skip
    view = await order_moves.capture_failed(db, ref, why="insufficient funds", actor="w")
    assert view.status is S.FAILED
    assert (view.taken_back, view.receivable) == (15 * EUR, 40 * EUR)
    assert await _balance(db, card.card_id) == 0
    repeat = await order_moves.capture_failed(db, ref, why="again", actor="w")
    assert repeat.taken_back == 15 * EUR and await _balance(db, card.card_id) == 0
    late = await order_moves.authorize(db, ref, provider="webhook", authorization_id="A",
                                       actor="w")  # fmt: skip
    assert late.status is S.FAILED and await _balance(db, card.card_id) == 0
    with pytest.raises(Conflict):
        await order_moves.capture(db, ref, capture_id="late", actor="w")


async def test_a_card_expired_before_payment_voids_the_order(db: Database) -> None:
    card = await bound_card(db)
    ref = await _order(db, card.serial)
    await _status(db, card.card_id, CardStatus.EXPIRED)
    view = await order_moves.authorize(db, ref, provider="webhook", authorization_id="A",
                                       actor="w")  # fmt: skip
    assert view.status is S.VOIDED and "card_expired" in (view.note or "")
    again = await order_moves.authorize(db, ref, provider="webhook", authorization_id="A",
                                        actor="w")  # fmt: skip
    assert again.status is S.VOIDED
    with pytest.raises(Conflict):
        await order_moves.credit(db, ref, actor="w")
    assert await _balance(db, card.card_id) == 10 * EUR


async def test_a_card_blocked_between_authorize_and_credit_voids_it(db: Database) -> None:
    card = await bound_card(db)
    ref = await _order(db, card.serial)
    await order_moves.authorize(db, ref, provider="webhook", authorization_id="A", actor="w")
    await _status(db, card.card_id, CardStatus.BLOCKED)
    view = await order_moves.credit(db, ref, actor="w")
    assert view.status is S.VOIDED and await _balance(db, card.card_id) == 10 * EUR


async def test_transfer_paid_by_the_operator_once(db: Database) -> None:
    card = await bound_card(db)
    view = await orders.create_order(db, project="astro", serial=card.serial, amount=25 * EUR,
                                     provider="transfer", actor="page")  # fmt: skip
    for _ in range(2):
        done = await order_moves.mark_paid(db, view.reference, actor="alice", amount=25 * EUR)
        assert done.status is S.CAPTURED
    assert await _balance(db, card.card_id) == 35 * EUR
    with pytest.raises(NotFound):
        await order_moves.mark_paid(db, await _order(db, card.serial), actor="alice",
                                    amount=50 * EUR)  # fmt: skip


async def test_a_transfer_of_another_amount_credits_nothing(db: Database) -> None:
    """The bank statement shows 20 EUR for a 25 EUR order: a partial payment is not the order;
    the operator sends it back (or the caller orders again), nothing is credited."""
    card = await bound_card(db)
    view = await orders.create_order(db, project="astro", serial=card.serial, amount=25 * EUR,
                                     provider="transfer", actor="page")  # fmt: skip
    with pytest.raises(InvalidInput, match="nothing credited"):
        await order_moves.mark_paid(db, view.reference, actor="alice", amount=20 * EUR)
    assert (await orders.order_view(db, view.reference)).status is S.CREATED  # type: ignore[union-attr]
    assert await _balance(db, card.card_id) == 10 * EUR


async def test_unpaid_orders_expire_after_their_providers_time(db: Database) -> None:
    card = await bound_card(db)
    ref = await _order(db, card.serial)
    later = utcnow() + timedelta(seconds=3601)
    assert await order_moves.expire_orders(db, {"webhook": 7200}, now=later) == []
    assert await order_moves.expire_orders(db, {"webhook": 3600}, now=later) == [ref]
    with pytest.raises(Conflict):
        await order_moves.authorize(db, ref, provider="webhook", authorization_id="A", actor="w")
    assert (await orders.order_view(db, ref)).status is S.EXPIRED  # type: ignore[union-attr]


async def test_orders_page_by_cursor(db: Database) -> None:
    card = await bound_card(db)
    made = [await _order(db, card.serial, 15 * EUR) for _ in range(5)]
    page = await orders.list_orders(db, limit=2)
    seen = [v.reference for v in page.items]
    while page.next_after:
        page = await orders.list_orders(db, limit=2, after=page.next_after)
        seen += [v.reference for v in page.items]
    assert seen == made[::-1]


@pytest.mark.books_broken
async def test_the_strict_audit_sees_an_order_that_does_not_reconcile(db: Database) -> None:
    card = await bound_card(db)
    ref = await _order(db, card.serial, 15 * EUR)
    await order_moves.mark_paid(db, await _order_transfer(db, card.serial), actor="alice",
                                amount=15 * EUR)  # fmt: skip
    await order_moves.authorize(db, ref, provider="webhook", authorization_id="A", actor="w")
    await order_moves.credit(db, ref, actor="w")
    assert await strict_audit(db) == []
    async with db.transaction() as session:
        await session.execute(update(Order).where(Order.reference == ref).values(credited=1))
        stray = await locked_card(session, card.card_id)
        await append(session, stray, EntryKind.ADJUST, 1, actor="x", reason="x",
                     key="order:MC-NONE-NONE")  # fmt: skip
    found = {b.invariant: b.subject for b in await strict_audit(db)}
    assert found["an order's credit = its entries"] == ref
    assert found["every order entry has its order"] == "MC-NONE-NONE"


async def _order_transfer(db: Database, serial: str) -> str:
    view = await orders.create_order(db, project="astro", serial=serial, amount=15 * EUR,
                                     provider="transfer", actor="page")  # fmt: skip
    return view.reference


async def test_a_drawn_reference_that_exists_is_drawn_again(
    db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    card = await bound_card(db)
    drawn = iter(["MC-AAAA-AAAA", "MC-AAAA-AAAA", "MC-BBBB-BBBB"])
    monkeypatch.setattr(orders, "new_reference", lambda: next(drawn))
    assert [await _order(db, card.serial) for _ in range(2)] == ["MC-AAAA-AAAA", "MC-BBBB-BBBB"]


def test_references_are_short_printable_and_unambiguous() -> None:
    for _ in range(200):
        ref = orders.new_reference()
        assert len(ref) == 12 and ref[:3] == "MC-" and ref[7] == "-"
        assert not set(ref[3:7] + ref[8:]) & set("01ILO")
