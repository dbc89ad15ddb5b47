"""The call record (EVN) as the machine knows it at the end: every stamp, seconds only."""

from __future__ import annotations

from dataclasses import dataclass

from pbx_engine.call.types import Cause, Side


@dataclass(frozen=True)
class CallRecord:
    """Times on the engine's clock (ms); ``talk_s`` counts from the charging start (both legs
    in the bridge, or the end of the tariff announcement) to the end, in started seconds."""

    call_id: str
    project_id: int
    caller: str
    dialed: str
    advisor: str | None
    card_id: int | None
    arrived_ms: int
    answered_ms: int | None
    charge_start_ms: int | None
    ended_ms: int
    talk_s: int
    cause: Cause
    side: Side
    q850: int | None = None


@dataclass(frozen=True)
class AttemptRecord:
    """One advisor rung for a call: who, how it ended (``answered`` or the cause of the
    failure) and how long it rang, on the engine's clock."""

    advisor_id: int | None
    advisor: str
    dial_string: str
    outcome: str
    started_ms: int
    ring_ms: int
