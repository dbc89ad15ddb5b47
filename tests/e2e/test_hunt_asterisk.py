"""A number that rings a group of three advisors (issue 23) on a real Asterisk 16 with SIPp: the
first answers 486 Busy, the second rings until the ring timeout cancels it, the third answers.
Judged from outside the engine — SIPp's message times and Asterisk's event stamps — the caller
is bridged to the third and billed from that bridge, to the second its credit runs out."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import select

from cards.models import CallAttempt, Reservation
from cards.services import activation, advisors, hours, hunt_groups
from testbed import rtp_pcap, sipp
from testbed.astro import ADVISOR_NO
from testbed.e2e_world import SECRET, e2e_world
from testbed.postgres import free_port
from tests.e2e.test_real_asterisk import event_ms, ledger_calls, media, records

CALLER = "030123456"
RING_S = 5

NEVER_ANSWERS = """<?xml version="1.0" encoding="ISO-8859-1" ?>
<scenario name="minutecard advisor who never answers">
  <recv request="INVITE">
    <action><ereg regexp="[0-9]+" search_in="hdr" header="CSeq:" assign_to="cseq"/></action>
  </recv>
  <send><![CDATA[
SIP/2.0 180 Ringing
[last_Via:]
[last_From:]
[last_To:];tag=[pid]SIPpTag01[call_number]
[last_Call-ID:]
[last_CSeq:]
Contact: <sip:advisor@[local_ip]:[local_port]>
Content-Length: 0

  ]]></send>
  <recv request="CANCEL"/>
  <send><![CDATA[
SIP/2.0 200 OK
[last_Via:]
[last_From:]
[last_To:];tag=[pid]SIPpTag01[call_number]
[last_Call-ID:]
[last_CSeq:]
Content-Length: 0

  ]]></send>
  <send><![CDATA[
SIP/2.0 487 Request Terminated
[last_Via:]
[last_From:]
[last_To:];tag=[pid]SIPpTag01[call_number]
[last_Call-ID:]
CSeq: [$cseq] INVITE
Content-Length: 0

  ]]></send>
  <recv request="ACK"/>
