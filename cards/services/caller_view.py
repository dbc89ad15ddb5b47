"""The caller's own view (seed 002): sign in with the line and the card's PIN (failures counted
and locked out as on the phone), then the card's balance, minutes, last top-ups, month's calls."""

from __future__ import annotations

import hmac
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from sqlalchemy import select

from cards.clock import aware, utcnow
from cards.db import Database
from cards.domain import EntryKind
from cards.models import CallRecord, Card, LedgerEntry, LineBinding, PinFailure, Project, Tariff
from cards.phone import to_e164
from cards.pins import hash_pin
from cards.services.activation import is_locked
from cards.services.projects import find_project, rating_tariff, settings_of
from cards.services.reservations import available_now
from rating import CallerClass, Unit, affordable_seconds

TOPUP_KINDS = (EntryKind.TOPUP, EntryKind.VOUCHER, EntryKind.BONUS)
LAST_TOPUPS = 5


class SignIn(StrEnum):
    OK = "ok"
    INVALID = "invalid"
    LOCKED = "locked"


@dataclass(frozen=True)
class SignInResult:
    status: SignIn
    card_id: int | None = None


async def sign_in(
    db: Database,
    project_ref: str,
    line: str,
    pin: str,
    *,
    secret: bytes,
    now: datetime | None = None,
) -> SignInResult:
    """Right when ``pin`` is the PIN of the card bound to ``line``. A wrong pair is one PIN
    failure of the line (and of its card), exactly as a wrong PIN typed on the phone; a locked
    line is refused before the PIN is looked at. InvalidInput for a line that is no number."""
    moment = now or utcnow()
    line = to_e164(line)
    async with db.transaction() as session:
        project = await find_project(session, project_ref)
        card = await session.scalar(
            select(Card)
            .join(LineBinding, LineBinding.card_id == Card.id)
            .where(LineBinding.project_id == project.id, LineBinding.line == line)
        )
        bound = card.id if card is not None else None
        if await is_locked(session, project, line, bound, moment):
            session.add(
                PinFailure(project_id=project.id, line=line, card_id=bound, at=moment, locked=True)
            )
            return SignInResult(SignIn.LOCKED)
        typed = hash_pin(secret, project.id, pin) if pin.isascii() and pin.isdigit() else ""
        length_ok = len(pin) == settings_of(project).pin_length
        if card is None or not length_ok or not hmac.compare_digest(typed, card.pin_hash):
            session.add(PinFailure(project_id=project.id, line=line, card_id=bound, at=moment))
            return SignInResult(SignIn.INVALID)
        return SignInResult(SignIn.OK, card.id)


@dataclass(frozen=True)
class CallLine:
    """One call of the month as the caller's itemised bill (EVN) shows it."""

    at: datetime
    dialed: str
    billed_seconds: int
    charge: int


@dataclass(frozen=True)
class Account:
    serial: str
    project: str
    unit: Unit
    balance: int
    available: int
    minutes_left: int | None
    """Whole minutes the available credit buys at the project's standard tariff from a fixed
    line; None when the project has no tariff named ``standard``."""
    topups: list[tuple[datetime, int]]
    calls: list[CallLine]


async def account(db: Database, card_id: int, start: datetime, end: datetime) -> Account:
    """The card's view; calls are those that ended in [start, end)."""
    async with db.read() as session:
        card = await session.get_one(Card, card_id)
        project = await session.get_one(Project, card.project_id)
        available = await available_now(session, card)
        tariff = await session.scalar(
            select(Tariff).where(Tariff.project_id == project.id, Tariff.name == "standard")
        )
        minutes = None
        if tariff is not None:
            rated = rating_tariff(tariff, project.unit)
            minutes = affordable_seconds(rated, CallerClass.FIXED, max(available, 0)) // 60
        topups = await session.execute(
            select(LedgerEntry.at, LedgerEntry.amount)
            .where(LedgerEntry.card_id == card.id, LedgerEntry.kind.in_(TOPUP_KINDS))
            .order_by(LedgerEntry.at.desc(), LedgerEntry.id.desc())
            .limit(LAST_TOPUPS)
        )
        calls = await session.scalars(
            select(CallRecord)
            .where(
                CallRecord.card_id == card.id,
                CallRecord.ended_at >= start,
                CallRecord.ended_at < end,
            )
            .order_by(CallRecord.ended_at, CallRecord.id)
        )
        return Account(
            serial=card.serial,
            project=project.name,
            unit=project.unit,
            balance=card.balance,
            available=available,
            minutes_left=minutes,
            topups=[(aware(at), amount) for at, amount in topups],
            calls=[
                CallLine(aware(c.answered_at or c.arrived_at), c.dialed, c.billed_seconds, c.cost)
                for c in calls
            ],
        )
