"""Money at the edges (issue 22) in the services, on SQLite and PostgreSQL: recovered calls
record what they billed, the fee report starts with the project, a hand-listed first caller is
not new, the card-state rule, CLI-style idempotency keys bound to what they moved, loads."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from cards.clock import utcnow
from cards.db import Database
from cards.domain import CustomerKind, EntryKind
from cards.errors import (
    CardBlocked,
    CardExpired,
    Conflict,
    IdempotencyKeyReused,
    Insufficient,
    InvalidInput,
)
from cards.fees import FeeSchedule
from cards.models import CallRecord, Customer, OperatorAction
from cards.services import (
    adjustments,
    calls,
    card_life,
    cardbatch,
    customers,
    fee_report,
    first_callers,
    ledger,
    reports,
    statements,
)
from cards.services import reservations as res
from cards.services.cardbatch import NewCard
from cards.services.strict_audit import strict_audit
from testbed.astro import SECRET
from tests.cards.helpers import project_with_cards
from tests.cards.test_routing import FIXED, call_once, first_caller_number
from tests.support.settlements import bill_call, talked

ADVISOR = "+498912345671"
CALLER = "+4930123456"


async def test_a_recovered_call_records_the_seconds_it_was_charged(db: Database) -> None:
    """Finding 4: a hold checkpointed at 300 s and settled by recover_stale was charged while
    its record said 0 s and the fee report left its minutes out."""
    [card] = await project_with_cards(db, value=3600)
    start = utcnow() - timedelta(minutes=20)
    auth = await calls.authorize(
        db, card_id=card.card_id, dialed=ADVISOR, caller=CALLER, call_id="dead", now=start
    )
    assert auth.hold_id is not None
    await calls.checkpoint(db, {auth.hold_id: 300}, now=start + timedelta(seconds=302))
    [record] = await res.recover_stale(db, older_than=timedelta(minutes=5))
    assert (record.charged, record.billed_seconds, record.hangup_cause) == (300, 300, "recovered")
    assert record.charge_start_at is not None
    async with db.read() as session:
        stored = await session.scalar(select(CallRecord).where(CallRecord.call_id == "dead"))
    assert stored is not None and stored.billed_seconds == 300
    [(_, usage, _)] = await fee_report.operator_report(
        db, start - timedelta(days=1), utcnow() + timedelta(days=1), FeeSchedule()
    )
    assert usage.geographic_seconds == 300
    assert await strict_audit(db) == []


async def test_no_fees_for_a_month_before_the_project_existed(db: Database) -> None:
    """Finding 5: the minimum-usage fee was charged for 1999."""
    await project_with_cards(db)
    start = utcnow().replace(year=1999, month=1, day=1)
    [(_, _, report)] = await fee_report.operator_report(
        db, start, start + timedelta(days=31), FeeSchedule(), "astro"
    )
    assert (report.lines, report.total) == ([], 0)
    [(_, _, now_report)] = await fee_report.operator_report(
        db, utcnow() - timedelta(days=1), utcnow() + timedelta(days=1), FeeSchedule(), "astro"
    )
    assert any(line.item == "minimum usage" for line in now_report.lines)


async def test_a_first_caller_listed_by_hand_gets_the_standard_tariff(db: Database) -> None:
    """Finding 7: a line put on the list by hand got the first-caller tariff."""
    [card] = await project_with_cards(db)
    await first_caller_number(db, first_caller_days=7)
    await first_callers.add(db, "astro", FIXED, actor="test")
    first = await call_once(db, "+498912345672", FIXED, card.card_id, utcnow())
    assert first.tariff_reason == "standard"


async def test_expired_cards_take_nothing_and_blocked_ones_only_the_operators_moves(
    db: Database,
) -> None:
    """Finding 3 in the services (the CLI and the API ask the same rule)."""
    [expired, blocked] = await project_with_cards(db, value=600, count=2)
    await card_life.expire(db, expired.serial, reason="x", actor="test")
    for move in (
        ledger.topup(db, expired.card_id, 60, actor="t"),
        adjustments.adjust(db, expired.card_id, 60, actor="t", reason="r"),
        adjustments.adjust(db, expired.card_id, -60, actor="t", reason="r"),
        card_life.refund(db, expired.serial, 60, reason="r", actor="t"),
    ):
        with pytest.raises(CardExpired):
            await move
    await cardbatch.set_blocked(db, blocked.serial, True, actor="t", reason="lost")
    with pytest.raises(CardBlocked):
        await ledger.topup(db, blocked.card_id, 60, actor="t")
    await adjustments.adjust(db, blocked.card_id, 60, actor="t", reason="correction")
    await card_life.refund(db, blocked.serial, 120, reason="paid back", actor="t")
    assert (await reports.transactions(db, card_ref=blocked.serial)).entries[-1].amount == -120
    with pytest.raises(InvalidInput, match="cannot be created expired"):
        await cardbatch.create_cards(
            db, "astro", 1, 60, secret=SECRET, expires_at=utcnow() - timedelta(days=1)
        )


async def test_a_cli_key_is_bound_to_what_it_moved(db: Database) -> None:
    [card, other] = await project_with_cards(db, value=600, count=2)
    await ledger.topup(db, card.card_id, 60, actor="t", key="order-1")
    again = await ledger.topup(db, card.card_id, 60, actor="t", key="order-1")
    assert again.replayed
    for move in (
        ledger.topup(db, card.card_id, 120, actor="t", key="order-1"),
        ledger.topup(db, other.card_id, 60, actor="t", key="order-1"),
        adjustments.adjust(db, card.card_id, -60, actor="t", reason="r", key="order-1"),
    ):
        with pytest.raises(IdempotencyKeyReused):
            await move
    assert [e.amount for e in (await reports.transactions(db, card_ref=card.serial)).entries] == [
        600,
        60,
    ]


async def test_adjust_is_audited_and_loads_count(db: Database) -> None:
    """Finding 8: adjust had no actor or history row; credits and adjust + were not loads."""
    [card] = await project_with_cards(db, value=600)
    await adjustments.adjust(db, card.card_id, 120, actor="maria", reason="goodwill")
    async with db.read() as session:
        [action] = (
            await session.scalars(select(OperatorAction).where(OperatorAction.action == "adjust"))
        ).all()
    assert (action.actor, action.action, action.reason) == ("maria", "adjust", "goodwill")
    assert (await reports.transactions(db, card_ref=card.serial)).entries[-1].actor == "maria"
    [(_, usage, _)] = await fee_report.operator_report(
        db, utcnow() - timedelta(days=1), utcnow() + timedelta(days=1), FeeSchedule()
    )
    assert usage.loaded_seconds == 600 + 120


async def test_a_postpaid_customer_has_one_credit_line_for_all_its_cards(db: Database) -> None:
    """Finding 6: the limit was copied onto every card (a second card got another 100 EUR), an
    early bill gave the whole limit back unpaid, and the threshold was per card and ``≥``."""
    eur = 10_000
    [first, second] = await project_with_cards(db, unit="money", value=10 * eur, count=2)
    await customers.create(
        db, "astro", "Roth", CustomerKind.POSTPAID, credit_limit=100 * eur, threshold=30 * eur
    )
    for card in (first, second):
        await customers.attach(db, card.serial, "Roth")
    assert await res.available(db, second.card_id) == 110 * eur
    # 15 min at 1.99 EUR = 29.85 EUR on the first card: 19.85 EUR open, not past 30 EUR.
    await bill_call(db, first.serial, "p-1", 900, dialed=ADVISOR)
    assert await res.available(db, first.card_id) == 100 * eur - 198_500
    assert await res.available(db, second.card_id) == 10 * eur + 100 * eur - 198_500
    # A hold on the second card uses the same line: the first card can hold less meanwhile.
    auth = await calls.authorize(
        db, card_id=second.card_id, dialed=ADVISOR, caller="+4930999", call_id="p-2"
    )
    assert auth.hold_id is not None
    assert await res.available(db, first.card_id) < 100  # less than a cent: rounding
    await calls.settle(db, talked("p-2", auth.hold_id, 300, card_id=second.card_id,
                                  caller="+4930999", dialed=ADVISOR, start=utcnow()))  # fmt: skip
    # 5 min = 9.95 EUR on the second card (its 10 EUR): open stays 19.85 EUR, no early bill.
    assert await ledger_balance(db, first.serial) == -198_500
    # 6 min more = 11.94 EUR on the second card: 0.05 left, 11.89 open there; 31.74 EUR in all
    # exceed the 30 EUR threshold: both cards are billed at once.
    await bill_call(db, second.serial, "p-3", 360, dialed=ADVISOR, caller="+4930999")
    assert (await ledger_balance(db, first.serial), await ledger_balance(db, second.serial)) == (
        0,
        0,
    )
    assert (await customers.owed(db, await _customers(db)))[1] == 198_500 + 118_900
    # Billed, not paid: the line is still used by the bill.
    assert await res.available(db, first.card_id) == 100 * eur - 198_500 - 118_900
    await customers.pay(db, "astro", "Roth", 198_500 + 118_900, reference="sepa-1", actor="t")
    assert await res.available(db, first.card_id) == 100 * eur


async def ledger_balance(db: Database, serial: str) -> int:
    return (await cardbatch.get_card(db, serial)).balance


async def _customers(db: Database) -> list[Customer]:
    return (await customers.list_customers(db, "astro"))[0]


def test_every_ledger_kind_has_a_place_on_the_statement() -> None:
    """API credits and debits are kinds of their own: a statement must total them too."""
    assert set(statements.GROUPS) == set(EntryKind)


async def _postpaid_pair(db: Database) -> list[NewCard]:
    cards = await project_with_cards(db, unit="money", value=10_000 * 10, count=2)
    await customers.create(
        db, "astro", "Roth", CustomerKind.POSTPAID, credit_limit=1_000_000, threshold=200_000
    )
    for card in cards:
        await customers.attach(db, card.serial, "Roth")
    return cards


async def test_expiring_a_card_in_debt_bills_the_debt(db: Database) -> None:
    """Review: an expiry entry of −balance turned a postpaid card's open charges into a gift."""
    [card, _] = await _postpaid_pair(db)
    await bill_call(db, card.serial, "e-1", 540, dialed=ADVISOR)  # 17.91 EUR on 10 EUR
    assert await ledger_balance(db, card.serial) == -79_100
    assert await card_life.expire(db, card.serial, reason="left", actor="t") is None
    assert (await customers.owed(db, await _customers(db)))[1] == 79_100
    assert await strict_audit(db) == []


