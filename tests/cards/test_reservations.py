"""The call's money path on SQLite and PostgreSQL: authorize (no overspend, even from two
processes), extend after a top-up, checkpoint, settle once, release, recover a dead call's hold."""

from __future__ import annotations

import asyncio
import subprocess
import sys
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from cards.db import Database
from cards.errors import Insufficient
from cards.models import CallRecord, Card, LedgerEntry
from cards.services import adjustments, calls, holds, ledger
from cards.services import reservations as res
from cards.services.reports import audit
from tests.cards.helpers import project_with_cards
from tests.support.settlements import talked

T0 = datetime(2026, 11, 1, 12, 0, tzinfo=UTC)
CALLER, ADVISOR = "+4930123456", "+498912345671"


async def authorize(db: Database, card_id: int, call_id: str) -> calls.Authorization:
    return await calls.authorize(
        db, card_id=card_id, dialed=ADVISOR, caller=CALLER, call_id=call_id, now=T0
    )


def call(call_id: str, hold_id: int | None, talk_s: int, card_id: int) -> calls.Settlement:
    return talked(
        call_id, hold_id, talk_s, card_id=card_id, caller=CALLER, dialed=ADVISOR, start=T0
    )


async def test_fifty_concurrent_authorizations_one_hold(db: Database) -> None:
    """A hold takes what the card affords: of 50 racing calls one gets the 600 s, none more."""
    [card] = await project_with_cards(db, value=600)
    auths = await asyncio.gather(*(authorize(db, card.card_id, f"call-{i}") for i in range(50)))
    granted = [a for a in auths if a.hold_id is not None]
    assert [a.affordable_s for a in granted] == [600]
    assert {a.refusal for a in auths if a.hold_id is None} == {"no_credit"}
    assert await res.available(db, card.card_id) == 0
    async with db.transaction() as session:
        balance = await session.scalar(select(Card.balance).where(Card.id == card.card_id))
    assert balance == 600


WORKER = """
import asyncio, sys
from cards.db import Database
from cards.errors import Insufficient
from cards.services.calls import authorize

async def main(url, card_id, tag):
    db = Database(url)
    auths = await asyncio.gather(*(
        authorize(db, card_id=card_id, dialed="+498912345671", caller="+4930123456",
                  call_id=f"{tag}-{i}")
        for i in range(25)
    ))
    print(sum(a.affordable_s for a in auths if a.hold_id is not None))
    await db.close()

asyncio.run(main(sys.argv[1], int(sys.argv[2]), sys.argv[3]))
"""


@pytest.mark.parametrize("db_url", ["postgresql"], indirect=True)
async def test_two_processes_share_one_card_without_overspend(db: Database, db_url: str) -> None:
    """Several engines share PostgreSQL: holds made from two OS processes never overspend."""
    [card] = await project_with_cards(db, value=600)
    procs = [
        await asyncio.create_subprocess_exec(
            sys.executable, "-c", WORKER, db_url, str(card.card_id), tag, stdout=subprocess.PIPE
        )
        for tag in ("a", "b")
    ]
    outputs = [await p.communicate() for p in procs]
    assert all(p.returncode == 0 for p in procs)
    assert sum(int(out.decode()) for out, _ in outputs) == 600
    assert await res.available(db, card.card_id) == 0


async def _balance(db: Database, card_id: int) -> int:
    async with db.read() as session:
        return (await session.get_one(Card, card_id)).balance


async def _counts(db: Database) -> tuple[int, int]:
    async with db.transaction() as session:
        entries = await session.scalar(
            select(func.count()).select_from(LedgerEntry).where(LedgerEntry.kind == "call")
        )
        records = await session.scalar(select(func.count()).select_from(CallRecord))
    return entries or 0, records or 0


async def test_settle_writes_one_entry_and_a_record_once(db: Database) -> None:
    [card] = await project_with_cards(db, value=600)
    auth = await authorize(db, card.card_id, "call-1")
    record = await calls.settle(db, call("call-1", auth.hold_id, 120, card.card_id))
    assert (record.billed_seconds, record.charged) == (120, 120)
    assert await res.available(db, card.card_id) == 480
    again = await calls.settle(db, call("call-1", auth.hold_id, 130, card.card_id))
    assert again.id == record.id and again.charged == 120
    assert await _counts(db) == (1, 1)
    async with db.transaction() as session:
        entry = await session.scalar(select(LedgerEntry).where(LedgerEntry.kind == "call"))
    assert entry is not None
    assert (entry.amount, entry.balance_after) == (-120, 480)


async def test_settle_never_charges_more_than_held(db: Database) -> None:
    [card] = await project_with_cards(db, value=600)
    auth = await authorize(db, card.card_id, "call-1")
    record = await calls.settle(db, call("call-1", auth.hold_id, 700, card.card_id))
    assert (record.cost, record.charged) == (700, 600)


