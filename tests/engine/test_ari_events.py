"""ARI events: the engine asks Asterisk only for the types it reads, and reads each of them with
Asterisk's own stamp."""

from __future__ import annotations

from typing import Any

from pbx_engine.ari.events import USED_TYPES, parse_event, timestamp_ms
from testbed.engine_world import World

CHANNEL = {"id": "c1", "name": "PJSIP/trunk-1", "state": "Up", "caller": {"number": "030"}}
SAMPLES: dict[str, dict[str, Any]] = {
    "StasisStart": {"channel": CHANNEL, "args": []},
    "StasisEnd": {"channel": CHANNEL},
    "ChannelDtmfReceived": {"channel": CHANNEL, "digit": "5"},
    "PlaybackFinished": {"playback": {"id": "p1"}},
    "ChannelHangupRequest": {"channel": CHANNEL, "cause": 16},
    "ChannelDestroyed": {"channel": CHANNEL, "cause": 16, "cause_txt": "Normal Clearing"},
    "ChannelEnteredBridge": {"channel": CHANNEL, "bridge": {"id": "b1"}},
}


def test_every_requested_type_is_read_with_its_stamp() -> None:
    assert set(SAMPLES) == set(USED_TYPES)
    for kind, body in SAMPLES.items():
        event = parse_event({"type": kind, "timestamp": "2026-11-22T04:34:13.112+0000", **body})
        assert event is not None, kind
        assert event.at_wall_ms == 1_795_322_053_112, kind
    assert parse_event({"type": "ChannelVarset", "channel": CHANNEL}) is None


def test_stamps_without_a_zone_or_garbage_are_refused() -> None:
    assert timestamp_ms("2026-11-22T04:34:13.112+0100") == 1_795_318_453_112
    assert timestamp_ms("2026-11-22T04:34:13.112") is None
    assert timestamp_ms("yesterday") is None


async def test_the_engine_sets_the_event_filter_on_connect(world: World) -> None:
    assert world.ari.allowed == set(USED_TYPES)
