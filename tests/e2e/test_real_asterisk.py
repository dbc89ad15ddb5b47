"""End to end on a real Asterisk (22; the core set on 16.28 too) with real SIP calls from SIPp
(RFC 2833 DTMF).

Short settings: 8 s of credit, 3 s warning lead. Each test records the ARI events it saw as a
replay fixture under tests/fixtures/ari/ (MINUTECARD_RECORD_FIXTURES=1 overwrites them).
"""

from __future__ import annotations

import asyncio
import os
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from sqlalchemy import select

from cards.models import CallRecord, LedgerEntry
from cards.services import activation
from pbx_engine.ari.events import timestamp_ms
from pbx_engine.call.types import State
from testbed.astro import ADVISOR_NO, CARD_NO, FREEPHONE_NO
from testbed.e2e_world import SECRET, E2EWorld, e2e_world
from testbed.sipp import after_ms

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "ari"
CALLER = "030123456"
CALLER_E164 = "+4930123456"
UK_CALLER = "00442079460018"
TALK = (State.TALKING, State.WARNED)


async def bind(world: E2EWorld, line: str) -> None:
    """Activate the card for ``line`` beforehand (and say so in the replay fixture)."""
    await activation.activate(world.db, "astro", line, world.card.pin, secret=SECRET)
    world.recorder.meta["bound_line"] = line


def keep_fixture(world: E2EWorld, name: str) -> None:
    target = FIXTURES / f"{name}.jsonl"
    if os.environ.get("MINUTECARD_RECORD_FIXTURES") == "1" or not target.exists():
        world.recorder.save(target)


def playbacks(world: E2EWorld, kind: str, target_prefix: str = "") -> list[dict[str, Any]]:
    """Each file of each playback once (the observer hears a bridge's playback on more than one
    topic; a playback of several files reports each)."""
    seen: dict[tuple[str, str], dict[str, Any]] = {}
    for e in world.observed:
        playback = e.get("playback", {})
        if e["type"] == kind and playback["target_uri"].startswith(target_prefix):
            seen.setdefault((playback["id"], playback["media_uri"]), e)
    return list(seen.values())


def warning_started(world: E2EWorld) -> list[int | None]:
    """Asterisk's stamp of the warning's first file playing into the bridge ("Hinweis: Ihr
    Guthaben reicht noch für", then the lead's number and unit)."""
    return [
        timestamp_ms(e["timestamp"])
        for e in playbacks(world, "PlaybackStarted", "bridge:")
        if e["playback"]["media_uri"].endswith("/warning")
    ]


def media(world: E2EWorld, target_prefix: str = "") -> list[str]:
    return [e["playback"]["media_uri"] for e in playbacks(world, "PlaybackStarted", target_prefix)]


def event_ms(world: E2EWorld, kind: str, channel_suffix: str) -> list[int]:
    return [
        timestamp_ms(e["timestamp"]) or 0
        for e in world.recorder.events
        if e["type"] == kind and e.get("channel", {}).get("id", "").endswith(channel_suffix)
    ]


async def ledger_calls(world: E2EWorld) -> list[LedgerEntry]:
    async with world.db.transaction() as session:
        return list(
            (await session.scalars(select(LedgerEntry).where(LedgerEntry.kind == "call"))).all()
        )


async def records(world: E2EWorld) -> list[CallRecord]:
    async with world.db.transaction() as session:
        return list((await session.scalars(select(CallRecord))).all())


@pytest.mark.every_asterisk
async def test_activation_binds_the_line_and_announces_the_balance(
    e2e_sounds: Path, tmp_path: Path
) -> None:
    async with e2e_world(tmp_path, e2e_sounds, credit_seconds=480, warning_lead=3) as world:
        caller, _ = await world.call(
            CARD_NO,
            CALLER,
            pcap_seconds=25,
            advisor=None,
            digits={3_000: world.card.pin},
            name="activation",
        )
        assert caller.returncode == 0, caller.stderr
        heard = media(world)
        assert heard[:2] == ["sound:minutecard/de/welcome", "sound:minutecard/de/enter_pin"]
        assert heard[2:6] == [
            "sound:minutecard/de/activated",
            "sound:minutecard/de/balance_is",
            "sound:minutecard/de/num/n8",
            "sound:minutecard/de/minutes",
        ]
        assert await activation.card_for_line(world.db, 1, CALLER_E164) is not None
        keep_fixture(world, "activation")


