"""Events a call machine consumes. Times are integer milliseconds on the engine's clock; events
from Asterisk carry Asterisk's own stamp, translated to that clock by the adapter."""

from __future__ import annotations

from dataclasses import dataclass

from pbx_engine.call.commands import Command
from pbx_engine.call.types import ActivationStatus, Cause, Role, TimerId
from rating import Unit


@dataclass(frozen=True)
class Started:
    """The caller's channel entered the app (StasisStart)."""

    at_ms: int


@dataclass(frozen=True)
class NumberInfo:
    """What the database says about the dialed number and the caller's line."""

    role: Role | None
    project_id: int = 0
    lang: str = "de"
    unit: Unit = Unit.MINUTES
    pin_length: int = 8
    pin_tries: int = 3
    warning_lead_s: int = 120
    accepts_caller: bool = True
    destination: str | None = None
    default_advisor: str | None = None
    card_id: int | None = None
    hunt: bool = False
    """The number rings a group of advisors (issue 23), not only its own dial string."""
    closed: bool = False
    """Outside the number's opening hours now (issue 23)."""
    extensions: bool = False
    """Its callers may type an advisor's extension and # after the announcement."""


@dataclass(frozen=True)
class Offered:
    """An advisor claimed for this call: ring it."""

    advisor_id: int
    name: str
    dial_string: str
    tariff_id: int | None = None
    """The advisor's own tariff: if it answers, the call is rated anew (RATING_ADVISOR)."""


@dataclass(frozen=True)
class AdvisorsOffered:
    """Whom the group's strategy offers next, claimed in the database (none: nobody is left),
    with the group's timing."""

    candidates: tuple[Offered, ...]
    ring_timeout_s: int
    overall_timeout_s: int
    wrapup_s: int
    at_ms: int
    extension_missed: bool = False
    """The extension the caller typed is nobody free in the group: the group is offered."""


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
    """``seconds``: the talk seconds the card's balance is worth (announced in minutes)."""

    status: ActivationStatus
    card_id: int | None = None
    seconds: int = 0


@dataclass(frozen=True)
class LoginToggled:
    """The PIN typed on a login number: ``logged_in``, ``logged_out``, ``invalid``, ``locked``."""

    status: str


@dataclass(frozen=True)
class Authorized:
    """A hold covering ``affordable_s`` talk seconds, or a refusal (``hold_id`` None)."""

    hold_id: int | None
    affordable_s: int
    refusal: Cause | None = None
    price_per_minute: int | None = None
    after_announcement: bool = False


@dataclass(frozen=True)
class AdvisorRated:
    """The hold once the answering advisor is known: ``changed``, it rates with the advisor's
    own tariff now and covers ``affordable_s`` (0: no billable step of it); else unchanged."""

    changed: bool
    affordable_s: int
    at_ms: int
    price_per_minute: int | None = None
    after_announcement: bool = False


@dataclass(frozen=True)
class AdvisorAnswered:
    channel: str
    at_ms: int


@dataclass(frozen=True)
class EnteredBridge:
    channel: str
    bridge: str
    at_ms: int


@dataclass(frozen=True)
class Hangup:
    """A leg is gone (hang-up request, StasisEnd or destroyed); ``q850`` as Asterisk said."""

    channel: str
    at_ms: int
    q850: int | None = None


@dataclass(frozen=True)
class TimerFired:
    timer: TimerId
    at_ms: int


@dataclass(frozen=True)
class CreditChanged:
    """The card's credit changed somewhere (top-up, debit, another call's hold released)."""

    at_ms: int


@dataclass(frozen=True)
class HoldMoved:
    """The hold now covers ``affordable_s`` talk seconds from the charging start (more after a
    top-up, fewer after a debit; 0 when the hold was closed elsewhere)."""

    affordable_s: int
    at_ms: int


@dataclass(frozen=True)
class Shutdown:
    """The engine stops (or lost the call): end the call now and settle."""

    at_ms: int
    cause: Cause = Cause.ENGINE_SHUTDOWN


@dataclass(frozen=True)
class CommandFailed:
    """A command the machine emitted could not be carried out; the state decides what next."""

    command: Command
    reason: str
    at_ms: int


Event = (
    Started
    | NumberInfo
    | Digit
    | PlaybackFinished
    | ActivationDone
    | LoginToggled
    | Authorized
    | AdvisorsOffered
    | AdvisorRated
    | AdvisorAnswered
    | EnteredBridge
    | Hangup
    | TimerFired
    | CreditChanged
    | HoldMoved
    | Shutdown
    | CommandFailed
)

EVENT_TYPES: tuple[type[Event], ...] = (
    Started,
    NumberInfo,
    Digit,
    PlaybackFinished,
    ActivationDone,
    LoginToggled,
    Authorized,
    AdvisorsOffered,
    AdvisorRated,
    AdvisorAnswered,
    EnteredBridge,
    Hangup,
    TimerFired,
    CreditChanged,
    HoldMoved,
    Shutdown,
    CommandFailed,
)
