"""Credit pushed to running calls: a `cardadmin topup` in another process reaches the call (SQLite
``PRAGMA data_version``, then the new ledger entries), and PostgreSQL's NOTIFY names the card to
every other engine."""

from __future__ import annotations

import asyncio
import os
import sys
from pathlib import Path

from sqlalchemy import select, text

from cards.db import Database
from cards.domain import CustomerKind
from cards.models import Reservation
from cards.services import customers, ledger
from pbx_engine.credit_watch import CreditWatcher
from testbed.engine_world import World, eventually
from testbed.flows import activate, call_entries, connect
from tests.cards.helpers import project_with_cards

CARDADMIN = str(Path(sys.executable).parent / "cardadmin")


async def _held(db: Database) -> list[int]:
    async with db.read() as session:
        return list((await session.scalars(select(Reservation.amount))).all())


async def test_a_cardadmin_topup_in_another_process_moves_the_end(world: World) -> None:
    await activate(world)
    answered = await connect(world)
    proc = await asyncio.create_subprocess_exec(
        CARDADMIN,
        "topup",
        world.card.serial,
        "1",
        "--idempotency-key",
        "shop-1",
        env={**os.environ, "MINUTECARD_DATABASE_URL": world.db.url},
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    _, err = await proc.communicate()
    assert proc.returncode == 0, err.decode()
    # The engine raises the hold to the new credit (seen in the database), then moves its end.
    held: list[int] = []

    async def extended() -> bool:
        held[:] = await _held(world.db)
        return held == [660]

    for _ in range(300):
        if await extended():
            break
        await asyncio.sleep(0.01)
    assert held == [660], f"hold never followed the top-up: {held}"
    await world.quiet()
    await world.advance(answered + 600_000 - world.clock.now)
    assert not world.ari.made("DELETE", "/channels/c1-advisor")
    await world.advance(60_000)
    await eventually(lambda: world.ari.made("DELETE", "/channels/c1-advisor"), what="end")
    assert world.ari.made("DELETE", "/channels/c1-advisor")[0].at_ms == answered + 660_000
    [entry] = await call_entries(world)
    assert entry.amount == -660


async def test_every_engine_hears_which_card_changed(db: Database) -> None:
    """In-process listeners and, in another engine, PostgreSQL's LISTEN or SQLite's watch of
    new ledger entries name the card; on SQLite a write that moves no credit (our own
    checkpoints) names nothing and reads nothing more, and an operator action without a card
    (a customer's terms) makes the watcher re-read every live card."""
    [card] = await project_with_cards(db, value=600)
    other = Database(db.url)
    heard: list[frozenset[int]] = []
    rechecks: list[int] = []

    async def recheck() -> None:
        rechecks.append(1)

    watcher = CreditWatcher(other, heard.append, recheck)
    task = asyncio.create_task(watcher.run())
    try:
        await asyncio.wait_for(watcher.listening.wait(), 30)
        if db.is_sqlite:
            async with db.transaction() as session:
                await session.execute(text("UPDATE cards SET label = 'no credit moved'"))
        else:
            await eventually(lambda: rechecks, what="the first re-check after LISTEN")
        rechecks.clear()
        await ledger.topup(db, card.card_id, 60, actor="shop")
        await eventually(lambda: frozenset({card.card_id}) in heard, what="the card named")
        assert set().union(*heard) == {card.card_id} and not rechecks
        heard.clear()
        await ledger.topup(other, card.card_id, 60, actor="engine-process")
        # At once, before any NOTIFY could arrive (PostgreSQL's own echo may follow).
        assert heard[:1] == [frozenset({card.card_id})], "in-process notice after the commit"
        if db.is_sqlite:
            await customers.create(db, "astro", "acme", CustomerKind.PREPAID)
            await eventually(lambda: rechecks, what="a re-check of every live card")
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        await other.close()
