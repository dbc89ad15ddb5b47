"""The caller's choice and an advisor's own tariff (issue 23) on a real Asterisk (22, and 16.28
with MINUTECARD_ASTERISK=16) with SIPp: the caller types an advisor's extension and # over RFC
2833; the advisor who answers rates the call. Judged from outside the engine — SIPp's message
times, Asterisk's event stamps, the ledger."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from cards.models import CallAttempt, Tariff
from cards.services import activation, advisors, hunt_groups, projects
from rating import Increments
from testbed import rtp_pcap, sipp
from testbed.astro import ADVISOR_NO
from testbed.e2e_world import SECRET, E2EWorld, e2e_world
from testbed.postgres import free_port
from tests.e2e.test_real_asterisk import event_ms, ledger_calls, media, records

CALLER = "030123456"
CREDIT = 12  # card seconds
CHOICE_AT_MS = 6_000
"""Into ``extension_offer`` (espeak: 7.0 s), after the announcement of the minutes (2.3 s)."""


async def advisors_answering(
    world: E2EWorld, tmp_path: Path, group: dict[str, tuple[str | None, str | None, bool | None]]
) -> dict[str, asyncio.Task[sipp.SippRun]]:
    """Add each advisor of ``group`` (name: extension, own tariff, busy — None: no UAS, it
    must never be rung) on a port of its own; start a SIPp UAS for those that have one."""
    silence = tmp_path / "advisor.pcap"
    rtp_pcap.build(silence, 40, {})
    tasks = {}
    for name, (ext, tariff, busy) in group.items():
        port = free_port()
        dial = f"PJSIP/advisor1/sip:{name.lower()}@127.0.0.1:{port}"
        await advisors.add_advisor(world.db, "astro", name, dial, secret=SECRET, ext=ext,
                                   tariff=tariff)  # fmt: skip
        if busy is not None:
            tasks[name] = asyncio.create_task(
                sipp.run_sipp(
                    tmp_path, f"uas_{name.lower()}", sipp.advisor_xml(busy=busy, ring_ms=500),
                    target=None, port=port, media_port=free_port(), keys={"pcap": str(silence)},
                    timeout_s=90,
                )
            )  # fmt: skip
    await asyncio.sleep(0.3)
    return tasks


async def tariff_id(world: E2EWorld, name: str) -> int:
    async with world.db.read() as session:
        return (await session.scalars(select(Tariff.id).where(Tariff.name == name))).one()


async def outcomes(world: E2EWorld) -> list[tuple[str, str]]:
    async with world.db.read() as session:
        rows = await session.scalars(select(CallAttempt).order_by(CallAttempt.position))
        return [(a.advisor, a.outcome) for a in rows]


def bye_after_credit_us(world: E2EWorld, run: sipp.SippRun, suffix: str, seconds: int) -> int:
    """How long after (its leg entering the bridge + ``seconds``) the advisor got the BYE."""
    bridged = max(event_ms(world, "ChannelEnteredBridge", ""))
    assert set(event_ms(world, "ChannelEnteredBridge", suffix)) <= {bridged}
    [bye] = run.times("BYE")
    return (bye - sipp.after_ms(bridged, seconds)) // timedelta(microseconds=1)


async def test_an_extension_picks_its_advisor_whose_dearer_tariff_rates_the_call(
    e2e_sounds: Path, tmp_path: Path
) -> None:
    async with e2e_world(tmp_path, e2e_sounds, credit_seconds=CREDIT, warning_lead=3) as world:
        await activation.activate(world.db, "astro", CALLER, world.card.pin, secret=SECRET)
        await projects.set_tariff(world.db, "astro", "astrology", increments=Increments(1, 1),
                                  rates={"fixed": 2})  # fmt: skip
        uas = await advisors_answering(
            world, tmp_path, {"Anna": ("11", None, None), "Ben": ("12", "astrology", False)}
        )
        timing = hunt_groups.Timing(ring_timeout_s=5, overall_timeout_s=60, wrapup_s=0,
                                    extensions=True)  # fmt: skip
        await hunt_groups.set_group(world.db, ADVISOR_NO, ["Anna", "Ben"], "ordered", timing)
        caller, _ = await world.call(ADVISOR_NO, CALLER, pcap_seconds=40, advisor=None,
                                     digits={CHOICE_AT_MS: "12#"}, name="choice")  # fmt: skip
        ben = await asyncio.wait_for(uas["Ben"], 20)
        assert caller.returncode == 0 and ben.returncode == 0, (caller.stderr, ben.stderr)
        assert await outcomes(world) == [("Ben", "answered")]  # Anna, first in the list, not rung
        heard = media(world)
        assert "sound:minutecard/de/extension_offer" in heard
        # The minutes were announced again once Ben's tariff rated the call, before the bridge.
        assert heard.count("sound:minutecard/de/remaining") == 2
        # 12 card seconds at Ben's 2 a second: his BYE comes 6 s after his leg entered the
        # bridge (12 s at the line's tariff).
        late_us = bye_after_credit_us(world, ben, "-advisor", 6)
        # Ben's answered leg waited (uncharged) while the caller heard the new minutes.
        waited = sipp.after_ms(max(event_ms(world, "ChannelEnteredBridge", "")), 0)
        waited_ms = (waited - ben.times("SIP/2.0 200 OK")[0]) // timedelta(milliseconds=1)
        print(
            f"\nchoice: 200 OK → bridge {waited_ms} ms; BYE {late_us / 1000} ms after bridge + 6 s"
        )
        assert 1_000 < waited_ms < 5_000
        assert 0 <= late_us < 50_000
        [entry] = await ledger_calls(world)
        assert entry.amount == -CREDIT
        [record] = await records(world)
        assert (record.advisor, record.billed_seconds) == ("Ben", 6)
        assert record.tariff_id == await tariff_id(world, "astrology")


async def test_a_cheap_advisor_who_is_busy_leaves_the_call_at_the_standard_tariff(
    e2e_sounds: Path, tmp_path: Path
) -> None:
    async with e2e_world(tmp_path, e2e_sounds, credit_seconds=CREDIT, warning_lead=3) as world:
        await activation.activate(world.db, "astro", CALLER, world.card.pin, secret=SECRET)
        await projects.set_tariff(world.db, "astro", "standard", increments=Increments(1, 1),
                                  rates={"fixed": 2})  # fmt: skip
        await projects.set_tariff(world.db, "astro", "cheap", increments=Increments(1, 1),
                                  rates={"fixed": 1})  # fmt: skip
        uas = await advisors_answering(
            world, tmp_path, {"Anna": (None, "cheap", True), "Ben": (None, None, False)}
        )
        timing = hunt_groups.Timing(ring_timeout_s=5, overall_timeout_s=60, wrapup_s=0)
        await hunt_groups.set_group(world.db, ADVISOR_NO, ["Anna", "Ben"], "ordered", timing)
        caller, _ = await world.call(ADVISOR_NO, CALLER, pcap_seconds=40, advisor=None,
                                     name="cheapbusy")  # fmt: skip
        anna, ben = [await asyncio.wait_for(uas[n], 20) for n in ("Anna", "Ben")]
        for run in (caller, anna, ben):
            assert run.returncode == 0, run.stderr
        assert anna.times("SIP/2.0 486")
        assert await outcomes(world) == [("Anna", "advisor_busy"), ("Ben", "answered")]
        # 12 card seconds at the standard 2 a second: 6 s from Ben's bridge (12 at Anna's 1).
        late_us = bye_after_credit_us(world, ben, "-advisor-2", 6)
        print(f"\ncheap busy: Ben's BYE {late_us / 1000} ms after bridge + 6 s")
        assert 0 <= late_us < 50_000
        [entry] = await ledger_calls(world)
        assert entry.amount == -CREDIT
        [record] = await records(world)
        assert (record.advisor, record.billed_seconds) == ("Ben", 6)
        assert record.tariff_id == await tariff_id(world, "standard")


@pytest.mark.parametrize("typed", ["11#", "99#"], ids=["logged-out", "unknown"])
async def test_a_logged_out_or_unknown_extension_says_so_and_the_group_takes_the_call(
    e2e_sounds: Path, tmp_path: Path, typed: str
) -> None:
    async with e2e_world(tmp_path, e2e_sounds, credit_seconds=CREDIT, warning_lead=3) as world:
        await activation.activate(world.db, "astro", CALLER, world.card.pin, secret=SECRET)
        uas = await advisors_answering(
            world, tmp_path, {"Anna": ("11", None, None), "Ben": ("12", None, False)}
        )
        await advisors.set_login(world.db, "astro", "Anna", False)
        timing = hunt_groups.Timing(ring_timeout_s=5, overall_timeout_s=60, wrapup_s=0,
                                    extensions=True)  # fmt: skip
        await hunt_groups.set_group(world.db, ADVISOR_NO, ["Anna", "Ben"], "ordered", timing)
        caller, _ = await world.call(ADVISOR_NO, CALLER, pcap_seconds=40, advisor=None,
                                     digits={CHOICE_AT_MS: typed}, name="unavailable")  # fmt: skip
        ben = await asyncio.wait_for(uas["Ben"], 20)
        assert caller.returncode == 0 and ben.returncode == 0, (caller.stderr, ben.stderr)
        heard = media(world)
        offer = heard.index("sound:minutecard/de/extension_offer")
        assert "sound:minutecard/de/extension_unavailable" in heard[offer + 1 :]
        assert await outcomes(world) == [("Ben", "answered")]  # Anna is logged out: never rung
        late_us = bye_after_credit_us(world, ben, "-advisor", CREDIT)
        print(f"\nextension {typed}: Ben's BYE {late_us / 1000} ms after bridge + 12 s")
        assert 0 <= late_us < 50_000
        [entry] = await ledger_calls(world)
        assert entry.amount == -CREDIT
        [record] = await records(world)
        assert (record.advisor, record.billed_seconds) == ("Ben", CREDIT)
