"""A project's month as the platform counts it for the operator's fee report (seed 004):
talked seconds by number kind, cards issued, minutes loaded."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import func, select

from cards.clock import aware
from cards.db import Database
from cards.fees import FeeReport, FeeSchedule, LineSystem, MonthUsage, operator_fees
from cards.models import CallRecord, Card, LedgerEntry, Project
from cards.phone import is_toll_free
from cards.services.ledger import EntryKind
from cards.services.projects import find_project, list_projects
from cards.settings import ProjectSettings

LOADS = (EntryKind.VOUCHER.value, EntryKind.TOPUP.value, EntryKind.BONUS.value)
"""Ledger kinds that put minutes on a card: issuing, recharging and a recharge's bonus."""


def talked_seconds(record: CallRecord) -> int:
    """Started seconds from both legs in the bridge to the end (0 for a call never bridged)."""
    if record.charge_start_at is None:
        return 0
    ms = (aware(record.ended_at) - aware(record.charge_start_at)) // timedelta(milliseconds=1)
    return -(-ms // 1000) if ms > 0 else 0


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
            seconds = talked_seconds(record)
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
        if project.unit == "minutes":
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
        out.append((project, usage, operator_fees(usage, schedule)))
    return out
