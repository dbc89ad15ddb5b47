"""Steps the fake-ARI engine tests share: bind a line, place an answered advisor call, read
what was billed."""

from __future__ import annotations

from sqlalchemy import select

from cards.models import CallRecord, LedgerEntry
from cards.services import activation
from testbed.astro import ADVISOR_NO, SECRET
from testbed.engine_world import CALLER, World, eventually


async def activate(world: World, line: str = CALLER) -> None:
    await activation.activate(world.db, "astro", line, world.card.pin, secret=SECRET)


async def records(world: World) -> list[CallRecord]:
    async with world.db.transaction() as session:
        return list((await session.scalars(select(CallRecord))).all())


async def call_entries(world: World) -> list[LedgerEntry]:
    async with world.db.transaction() as session:
        return list(
            (await session.scalars(select(LedgerEntry).where(LedgerEntry.kind == "call"))).all()
        )


async def connect(world: World, caller: str = CALLER) -> int:
    """Place an advisor call with a bound line; return the answer instant."""
    ari = world.ari
    await ari.caller_dials("c1", ADVISOR_NO, caller)
    await eventually(lambda: ari.made("POST", "/channels/c1-advisor"), what="dial")
    dial = ari.made("POST", "/channels/c1-advisor")[0]
    assert dial.params["endpoint"] == "PJSIP/advisor1"
    assert dial.params["appArgs"] == "advisor,c1"
    world.clock.now += 3_000
    answered = world.clock.now
    await ari.advisor_answers("c1-advisor", "c1")
    await eventually(lambda: ari.made("POST", "/addChannel"), what="bridge")
    await world.quiet()
    return answered
