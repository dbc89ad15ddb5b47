"""Set, read and clear an advisor number's opening hours (issue 23), audited."""

from __future__ import annotations

from sqlalchemy import select

from cards.db import Database
from cards.domain import NumberRole
from cards.errors import InvalidInput, NotFound
from cards.models import OpeningHours
from cards.opening_hours import DEFAULT_TZ, Hours, parse
from cards.services.operator_log import note
from cards.services.projects import find_number


async def set_hours(
    db: Database,
    number: str,
    week: list[str],
    dated: list[str],
    tz: str = DEFAULT_TZ,
    *,
    actor: str = "cardadmin",
    reason: str | None = None,
) -> tuple[str, Hours]:
    hours = parse(week, dated, tz)
    async with db.transaction() as session:
        row = await find_number(session, number)
        if row.role != NumberRole.ADVISOR:
            raise InvalidInput(
                f"{row.e164} is a card number: opening hours are an advisor number's"
            )
        stored = await session.scalar(select(OpeningHours).where(OpeningHours.number_id == row.id))
        if stored is None:
            stored = OpeningHours(number_id=row.id)
            session.add(stored)
        stored.hours = hours.to_json()
        await note(
            session, actor=actor, action="opening_hours", project_id=row.project_id,
            subject=f"{row.e164} open {'; '.join(hours.describe())}", reason=reason,
        )  # fmt: skip
        return row.e164, hours


async def get_hours(db: Database, number: str) -> tuple[str, Hours]:
    async with db.read() as session:
        row = await find_number(session, number)
        stored = await session.scalar(select(OpeningHours).where(OpeningHours.number_id == row.id))
        if stored is None:
            raise NotFound(f"{row.e164} has no opening hours: it takes calls at any time")
        return row.e164, Hours.from_json(stored.hours)


async def clear_hours(
    db: Database, number: str, *, actor: str = "cardadmin", reason: str | None = None
) -> str:
    async with db.transaction() as session:
        row = await find_number(session, number)
        stored = await session.scalar(select(OpeningHours).where(OpeningHours.number_id == row.id))
        if stored is None:
            raise NotFound(f"{row.e164} has no opening hours")
        await session.delete(stored)
        await note(
            session, actor=actor, action="opening_hours", project_id=row.project_id,
            subject=f"{row.e164} takes calls at any time", reason=reason,
        )  # fmt: skip
        return row.e164
