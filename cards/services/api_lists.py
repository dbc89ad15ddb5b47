"""The API's lists, always within one project and by id (a stable order: rows added meanwhile
come after every id already handed out): a card's ledger, call records and the cards."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select

from cards.clock import aware
from cards.db import Database
from cards.domain import CardStatus
from cards.models import CallRecord, Card, LedgerEntry, LineBinding
from cards.phone import to_e164
from cards.services.api_views import card_id_of, entry_view


@dataclass(frozen=True)
class Rows:
    """Up to ``limit + 1`` rows after ``after_id``, as the API shows them, and their ids."""

    items: list[dict[str, Any]]
    ids: list[int]


async def transactions(
    db: Database, project_id: int, serial: str, after_id: int, limit: int
) -> Rows:
    card_id = await card_id_of(db, project_id, serial)
    async with db.read() as session:
        entries = (
            await session.scalars(
                select(LedgerEntry)
                .where(LedgerEntry.card_id == card_id, LedgerEntry.id > after_id)
                .order_by(LedgerEntry.id)
                .limit(limit + 1)
            )
        ).all()
    return Rows([entry_view(e, project_id) for e in entries], [e.id for e in entries])


@dataclass(frozen=True)
class CallFilter:
    caller: str | None = None
    serial: str | None = None
    since: datetime | None = None


async def calls(
    db: Database, project_id: int, where: CallFilter, after_id: int, limit: int
) -> Rows:
    query = select(CallRecord).where(CallRecord.project_id == project_id, CallRecord.id > after_id)
    if where.caller is not None:
        query = query.where(CallRecord.caller == to_e164(where.caller))
    if where.serial is not None:
        query = query.where(CallRecord.card_id == await card_id_of(db, project_id, where.serial))
    if where.since is not None:
        query = query.where(CallRecord.arrived_at >= where.since)
    async with db.read() as session:
        rows = (await session.scalars(query.order_by(CallRecord.id).limit(limit + 1))).all()
    return Rows([_call_view(r) for r in rows], [r.id for r in rows])


def _call_view(r: CallRecord) -> dict[str, Any]:
    return {
        "call_id": r.call_id,
        "caller": r.caller,
        "dialed": r.dialed,
        "arrived_at": aware(r.arrived_at).isoformat(),
        "charge_start_at": aware(r.charge_start_at).isoformat() if r.charge_start_at else None,
        "ended_at": aware(r.ended_at).isoformat(),
        "billed_seconds": r.billed_seconds,
        "cost": r.cost,
        "charged": r.charged,
        "hangup_cause": r.hangup_cause,
        "hangup_side": r.hangup_side,
    }


@dataclass(frozen=True)
class CardFilter:
    status: CardStatus | None = None
    label: str | None = None
    batch: int | None = None


async def cards(
    db: Database, project_id: int, where: CardFilter, after_id: int, limit: int
) -> Rows:
    """The project's cards as ``cardadmin cards list`` filters them (status, label, batch)."""
    query = (
        select(Card, LineBinding.line)
        .outerjoin(LineBinding, LineBinding.card_id == Card.id)
        .where(Card.project_id == project_id, Card.id > after_id)
    )
    if where.status is not None:
        query = query.where(Card.status == where.status)
    if where.label is not None:
        query = query.where(Card.label == where.label)
    if where.batch is not None:
        query = query.where(Card.batch == where.batch)
    async with db.read() as session:
        rows = (await session.execute(query.order_by(Card.id).limit(limit + 1))).all()
    return Rows([_card_row(card, line) for card, line in rows], [card.id for card, _ in rows])


def _card_row(card: Card, line: str | None) -> dict[str, Any]:
    return {
        "serial": card.serial,
        "status": card.status,
        "balance": card.balance,
        "label": card.label,
        "batch": card.batch,
        "line": line,
        "expires_at": aware(card.expires_at).isoformat() if card.expires_at else None,
        "created_at": aware(card.created_at).isoformat(),
    }
