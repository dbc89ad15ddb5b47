"""Commands a call machine emits; the adapter turns them into ARI requests and service calls."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Answer:
    channel: str


@dataclass(frozen=True)
class Play:
    """Play catalogue sounds (``minutecard/<lang>/<path>``) on a channel or into a bridge."""

    playback_id: str
    sounds: tuple[str, ...]
    lang: str
    channel: str | None = None
    bridge: str | None = None


@dataclass(frozen=True)
class StopPlayback:
    playback_id: str


@dataclass(frozen=True)
class HangupChannel:
    channel: str
    reason: str = "normal"


@dataclass(frozen=True)
class Dial:
    """Originate the advisor leg into the app; it enters Stasis when answered."""

    channel: str
    destination: str
    caller_id: str
    timeout_s: int


@dataclass(frozen=True)
class Bridge:
    bridge: str
    channels: tuple[str, ...]


@dataclass(frozen=True)
class DestroyBridge:
    bridge: str


@dataclass(frozen=True)
class StartTimer:
    name: str
    at_ms: int


@dataclass(frozen=True)
class CancelTimer:
    name: str


@dataclass(frozen=True)
class LookUp:
    """Ask for NumberInfo about ``dialed`` and the card bound to ``caller``."""

    dialed: str
    caller: str


@dataclass(frozen=True)
class Activate:
    project_id: int
    line: str
    pin: str


@dataclass(frozen=True)
class Rate:
    project_id: int
    dialed: str
    caller: str
    card_id: int


@dataclass(frozen=True)
class Reserve:
    card_id: int
    amount: int
    info: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class ExtendHold:
    reservation_id: int
    amount: int


@dataclass(frozen=True)
class Checkpoint:
    reservation_id: int
    used: int


@dataclass(frozen=True)
class Settle:
    """Bill the call; ``reservation_id`` None means no hold was taken (nothing to charge)."""

    reservation_id: int | None
    record: dict[str, Any]


@dataclass(frozen=True)
class Release:
    reservation_id: int


@dataclass(frozen=True)
class Finished:
    """The call object is done and can be dropped."""

    summary: dict[str, Any]


Command = (
    Answer
    | Play
    | StopPlayback
    | HangupChannel
    | Dial
    | Bridge
    | DestroyBridge
    | StartTimer
    | CancelTimer
    | LookUp
    | Activate
    | Rate
    | Reserve
    | ExtendHold
    | Checkpoint
    | Settle
    | Release
    | Finished
)
