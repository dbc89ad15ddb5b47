"""ARI requests over the event WebSocket where the Asterisk has it (22.10 on), over HTTP
before: the same call, the same requests, the same bill either way."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from pbx_engine.ari.client import AriClient, AriError
from testbed.engine_world import World, eventually, running_engine
from testbed.fake_ari import PASSWORD, USER, FakeAri, FakeClock
from testbed.flows import activate, call_entries, connect

SETUP = {"/asterisk/info", "/applications/minutecard/eventFilter"}
"""Asked over HTTP at every connect, before the WebSocket carries requests."""


@pytest.fixture(params=["22.10.1", "22.9.0", "16.28.0-fake"])
async def versioned(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[World]:
    url = f"sqlite+aiosqlite:///{tmp_path / 'engine.sqlite3'}"
    async with running_engine(url, tmp_path, version=request.param) as world:
        yield world


async def test_a_call_goes_over_the_websocket_from_22_10_and_over_http_before(
    versioned: World,
) -> None:
    world = versioned
    await activate(world)
    answered = await connect(world)
    await world.advance(600_000)
    await eventually(lambda: world.ari.made("DELETE", "/channels/c1"), what="caller hang-up")
    [entry] = await call_entries(world)
    assert (entry.amount, entry.balance_after) == (-600, 0)
    assert world.ari.made("DELETE", "/channels/c1-advisor")[0].at_ms == answered + 600_000
    call_time = [r for r in world.ari.requests if r.path not in SETUP]
    hang_ups = [r for r in call_time if r.method == "DELETE" and r.path.startswith("/channels/")]
    others = [r for r in call_time if r not in hang_ups]
    assert len(hang_ups) == 2 and len(others) > 5
    assert {r.over_ws for r in others} == {world.ari.version == "22.10.1"}
    # Hang-ups keep their own HTTP connections, never behind other requests.
    assert not any(r.over_ws for r in hang_ups)
    assert not any(r.over_ws for r in world.ari.requests if r.path in SETUP)


async def _read(events: AsyncIterator[object]) -> None:
    async for _ in events:
        pass


async def test_over_the_websocket_a_refusal_is_an_ari_error_and_http_takes_over_when_it_goes(
    tmp_path: Path,
) -> None:
    fake = FakeAri(FakeClock(), version="22.10.1")
    await fake.start()
    try:
        async with AriClient(fake.url, USER, PASSWORD, "minutecard") as client:
            events = client.events()
            await anext(events)  # Reconnected: requests travel over the WebSocket from now
            reading = asyncio.create_task(_read(events))
            with pytest.raises(AriError) as refused:
                await client.answer("nobody")
            assert refused.value.gone
            assert fake.requests[-1].over_ws
            fake.refuse_ws = True
            await fake.drop_ws()
            await eventually(lambda: not client.connected, what="WebSocket lost")
            with pytest.raises(AriError) as refused:
                await client.answer("nobody")
            assert refused.value.gone
            assert not fake.requests[-1].over_ws
            reading.cancel()
            await asyncio.gather(reading, return_exceptions=True)
    finally:
        await fake.stop()
