"""Top-ups (idempotent, denominations, minimum, bonus), adjustments, and the audit."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import update

from cards.db import Database
from cards.errors import Conflict, Insufficient, InvalidInput, Refused
from cards.models import Card
from cards.services import adjustments, cardbatch, ledger
from cards.services.reports import audit, transactions
from tests.cards.helpers import project_with_cards

EUR = 10_000
SHOP = {"denominations": [15 * EUR, 25 * EUR, 50 * EUR], "bonus": {str(50 * EUR): 5 * EUR}}


async def test_idempotent_topup_sent_three_times_credits_once(db: Database) -> None:
    [card] = await project_with_cards(db, unit="money", value=10 * EUR, settings=SHOP)
    results = [
        await ledger.topup(db, card.card_id, 25 * EUR, actor="api", key="order-77")
        for _ in range(3)
    ]
    assert len({r.entries[0].id for r in results}) == 1
    assert [r.replayed for r in results] == [False, True, True]
    assert (await cardbatch.get_card(db, card.serial)).balance == 35 * EUR
    report = await transactions(db, card_ref=card.serial)
    assert report.topup_count == 1


async def test_twenty_parallel_topups_with_one_key_all_answer_the_same(db: Database) -> None:
    """Each gets the first one's entry (none a unique-key error), and one credit is made."""
    [card] = await project_with_cards(db, unit="money", value=10 * EUR, settings=SHOP)
    others = [Database(db.url) for _ in range(4)]  # several connections, as parallel processes
    try:
        done = await asyncio.gather(
            *(
                ledger.topup(others[i % 4], card.card_id, 25 * EUR, actor="api", key="order-9")
                for i in range(20)
            )
        )
    finally:
        for other in others:
            await other.close()
    assert len({t.entries[0].id for t in done}) == 1
    assert sum(not t.replayed for t in done) == 1
    assert (await cardbatch.get_card(db, card.serial)).balance == 35 * EUR


async def test_same_key_other_amount_is_a_conflict(db: Database) -> None:
    [card] = await project_with_cards(db, unit="money", value=10 * EUR, settings=SHOP)
    await ledger.topup(db, card.card_id, 25 * EUR, actor="api", key="k1")
    with pytest.raises(Conflict):
        await ledger.topup(db, card.card_id, 15 * EUR, actor="api", key="k1")


async def test_denominations_refuse_other_amounts_and_list_allowed(db: Database) -> None:
    [card] = await project_with_cards(db, unit="money", value=10 * EUR, settings=SHOP)
    with pytest.raises(InvalidInput, match=r"allowed: 15\.00 EUR, 25\.00 EUR, 50\.00 EUR"):
        await ledger.topup(db, card.card_id, 20 * EUR, actor="cli")


async def test_bonus_is_its_own_entry(db: Database) -> None:
    [card] = await project_with_cards(db, unit="money", value=10 * EUR, settings=SHOP)
    entries = (await ledger.topup(db, card.card_id, 50 * EUR, actor="cli")).entries
    assert [(e.kind, e.amount) for e in entries] == [("topup", 50 * EUR), ("bonus", 5 * EUR)]
    assert entries[-1].balance_after == 65 * EUR


async def test_minimum_topup(db: Database) -> None:
    [card] = await project_with_cards(
        db, unit="money", value=10 * EUR, settings={"minimum_topup": 20 * EUR}
    )
    with pytest.raises(InvalidInput, match="minimum"):
        await ledger.topup(db, card.card_id, 10 * EUR, actor="cli")
    await ledger.topup(db, card.card_id, 20 * EUR, actor="cli")


async def test_blocked_card_takes_no_topup(db: Database) -> None:
    [card] = await project_with_cards(db, unit="money", value=10 * EUR)
    await cardbatch.set_blocked(db, card.serial, True)
    with pytest.raises(Refused):
        await ledger.topup(db, card.card_id, 10 * EUR, actor="cli")


async def test_adjust_needs_reason_and_cannot_go_below_zero(db: Database) -> None:
    [card] = await project_with_cards(db, value=600)
    with pytest.raises(InvalidInput):
        await adjustments.adjust(db, card.card_id, -60, actor="cli", reason=" ")
    with pytest.raises(Insufficient, match=r"at most 10 min now$"):
        await adjustments.adjust(db, card.card_id, -601, actor="cli", reason="goodwill undo")
    done = await adjustments.adjust(db, card.card_id, -60, actor="cli", reason="dropped call")
    assert done.entries[0].balance_after == 540


@pytest.mark.books_broken
async def test_audit_catches_a_balance_changed_behind_its_back(db: Database) -> None:
    cards = await project_with_cards(db, value=600, count=3)
    assert await audit(db) == (3, [])
    async with db.transaction() as session:
        await session.execute(update(Card).where(Card.id == cards[1].card_id).values(balance=999))
    checked, problems = await audit(db)
    assert checked == 3
    assert [(p.serial, p.balance, p.ledger_sum) for p in problems] == [(cards[1].serial, 999, 600)]
