"""Call records (EVN, seed 003) of a card, a caller line or a project, by month or since a day."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import select

from cards.db import Database
from cards.errors import InvalidInput
from cards.models import CallRecord, Project, Tariff
from cards.phone import to_e164
from cards.services.cardbatch import find_card
from cards.services.projects import find_project


def month_bounds(text: str) -> tuple[datetime, datetime]:
    """``2026-11`` → [1 Nov 2026, 1 Dec 2026) in UTC."""
    try:
        start = datetime.strptime(text.strip(), "%Y-%m").replace(tzinfo=UTC)
    except ValueError as exc:
        raise InvalidInput(f"month: write YYYY-MM, got {text[:20]!r}") from exc
    if start.year > 9998:
        raise InvalidInput(f"month: {text.strip()} is past the calendar this system keeps")
    end = (
        start.replace(year=start.year + 1, month=1)
        if start.month == 12
        else start.replace(month=start.month + 1)
    )
    return start, end


async def calls(
    db: Database,
    *,
    card_ref: str | None = None,
    caller: str | None = None,
    project_ref: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
) -> list[tuple[CallRecord, str, str | None]]:
    """(record, the project's unit, the tariff's name), oldest first; exactly one of card,
    caller and project chooses the calls."""
    if sum(x is not None for x in (card_ref, caller, project_ref)) != 1:
        raise InvalidInput("give exactly one of --card, --caller and --project")
    query = (
        select(CallRecord, Project.unit, Tariff.name)
        .join(Project, Project.id == CallRecord.project_id)
        .outerjoin(Tariff, Tariff.id == CallRecord.tariff_id)
    )
    async with db.read() as session:
        if card_ref is not None:
            query = query.where(CallRecord.card_id == (await find_card(session, card_ref)).id)
        elif caller is not None:
            query = query.where(CallRecord.caller == to_e164(caller))
        else:
            assert project_ref is not None
            project = await find_project(session, project_ref)
            query = query.where(CallRecord.project_id == project.id)
        if since is not None:
            query = query.where(CallRecord.arrived_at >= since)
        if until is not None:
            query = query.where(CallRecord.arrived_at < until)
        rows = (await session.execute(query.order_by(CallRecord.arrived_at, CallRecord.id))).all()
    return [(record, unit, tariff) for record, unit, tariff in rows]
