"""A project's month as the platform counts it for the operator's fee report (seed 004):
talked seconds by number kind, cards issued, minutes loaded."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, select

from cards.clock import aware
from cards.db import Database
from cards.domain import EntryKind
from cards.fees import FeeReport, FeeSchedule, LineSystem, MonthUsage, operator_fees
from cards.models import CallRecord, Card, LedgerEntry, Project
from cards.phone import is_toll_free
from cards.services.projects import find_project, list_projects
from cards.settings import ProjectSettings
from rating import Unit

LOADS = tuple(
    k.value
    for k in (
        EntryKind.VOUCHER,
        EntryKind.TOPUP,
        EntryKind.BONUS,
        EntryKind.CREDIT,
        EntryKind.ADJUST,
    )
)
"""Ledger kinds that put minutes on a card when positive (seed 004's fee per loaded minute):
issuing, recharging, a recharge's bonus, a shop's credit and an operator's correction upwards.
Not loads: a postpaid settlement (the customer's bill, not new minutes) and call charges."""


async def month_usage(db: Database, project: Project, start: datetime, end: datetime) -> MonthUsage:
    async with db.read() as session:
        records = await session.scalars(
            select(CallRecord).where(
                CallRecord.project_id == project.id,
                CallRecord.ended_at >= start,
                CallRecord.ended_at < end,
            )
        )
        geographic = freephone = 0
        for record in records:
            seconds = record.billed_seconds  # what was charged: the ledger's seconds
            if is_toll_free(record.dialed):
                freephone += seconds
            else:
                geographic += seconds
        issued = await session.scalar(
            select(func.count(Card.id)).where(
                Card.project_id == project.id, Card.created_at >= start, Card.created_at < end
            )
        )
        loaded = 0
        if project.unit == Unit.MINUTES:
            loaded = int(
                await session.scalar(
                    select(func.coalesce(func.sum(LedgerEntry.amount), 0))
                    .join(Card, Card.id == LedgerEntry.card_id)
                    .where(
                        Card.project_id == project.id,
                        LedgerEntry.kind.in_(LOADS),
                        LedgerEntry.amount > 0,
                        LedgerEntry.at >= start,
                        LedgerEntry.at < end,
                    )
                )
                or 0
            )
    settings = ProjectSettings.from_dict(project.settings)
    return MonthUsage(
        first_month=start <= aware(project.created_at) < end,
        system=LineSystem(settings.line_system),
        geographic_seconds=geographic,
        freephone_seconds=freephone,
        cards_issued=int(issued or 0),
        loaded_seconds=loaded,
    )


async def operator_report(
    db: Database,
    start: datetime,
    end: datetime,
    schedule: FeeSchedule,
    project_ref: str | None = None,
) -> list[tuple[Project, MonthUsage, FeeReport]]:
    """Each project's (or one project's) month and what the platform bills for it."""
    if project_ref:
        async with db.read() as session:
            chosen = [await find_project(session, project_ref)]
    else:
        chosen = await list_projects(db)
    out = []
    for project in chosen:
        usage = await month_usage(db, project, start, end)
        started = aware(project.created_at) < end
        # A month before the project existed owes nothing, not even the minimum usage.
        out.append((project, usage, operator_fees(usage, schedule) if started else FeeReport([])))
    return out