async def test_wrong_pin_three_times(e2e_sounds: Path, tmp_path: Path) -> None:
    async with e2e_world(tmp_path, e2e_sounds, credit_seconds=480, warning_lead=3) as world:
        wrong = "".join(str((int(d) + 1) % 10) for d in world.card.pin)
        caller, _ = await world.call(
            CARD_NO,
            CALLER,
            pcap_seconds=40,
            advisor=None,
            digits={3_000: wrong, 11_000: wrong, 19_000: wrong},
            name="wrong_pin",
        )
        assert caller.returncode == 0, caller.stderr
        heard = media(world)
        assert heard.count("sound:minutecard/de/pin_invalid") == 3
        assert heard[-1] == "sound:minutecard/de/goodbye"
        assert await activation.card_for_line(world.db, 1, CALLER_E164) is None
        keep_fixture(world, "wrong_pin")


@pytest.mark.every_asterisk
async def test_advisor_call_warns_both_legs_and_hangs_up_on_the_second(
    e2e_sounds: Path, tmp_path: Path
) -> None:
    async with e2e_world(tmp_path, e2e_sounds, credit_seconds=8, warning_lead=3) as world:
        await bind(world, CALLER)
        caller, advisor = await world.call(ADVISOR_NO, CALLER, pcap_seconds=40, name="exhaustion")
        assert caller.returncode == 0, caller.stderr
        assert advisor is not None
        assert advisor.returncode == 0, advisor.stderr
        [answered] = event_ms(world, "StasisStart", "-advisor")
        bridged = max(event_ms(world, "ChannelEnteredBridge", ""))  # the second leg is in
        [warning] = warning_started(world)
        assert warning is not None
        warn_error = warning - (bridged + 5_000)
        # Both legs hear the lead the call has: "… reicht noch für drei Sekunden".
        assert media(world, "bridge:") == [
            f"sound:minutecard/de/{f}" for f in ("warning", "num/n3", "seconds")
        ]
        [bye] = advisor.times("BYE")
        exhaustion = datetime.fromtimestamp(bridged // 1000, UTC).replace(
            microsecond=bridged % 1000 * 1000, tzinfo=None
        ) + timedelta(seconds=8)
        hangup_error_us = (bye - exhaustion) // timedelta(microseconds=1)
        print(
            f"\nanswer → bridge {bridged - answered} ms; warning error {warn_error} ms; "
            f"hang-up error {hangup_error_us / 1000} ms (advisor's BYE vs bridge + 8 s)"
        )
        # Judged from outside, on Asterisk's stamps and the advisor's SIPp: billing starts when
        # the second leg entered the bridge (Asterisk adds each leg on its next 20 ms RTP frame,
        # so 20 or 40 ms after the answer), and the BYE comes 8 s of credit after that.
        assert 0 <= bridged - answered < 100
        assert 0 <= warn_error < 100
        assert 0 <= hangup_error_us < 50_000
        [entry] = await ledger_calls(world)
        assert entry.amount == -8
        [record] = await records(world)
        assert (record.billed_seconds, record.hangup_side) == (8, "engine")
        keep_fixture(world, "exhaustion")


async def test_unbound_line_activates_inline(e2e_sounds: Path, tmp_path: Path) -> None:
    async with e2e_world(tmp_path, e2e_sounds, credit_seconds=8, warning_lead=3) as world:
        caller, advisor = await world.call(
            ADVISOR_NO, CALLER, pcap_seconds=40, digits={2_500: world.card.pin}, name="inline"
        )
        assert caller.returncode == 0, caller.stderr
        heard = media(world)
        assert heard[:2] == ["sound:minutecard/de/not_activated", "sound:minutecard/de/enter_pin"]
        assert "sound:minutecard/de/activated" in heard
        assert advisor is not None
        assert advisor.times("INVITE")
        [entry] = await ledger_calls(world)
        assert entry.amount == -8
        keep_fixture(world, "inline_activation")


