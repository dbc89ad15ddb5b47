"""Read-side reports: a card's or a line's transactions, and the ledger audit."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select

from cards.db import Database
from cards.domain import EntryKind
from cards.models import Card, LedgerEntry, LineBinding, OperatorAction, Project
from cards.phone import to_e164
from cards.services.cardbatch import find_card
from cards.services.projects import find_project


@dataclass(frozen=True)
class Transactions:
    entries: list[LedgerEntry]
    topup_count: int
    last_topup: LedgerEntry | None


async def transactions(
    db: Database,
    *,
    card_ref: str | None = None,
    line: str | None = None,
    since: datetime | None = None,
) -> Transactions:
    """Ledger entries of a card, or of the cards bound to a caller line (seed 003)."""
    async with db.read() as session:
        if card_ref is not None:
            card_ids = [(await find_card(session, card_ref)).id]
        else:
            card_ids = list(
                (
                    await session.scalars(
                        select(LineBinding.card_id).where(LineBinding.line == to_e164(line or ""))
                    )
                ).all()
            )
        query = select(LedgerEntry).where(LedgerEntry.card_id.in_(card_ids))
        if since is not None:
            query = query.where(LedgerEntry.at >= since)
        entries = list((await session.scalars(query.order_by(LedgerEntry.id))).all())
    topups = [e for e in entries if e.kind == EntryKind.TOPUP]
    return Transactions(entries, len(topups), topups[-1] if topups else None)


@dataclass(frozen=True)
class AuditProblem:
    serial: str
    balance: int
    ledger_sum: int
    last_balance_after: int | None


async def audit(db: Database) -> tuple[int, list[AuditProblem]]:
    """Every card's balance must equal the sum of its ledger and its last ``balance_after``."""
    async with db.read() as session:
        sums = (
            await session.execute(
                select(
                    LedgerEntry.card_id, func.sum(LedgerEntry.amount), func.max(LedgerEntry.id)
                ).group_by(LedgerEntry.card_id)
            )
        ).all()
        by_card = {card_id: (int(total), last) for card_id, total, last in sums}
        lasts = dict(
            (
                await session.execute(
                    select(LedgerEntry.id, LedgerEntry.balance_after).where(
                        LedgerEntry.id.in_([last for _, last in by_card.values()])
                    )
                )
            ).all()
        )
        cards = (await session.scalars(select(Card).order_by(Card.id))).all()
    problems = []
    for card in cards:
        total, last = by_card.get(card.id, (0, None))
        last_after = lasts.get(last) if last is not None else None
        if card.balance != total or (last_after is not None and last_after != card.balance):
            problems.append(AuditProblem(card.serial, card.balance, total, last_after))
    return len(cards), problems


async def history(
    db: Database, *, card_ref: str | None = None, project_ref: str | None = None
) -> list[OperatorAction]:
    """A card's or a project's changes, oldest first."""
    async with db.read() as session:
        query = select(OperatorAction).order_by(OperatorAction.id)
        if card_ref is not None:
            query = query.where(OperatorAction.card_id == (await find_card(session, card_ref)).id)
        if project_ref is not None:
            project = await find_project(session, project_ref)
            query = query.where(OperatorAction.project_id == project.id)
        return list((await session.scalars(query)).all())


async def money_moves(
    db: Database, *, card_ref: str | None = None, project_ref: str | None = None
) -> tuple[list[tuple[LedgerEntry, str]], str]:
    """A card's or a project's ledger entries with their card's serial, oldest first, but the
    engine's call charges (``cardadmin calls`` lists those); and the project's unit."""
    async with db.read() as session:
        query = (
            select(LedgerEntry, Card.serial)
            .join(Card, Card.id == LedgerEntry.card_id)
            .where(LedgerEntry.kind != EntryKind.CALL)
            .order_by(LedgerEntry.id)
        )
        if card_ref is not None:
            card = await find_card(session, card_ref)
            query = query.where(Card.id == card.id)
            project = await session.get_one(Project, card.project_id)
        else:
            project = await find_project(session, project_ref or "")
            query = query.where(Card.project_id == project.id)
        rows = [(entry, serial) for entry, serial in (await session.execute(query)).all()]
        return rows, project.unit


async def cards_of(
    db: Database,
    project_ref: str,
    *,
    status: str | None = None,
    label: str | None = None,
    batch: int | None = None,
    unused: bool = False,
) -> tuple[list[tuple[Card, str | None]], str]:
    """A project's cards with their bound line, by serial; and the project's unit."""
    async with db.read() as session:
        project = await find_project(session, project_ref)
        query = (
            select(Card, LineBinding.line)
            .outerjoin(LineBinding, LineBinding.card_id == Card.id)
            .where(Card.project_id == project.id)
            .order_by(Card.serial)
        )
        if status is not None:
            query = query.where(Card.status == status)
        if label is not None:
            query = query.where(Card.label == label)
        if batch is not None:
            query = query.where(Card.batch == batch)
        if unused:
            billed = select(LedgerEntry.card_id).where(LedgerEntry.kind == EntryKind.CALL)
            query = query.where(Card.id.not_in(billed))
        rows: list[tuple[Card, str | None]] = [
            (card, line) for card, line in (await session.execute(query)).all()
        ]
        return rows, project.unit
