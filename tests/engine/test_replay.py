"""Replay ARI event sequences recorded from the real Asterisk (tests/fixtures/ari/) to the engine.

The fake ARI sends each recorded event at its recorded instant on the fake clock; the engine's
own timers fire in between. Playback ids are deterministic, so the engine must make the same
requests the recorded run made for the recorded events to fit.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from cards.db import Database
from cards.models import CallRecord, LedgerEntry
from cards.services import activation, cardbatch
from pbx_engine.ari.client import AriClient
from pbx_engine.ari.events import timestamp_ms
from pbx_engine.engine import Engine
from rating.ints import ceil_div
from testbed.astro import SECRET, astro_project
from testbed.engine_world import engine_config, engine_idle, eventually
from testbed.fake_ari import PASSWORD, USER, FakeAri, FakeClock

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "ari"


def load(name: str) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    lines = [json.loads(line) for line in (FIXTURES / f"{name}.jsonl").read_text().splitlines()]
    return lines[0], lines[1:]


@dataclass
class Replay:
    db: Database
    ari: FakeAri
    clock: FakeClock
    engine: Engine
    meta: dict[str, Any]

    async def quiet(self) -> None:
        await engine_idle(self.engine)

    async def play(self, events: list[dict[str, Any]]) -> None:
        for event in events:
            at = (
                timestamp_ms(event.get("timestamp")) or self.clock.wall_ms()
            ) - self.clock.wall_start_ms
            while self.clock.wake_next(at):
                await self.quiet()
            self.clock.now = max(self.clock.now, at)
            channel = event.get("channel")
            if event["type"] == "StasisStart" and channel:
                self.ari.channels[channel["id"]] = channel
            await self.ari.send(event)
            await asyncio.sleep(0.005)
            await self.quiet()

    async def ledger_calls(self) -> list[int]:
        async with self.db.transaction() as session:
            return [
                e.amount
                for e in (
                    await session.scalars(select(LedgerEntry).where(LedgerEntry.kind == "call"))
                ).all()
            ]

    async def records(self) -> list[CallRecord]:
        async with self.db.transaction() as session:
            return list((await session.scalars(select(CallRecord))).all())

    def plays(self) -> list[str]:
        return [r.params["media"] for r in self.ari.made("POST", "/play/")]


@pytest.fixture
async def replay(
    tmp_path: Path, request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch
) -> AsyncIterator[tuple[Replay, list]]:
    meta, events = load(request.param)
    db = Database(f"sqlite+aiosqlite:///{tmp_path / 'replay.sqlite3'}")
    monkeypatch.setattr(cardbatch, "new_pin", lambda _length: meta["pin"])
    await astro_project(
        db,
        secret=SECRET,
        credit=meta["credit_seconds"],
        unit=meta["unit"],
        settings={"warning_lead": meta["warning_lead"]},
    )
    if meta.get("bound_line"):
        await activation.activate(db, "astro", meta["bound_line"], meta["pin"], secret=SECRET)
    first = timestamp_ms(events[0]["timestamp"]) or 0
    clock = FakeClock(wall_start_ms=first - 1_000_000)
    fake = FakeAri(clock, auto_playback=False, echo_hangups=False, echo_bridges=False)
    await fake.start()
    async with AriClient(fake.url, USER, PASSWORD, "minutecard") as client:
        engine = Engine(client, db, clock, engine_config(tmp_path))
        runner = asyncio.create_task(engine.run())
        await eventually(lambda: fake.connects == 1, what="events WebSocket")
        yield Replay(db, fake, clock, engine, meta), events
        runner.cancel()
        await asyncio.gather(runner, return_exceptions=True)
    await fake.stop()
    await db.close()


def stamps(events: list[dict[str, Any]], kind: str, suffix: str = "") -> list[int]:
    """Asterisk's own stamps (ms) of the recorded events of ``kind`` on channels ``*suffix``."""
    return [
        timestamp_ms(e["timestamp"]) or 0
        for e in events
        if e["type"] == kind and e.get("channel", {}).get("id", "").endswith(suffix)
    ]


def both_in_bridge(events: list[dict[str, Any]]) -> int:
    """The recorded stamp of the second leg entering the bridge: where charging starts."""
    return stamps(events, "ChannelEnteredBridge")[1]


@pytest.mark.parametrize("replay", ["exhaustion"], indirect=True)
async def test_replay_exhaustion(replay: tuple[Replay, list]) -> None:
    world, events = replay
    await world.play(events)
    start_ms = both_in_bridge(events) - world.clock.wall_start_ms
    [warning] = [r for r in world.ari.made("POST", "/play/") if r.path.startswith("/bridges/")]
    # The recorded call has 8 s of credit and a 3 s lead: "… reicht noch für drei Sekunden".
    assert warning.params["media"] == (
        "sound:minutecard/de/warning,sound:minutecard/de/num/n3,sound:minutecard/de/seconds"
    )
    assert warning.at_ms == start_ms + 5_000
    [end] = [r for r in world.ari.made("DELETE", "/channels/") if r.path.endswith("-advisor")]
    assert end.at_ms == start_ms + 8_000
    assert await world.ledger_calls() == [-8]


@pytest.mark.parametrize("replay", ["activation"], indirect=True)
async def test_replay_activation(replay: tuple[Replay, list]) -> None:
    world, events = replay
    await world.play(events)
    assert any("balance_is" in m for m in world.plays())
    assert await activation.card_for_line(world.db, 1, "+4930123456") is not None


@pytest.mark.parametrize("replay", ["wrong_pin"], indirect=True)
async def test_replay_wrong_pin(replay: tuple[Replay, list]) -> None:
    world, events = replay
    await world.play(events)
    assert sum("pin_invalid" in m for m in world.plays()) == 3
    await eventually(lambda: world.ari.made("DELETE", "/channels/"), what="hang-up")


@pytest.mark.parametrize("replay", ["refused_mobile"], indirect=True)
async def test_replay_refused_mobile(replay: tuple[Replay, list]) -> None:
    world, events = replay
    await world.play(events)
    assert world.plays() == ["sound:minutecard/de/number_not_reachable"]
    assert await world.ledger_calls() == []


@pytest.mark.parametrize("replay", ["caller_hangs_up", "inline_activation"], indirect=True)
async def test_replay_billed_calls(replay: tuple[Replay, list]) -> None:
    """Billed from Asterisk's stamps: bridge entry of the second leg to the hang-up request."""
    world, events = replay
    await world.play(events)
    hangup = stamps(events, "ChannelHangupRequest")[0]
    talked = ceil_div(hangup - both_in_bridge(events), 1000)  # the 1/1 tariff, 1 s a second
    expected = min(talked, world.meta["credit_seconds"])  # an engine hang-up ends on the credit
    [charged] = await world.ledger_calls()
    [record] = await world.records()
    assert -charged == record.billed_seconds == expected > 0


@pytest.mark.parametrize("replay", ["busy"], indirect=True)
async def test_replay_busy_advisor(replay: tuple[Replay, list]) -> None:
    world, events = replay
    await world.play(events)
    assert any("advisor_unavailable" in m for m in world.plays())
    assert await world.ledger_calls() == []
    [record] = await world.records()
    assert record.hangup_cause == "advisor_busy:q850=17"
