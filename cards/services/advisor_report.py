"""What each advisor did in a month (issue 23): calls answered, talked seconds, the revenue
those calls charged (the ledger's call entries, to the unit) and the payout at the advisor's
rate when each call ended."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select

from cards.clock import aware
from cards.db import Database
from cards.models import CallAttempt, CallRecord
from cards.services.call_records import month_bounds
from cards.services.projects import find_project
from rating.ints import ceil_div


@dataclass(frozen=True)
class AdvisorMonth:
    advisor: str
    calls: int
    talked_s: int
    """Started seconds from each call's charging start to its end."""
    revenue: int
    """What the calls charged, in the project's unit (1/10,000 EUR or card seconds)."""
    payout: int
    """Σ talked seconds × rate per minute / 60, rounded down once, in 1/10,000 EUR."""
    call_ids: tuple[str, ...]
    calls_detail: tuple[CallLine, ...] = ()


@dataclass(frozen=True)
class CallLine:
    """One answered call of the month, for the advisor's statement."""

    ended_at: datetime
    talked_s: int
    payout_rate: int


def talked_s(record: CallRecord) -> int:
    if record.charge_start_at is None:
        return 0
    ms = (aware(record.ended_at) - aware(record.charge_start_at)).total_seconds() * 1000
    return ceil_div(max(0, round(ms)), 1000)


async def advisor_month(
    db: Database, project_ref: str | int, month: str, advisor: str | None = None
) -> tuple[str, list[AdvisorMonth]]:
    """(the project's unit, one line per advisor who answered a call ending in ``month``)."""
    start, end = month_bounds(month)
    async with db.read() as session:
        project = await find_project(session, project_ref)
        query = (
            select(CallAttempt, CallRecord)
            .join(CallRecord, CallRecord.call_id == CallAttempt.call_id)
            .where(
                CallAttempt.outcome == "answered",
                CallRecord.project_id == project.id,
                CallRecord.ended_at >= start,
                CallRecord.ended_at < end,
            )
            .order_by(CallAttempt.advisor, CallRecord.ended_at)
        )
        if advisor is not None:
            query = query.where(CallAttempt.advisor == advisor.strip())
        rows = (await session.execute(query)).all()
    lines: dict[str, list[tuple[CallAttempt, CallRecord]]] = {}
    for attempt, record in rows:
        lines.setdefault(attempt.advisor, []).append((attempt, record))
    return project.unit, [
        AdvisorMonth(
            name,
            len(calls),
            sum(talked_s(r) for _, r in calls),
            sum(r.charged for _, r in calls),
            sum(talked_s(r) * (a.payout_rate or 0) for a, r in calls) // 60,
            tuple(r.call_id for _, r in calls),
            tuple(CallLine(aware(r.ended_at), talked_s(r), a.payout_rate or 0) for a, r in calls),
        )
        for name, calls in lines.items()
    ]