async def test_0800_refuses_a_mobile_caller_and_charges_nothing(
    e2e_sounds: Path, tmp_path: Path
) -> None:
    async with e2e_world(tmp_path, e2e_sounds, credit_seconds=8, warning_lead=3) as world:
        await bind(world, "015112345678")
        caller, _ = await world.call(
            FREEPHONE_NO, "015112345678", pcap_seconds=15, advisor=None, name="refused_mobile"
        )
        assert caller.returncode == 0, caller.stderr
        assert media(world) == ["sound:minutecard/de/number_not_reachable"]
        assert await ledger_calls(world) == []
        [record] = await records(world)
        assert (record.hangup_cause, record.charged) == ("caller_not_accepted", 0)
        keep_fixture(world, "refused_mobile")


async def test_caller_hangs_up_first_and_is_billed_per_tariff(
    e2e_sounds: Path, tmp_path: Path
) -> None:
    async with e2e_world(tmp_path, e2e_sounds, credit_seconds=60, warning_lead=3) as world:
        await bind(world, CALLER)
        caller, _ = await world.call(
            ADVISOR_NO, CALLER, pcap_seconds=40, hang_up_ms=9_000, name="caller_hangs_up"
        )
        assert caller.returncode == 0, caller.stderr
        [answered] = event_ms(world, "StasisStart", "-advisor")
        [ended] = [
            timestamp_ms(e["timestamp"])
            for e in world.recorder.events
            if e["type"] in ("StasisEnd", "ChannelHangupRequest")
            and not e["channel"]["id"].endswith("-advisor")
        ][:1]
        assert ended is not None
        talk_ms = ended - answered
        [entry] = await ledger_calls(world)
        [record] = await records(world)
        assert record.hangup_side == "caller"
        assert -entry.amount == record.billed_seconds == -(-talk_ms // 1000)
        keep_fixture(world, "caller_hangs_up")


async def test_built_prompts_play_to_the_end_in_both_languages(
    e2e_sounds: Path, tmp_path: Path
) -> None:
    """German callers hear minutecard/de, others minutecard/en, each to PlaybackFinished."""
    async with e2e_world(tmp_path, e2e_sounds, credit_seconds=60, warning_lead=3) as world:
        for line, lang in ((CALLER, "de"), (UK_CALLER, "en")):
            caller, _ = await world.call(
                CARD_NO,
                line,
                pcap_seconds=12,
                advisor=None,
                hang_up_ms=9_000,
                name=f"prompts_{lang}",
            )
            assert caller.returncode == 0, caller.stderr
            finished = [e["playback"]["media_uri"] for e in playbacks(world, "PlaybackFinished")]
            assert f"sound:minutecard/{lang}/enter_pin" in finished


async def test_busy_advisor_charges_nothing(e2e_sounds: Path, tmp_path: Path) -> None:
    async with e2e_world(tmp_path, e2e_sounds, credit_seconds=8, warning_lead=3) as world:
        await bind(world, CALLER)
        caller, advisor = await world.call(
            ADVISOR_NO, CALLER, pcap_seconds=25, advisor="busy", name="busy"
        )
        assert caller.returncode == 0, caller.stderr
        assert advisor is not None
        assert advisor.times("INVITE")
        heard = media(world)
        assert "sound:minutecard/de/advisor_unavailable" in heard
        assert await ledger_calls(world) == []
        [record] = await records(world)
        assert (record.hangup_cause, record.charged) == ("advisor_busy:q850=17", 0)
        keep_fixture(world, "busy")


async def both_bridged(world: E2EWorld) -> int:
    """Asterisk's stamp of the second leg entering the bridge: the billed start."""
    for _ in range(300):
        entered = event_ms(world, "ChannelEnteredBridge", "")
        if len(entered) == 2:
            return max(entered)
        await asyncio.sleep(0.05)
    raise AssertionError("the legs were never bridged")


async def api_move(world: E2EWorld, move: str, body: dict[str, Any]) -> dict[str, Any]:
    headers = {"Authorization": f"Bearer {world.api_token}", "Idempotency-Key": f"e2e-{move}"}
    async with aiohttp.ClientSession() as session:
        url = f"{world.api_url}/v1/cards/{world.card.serial}/{move}"
        async with session.post(url, json=body, headers=headers) as resp:
            assert resp.status == 201, await resp.text()
            answer: dict[str, Any] = await resp.json()
        async with session.get(f"{world.api_url}/metrics") as resp:
            assert "minutecard_live_calls 1.0" in await resp.text()
    return answer


async def call_with_a_move(
    world: E2EWorld, name: str, move: str, body: dict[str, Any]
) -> tuple[dict[str, Any], int, int, datetime]:
    """A call from the bound line with one balance-API move at bridge + 4 s: the API's answer,
    Asterisk's bridge stamp and warning stamp, and when the advisor's SIPp got its BYE."""
    call = asyncio.create_task(world.call(ADVISOR_NO, CALLER, pcap_seconds=60, name=name))
    bridged = await both_bridged(world)
    await asyncio.sleep(max(0.0, (bridged + 4_000) / 1000 - time.time()))
    answer = await api_move(world, move, body)
    caller, advisor = await call
    assert caller.returncode == 0, caller.stderr
    assert advisor is not None
    [warning] = warning_started(world)
    assert warning is not None
    [bye] = advisor.times("BYE")
    return answer, bridged, warning, bye


@pytest.mark.every_asterisk
async def test_an_api_top_up_during_the_call_moves_warning_and_end(
    e2e_sounds: Path, tmp_path: Path
) -> None:
    """A call that would end at bridge + 8 s (warning at + 5 s) gets 5 s through the balance API
    at bridge + 4 s: the warning moves to + 10 s, the end to + 13 s, 13 s are billed; /metrics
    shows the call live meanwhile."""
    async with e2e_world(tmp_path, e2e_sounds, credit_seconds=8, warning_lead=3) as world:
        await bind(world, CALLER)
        _, bridged, warning, bye = await call_with_a_move(world, "topup", "topups", {"amount": 5})
        late_us = (bye - after_ms(bridged, 13)) // timedelta(microseconds=1)
        print(f"\nAPI top-up: warning {warning - bridged} ms after the bridge; "
              f"BYE {late_us / 1000} ms after bridge + 13 s")  # fmt: skip
        assert 0 <= warning - (bridged + 10_000) < 100
        assert 0 <= late_us < 50_000
        [entry] = await ledger_calls(world)
        assert entry.amount == -13


async def test_an_api_debit_during_the_call_brings_warning_and_end_forward(
    e2e_sounds: Path, tmp_path: Path
) -> None:
    """A call with 40 s of credit (end at bridge + 40 s) is debited 20 s through the API at
    bridge + 4 s: it ends at bridge + the balance the debit left (20 s), warned 3 s before,
    and exactly that is billed; the card ends at zero, never below."""
    async with e2e_world(tmp_path, e2e_sounds, credit_seconds=40, warning_lead=3) as world:
        await bind(world, CALLER)
        answer, bridged, warning, bye = await call_with_a_move(
            world, "debit", "debits", {"amount": 20, "reason": "e2e goods"}
        )
        [debit] = answer["entries"]
        left = debit["balance_after"]
        assert left == 20
        late_us = (bye - after_ms(bridged, left)) // timedelta(microseconds=1)
        print(f"\nAPI debit: warning {warning - bridged} ms after the bridge; "
              f"BYE {late_us / 1000} ms after bridge + {left} s")  # fmt: skip
        assert 0 <= warning - (bridged + (left - 3) * 1000) < 100
        assert 0 <= late_us < 50_000
        [entry] = await ledger_calls(world)
        assert entry.amount == -left
        assert entry.balance_after == 0
