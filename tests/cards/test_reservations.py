"""Reservations on SQLite and PostgreSQL: no overspend, settle, release, recover."""

from __future__ import annotations

import asyncio
import subprocess
import sys
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from cards.db import Database
from cards.errors import Conflict, Insufficient
from cards.models import CallRecord, Card, LedgerEntry
from cards.services import reservations as res
from cards.services.reports import audit
from tests.cards.helpers import project_with_cards

T0 = datetime(2026, 11, 1, 12, 0, tzinfo=UTC)


def outcome(**kw) -> res.CallOutcome:
    base = dict(
        project_id=1,
        caller="+4930123456",
        dialed="+498912345671",
        arrived_at=T0,
        ended_at=T0 + timedelta(seconds=70),
    )
    base.update(kw)
    return res.CallOutcome(**base)


async def test_fifty_concurrent_reserves_ten_succeed(db: Database) -> None:
    [card] = await project_with_cards(db, value=600)

    async def one(i: int) -> bool:
        try:
            await res.reserve(db, card.card_id, 60, f"call-{i}")
        except Insufficient:
            return False
        return True

    results = await asyncio.gather(*(one(i) for i in range(50)))
    assert sum(results) == 10
    assert await res.available(db, card.card_id) == 0
    async with db.transaction() as session:
        balance = await session.scalar(select(Card.balance).where(Card.id == card.card_id))
    assert balance == 600


WORKER = """
import asyncio, sys
from cards.db import Database
from cards.errors import Insufficient
from cards.services.reservations import reserve

async def main(url, card_id, tag):
    db = Database(url)
    async def one(i):
        try:
            await reserve(db, card_id, 60, f"{tag}-{i}")
            return 1
        except Insufficient:
            return 0
    print(sum(await asyncio.gather(*(one(i) for i in range(25)))))
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
    assert sum(int(out.decode()) for out, _ in outputs) == 10
    assert await res.available(db, card.card_id) == 0


async def test_settle_writes_one_entry_and_a_record(db: Database) -> None:
    [card] = await project_with_cards(db, value=600)
    hold = await res.reserve(db, card.card_id, 300, "call-1", now=T0)
    entry, record = await res.settle(
        db, hold.id, outcome(used=120, billed_seconds=120, cost=120, hangup_side="caller")
    )
    assert entry.amount == -120
    assert entry.balance_after == 480
    assert record.charged == 120
    assert await res.available(db, card.card_id) == 480
    with pytest.raises(Conflict):
        await res.settle(db, hold.id, outcome(used=120))
    async with db.transaction() as session:
        calls = await session.scalar(
            select(func.count()).select_from(LedgerEntry).where(LedgerEntry.kind == "call")
        )
        records = await session.scalar(select(func.count()).select_from(CallRecord))
    assert (calls, records) == (1, 1)


async def test_settle_never_charges_more_than_held(db: Database) -> None:
    [card] = await project_with_cards(db, value=600)
    hold = await res.reserve(db, card.card_id, 100, "call-1")
    entry, record = await res.settle(db, hold.id, outcome(used=150, cost=150))
    assert entry.amount == -100
    assert (record.cost, record.charged) == (150, 100)


async def test_release_charges_nothing(db: Database) -> None:
    [card] = await project_with_cards(db, value=600)
    hold = await res.reserve(db, card.card_id, 600, "call-1")
    assert await res.available(db, card.card_id) == 0
    await res.release(db, hold.id)
    assert await res.available(db, card.card_id) == 600


async def test_extend_after_topup_and_refusal(db: Database) -> None:
    [card] = await project_with_cards(db, value=600)
    hold = await res.reserve(db, card.card_id, 500, "call-1")
    with pytest.raises(Insufficient):
        await res.extend(db, hold.id, 700)
    extended = await res.extend(db, hold.id, 600)
    assert extended.amount == 600


async def test_recover_settles_a_stale_reservation_at_its_checkpoint(db: Database) -> None:
    [card] = await project_with_cards(db, value=600)
    hold = await res.reserve(
        db,
        card.card_id,
        600,
        "dead-call",
        now=T0,
        info={"caller": "+4930123456", "dialed": "+498912345671"},
    )
    await res.checkpoint(db, hold.id, 180, now=T0 + timedelta(seconds=180))
    assert (
        await res.recover_stale(
            db, older_than=timedelta(minutes=5), now=T0 + timedelta(seconds=200)
        )
        == []
    )
    [record] = await res.recover_stale(
        db, older_than=timedelta(minutes=5), now=T0 + timedelta(minutes=10)
    )
    assert (record.charged, record.hangup_cause, record.caller) == (180, "recovered", "+4930123456")
    assert await res.available(db, card.card_id) == 420
    checked, problems = await audit(db)
    assert (checked, problems) == (1, [])