async def test_a_call_never_bridged_charges_nothing(db: Database) -> None:
    [card] = await project_with_cards(db, value=600)
    auth = await authorize(db, card.card_id, "call-1")
    assert await res.available(db, card.card_id) == 0
    unbridged = calls.Settlement(
        **{**call("call-1", auth.hold_id, 0, card.card_id).to_json(), "charge_start_at": None}
    )
    record = await calls.settle(db, calls.Settlement.from_json(unbridged.to_json()))
    assert record.charged == 0
    assert await res.available(db, card.card_id) == 600
    assert await _counts(db) == (0, 1)


async def test_the_hold_follows_a_top_up(db: Database) -> None:
    [card] = await project_with_cards(db, value=600)
    auth = await authorize(db, card.card_id, "call-1")
    assert auth.hold_id is not None
    assert await calls.follow_credit(db, auth.hold_id, 0) == 600
    await ledger.topup(db, card.card_id, 300, actor="test")
    assert await calls.follow_credit(db, auth.hold_id, 0) == 900
    assert await res.available(db, card.card_id) == 0


async def test_a_debit_shortens_a_live_call_never_below_what_it_can_have_talked(
    db: Database,
) -> None:
    """100 s after authorizing, a call can have talked 100 s: a debit may leave it that and the
    10 s notice (110), so of 600 at most 490 can go; the hold then follows the debit down."""
    [card] = await project_with_cards(db, value=600)
    auth = await authorize(db, card.card_id, "call-1")
    assert auth.hold_id is not None
    at = T0 + timedelta(seconds=100)
    with pytest.raises(Insufficient, match=r"at most 8 min 10 s now \(its live calls keep"):
        await adjustments.adjust(db, card.card_id, -491, actor="shop", reason="goods", now=at)
    await adjustments.adjust(db, card.card_id, -450, actor="shop", reason="goods", now=at)
    assert await res.available(db, card.card_id) == -450  # until the engine moves the hold
    # The engine knows the call talked 95 s: the hold goes down to the balance, 150 s.
    assert await calls.follow_credit(db, auth.hold_id, 95) == 150
    assert await res.available(db, card.card_id) == 0
    record = await calls.settle(db, call("call-1", auth.hold_id, 150, card.card_id))
    assert record.charged == 150
    assert await _balance(db, card.card_id) == 0


async def test_the_hold_never_goes_below_what_was_talked(db: Database) -> None:
    """An engine that heard of the debit late (past its notice) still bills what was talked."""
    [card] = await project_with_cards(db, value=600)
    auth = await authorize(db, card.card_id, "call-1")
    assert auth.hold_id is not None
    at = T0 + timedelta(seconds=100)
    await adjustments.adjust(db, card.card_id, -490, actor="shop", reason="goods", now=at)
    assert await calls.follow_credit(db, auth.hold_id, 115) == 115


async def test_a_debit_without_live_calls_takes_the_balance_and_no_more(db: Database) -> None:
    [card] = await project_with_cards(db, value=600)
    with pytest.raises(Insufficient, match=r"at most 10 min now$"):
        await adjustments.adjust(db, card.card_id, -601, actor="shop", reason="goods")
    await adjustments.adjust(db, card.card_id, -600, actor="shop", reason="goods")
    assert await _balance(db, card.card_id) == 0


async def test_a_checkpoint_never_lowers_and_never_passes_the_hold(db: Database) -> None:
    """Also in a process that did not authorize the call (the rating read from the snapshot)."""
    [card] = await project_with_cards(db, value=600)
    auth = await authorize(db, card.card_id, "call-1")
    assert auth.hold_id is not None
    await calls.checkpoint(db, {auth.hold_id: 180}, now=T0 + timedelta(seconds=180))
    holds.forget(auth.hold_id)
    await calls.checkpoint(db, {auth.hold_id: 90}, now=T0 + timedelta(seconds=190))
    await calls.checkpoint(db, {auth.hold_id: 900}, now=T0 + timedelta(seconds=200))
    [record] = await res.recover_stale(db, older_than=timedelta(0), now=T0 + timedelta(hours=1))
    assert record.charged == 600


async def test_recover_settles_a_stale_hold_at_its_checkpoint(db: Database) -> None:
    [card] = await project_with_cards(db, value=600)
    auth = await authorize(db, card.card_id, "dead-call")
    assert auth.hold_id is not None
    await calls.checkpoint(db, {auth.hold_id: 180}, now=T0 + timedelta(seconds=180))
    early = T0 + timedelta(seconds=200)
    assert await res.recover_stale(db, older_than=timedelta(minutes=5), now=early) == []
    late = T0 + timedelta(minutes=10)
    [record] = await res.recover_stale(db, older_than=timedelta(minutes=5), now=late)
    assert (record.charged, record.hangup_cause, record.caller) == (180, "recovered", CALLER)
    assert await res.available(db, card.card_id) == 420
    checked, problems = await audit(db)
    assert (checked, problems) == (1, [])
