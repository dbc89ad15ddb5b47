"""What the balance API reads and writes, always within one project: a card's balance view and
idempotent money moves whose first answer is kept for every repeat of its key."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from cards import validate
from cards.clock import aware, utcnow
from cards.db import Database
from cards.domain import EntryKind, HoldState
from cards.errors import IdempotencyKeyReused, NotFound
from cards.models import (
    ApiReplay,
    Card,
    LedgerEntry,
    LineBinding,
    Project,
    Reservation,
)
from cards.phone import to_e164
from cards.services import ledger, token_caps
from cards.services.card_life import refund_locked
from cards.services.customers import after_charge
from cards.services.ledger import locked_card
from cards.services.reservations import available_now


async def open_holds(db: Database) -> int:
    """Holds of calls that have not been settled (every project: an operator's metric)."""
    async with db.read() as session:
        return int(
            await session.scalar(
                select(func.count())
                .select_from(Reservation)
                .where(Reservation.state == HoldState.OPEN)
            )
            or 0
        )


def select_one() -> Any:
    """A query that only proves the database answers (/health)."""
    return select(1)


def fingerprint(method: str, path: str, body: dict[str, Any]) -> str:
    """What an idempotency key is bound to at its first use: method, path (card and
    operation) and the canonical body (keys sorted, no spaces)."""
    canonical = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(f"{method} {path}\n{canonical}".encode()).hexdigest()


async def card_view(db: Database, project_id: int, serial: str) -> dict[str, Any]:
    """Balance, available (balance − live holds), unit, status, bound line, last top-up. A card
    of another project is "not found", so serials cannot be probed."""
    async with db.read() as session:
        return await _card_view(session, await _card(session, project_id, serial))


async def _card_view(session: AsyncSession, card: Card) -> dict[str, Any]:
    project = await session.get_one(Project, card.project_id)
    line = await session.scalar(select(LineBinding.line).where(LineBinding.card_id == card.id))
    last = await session.scalar(
        select(func.max(LedgerEntry.at)).where(
            LedgerEntry.card_id == card.id, LedgerEntry.kind == EntryKind.TOPUP
        )
    )
    return {
        "serial": card.serial,
        "unit": project.unit,
        "balance": card.balance,
        "available": await available_now(session, card),
        "status": card.status,
        "line": line,
        "last_topup_at": aware(last).isoformat() if last else None,
    }


MOVES = ("topup", "credit", "debit", "refund")


@dataclass(frozen=True)
class Moved:
    """The API's answer to a money move: its status and body, and whether it is a replay."""

    status: int
    body: dict[str, Any]
    replayed: bool = False


@dataclass(frozen=True)
class MoveRequest:
    """A top-up (``amount``), or a credit or debit (``amount`` and ``reason``: other services
    selling goods on the same account), or a refund (``amount`` and ``reason``: paid back to
    the holder, by the operator's rules), as the API received it."""

    project_id: int
    serial: str
    kind: str
    body: dict[str, Any]
    key: str
    fingerprint: str
    actor: str
    token_id: int = 0
    """The token whose caps apply (0: none)."""


async def move(db: Database, request: MoveRequest) -> Moved:
    """The money move and its idempotency row in ONE transaction: the row is written first, so
    a twin with the same key waits for it (PostgreSQL's unique index; SQLite's write lock) and
    then replays it, or is refused when it asked for anything else. A refused move rolls back
    its row with it: the key stays free and nothing moved."""
    try:
        async with db.transaction() as session:
            if (done := await _replay(session, request)) is not None:
                return done
            row = ApiReplay(
                project_id=request.project_id, key=request.key,
                request_hash=request.fingerprint, status=0, body={}, created_at=utcnow(),
            )  # fmt: skip
            session.add(row)
            await session.flush()
            card = await _card(session, request.project_id, request.serial)
            await token_caps.check(
                session, request.token_id, request.actor, int(request.body["amount"])
            )
            card = await locked_card(session, card.id)
            entries = await _entries(session, card, request)
            answer = {
                "card": await _card_view(session, card),
                "entries": [entry_view(e, request.project_id) for e in entries],
            }
            row.status, row.body = 201, answer
            return Moved(201, answer)
    except IntegrityError:
        # A twin with this key committed between our check and our row: answer as its replay.
        async with db.read() as session:
            if (done := await _replay(session, request)) is not None:
                return done
        raise


async def _entries(session: AsyncSession, card: Card, request: MoveRequest) -> list[LedgerEntry]:
    ledger_key = f"api:{request.project_id}:{request.key}"
    amount = int(request.body["amount"])
    if request.kind == "topup":
        return await ledger.topup_locked(session, card, amount, actor=request.actor, key=ledger_key)
    if request.kind == "refund":
        reason = str(request.body["reason"])
        return [
            await refund_locked(
                session, card, amount, reason=reason, actor=request.actor, key=ledger_key
            )
        ]
    kind = EntryKind.CREDIT if request.kind == "credit" else EntryKind.DEBIT
    signed = amount if kind is EntryKind.CREDIT else -amount
    reason = validate.reason(str(request.body["reason"]))
    entry = await ledger.move_locked(
        session, card, kind, signed, actor=request.actor, reason=reason, key=ledger_key
    )
    if signed < 0:
        await after_charge(session, card, entry.at)  # a postpaid card may pass its threshold
    return [entry]


def entry_view(entry: LedgerEntry, project_id: int) -> dict[str, Any]:
    """A ledger entry with its id and what identifies the request that moved it: the shop's own
    ``Idempotency-Key`` for an entry its API request moved (its bonus too), and ``reference``,
    the ledger's key in its namespace (``api:…``, ``cli:…``, ``call:<call id>``)."""
    key = entry.idempotency_key
    own = f"api:{project_id}:"
    shop_key = key.removeprefix(own).removesuffix(" bonus") if key and key.startswith(own) else None
    return {
        "id": entry.id,
        "at": aware(entry.at).isoformat(),
        "kind": entry.kind,
        "amount": entry.amount,
        "balance_after": entry.balance_after,
        "reason": entry.reason,
        "idempotency_key": shop_key,
        "reference": key,
    }


async def _replay(session: AsyncSession, request: MoveRequest) -> Moved | None:
    row = await session.scalar(
        select(ApiReplay).where(
            ApiReplay.project_id == request.project_id, ApiReplay.key == request.key
        )
    )
    if row is None:
        return None
    if row.request_hash != request.fingerprint:
        raise IdempotencyKeyReused(
            f"Idempotency-Key {request.key[:40]!r} was used with another request "
            "(card, operation or body): nothing moved"
        )
    return Moved(row.status, dict(row.body), replayed=True)


async def _card(session: AsyncSession, project_id: int, serial: str) -> Card:
    """The project's card with this serial; another project's card is "not found"."""
    if not serial.isprintable():  # PostgreSQL refuses a NUL in text: never ask it
        raise NotFound(f"no card {serial[:24]!r}")
    card = await session.scalar(
        select(Card).where(Card.serial == serial, Card.project_id == project_id)
    )
    if card is None:
        raise NotFound(f"no card {serial[:24]!r}")
    return card


async def card_id_of(db: Database, project_id: int, serial: str) -> int:
    async with db.read() as session:
        return (await _card(session, project_id, serial)).id


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
