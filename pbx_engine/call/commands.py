"""Commands a call machine emits; the adapter turns them into ARI requests and cards calls."""

from __future__ import annotations

from dataclasses import dataclass

from pbx_engine.call.record import AttemptRecord, CallRecord
from pbx_engine.call.types import Cause, Side, TimerId


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
    timer: TimerId
    at_ms: int


@dataclass(frozen=True)
class CancelTimer:
    timer: TimerId


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
class ToggleLogin:
    """Log the advisor whose PIN this is in or out (a login number): LoginToggled."""

    project_id: int
    line: str
    pin: str


@dataclass(frozen=True)
class Authorize:
    """Pick the tariff and hold what the card affords (one transaction): Authorized."""

    card_id: int
    dialed: str
    caller: str


@dataclass(frozen=True)
class FollowCredit:
    """Move the hold with the card's credit (up to all of it; down, after a debit, never below
    ``talked_s`` and a notice): HoldMoved."""

    hold_id: int
    talked_s: int


@dataclass(frozen=True)
class Checkpoint:
    hold_id: int
    talk_s: int


@dataclass(frozen=True)
class Settle:
    """Bill the call (or release its hold when it never talked) and write its record."""

    hold_id: int | None
    record: CallRecord


@dataclass(frozen=True)
class ClaimAdvisors:
    """Claim whom the number's group offers next, none of ``tried``: AdvisorsOffered."""

    dialed: str
    tried: frozenset[int]
    extension: str | None = None
    """The caller's choice (first claim only): that advisor if free, else the group."""


@dataclass(frozen=True)
class AdvisorTalking:
    """The advisor answered: ``talking`` for every engine until the call ends."""

    advisor_id: int


@dataclass(frozen=True)
class RateForAdvisor:
    """The answering advisor has a tariff of its own: rate the hold with it (one transaction,
    the card's credit checked anew): AdvisorRated."""

    hold_id: int
    advisor_id: int


@dataclass(frozen=True)
class ReleaseAdvisors:
    """Attempts that ended unanswered: their advisors may be offered other calls at once."""

    advisor_ids: frozenset[int]


@dataclass(frozen=True)
class RecordAttempts:
    """The end of a hunted call: write every attempt and give back every claim of the call,
    the one of the advisor who answered after its wrap-up."""

    attempts: tuple[AttemptRecord, ...]
    answered: int | None
    wrapup_s: int


@dataclass(frozen=True)
class Finished:
    """The call object is done and can be dropped."""

    cause: Cause
    side: Side


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
    | ToggleLogin
    | Authorize
    | FollowCredit
    | Checkpoint
    | Settle
    | ClaimAdvisors
    | AdvisorTalking
    | RateForAdvisor
    | ReleaseAdvisors
    | RecordAttempts
    | Finished
)
