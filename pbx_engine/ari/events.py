"""ARI events parsed into small dataclasses; only the types the engine uses."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

log = logging.getLogger("minutecard.ari")
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)

USED_TYPES = (
    "StasisStart",
    "StasisEnd",
    "ChannelDtmfReceived",
    "PlaybackFinished",
    "ChannelHangupRequest",
    "ChannelDestroyed",
    "ChannelEnteredBridge",
)
"""The event types ``parse_event`` reads; the client asks Asterisk for these only."""


def timestamp_ms(text: str | None) -> int | None:
    """Asterisk's ``2026-11-21T19:00:00.123+0000`` as integer epoch milliseconds."""
    if not text:
        return None
    try:
        stamp = datetime.fromisoformat(text)  # 60x cheaper than strptime, on every event
    except ValueError:
        return None
    if stamp.tzinfo is None:
        return None
    return (stamp - _EPOCH) // timedelta(milliseconds=1)


@dataclass(frozen=True)
class ChannelInfo:
    id: str
    name: str
    state: str
    caller_number: str
    exten: str
    language: str
    stasis_app: str = ""
    """The Stasis app the channel is in (from its dialplan ``app_data``), else empty."""

    @classmethod
    def parse(cls, data: dict[str, Any]) -> ChannelInfo:
        dialplan = data.get("dialplan") or {}
        in_stasis = dialplan.get("app_name") == "Stasis"
        return cls(
            id=str(data.get("id", "")),
            name=str(data.get("name", "")),
            state=str(data.get("state", "")),
            caller_number=str((data.get("caller") or {}).get("number", "")),
            exten=str((data.get("dialplan") or {}).get("exten", "")),
            language=str(data.get("language", "")),
            stasis_app=str(dialplan.get("app_data", "")).split(",")[0] if in_stasis else "",
        )


@dataclass(frozen=True)
class StasisStart:
    channel: ChannelInfo
    args: tuple[str, ...]
    at_wall_ms: int | None


@dataclass(frozen=True)
class StasisEnd:
    channel: ChannelInfo
    at_wall_ms: int | None


@dataclass(frozen=True)
class DtmfReceived:
    channel: ChannelInfo
    digit: str
    at_wall_ms: int | None


@dataclass(frozen=True)
class PlaybackFinished:
    playback_id: str
    at_wall_ms: int | None


@dataclass(frozen=True)
class ChannelHangupRequest:
    channel: ChannelInfo
    cause: int | None
    at_wall_ms: int | None


@dataclass(frozen=True)
class ChannelDestroyed:
    channel: ChannelInfo
    cause: int | None
    cause_txt: str
    at_wall_ms: int | None


@dataclass(frozen=True)
class ChannelEnteredBridge:
    channel: ChannelInfo
    bridge_id: str
    at_wall_ms: int | None


AriEvent = (
    StasisStart
    | StasisEnd
    | DtmfReceived
    | PlaybackFinished
    | ChannelHangupRequest
    | ChannelDestroyed
    | ChannelEnteredBridge
)


def _cause(data: dict[str, Any]) -> int | None:
    return int(data["cause"]) if "cause" in data else None


def parse_event(data: dict[str, Any]) -> AriEvent | None:
    """One event from the WebSocket, with Asterisk's stamp and cause kept; unknown or malformed
    ones are logged at debug and dropped."""
    kind = data.get("type")
    try:
        channel = ChannelInfo.parse(data["channel"]) if "channel" in data else None
        at = timestamp_ms(data.get("timestamp"))
        if kind == "StasisStart" and channel:
            return StasisStart(channel, tuple(str(a) for a in data.get("args", [])), at)
        if kind == "StasisEnd" and channel:
            return StasisEnd(channel, at)
        if kind == "ChannelDtmfReceived" and channel:
            return DtmfReceived(channel, str(data["digit"]), at)
        if kind == "PlaybackFinished":
            return PlaybackFinished(str(data["playback"]["id"]), at)
        if kind == "ChannelHangupRequest" and channel:
            return ChannelHangupRequest(channel, _cause(data), at)
        if kind == "ChannelDestroyed" and channel:
            return ChannelDestroyed(channel, _cause(data), str(data.get("cause_txt", "")), at)
        if kind == "ChannelEnteredBridge" and channel:
            return ChannelEnteredBridge(channel, str(data["bridge"]["id"]), at)
    except (KeyError, TypeError, ValueError) as exc:
        log.debug("malformed %s event dropped: %s", kind, exc)
        return None
    log.debug("event %s ignored", kind)
    return None
