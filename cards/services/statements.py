"""A customer's monthly statement (seed 002): opening balance, every ledger movement of the
customer's cards in the month — top-ups, each call, adjustments, settlements — and the
closing balance, with totals per kind."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import Select, func, literal, select
from sqlalchemy.ext.asyncio import AsyncSession

from cards.db import Database
from cards.domain import EntryKind
from cards.models import CallRecord, Card, LedgerEntry, Project
from cards.services.customers import find_customer
from cards.services.projects import find_project

GROUPS: dict[EntryKind, str] = {
    EntryKind.VOUCHER: "top-ups",
    EntryKind.TOPUP: "top-ups",
    EntryKind.BONUS: "top-ups",
    EntryKind.CALL: "calls",
    EntryKind.ADJUST: "adjustments",
    EntryKind.CREDIT: "adjustments",
    EntryKind.DEBIT: "adjustments",
    EntryKind.REFUND: "adjustments",
    EntryKind.EXPIRY: "adjustments",
    EntryKind.SETTLEMENT: "settlements",
}
"""Every kind of ledger entry in one of the statement's totals (a test holds it to EntryKind)."""


@dataclass(frozen=True)
class Line:
    at: datetime
    card: str
    kind: str
    amount: int
    balance_after: int
    detail: str


@dataclass
class Statement:
    customer: str
    kind: str
    unit: str
    opening: int
    lines: list[Line] = field(default_factory=list)

    @property
    def closing(self) -> int:
        return self.opening + sum(line.amount for line in self.lines)

    def totals(self) -> dict[str, int]:
        out = dict.fromkeys(("top-ups", "calls", "adjustments", "settlements"), 0)
        for line in self.lines:
            out[GROUPS[EntryKind(line.kind)]] += line.amount
        return out


async def statement(
    db: Database, project_ref: str, customer_name: str, start: datetime, end: datetime
) -> Statement:
    async with db.read() as session:
        project = await find_project(session, project_ref)
        customer = await find_customer(session, project, customer_name)
        cards = select(Card.id).where(Card.customer_id == customer.id)
        result = Statement(customer.name, customer.kind, project.unit, 0)
        return await _fill(session, result, cards, start, end)


async def card_statement(db: Database, card_id: int, start: datetime, end: datetime) -> Statement:
    """One card's month (the caller's own view): the same lines, the card's serial as its name."""
    async with db.read() as session:
        card = await session.get_one(Card, card_id)
        project = await session.get_one(Project, card.project_id)
        result = Statement(card.serial, "card", project.unit, 0)
        return await _fill(session, result, select(Card.id).where(Card.id == card_id), start, end)


async def _fill(
    session: AsyncSession, result: Statement, cards: Select[Any], start: datetime, end: datetime
) -> Statement:
    opening = await session.scalar(
        select(func.coalesce(func.sum(LedgerEntry.amount), 0)).where(
            LedgerEntry.card_id.in_(cards), LedgerEntry.at < start
        )
    )
    rows = await session.execute(
        select(LedgerEntry, Card.serial, CallRecord)
        .join(Card, Card.id == LedgerEntry.card_id)
        .outerjoin(
            CallRecord,
            (LedgerEntry.kind == EntryKind.CALL)
            & (LedgerEntry.idempotency_key == literal("call:").concat(CallRecord.call_id)),
        )
        .where(LedgerEntry.card_id.in_(cards), LedgerEntry.at >= start, LedgerEntry.at < end)
        .order_by(LedgerEntry.at, LedgerEntry.id)
    )
    result.opening = int(opening or 0)
    for entry, serial, record in rows:
        detail = entry.reason or ""
        if record is not None:
            detail = f"{record.caller} → {record.dialed}, {record.billed_seconds} s"
        result.lines.append(
            Line(entry.at, serial, entry.kind, entry.amount, entry.balance_after, detail)
        )
    return result
