"""The call machine's vocabulary: states, roles, sides, causes and timer ids (no strings)."""

from __future__ import annotations

from enum import StrEnum


class State(StrEnum):
    ARRIVING = "arriving"
    LOOKING_UP = "looking_up"
    COLLECTING_PIN = "collecting_pin"
    ACTIVATING = "activating"
    ANNOUNCING_BALANCE = "announcing_balance"
    OFFERING_ADVISOR = "offering_advisor"
    AUTHORIZING = "authorizing"
    ANNOUNCING = "announcing"
    CHOOSING = "choosing"
    HUNTING = "hunting"
    DIALING = "dialing"
    RATING_ADVISOR = "rating_advisor"
    BRIDGING = "bridging"
    ANNOUNCING_TARIFF = "announcing_tariff"
    TALKING = "talking"
    WARNED = "warned"
    FAREWELL = "farewell"
    CLOSING = "closing"
    DONE = "done"


class Role(StrEnum):
    """What a dialed number is for (SPEC "Number")."""

    CARD = "card"
    ADVISOR = "advisor"
    LOGIN = "login"
    """Advisors log in or out by calling it and typing their PIN (issue 23)."""


class Side(StrEnum):
    """Who ended the call."""

    CALLER = "caller"
    ADVISOR = "advisor"
    ENGINE = "engine"


class Cause(StrEnum):
    """Why a call ended, in the engine's words; Asterisk's Q.850 code is kept beside it."""

    HANGUP = "hangup"
    NO_CALLER_NUMBER = "no_caller_number"
    UNKNOWN_NUMBER = "unknown_number"
    CALLER_NOT_ACCEPTED = "caller_not_accepted"
    PIN_INVALID = "pin_invalid"
    PIN_LOCKED = "pin_locked"
    ACTIVATED = "activated"
    NO_CREDIT = "no_credit"
    CARD_UNUSABLE = "card_unusable"
    ADVISOR_BUSY = "advisor_busy"
    ADVISOR_NOANSWER = "advisor_noanswer"
    ADVISOR_REJECTED = "advisor_rejected"
    ADVISOR_CONGESTION = "advisor_congestion"
    ADVISOR_FAILED = "advisor_failed"
    LOGIN_TOGGLED = "login_toggled"
    CLOSED = "closed"
    """Outside the number's opening hours (issue 23): nothing held or charged."""
    NO_ADVISOR = "no_advisor"
    """Every advisor of the number's group was tried, or none was free (issue 23)."""
    BRIDGE_FAILED = "bridge_failed"
    CREDIT_EXHAUSTED = "credit_exhausted"
    SERVICE_UNAVAILABLE = "service_unavailable"
    ENGINE_SHUTDOWN = "engine_shutdown"
    GONE = "gone_while_disconnected"


ADVISOR_DIAL_CAUSES = {
    17: Cause.ADVISOR_BUSY,
    18: Cause.ADVISOR_NOANSWER,
    19: Cause.ADVISOR_NOANSWER,
    21: Cause.ADVISOR_REJECTED,
    34: Cause.ADVISOR_CONGESTION,
}
"""Q.850 causes of an advisor leg that never answered."""


class ActivationStatus(StrEnum):
    ACTIVATED = "activated"
    INVALID = "invalid"
    LOCKED = "locked"
    BLOCKED = "blocked"
    EXPIRED = "expired"


class TimerId(StrEnum):
    PIN_TOTAL = "pin_total"
    PIN_DIGIT = "pin_digit"
    PRESS_1 = "press_1"
    EXTENSION = "extension"
    WARN = "warn"
    END = "end"
    CHECKPOINT = "checkpoint"
    FAREWELL_GUARD = "farewell_guard"


class Reenter:
    """A handler's answer "enter this state again" (its entry actions run once more)."""

    __slots__ = ("state",)

    def __init__(self, state: State) -> None:
        self.state = state

    def __repr__(self) -> str:
        return f"Reenter({self.state})"


Next = State | Reenter


ADVISOR_SUFFIX = "-advisor"
"""The advisor leg's channel id is the call id (the caller's channel id) with this suffix."""
