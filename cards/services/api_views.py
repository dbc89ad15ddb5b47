"""What the balance API reads and writes, always within one project: a card's balance view and
idempotent top-ups whose first answer is kept for every repeat of its key."""

from __future__ import annotations

import hashlib
import json
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from cards.clock import aware, utcnow
from cards.db import Database
from cards.errors import Conflict, NotFound
from cards.models import (
    ApiReplay,
    CallRecord,
    Card,
    LedgerEntry,
    LineBinding,
    Project,
    Reservation,
)
from cards.phone import to_e164
from cards.services import ledger
from cards.services.ledger import held


async def open_holds(db: Database) -> int:
    """Holds of calls that have not been settled (every project: an operator's metric)."""
    async with db.read() as session:
        return int(
            await session.scalar(
                select(func.count()).select_from(Reservation).where(Reservation.state == "open")
            )
            or 0
        )


def select_one() -> Any:
    """A query that only proves the database answers (/health)."""
    return select(1)


def request_hash(body: dict[str, Any]) -> str:
    return hashlib.sha256(json.dumps(body, sort_keys=True).encode()).hexdigest()


async def card_view(db: Database, project_id: int, serial: str) -> dict[str, Any]:
    """Balance, available (balance − live holds), unit, status, bound line, last top-up. A card
    of another project is "not found", so serials cannot be probed."""
    async with db.read() as session:
        card = await _card(session, project_id, serial)
        project = await session.get_one(Project, project_id)
        line = await session.scalar(select(LineBinding.line).where(LineBinding.card_id == card.id))
        last = await session.scalar(
            select(func.max(LedgerEntry.at)).where(
                LedgerEntry.card_id == card.id, LedgerEntry.kind == "topup"
            )
        )
        return {
            "serial": card.serial,
            "unit": project.unit,
            "balance": card.balance,
            "available": card.spendable - await held(session, card.id),
            "status": card.status,
            "line": line,
            "last_topup_at": aware(last).isoformat() if last else None,
        }


MOVES = ("topup", "credit", "debit")


async def move(
    db: Database,
    project_id: int,
    serial: str,
    kind: str,
    body: dict[str, Any],
    key: str,
) -> tuple[int, dict[str, Any]]:
    """A top-up (``amount``), or a credit or debit (``amount`` and ``reason``: other services
    selling goods on the same account). (HTTP status, answer): the same key with the same body
    replays the first answer, with another body it is a conflict; the ledger's own key makes the
    money move once whatever happens between. A debit may shorten a live call of the card, never
    below what it has talked (``ledger.debit_room``)."""
    digest = request_hash(body)
    if (done := await _replay(db, project_id, key, digest)) is not None:
        return done
    card_id = await _card_id(db, project_id, serial)
    ledger_key = f"api:{project_id}:{key}"
    amount = int(body["amount"])
    if kind == "topup":
        entries = (await ledger.topup(db, card_id, amount, actor="api", key=ledger_key)).entries
    else:
        signed = amount if kind == "credit" else -amount
        reason = str(body["reason"])
        entries = [
            await ledger.adjust(db, card_id, signed, actor="api", reason=reason, key=ledger_key)
        ]
    answer = {
        "card": await card_view(db, project_id, serial),
        "entries": [
            {"kind": e.kind, "amount": e.amount, "balance_after": e.balance_after} for e in entries
        ],
    }
    try:
        async with db.transaction() as session:
            session.add(
                ApiReplay(
                    project_id=project_id,
                    key=key,
                    request_hash=digest,
                    status=201,
                    body=answer,
                    created_at=utcnow(),
                )
            )
    except IntegrityError:
        if (done := await _replay(db, project_id, key, digest)) is not None:
            return done
    return 201, answer


async def _card(session: AsyncSession, project_id: int, serial: str) -> Card:
    """The project's card with this serial; another project's card is "not found"."""
    card = await session.scalar(
        select(Card).where(Card.serial == serial, Card.project_id == project_id)
    )
    if card is None:
        raise NotFound(f"no card {serial[:24]!r}")
    return card


async def _card_id(db: Database, project_id: int, serial: str) -> int:
    async with db.read() as session:
        return (await _card(session, project_id, serial)).id


async def _replay(
    db: Database, project_id: int, key: str, digest: str
) -> tuple[int, dict[str, Any]] | None:
    async with db.read() as session:
        row = await session.scalar(
            select(ApiReplay).where(ApiReplay.project_id == project_id, ApiReplay.key == key)
        )
    if row is None:
        return None
    if row.request_hash != digest:
        raise Conflict(f"Idempotency-Key {key[:40]!r} was used with another request")
    return row.status, dict(row.body)


async def line_view(db: Database, project_id: int, line: str) -> dict[str, Any]:
    """The card a caller line is bound to in this project."""
    e164 = to_e164(line)
    async with db.read() as session:
        serial = await session.scalar(
            select(Card.serial)
            .join(LineBinding, LineBinding.card_id == Card.id)
            .where(LineBinding.project_id == project_id, LineBinding.line == e164)
        )
    if serial is None:
        raise NotFound(f"no card bound to {e164}")
    return await card_view(db, project_id, serial)


async def card_transactions(db: Database, project_id: int, serial: str) -> list[dict[str, Any]]:
    card_id = await _card_id(db, project_id, serial)
    async with db.read() as session:
        entries = (
            await session.scalars(
                select(LedgerEntry).where(LedgerEntry.card_id == card_id).order_by(LedgerEntry.id)
            )
        ).all()
    return [
        {
            "at": aware(e.at).isoformat(),
            "kind": e.kind,
            "amount": e.amount,
            "balance_after": e.balance_after,
            "reason": e.reason,
        }
        for e in entries
    ]


async def call_records(
    db: Database,
    project_id: int,
    *,
    caller: str | None = None,
    serial: str | None = None,
    since: datetime | None = None,
    limit: int = 1000,
) -> list[dict[str, Any]]:
    query = select(CallRecord).where(CallRecord.project_id == project_id)
    if caller is not None:
        query = query.where(CallRecord.caller == to_e164(caller))
    if serial is not None:
        query = query.where(CallRecord.card_id == await _card_id(db, project_id, serial))
    if since is not None:
        query = query.where(CallRecord.arrived_at >= since)
    async with db.read() as session:
        rows = (await session.scalars(query.order_by(CallRecord.id).limit(limit))).all()
    return [
        {
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
        for r in rows
    ]
