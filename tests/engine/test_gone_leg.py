"""A caller hanging up at the very instant the credit runs out: the engine's goodbye prompt
meets a channel Asterisk has already dropped (404). That race is logged at INFO, never ERROR,
and the call is billed as ended by the credit."""

from __future__ import annotations

import logging

import pytest

from testbed.engine_world import World, eventually
from testbed.flows import activate, call_entries, connect, records


async def test_a_caller_gone_as_the_credit_runs_out_is_info(
    world: World, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="minutecard")
    await activate(world)
    await connect(world)
    await world.advance(599_999)
    # The caller hangs up: Asterisk drops the channel; its hang-up events are still on the way.
    caller = world.ari.channels.pop("c1")
    await world.advance(1)
    await eventually(lambda: world.ari.made("POST", "/channels/c1/play/"), what="goodbye")
    await world.ari.send({"type": "ChannelHangupRequest", "channel": caller, "cause": 16})
    await world.ari.send({"type": "StasisEnd", "channel": caller})
    await eventually(lambda: not world.engine.calls, what="call done")
    [entry] = await call_entries(world)
    assert entry.amount == -600
    [record] = await records(world)
    assert record.billed_seconds == 600
    engine = [r for r in caplog.records if r.name.startswith("minutecard")]
    assert [r.levelno for r in engine if r.levelno >= logging.WARNING] == []
    [race] = [r for r in engine if "Channel not found" in r.getMessage()]
    assert race.levelno == logging.INFO
    assert "Play failed: ARI 404" in race.getMessage()