</scenario>
"""


async def test_busy_then_no_answer_then_the_third_is_bridged_and_billed_from_its_bridge(
    e2e_sounds: Path, tmp_path: Path
) -> None:
    async with e2e_world(tmp_path, e2e_sounds, credit_seconds=12, warning_lead=3) as world:
        await activation.activate(world.db, "astro", CALLER, world.card.pin, secret=SECRET)
        ports = {name: free_port() for name in ("Anna", "Ben", "Cleo")}
        for name, port in ports.items():
            dial = f"PJSIP/advisor1/sip:{name.lower()}@127.0.0.1:{port}"
            await advisors.add_advisor(world.db, "astro", name, dial, secret=SECRET)
        timing = hunt_groups.Timing(ring_timeout_s=RING_S, overall_timeout_s=60, wrapup_s=0)
        await hunt_groups.set_group(world.db, ADVISOR_NO, list(ports), "ordered", timing)
        silence = tmp_path / "advisor.pcap"
        rtp_pcap.build(silence, 40, {})
        scenarios = {
            "Anna": sipp.advisor_xml(busy=True, ring_ms=300),
            "Ben": NEVER_ANSWERS,
            "Cleo": sipp.advisor_xml(busy=False, ring_ms=500),
        }
        uas = {
            name: asyncio.create_task(
                sipp.run_sipp(
                    tmp_path, f"hunt_{name.lower()}", scenarios[name], target=None,
                    port=ports[name], media_port=free_port(), keys={"pcap": str(silence)},
                    timeout_s=90,
                )
            )
            for name in ports
        }  # fmt: skip
        await asyncio.sleep(0.3)
        caller, _ = await world.call(ADVISOR_NO, CALLER, pcap_seconds=40, advisor=None,
                                     name="hunt")  # fmt: skip
        anna, ben, cleo = [await asyncio.wait_for(uas[n], 20) for n in ("Anna", "Ben", "Cleo")]
        for run in (caller, anna, ben, cleo):
            assert run.returncode == 0, run.stderr
        # SIPp's view: Anna refused, Ben rang the ring timeout until Asterisk's CANCEL, Cleo
        # answered and got the BYE.
        assert anna.times("SIP/2.0 486")
        [ben_invite], [ben_cancel] = ben.times("INVITE"), ben.times("CANCEL")
        ring = ben_cancel - ben_invite
        assert timedelta(seconds=RING_S) - timedelta(milliseconds=50) <= ring
        assert ring < timedelta(seconds=RING_S + 1)
        cleo_answer = cleo.times("SIP/2.0 200 OK")[0]  # the second answers Asterisk's BYE
        [cleo_bye] = cleo.times("BYE")
        # Asterisk's view: the caller and Cleo's leg (the third attempt) in one bridge.
        [answered] = event_ms(world, "StasisStart", "-advisor-3")
        bridged = max(event_ms(world, "ChannelEnteredBridge", ""))
        assert set(event_ms(world, "ChannelEnteredBridge", "-advisor-3")) <= {bridged}
        assert 0 <= bridged - answered < 100
        answer_to_bridge_us = (sipp.after_ms(bridged, 0) - cleo_answer) // timedelta(microseconds=1)
        # The credit (12 s) runs from the bridge: Cleo's BYE comes 12 s after it, not after the
        # caller's answer (the announcement and 5.3 s of ringing before it cost nothing).
        late_us = (cleo_bye - sipp.after_ms(bridged, 12)) // timedelta(microseconds=1)
        print(
            f"\nhunt: Ben rang {ring.total_seconds():.3f} s; Cleo's 200 OK → bridge "
            f"{answer_to_bridge_us / 1000} ms; BYE {late_us / 1000} ms after bridge + 12 s"
        )
        assert 0 <= answer_to_bridge_us < 200_000
        assert 0 <= late_us < 50_000
        [entry] = await ledger_calls(world)
        assert entry.amount == -12
        [record] = await records(world)
        assert (record.advisor, record.billed_seconds) == ("Cleo", 12)
        async with world.db.read() as session:
            attempts = (
                await session.scalars(select(CallAttempt).order_by(CallAttempt.position))
            ).all()
        outcomes = [(a.advisor, a.outcome) for a in attempts]
        assert outcomes == [
            ("Anna", "advisor_busy"),
            ("Ben", "advisor_noanswer"),
            ("Cleo", "answered"),
        ]
        assert abs(attempts[1].ring_ms - ring // timedelta(milliseconds=1)) < 100
        assert "sound:minutecard/de/credit_exhausted" in media(world)


async def test_ring_all_with_two_answering_20_ms_apart_bridges_one_and_bills_once(
    e2e_sounds: Path, tmp_path: Path
) -> None:
    async with e2e_world(tmp_path, e2e_sounds, credit_seconds=12, warning_lead=3) as world:
        await activation.activate(world.db, "astro", CALLER, world.card.pin, secret=SECRET)
        ports = {name: free_port() for name in ("Anna", "Ben")}
        for name, port in ports.items():
            dial = f"PJSIP/advisor1/sip:{name.lower()}@127.0.0.1:{port}"
            await advisors.add_advisor(world.db, "astro", name, dial, secret=SECRET)
        timing = hunt_groups.Timing(ring_timeout_s=RING_S, overall_timeout_s=60, wrapup_s=0)
        await hunt_groups.set_group(world.db, ADVISOR_NO, list(ports), "ring-all", timing)
        silence = tmp_path / "advisor.pcap"
        rtp_pcap.build(silence, 40, {})
        rings = {"Anna": 1_000, "Ben": 1_020}
        uas = {
            name: asyncio.create_task(
                sipp.run_sipp(
                    tmp_path, f"ringall_{name.lower()}",
                    sipp.advisor_xml(busy=False, ring_ms=rings[name]), target=None,
                    port=ports[name], media_port=free_port(), keys={"pcap": str(silence)},
                    timeout_s=90,
                )
            )
            for name in ports
        }  # fmt: skip
        await asyncio.sleep(0.3)
        caller, _ = await world.call(ADVISOR_NO, CALLER, pcap_seconds=40, advisor=None,
                                     name="ringall")  # fmt: skip
        assert caller.returncode == 0, caller.stderr
        anna, ben = [await asyncio.wait_for(uas[n], 20) for n in ("Anna", "Ben")]
        # Both were rung at once; both answered; one leg is bridged, the other hung up.
        [anna_invite], [ben_invite] = anna.times("INVITE"), ben.times("INVITE")
        assert abs(anna_invite - ben_invite) < timedelta(milliseconds=200)
        [record] = await records(world)
        async with world.db.read() as session:
            attempts = (
                await session.scalars(select(CallAttempt).order_by(CallAttempt.position))
            ).all()
        outcomes = {a.advisor: a.outcome for a in attempts}
        assert sorted(outcomes.values()) == ["answered", "cancelled"]
        winner = next(name for name, outcome in outcomes.items() if outcome == "answered")
        loser = anna if winner == "Ben" else ben
        assert record.advisor == winner
        [winner_leg] = [a for a in attempts if a.advisor == winner]
        suffix = "-advisor" if winner_leg.position == 0 else "-advisor-2"
        bridged = max(event_ms(world, "ChannelEnteredBridge", ""))
        assert set(event_ms(world, "ChannelEnteredBridge", suffix)) == {bridged}
        loser_end = (loser.times("BYE") + loser.times("CANCEL"))[0]
        cut_ms = (loser_end - sipp.after_ms(bridged, 0)) // timedelta(milliseconds=1)
        [entry] = await ledger_calls(world)
        print(f"\nring-all: {winner} bridged; the other's leg ended {cut_ms} ms from the bridge")
        assert entry.amount == -12 and record.billed_seconds == 12
        assert abs(cut_ms) < 1_000


async def test_outside_the_opening_hours_the_caller_hears_closed_and_holds_nothing(
    e2e_sounds: Path, tmp_path: Path
) -> None:
    async with e2e_world(tmp_path, e2e_sounds, credit_seconds=12, warning_lead=3) as world:
        await activation.activate(world.db, "astro", CALLER, world.card.pin, secret=SECRET)
        today = datetime.now(UTC).date()
        closed_days = [f"{today + timedelta(days=d)} closed" for d in (-1, 0, 1)]
        await hours.set_hours(world.db, ADVISOR_NO, ["mon-sun 00:00-24:00"], closed_days)
        caller, _ = await world.call(ADVISOR_NO, CALLER, pcap_seconds=25, advisor=None,
                                     name="closed")  # fmt: skip
        assert caller.returncode == 0, caller.stderr
        assert media(world) == ["sound:minutecard/de/closed", "sound:minutecard/de/goodbye"]
        assert not [e for e in world.recorder.events if "-advisor" in str(e.get("channel"))]
        assert await ledger_calls(world) == []
        [record] = await records(world)
        assert (record.hangup_cause, record.charged) == ("closed", 0)
        async with world.db.read() as session:
            assert (await session.scalars(select(Reservation))).all() == []


async def test_an_advisor_logs_out_by_calling_the_login_number_and_typing_the_pin(
    e2e_sounds: Path, tmp_path: Path
) -> None:
    login_no = "+498912345679"
    async with e2e_world(
        tmp_path, e2e_sounds, credit_seconds=12, warning_lead=3, login_number=login_no
    ) as world:
        issued = await advisors.add_advisor(world.db, "astro", "Anna", "PJSIP/anna", secret=SECRET)
        assert issued.pin is not None
        caller, _ = await world.call(login_no, "017012345678", pcap_seconds=15, advisor=None,
                                     digits={1_500: issued.pin}, name="login")  # fmt: skip
        assert caller.returncode == 0, caller.stderr
        heard = media(world)
        assert heard[0] == "sound:minutecard/de/enter_pin"
        assert heard[-2:] == ["sound:minutecard/de/logged_out", "sound:minutecard/de/goodbye"]
        assert [a["state"] for a in await advisors.api_view(world.db, 1)] == ["logged_out"]
