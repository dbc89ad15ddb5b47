"""Events a call machine consumes. Times are integer milliseconds on the engine's clock."""

from __future__ import annotations

from dataclasses import dataclass

from rating import CallerClass, Tariff


@dataclass(frozen=True)
class Started:
    """The caller's channel entered the app (StasisStart) for ``dialed``."""

    channel: str
    dialed: str
    caller: str | None
    at_ms: int
    payphone: bool = False


@dataclass(frozen=True)
class NumberInfo:
    """What the database says about the dialed number and the caller's line."""

    role: str | None
    project_id: int = 0
    lang: str = "de"
    unit: str = "minutes"
    pin_length: int = 8
    pin_tries: int = 3
    warning_lead_s: int = 120
    accepts_caller: bool = True
    destination: str | None = None
    default_advisor: str | None = None
    card_id: int | None = None


@dataclass(frozen=True)
class Digit:
    channel: str
    digit: str
    at_ms: int


@dataclass(frozen=True)
class PlaybackFinished:
    playback_id: str
    at_ms: int


@dataclass(frozen=True)
class ActivationDone:
    """``status`` is one of activated, invalid, locked, blocked, expired; ``seconds`` the talk
    seconds the card's balance is worth (announced in whole minutes)."""

    status: str
    card_id: int | None = None
    seconds: int = 0


@dataclass(frozen=True)
class RatingReady:
    """Tariff picked for this caller (first-caller, individual, class) and the credit it has."""

    tariff: Tariff
    tariff_id: int
    caller_class: CallerClass
    credit: int


@dataclass(frozen=True)
class Reserved:
    reservation_id: int | None
    """None when the credit was gone by the time the hold was asked for."""


@dataclass(frozen=True)
class AdvisorAnswered:
    channel: str
    at_ms: int
    """When Asterisk stamped the answer, translated to the engine clock."""


@dataclass(frozen=True)
class AdvisorFailed:
    cause: str


@dataclass(frozen=True)
class Hangup:
    channel: str
    at_ms: int
    cause: str = "normal"


@dataclass(frozen=True)
class TimerFired:
    name: str
    at_ms: int


@dataclass(frozen=True)
class CreditChanged:
    """A top-up reached a card with a live call: ``available`` is credit beyond this call's hold."""

    available: int
    at_ms: int


@dataclass(frozen=True)
class HoldExtended:
    amount: int
    ok: bool
    at_ms: int


@dataclass(frozen=True)
class Shutdown:
    """The engine stops: end the call now and settle."""

    at_ms: int
    reason: str = "engine_shutdown"


Event = (
    Started
    | NumberInfo
    | Digit
    | PlaybackFinished
    | ActivationDone
    | RatingReady
    | Reserved
    | AdvisorAnswered
    | AdvisorFailed
    | Hangup
    | TimerFired
    | CreditChanged
    | HoldExtended
    | Shutdown
)
