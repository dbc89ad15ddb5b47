"""The first-caller list (seed 003 "Anruferliste"): lines that no longer get a number's
first-caller tariff. Calls put lines on it when billed; the operator adds and removes lines."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select

from cards.clock import utcnow
from cards.db import Database
from cards.errors import Conflict, NotFound
from cards.models import FirstCaller
from cards.phone import to_e164
from cards.services.operator_log import note
from cards.services.projects import find_project


async def listed(db: Database, project_ref: str) -> list[FirstCaller]:
    async with db.read() as session:
        project = await find_project(session, project_ref)
        query = select(FirstCaller).where(FirstCaller.project_id == project.id)
        return list((await session.scalars(query.order_by(FirstCaller.line))).all())


async def add(
    db: Database,
    project_ref: str,
    line: str,
    *,
    actor: str,
    reason: str | None = None,
    now: datetime | None = None,
) -> FirstCaller:
    """Put a line on the list: it gets the standard tariff from its next call."""
    e164 = to_e164(line)
    async with db.transaction() as session:
        project = await find_project(session, project_ref)
        query = select(FirstCaller).where(
            FirstCaller.project_id == project.id, FirstCaller.line == e164
        )
        if await session.scalar(query) is not None:
            raise Conflict(f"{e164} is on the first-caller list already")
        entry = FirstCaller(
            project_id=project.id,
            line=e164,
            first_call_at=now or utcnow(),
            calls=0,
            by_hand=True,
        )
        session.add(entry)
        await note(
            session, actor=actor, action="first_caller_add", project_id=project.id,
            subject=f"{e164} put on the first-caller list", reason=reason,
        )  # fmt: skip
        await session.flush()
        return entry


async def remove(
    db: Database, project_ref: str, line: str, *, actor: str, reason: str | None = None
) -> None:
    """Take a line off the list: its next call gets the first-caller tariff again."""
    e164 = to_e164(line)
    async with db.transaction() as session:
        project = await find_project(session, project_ref)
        entry = await session.scalar(
            select(FirstCaller).where(
                FirstCaller.project_id == project.id, FirstCaller.line == e164
            )
        )
        if entry is None:
            raise NotFound(f"{e164} is not on the first-caller list of {project.name}")
        await session.delete(entry)
        await note(
            session, actor=actor, action="first_caller_remove", project_id=project.id,
            subject=f"{e164} taken off the first-caller list", reason=reason,
        )  # fmt: skip
