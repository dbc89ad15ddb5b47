"""The database goes away under a live call (a real PostgreSQL stopped): the call runs on to
its known limit, its settle is journaled, and when the server is back the call is billed to the
second of its hang-up stamp — once."""

from __future__ import annotations

from pathlib import Path

import asyncpg
from sqlalchemy import select

from cards.models import CallRecord, LedgerEntry
from testbed.engine_world import eventually, running_engine
from testbed.flows import activate, call_entries, connect
from testbed.postgres import PrivatePostgres


async def test_a_call_outlives_the_database_and_is_billed_when_it_returns(
    own_postgres: PrivatePostgres, tmp_path: Path
) -> None:
    conn = await asyncpg.connect(own_postgres.admin_url)
    await conn.execute("CREATE DATABASE outage")
    await conn.close()
    async with running_engine(own_postgres.url("outage"), tmp_path) as world:
        await activate(world)
        answered = await connect(world)
        own_postgres.halt()
        try:
            # Checkpoints fail while the call talks on; the engine does not end it for that.
            await world.advance(answered + 100_000 - world.clock.now)
            assert not world.ari.made("DELETE", "/channels/c1")
            assert not world.ari.made("DELETE", "/channels/c1-advisor")
            await world.ari.hang_up("c1")
            hung_up = world.clock.now
            await eventually(lambda: not world.engine.calls, what="call ended")
            assert len(world.engine.config.journal.pending()) == 1
        finally:
            own_postgres.resume()
        await eventually(lambda: not world.engine.config.journal.pending(), what="replay")
        [entry] = await call_entries(world)
        async with world.db.read() as session:
            [record] = (await session.scalars(select(CallRecord))).all()
            entries = (await session.scalars(select(LedgerEntry))).all()
    assert hung_up - answered == 100_000
    assert (record.billed_seconds, entry.amount) == (100, -100)
    assert sum(e.amount for e in entries) == 600 - 100
