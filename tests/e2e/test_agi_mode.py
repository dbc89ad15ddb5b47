"""AGI mode on the real Asterisk with SIPp: the dialplan keeps the call, `Dial(…,L())` cuts it at
the authorized limit and the `h` extension settles it exactly; activation over AGI; a busy
advisor charges nothing; a settle that arrives twice bills once."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from sqlalchemy import select

from cards.models import CallRecord, LedgerEntry, Reservation
from cards.services import activation
from testbed.astro import ADVISOR_NO, CARD_NO
from testbed.e2e_world import E2EWorld, e2e_world
from tests.e2e.test_real_asterisk import CALLER, CALLER_E164, bind

HANGUP_ERROR_LIMIT_MS = 50


async def settled(world: E2EWorld) -> tuple[list[LedgerEntry], list[CallRecord]]:
    """The `h` extension settles after the call: wait for its record, then read the books."""
    for _ in range(200):
        async with world.db.read() as session:
            calls = (await session.scalars(select(CallRecord))).all()
            if calls:
                entries = (
                    await session.scalars(select(LedgerEntry).where(LedgerEntry.kind == "call"))
                ).all()
                return list(entries), list(calls)
        await asyncio.sleep(0.05)
    raise AssertionError("no call record: the h extension never settled")


async def agi_request(port: int, headers: dict[str, str]) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write("".join(f"{k}: {v}\n" for k, v in headers.items()).encode() + b"\n")
    await writer.drain()
    await reader.read()  # the route answers (or not) and closes
    writer.close()


@pytest.mark.every_asterisk
async def test_agi_call_cut_by_dial_limit_is_settled_exactly(
    e2e_sounds: Path, tmp_path: Path
) -> None:
    # The lead is longer than the warning prompt (3.4 s): L() ends a call only when a warning
    # that is still playing has finished.
    async with e2e_world(
        tmp_path, e2e_sounds, credit_seconds=12, warning_lead=6, mode="agi"
    ) as world:
        await bind(world, CALLER)
        caller, advisor = await world.call(ADVISOR_NO, CALLER, pcap_seconds=30, name="agi")
        assert caller.returncode == 0, caller.stderr
        assert advisor is not None and advisor.returncode == 0, advisor.stderr
        answered = advisor.times("SIP/2.0 200")[0]  # then the 200 to the BYE
        [bye] = advisor.times("BYE")
        error_ms = (bye - answered).total_seconds() * 1000 - 12_000
        print(f"\nAGI mode: advisor's BYE {error_ms:.1f} ms after answer + 12 s credit")
        assert 0 <= error_ms < HANGUP_ERROR_LIMIT_MS
        [entry], [record] = await settled(world)
        assert (entry.amount, record.billed_seconds) == (-12, 12)
        assert record.hangup_cause == "dialstatus:answer"
        async with world.db.read() as session:
            hold = await session.scalar(select(Reservation))
        assert hold is not None and hold.state == "settled"
        # The same settle again (a retried h extension): nothing more is billed.
        await agi_request(
            world.agi_port,
            {
                "agi_network_script": "settle",
                "agi_uniqueid": record.call_id,
                "agi_arg_1": str(hold.id),
                "agi_arg_2": "12004",
                "agi_arg_3": "ANSWER",
                "agi_arg_4": str(record.project_id),
                "agi_arg_5": str(record.card_id),
                "agi_arg_6": record.caller,
                "agi_arg_7": record.dialed,
                "agi_arg_8": "12000",
                "agi_arg_9": "1795322053112",
            },
        )
        entries, records = await settled(world)
        assert ([e.amount for e in entries], len(records)) == ([-12], 1)


async def test_agi_activation_binds_the_line(e2e_sounds: Path, tmp_path: Path) -> None:
    async with e2e_world(
        tmp_path, e2e_sounds, credit_seconds=60, warning_lead=3, mode="agi"
    ) as world:
        caller, _ = await world.call(
            CARD_NO,
            CALLER,
            pcap_seconds=30,
            advisor=None,
            digits={7_000: world.card.pin + "#"},
            name="agi_activation",
        )
        assert caller.returncode == 0, caller.stderr
        assert await activation.card_for_line(world.db, 1, CALLER_E164) is not None


async def test_agi_busy_advisor_charges_nothing(e2e_sounds: Path, tmp_path: Path) -> None:
    async with e2e_world(
        tmp_path, e2e_sounds, credit_seconds=8, warning_lead=3, mode="agi"
    ) as world:
        await bind(world, CALLER)
        caller, _ = await world.call(
            ADVISOR_NO, CALLER, pcap_seconds=15, advisor="busy", name="agi_busy"
        )
        assert caller.times("SIP/2.0 200") == [], "the caller was answered by nobody"
        entries, [record] = await settled(world)
        assert entries == []
        assert (record.charged, record.hangup_cause) == (0, "dialstatus:busy")
        async with world.db.read() as session:
            hold = await session.scalar(select(Reservation))
        assert hold is not None and hold.state == "released"
