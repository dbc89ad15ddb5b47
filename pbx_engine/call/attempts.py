"""The advisor leg as a list of attempts (issue 23): owned by HUNTING and DIALING, read by the
states after them (the answering leg) and by the call's record (every attempt)."""

from __future__ import annotations

from dataclasses import dataclass, field

from pbx_engine.call.record import AttemptRecord
from pbx_engine.call.types import ADVISOR_SUFFIX

ANSWERED = "answered"
CANCELLED = "cancelled"
"""Rang when another advisor answered first (ring-all) or the caller left."""


@dataclass
class Attempt:
    advisor_id: int | None
    """None: the number's own dial string (a number without a group)."""
    name: str
    dial_string: str
    channel: str
    started_ms: int
    timeout_s: int
    dialed: bool = False
    outcome: str | None = None
    """None while it rings; ``answered``, ``cancelled`` or the engine's cause of a failure."""
    ended_ms: int | None = None
    tariff_id: int | None = None
    """The advisor's own tariff, rating the call if this attempt is answered."""

    def end(self, outcome: str, at_ms: int) -> None:
        self.outcome, self.ended_ms = outcome, at_ms

    def record(self, at_ms: int) -> AttemptRecord:
        ended = self.ended_ms if self.ended_ms is not None else at_ms
        return AttemptRecord(
            self.advisor_id,
            self.name,
            self.dial_string,
            self.outcome or CANCELLED,
            self.started_ms,
            max(0, ended - self.started_ms),
        )


@dataclass
class Hunt:
    attempts: list[Attempt] = field(default_factory=list)
    deadline_ms: int | None = None
    """The end of the overall timeout: no attempt starts after it."""
    ring_timeout_s: int = 0
    wrapup_s: int = 0
    extension: str = ""
    """The advisor's extension the caller typed (CHOOSING), asked for in the first claim."""

    def leg(self, call_id: str) -> str:
        """The next attempt's channel: ``<call>-advisor`` first, ``<call>-advisor-2`` … after."""
        n = len(self.attempts) + 1
        return f"{call_id}{ADVISOR_SUFFIX}" + (f"-{n}" if n > 1 else "")

    def ringing(self) -> list[Attempt]:
        return [a for a in self.attempts if a.outcome is None]

    def ringing_on(self, channel: str) -> Attempt | None:
        return next((a for a in self.ringing() if a.channel == channel), None)

    def tried(self) -> frozenset[int]:
        return frozenset(a.advisor_id for a in self.attempts if a.advisor_id is not None)

    def answered(self) -> Attempt | None:
        return next((a for a in self.attempts if a.outcome == ANSWERED), None)

    def claimed(self) -> bool:
        """Some attempt rang an advisor record: the call's end gives its claims back."""
        return any(a.advisor_id is not None for a in self.attempts)