async def test_no_switch_to_prepaid_while_a_card_is_in_a_call(db: Database) -> None:
    [card, _] = await _postpaid_pair(db)
    auth = await calls.authorize(
        db, card_id=card.card_id, dialed=ADVISOR, caller=CALLER, call_id="live"
    )
    assert auth.hold_id is not None
    with pytest.raises(Conflict, match="is in a call"):
        await customers.switch(db, "astro", "Roth", CustomerKind.PREPAID)


async def test_a_refund_pays_back_the_cards_own_money_only(db: Database) -> None:
    [card, other] = await _postpaid_pair(db)
    with pytest.raises(Insufficient, match="cannot pay out more"):
        await card_life.refund(db, card.serial, 50 * 10_000, reason="x", actor="t")
    await card_life.refund(db, card.serial, 10 * 10_000, reason="x", actor="t")
    # An operator's take below zero on a postpaid card runs the threshold like a call.
    await adjustments.adjust(db, other.card_id, -35 * 10_000, actor="t", reason="goods")
    assert await ledger_balance(db, other.serial) == 0
    assert (await customers.owed(db, await _customers(db)))[1] == 25 * 10_000


async def test_a_cli_key_cannot_touch_api_or_call_entries(db: Database) -> None:
    [card, _] = await project_with_cards(db, value=600, count=2)
    await ledger.topup(db, card.card_id, 60, actor="t", key="api:1:foo")
    await ledger.topup(db, card.card_id, 60, actor="t", key="call:x")
    keys = [
        e.idempotency_key for e in (await reports.transactions(db, card_ref=card.serial)).entries
    ]
    assert keys[1:] == ["cli:api:1:foo", "cli:call:x"]
