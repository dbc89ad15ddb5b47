"""No money dropped: a settle the database refuses is retried, journaled, and billed on replay."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import select

from cards.db import Database
from cards.journal import Journal
from cards.models import LedgerEntry
from cards.services import calls
from pbx_engine.settler import Settler
from testbed.astro import ADVISOR_NO, astro_project
from testbed.postgres import free_port
from tests.support.settlements import talked

SECRET = b"test-secret-for-pins-0123456789"
T0 = datetime(2026, 11, 1, 12, 0, tzinfo=UTC)


def settlement(hold_id: int | None, talk_s: int, card_id: int) -> calls.Settlement:
    return talked(
        "call-1",
        hold_id,
        talk_s,
        card_id=card_id,
        caller="+4930123456",
        dialed=ADVISOR_NO,
        start=T0,
    )


async def test_database_away_journals_then_replay_bills_to_the_second(tmp_path: Path) -> None:
    db = Database(f"sqlite+aiosqlite:///{tmp_path / 'money.sqlite3'}")
    card = await astro_project(db, secret=SECRET, credit=600)
    auth = await calls.authorize(
        db, card_id=card.card_id, dialed=ADVISOR_NO, caller="+4930123456", call_id="call-1"
    )
    assert auth.affordable_s == 600
    journal = Journal(tmp_path / "journal.jsonl")
    away = Database(f"postgresql+asyncpg://nobody@127.0.0.1:{free_port()}/none")
    settler = Settler(away, journal, delays=(0.01, 0.01))
    await settler.settle(settlement(auth.hold_id, 137, card.card_id))
    await away.close()
    assert (settler.retries, settler.journaled) == (2, 1)
    assert [s.call_id for s in journal.pending()] == ["call-1"]
    assert (journal.path.stat().st_mode & 0o777) == 0o600

    result = await journal.replay(db)
    assert (result.applied, result.left) == (1, 0)
    assert not journal.path.exists()
    # Replaying again (a crash between apply and rewrite) bills once.
    journal.append(settlement(auth.hold_id, 137, card.card_id))
    await journal.replay(db)
    async with db.read() as session:
        charges = (
            await session.scalars(select(LedgerEntry.amount).where(LedgerEntry.kind == "call"))
        ).all()
    assert list(charges) == [-137]
    await db.close()
