"""An answering advisor's own tariff re-rates the call's hold (issue 23, seed 004): in one
transaction, the hold's own amount counted as available, only in place of the number's standard
tariff; a tariff the credit cannot start leaves the hold as it was."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from cards.clock import utcnow
from cards.db import Database
from cards.models import CallRecord, Reservation
from cards.services import advisor_rating, advisors, calls, line_prices, projects
from cards.services.holds import rating_of
from rating import Increments, quote
from testbed.astro import SECRET
from tests.cards.helpers import project_with_cards

ADVISOR_NUMBER = "+498912345671"
CALLER = "+4930123456"
EUR = 10_000


async def line(db: Database, price: int, connect_fee: int = 0) -> tuple[int, int]:
    """A money project, a 25 EUR card, advisor Anna with tariff "own" at ``price`` a minute;
    the card's hold for one call (id, card id)."""
    [card] = await project_with_cards(db, unit="money", value=25 * EUR)
    await projects.set_tariff(db, "astro", "own", increments=Increments(60, 1),
                              rates={"fixed": price}, connect_fee=connect_fee)  # fmt: skip
    await advisors.add_advisor(db, "astro", "Anna", "PJSIP/anna", secret=SECRET, tariff="own")
    auth = await calls.authorize(
        db, card_id=card.card_id, dialed=ADVISOR_NUMBER, caller=CALLER, call_id="c1"
    )
    assert auth.hold_id is not None and auth.affordable_s == 753  # 25 EUR at 1,99 a minute
    return auth.hold_id, card.card_id


async def hold(db: Database, hold_id: int) -> Reservation:
    async with db.read() as session:
        return await session.get_one(Reservation, hold_id)


async def settle(db: Database, hold_id: int, card_id: int, talk_s: int) -> CallRecord:
    now = utcnow()
    return await calls.settle(
        db,
        calls.Settlement(
            "c1", hold_id, talk_s, 1, CALLER, ADVISOR_NUMBER, now - timedelta(minutes=5), now,
            "hangup", "caller", card_id, "Anna", now - timedelta(seconds=talk_s),
            now - timedelta(seconds=talk_s) if talk_s else None,
        ),
    )  # fmt: skip


async def test_the_hold_is_rated_anew_with_the_advisors_dearer_tariff(db: Database) -> None:
    hold_id, card_id = await line(db, 29_900)
    rated = await advisor_rating.rate_for_advisor(db, hold_id, 1)
    assert rated == advisor_rating.AdvisorRating(True, 501, 29_900, False)  # 25 EUR at 2,99
    row = await hold(db, hold_id)
    tariff, cls = rating_of(row.info)
    assert row.amount == quote(tariff, cls, 501).cost == 249_665
    assert row.info["tariff_reason"] == "advisor"
    record = await settle(db, hold_id, card_id, 100)
    assert record.cost == quote(tariff, cls, 100).cost == 49_834  # 100 s at 2,99, not 1,99
    assert record.charged == 49_834 and record.tariff_id == row.info["tariff_id"]


async def test_a_callers_own_price_keeps_rating_the_call(db: Database) -> None:
    [card] = await project_with_cards(db, unit="money", value=25 * EUR)
    for name, price in (("own", 29_900), ("loyal", 9_900)):
        await projects.set_tariff(db, "astro", name, increments=Increments(60, 1),
                                  rates={"fixed": price})  # fmt: skip
    await advisors.add_advisor(db, "astro", "Anna", "PJSIP/anna", secret=SECRET, tariff="own")
    await line_prices.set_price(db, "astro", CALLER, "loyal", actor="test")
    auth = await calls.authorize(
        db, card_id=card.card_id, dialed=ADVISOR_NUMBER, caller=CALLER, call_id="c1"
    )
    assert auth.hold_id is not None and auth.tariff_reason == "individual"
    before = await hold(db, auth.hold_id)
    rated = await advisor_rating.rate_for_advisor(db, auth.hold_id, 1)
    assert not rated.changed
    after = await hold(db, auth.hold_id)
    assert (after.amount, after.info) == (before.amount, before.info)
    await settle(db, auth.hold_id, card.card_id, 0)


async def test_a_tariff_the_credit_cannot_start_leaves_the_hold_for_release(db: Database) -> None:
    hold_id, card_id = await line(db, 29_900, connect_fee=30 * EUR)  # more than the card
    before = await hold(db, hold_id)
    rated = await advisor_rating.rate_for_advisor(db, hold_id, 1)
    assert (rated.changed, rated.affordable_s) == (True, 0)
    after = await hold(db, hold_id)
    assert (after.amount, after.info) == (before.amount, before.info)
    record = await settle(db, hold_id, card_id, 0)
    assert record.charged == 0
    async with db.read() as session:
        assert (await session.scalar(select(Reservation.state))) == "released"
