"""A card's life after issue, each step one transaction with its audit record: refund, expiry
(by hand, or of every card past its date), and a new PIN in place of a lost one."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from cards import validate
from cards.amounts import show_amount
from cards.clock import utcnow
from cards.db import Database
from cards.domain import CardStatus, EntryKind
from cards.errors import Conflict, Insufficient, InvalidInput
from cards.models import Card, Customer, LedgerEntry, Project
from cards.money_rules import Move, check_move
from cards.pins import check_secret
from cards.services.cardbatch import find_card, fresh_pin, taken_pins
from cards.services.customers import settle_open
from cards.services.ledger import append, check_debit, held
from cards.services.operator_log import note
from cards.services.projects import settings_of


async def refund(
    db: Database,
    card_ref: str,
    amount: int,
    *,
    reason: str,
    actor: str,
    now: datetime | None = None,
) -> LedgerEntry:
    """Pay ``amount`` back to the customer: a ``refund`` entry takes it from the balance (never
    below what live calls can have talked, as any debit)."""
    async with db.transaction() as session:
        card = await find_card(session, card_ref, lock=True)
        return await refund_locked(session, card, amount, reason=reason, actor=actor, now=now)


async def refund_locked(
    session: AsyncSession,
    card: Card,
    amount: int,
    *,
    reason: str,
    actor: str,
    key: str | None = None,
    now: datetime | None = None,
) -> LedgerEntry:
    """``refund`` inside the caller's transaction, the card locked (the API's refund: its
    idempotency row and the entry commit together); ``key`` is the entry's ledger key."""
    reason = validate.reason(reason)
    validate.whole(amount, "refund")
    if amount <= 0:
        raise InvalidInput("a refund must be more than zero")
    moment = now or utcnow()
    check_move(card, Move.REFUND, moment)
    unit = (await session.get_one(Project, card.project_id)).unit
    if amount > card.balance:  # a refund pays back the card's own money, never a credit line
        raise Insufficient(
            f"card {card.serial} holds {show_amount(max(card.balance, 0), unit)}: "
            "a refund cannot pay out more"
        )
    await check_debit(session, card, amount, moment, "refunded")
    entry = await append(
        session, card, EntryKind.REFUND, -amount, actor=actor, reason=reason, key=key,
        now=moment,
    )  # fmt: skip
    await note(
        session, actor=actor, action="refund", project_id=card.project_id, card=card,
        subject=f"refund {show_amount(amount, unit)}", reason=reason, now=moment,
    )  # fmt: skip
    return entry


async def expire(
    db: Database, card_ref: str, *, reason: str, actor: str, now: datetime | None = None
) -> LedgerEntry | None:
    """Expire a card now: status ``expired``; an ``expiry`` entry takes the rest of the balance
    (a postpaid card's open charges are billed to its customer first)."""
    reason = validate.reason(reason)
    async with db.transaction() as session:
        card = await find_card(session, card_ref, lock=True)
        if card.status == CardStatus.EXPIRED:
            raise Conflict(f"card {card.serial} has expired already")
        if await held(session, card.id):
            raise Conflict(f"card {card.serial} is in a call: expire it when the call has ended")
        moment = now or utcnow()
        if card.balance < 0 and card.customer_id is not None:
            # Open charges are owed, not forgiven: bill them to the customer first.
            customer = await session.get_one(Customer, card.customer_id)
            await settle_open(session, card, customer, "expiry", moment)
        card.status = CardStatus.EXPIRED
        entry = None
        if card.balance > 0:  # the rest is taken; a debt stays on the card, never written off
            entry = await append(
                session, card, EntryKind.EXPIRY, -card.balance, actor=actor, reason=reason,
                now=moment,
            )  # fmt: skip
        unit = (await session.get_one(Project, card.project_id)).unit
        taken = show_amount(-entry.amount if entry else 0, unit)
        await note(
            session, actor=actor, action="expiry", project_id=card.project_id, card=card,
            subject=f"expired, {taken} taken", reason=reason, now=moment,
        )  # fmt: skip
        return entry


@dataclass(frozen=True)
class Expired:
    serials: list[str]
    in_call: list[str]
    """Past their date but in a call now: expired by the next run."""


async def expire_due(db: Database, *, actor: str, now: datetime | None = None) -> Expired:
    """Every card past its expiry date that is not expired yet (run daily, e.g. from cron)."""
    moment = now or utcnow()
    async with db.read() as session:
        due = (
            await session.scalars(
                select(Card.serial).where(
                    Card.expires_at.is_not(None), Card.expires_at <= moment,
                    Card.status != CardStatus.EXPIRED,
                ).order_by(Card.serial)
            )
        ).all()  # fmt: skip
    done, busy = [], []
    for serial in due:
        try:
            await expire(db, serial, reason="past its expiry date", actor=actor, now=moment)
            done.append(serial)
        except Conflict:
            busy.append(serial)
    return Expired(done, busy)


async def reissue_pin(
    db: Database, card_ref: str, *, secret: bytes, reason: str, actor: str
) -> str:
    """A new PIN for the card (shown once); the old one no longer activates it."""
    reason = validate.reason(reason)
    async with db.transaction() as session:
        card = await find_card(session, card_ref, lock=True)
        project = await session.get_one(Project, card.project_id)
        check_secret(project, secret)
        taken = await taken_pins(session, project.id)
        pin, card.pin_hash = fresh_pin(secret, project, settings_of(project).pin_length, taken)
        await note(
            session, actor=actor, action="pin_reissue", project_id=project.id, card=card,
            subject="new PIN issued; the old one is dead", reason=reason,
        )  # fmt: skip
        return pin
