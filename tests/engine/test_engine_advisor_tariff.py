"""An advisor's own tariff (issue 23, seed 004's price per offer) against the fake ARI and the
fake clock: the advisor who answers rates the call — the hold is re-snapshotted with its tariff
before the bridge, the caller hears the minutes it affords, the call ends on that tariff's
credit and is billed at it; a busy advisor's tariff never rates the call of another."""

from __future__ import annotations

from sqlalchemy import select

from cards.models import Reservation, Tariff
from cards.services import advisors, hunt_groups, projects
from rating import Increments
from testbed.astro import ADVISOR_NO, SECRET
from testbed.engine_world import World, eventually
from testbed.flows import activate, call_entries, records

CREDIT = 600  # card seconds on the world's card


async def tariff_id(world: World, name: str) -> int:
    async with world.db.read() as session:
        return (await session.scalars(select(Tariff.id).where(Tariff.name == name))).one()


async def two_with_extensions(world: World, anna_tariff: str, strategy: str = "ordered") -> None:
    await advisors.add_advisor(world.db, "astro", "Anna", "PJSIP/anna", secret=SECRET, ext="11",
                               tariff=anna_tariff)  # fmt: skip
    await advisors.add_advisor(world.db, "astro", "Ben", "PJSIP/ben", secret=SECRET, ext="12")
    timing = hunt_groups.Timing(15, 60, 0, extensions=True)
    await hunt_groups.set_group(world.db, ADVISOR_NO, ["Anna", "Ben"], strategy, timing)


async def bridged_after_answer(world: World, leg: str) -> int:
    """The advisor ``leg`` answers; the engine instant its leg is in the bridge."""
    await world.ari.advisor_answers(leg, "c1")
    await eventually(lambda: world.ari.bridges.get("c1-bridge") == ["c1", leg], what="bridged")
    await world.quiet()
    return world.clock.now


async def test_the_chosen_advisor_with_a_dearer_tariff_rates_the_call(world: World) -> None:
    await projects.set_tariff(world.db, "astro", "astrology", increments=Increments(1, 1),
                              rates={"fixed": 3})  # fmt: skip
    await two_with_extensions(world, "astrology")
    await activate(world)
    await world.ari.caller_dials("c1", ADVISOR_NO, "+4930123456")
    await eventually(lambda: any("extension_offer" in m for m in world.plays()), what="offer")
    await world.quiet()
    heard_before = len(world.plays())
    assert "/de/num/n10," in world.plays()[0]  # 600 s at the line's tariff: 10 minutes
    await world.ari.dtmf("c1", "11#")
    await eventually(lambda: world.ari.made("POST", "/channels/c1-advisor"), what="dial")
    world.clock.now += 2_000
    bridged = await bridged_after_answer(world, "c1-advisor")
    # Before the bridge the caller heard what the call now affords: 600 / 3 = 200 s, 3 minutes.
    [rated] = world.plays()[heard_before:]
    assert rated.startswith("sound:minutecard/de/remaining") and "/de/num/n3," in rated
    async with world.db.read() as session:
        [hold] = (await session.scalars(select(Reservation))).all()
    assert (hold.amount, hold.info["tariff_reason"]) == (CREDIT, "advisor")
    assert hold.info["tariff_id"] == await tariff_id(world, "astrology")
    await world.advance(200_000)  # the end falls on bridge + 200 s, nothing hangs it up before
    await eventually(lambda: world.engine.calls == {}, what="call ended")
    await world.quiet()
    [entry] = await call_entries(world)
    assert entry.amount == -CREDIT  # 200 s at 3 card seconds each
    [record] = await records(world)
    assert (record.advisor, record.billed_seconds) == ("Anna", 200)
    assert record.tariff_id == await tariff_id(world, "astrology")
    assert record.charge_start_at is not None and record.ended_at is not None
    assert (record.ended_at - record.charge_start_at).total_seconds() == 200
    assert record.hangup_cause == "credit_exhausted"
    assert world.clock.now - bridged == 200_000


async def test_a_cheap_advisor_who_is_busy_leaves_the_call_at_the_standard_tariff(
    world: World,
) -> None:
    await projects.set_tariff(world.db, "astro", "standard", increments=Increments(1, 1),
                              rates={"fixed": 2})  # fmt: skip
    await projects.set_tariff(world.db, "astro", "cheap", increments=Increments(1, 1),
                              rates={"fixed": 1})  # fmt: skip
    await two_with_extensions(world, "cheap")
    await activate(world)
    await world.ari.caller_dials("c1", ADVISOR_NO, "+4930123456")
    await eventually(lambda: any("extension_offer" in m for m in world.plays()), what="offer")
    await world.quiet()
    await world.ari.dtmf("c1", "#")  # no extension: the group, Anna first
    await eventually(lambda: world.ari.made("POST", "/channels/c1-advisor"), what="dial")
    world.clock.now += 300
    await world.ari.advisor_busy("c1-advisor")
    await eventually(lambda: world.ari.made("POST", "/channels/c1-advisor-2"), what="Ben")
    await bridged_after_answer(world, "c1-advisor-2")
    await world.advance(42_000)
    await world.ari.hang_up("c1")
    await eventually(lambda: world.engine.calls == {}, what="call ended")
    await world.quiet()
    [entry] = await call_entries(world)
    assert entry.amount == -84  # 42 s at the standard 2 a second, not Anna's 1
    [record] = await records(world)
    assert (record.advisor, record.tariff_id) == ("Ben", await tariff_id(world, "standard"))


async def test_an_advisor_tariff_the_credit_cannot_start_says_so_and_charges_nothing(
    world: World,
) -> None:
    # The first step costs 60 s x 20 = 1,200 card seconds: more than the card's 600.
    await projects.set_tariff(world.db, "astro", "premium", increments=Increments(60, 60),
                              rates={"fixed": 20})  # fmt: skip
    await two_with_extensions(world, "premium")
    await activate(world)
    await world.ari.caller_dials("c1", ADVISOR_NO, "+4930123456")
    await eventually(lambda: any("extension_offer" in m for m in world.plays()), what="offer")
    await world.quiet()
    await world.ari.dtmf("c1", "11#")
    await eventually(lambda: world.ari.made("POST", "/channels/c1-advisor"), what="dial")
    await world.ari.advisor_answers("c1-advisor", "c1")

    def hung_up() -> list[str]:
        return [r.path.rsplit("/", 1)[-1] for r in world.ari.made("DELETE", "/channels/")]

    await eventually(lambda: "c1" in hung_up(), what="caller hung up")
    await world.quiet()
    assert "c1-advisor" in hung_up()
    assert "c1-bridge" not in world.ari.bridges
    assert world.plays()[-1] == "sound:minutecard/de/no_credit,sound:minutecard/de/goodbye"
    assert await call_entries(world) == []
    [record] = await records(world)
    assert (record.hangup_cause, record.charged, record.billed_seconds) == ("no_credit", 0, 0)
    async with world.db.read() as session:
        [hold] = (await session.scalars(select(Reservation))).all()
    assert hold.state == "released" and hold.info["tariff_reason"] == "standard"
