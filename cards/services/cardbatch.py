"""Cards: batches with random PINs, lookup by serial, block and unblock."""

from __future__ import annotations

import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from cards import validate
from cards.clock import utcnow
from cards.db import Database
from cards.domain import CardStatus, EntryKind
from cards.errors import Conflict, InvalidInput, NotFound
from cards.models import Card, LineBinding, Project
from cards.pins import check_secret, hash_pin, new_pin
from cards.services.ledger import append
from cards.services.operator_log import note
from cards.services.projects import find_project, settings_of

MAX_BATCH = 10_000
SERIAL_DIGITS = 10


@dataclass(frozen=True)
class NewCard:
    """A created card with its PIN: the only moment the plain PIN exists (for the operator)."""

    serial: str
    pin: str
    balance: int
    card_id: int
    batch: int


async def create_cards(
    db: Database,
    project_ref: str | int,
    count: int,
    value: int,
    *,
    secret: bytes,
    sold_price: int = 0,
    label: str | None = None,
    expires_at: datetime | None = None,
    actor: str = "cardadmin",
    now: datetime | None = None,
    deliver: Callable[[list[NewCard]], None] | None = None,
) -> list[NewCard]:
    """Create ``count`` cards worth ``value`` each; the load is a voucher entry in the ledger.

    ``deliver`` receives the PINs inside the transaction, before the commit: when it raises, no
    card is created — a card whose PIN nobody received could never be used."""
    if not 1 <= count <= MAX_BATCH:
        raise InvalidInput(f"count must be 1–{MAX_BATCH}, got {count}")
    if value <= 0:
        raise InvalidInput("a card must be worth more than zero")
    validate.whole(value, "card value")
    validate.whole(sold_price, "sold price")
    label = validate.label(label) if label is not None else None
    moment = now or utcnow()
    if expires_at is not None and expires_at <= moment:
        raise InvalidInput(
            f"the expiry {expires_at.date().isoformat()} is not in the future: "
            "a card cannot be created expired"
        )
    async with db.transaction() as session:
        project = await find_project(session, project_ref)
        check_secret(project, secret)
        # The project's row lock makes batch numbers unique when two operators create at once.
        await session.execute(select(Project.id).where(Project.id == project.id).with_for_update())
        last = await session.scalar(
            select(func.max(Card.batch)).where(Card.project_id == project.id)
        )
        batch = (last or 0) + 1
        length = settings_of(project).pin_length
        taken = await taken_pins(session, project.id)
        serials = set((await session.scalars(select(Card.serial))).all())
        if count > 10**length // 100 - len(taken):
            raise InvalidInput(f"{length}-digit PINs are too few for {count} more cards")
        created = []
        for _ in range(count):
            pin, digest = fresh_pin(secret, project, length, taken)
            serial = _fresh_serial(serials)
            card = Card(
                project_id=project.id,
                serial=serial,
                pin_hash=digest,
                status="new",
                balance=0,
                sold_price=sold_price,
                label=label,
                expires_at=expires_at,
                created_at=moment,
                batch=batch,
            )
            session.add(card)
            await session.flush()
            await append(
                session,
                card,
                EntryKind.VOUCHER,
                value,
                actor=actor,
                reason="card issued",
                now=moment,
            )
            created.append(NewCard(serial, pin, value, card.id, batch))
        if deliver is not None:
            deliver(created)
        return created


async def taken_pins(session: AsyncSession, project_id: int) -> set[str]:
    """The PIN hashes a project's cards use: a new PIN must be none of them."""
    query = select(Card.pin_hash).where(Card.project_id == project_id)
    return set((await session.scalars(query)).all())


def fresh_pin(secret: bytes, project: Project, length: int, taken: set[str]) -> tuple[str, str]:
    while True:
        pin = new_pin(length)
        digest = hash_pin(secret, project.id, pin)
        if digest not in taken:
            taken.add(digest)
            return pin, digest


def _fresh_serial(taken: set[str]) -> str:
    while True:
        serial = "".join(secrets.choice("0123456789") for _ in range(SERIAL_DIGITS))
        if serial not in taken:
            taken.add(serial)
            return serial


async def find_card(session: AsyncSession, ref: str, *, lock: bool = False) -> Card:
    """A card by its serial; with ``lock``, locked for the transaction as ``locked_card`` does."""
    query = select(Card).where(Card.serial == str(ref).strip())
    card = await session.scalar(query.with_for_update() if lock else query)
    if card is None:
        raise NotFound(f"no card {ref!r}")
    return card


async def get_card(db: Database, ref: str) -> Card:
    async with db.transaction() as session:
        return await find_card(session, ref)


async def set_blocked(
    db: Database, ref: str, blocked: bool, *, actor: str = "cardadmin", reason: str | None = None
) -> Card:
    async with db.transaction() as session:
        card = await find_card(session, ref)
        if card.status == CardStatus.EXPIRED:  # blocking it and back would make it usable again
            raise Conflict(f"card {card.serial} has expired: it cannot be blocked or unblocked")
        if blocked and card.status == CardStatus.BLOCKED:
            raise Conflict(f"card {card.serial} is already blocked")
        if not blocked and card.status != CardStatus.BLOCKED:
            raise Conflict(f"card {card.serial} is not blocked")
        if blocked:
            card.status = CardStatus.BLOCKED
        else:  # back to what it was: a card never activated is new again
            bound = await session.scalar(
                select(LineBinding.id).where(LineBinding.card_id == card.id)
            )
            card.status = CardStatus.ACTIVE if bound is not None else CardStatus.NEW
        await note(
            session, actor=actor, action="block" if blocked else "unblock",
            project_id=card.project_id, card=card, subject=f"status {card.status}",
            reason=reason,
        )  # fmt: skip
        return card
