"""Individual prices per caller line (seed 004 "individuelle Staffelung der Preise je
Anrufer"): a line of a project rated with one of its tariffs instead of the number's. Audited."""

from __future__ import annotations

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from cards.db import Database
from cards.errors import NotFound
from cards.models import LinePrice, Project
from cards.models import Tariff as TariffRow
from cards.phone import to_e164
from cards.services.operator_log import note
from cards.services.projects import find_project, find_tariff


async def set_price(
    db: Database, project_ref: str | int, line: str, tariff: str, *, actor: str,
    reason: str | None = None,
) -> tuple[str, str]:  # fmt: skip
    """From the line's next call on, its calls in the project are rated with ``tariff``."""
    e164 = to_e164(line)
    async with db.transaction() as session:
        project = await find_project(session, project_ref)
        row = await find_tariff(session, project, tariff)
        price = await _price(session, project, e164)
        if price is None:
            session.add(LinePrice(project_id=project.id, line=e164, tariff_id=row.id))
        else:
            price.tariff_id = row.id
        await note(
            session, actor=actor, action="line_price", project_id=project.id,
            subject=f"{e164} rated with tariff {row.name}", reason=reason,
        )  # fmt: skip
        return e164, row.name


async def clear_price(
    db: Database, project_ref: str | int, line: str, *, actor: str, reason: str | None = None
) -> str:
    """The line is rated like every caller again."""
    e164 = to_e164(line)
    async with db.transaction() as session:
        project = await find_project(session, project_ref)
        if await _price(session, project, e164) is None:
            raise NotFound(f"{e164} has no price of its own in project {project.name}")
        await session.execute(
            delete(LinePrice).where(LinePrice.project_id == project.id, LinePrice.line == e164)
        )
        await note(
            session, actor=actor, action="line_price", project_id=project.id,
            subject=f"{e164} rated like every caller again", reason=reason,
        )  # fmt: skip
        return e164


async def price_of(db: Database, project_ref: str | int, line: str) -> str | None:
    """The name of the tariff the line has of its own in the project, or None."""
    async with db.read() as session:
        project = await find_project(session, project_ref)
        return await session.scalar(
            select(TariffRow.name)
            .join(LinePrice, LinePrice.tariff_id == TariffRow.id)
            .where(LinePrice.project_id == project.id, LinePrice.line == to_e164(line))
        )


async def _price(session: AsyncSession, project: Project, e164: str) -> LinePrice | None:
    return await session.scalar(
        select(LinePrice).where(LinePrice.project_id == project.id, LinePrice.line == e164)
    )
