"""The stale-hold sweep: a hold left by a dead engine is settled at its last checkpoint by any
engine on the database — but only after the database has answered for a whole stale window, so
a call kept from checkpointing by an outage is never taken for dead."""

from __future__ import annotations

from datetime import timedelta

from cards.clock import utcnow
from cards.db import Database
from cards.services import calls
from pbx_engine.stale_sweeper import StaleSweeper, stale_after_s
from testbed.fake_ari import FakeClock
from testbed.postgres import free_port
from tests.cards.helpers import project_with_cards

ADVISOR = "+498912345671"


async def dead_call(db: Database, talked_s: int, idle_s: int) -> int:
    """A call authorized and checkpointed at ``talked_s``, then silent for ``idle_s``."""
    [card] = await project_with_cards(db, value=600)
    checkpointed = utcnow() - timedelta(seconds=idle_s)
    auth = await calls.authorize(
        db, card_id=card.card_id, dialed=ADVISOR, caller="+4930123456", call_id="dead",
        now=checkpointed - timedelta(seconds=talked_s),
    )  # fmt: skip
    assert auth.hold_id is not None
    await calls.checkpoint(db, {auth.hold_id: talked_s}, now=checkpointed)
    return card.card_id


async def test_a_dead_engines_hold_is_settled_once_the_database_was_up_a_whole_window(
    db: Database,
) -> None:
    await dead_call(db, talked_s=180, idle_s=300)
    clock = FakeClock()
    sweeper = StaleSweeper(db, clock, checkpoint_s=5)
    assert await sweeper.sweep() == []  # first answer: not yet trusted
    clock.now += 60_000
    assert await sweeper.sweep() == []
    clock.now += 30_000
    [record] = await sweeper.sweep()
    assert (record.call_id, record.charged, record.hangup_cause) == ("dead", 180, "recovered")
    assert await sweeper.sweep() == []


async def test_a_database_outage_restarts_the_window(db: Database, tmp_path: object) -> None:
    await dead_call(db, talked_s=180, idle_s=300)
    clock = FakeClock()
    sweeper = StaleSweeper(db, clock, checkpoint_s=5)
    await sweeper.sweep()
    clock.now += 80_000
    sweeper.db = Database(f"postgresql+asyncpg://postgres@127.0.0.1:{free_port()}/away")
    try:
        assert await sweeper.sweep() == []
    finally:
        await sweeper.db.close()
    assert sweeper.up_since_ms is None
    sweeper.db = db
    clock.now += 20_000
    assert await sweeper.sweep() == []  # up again, but not for a whole window yet
    clock.now += 90_000
    assert [r.call_id for r in await sweeper.sweep()] == ["dead"]


def test_the_window_is_at_least_three_checkpoints() -> None:
    assert (stale_after_s(5), stale_after_s(60)) == (90, 180)
