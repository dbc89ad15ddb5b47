"""PIN activation with lockout, and the caller line ↔ card binding (seed 004)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from cards.clock import utcnow
from cards.db import Database
from cards.domain import CardStatus
from cards.errors import Conflict, InvalidInput
from cards.models import Card, LineBinding, PinFailure, Project
from cards.money_rules import CardState, state_of
from cards.phone import to_e164
from cards.pins import check_secret, hash_pin
from cards.services.cardbatch import find_card
from cards.services.operator_log import note
from cards.services.projects import find_project, settings_of


class Activation(StrEnum):
    ACTIVATED = "activated"
    INVALID = "invalid"
    LOCKED = "locked"
    BLOCKED = "blocked"
    EXPIRED = "expired"


@dataclass(frozen=True)
class ActivationResult:
    status: Activation
    card: Card | None = None
    moved_from: str | None = None


def usable_refusal(card: Card, now: datetime) -> Activation | None:
    """Why the card may not be used for a call now (``money_rules``), or None."""
    state = state_of(card, now)
    if state is CardState.BLOCKED:
        return Activation.BLOCKED
    if state is CardState.EXPIRED:
        return Activation.EXPIRED
    return None


async def _bound_card_id(session: AsyncSession, project_id: int, line: str) -> int | None:
    return await session.scalar(
        select(LineBinding.card_id).where(
            LineBinding.project_id == project_id, LineBinding.line == line
        )
    )


async def _is_locked(
    session: AsyncSession, project: Project, line: str, card_id: int | None, now: datetime
) -> bool:
    settings = settings_of(project)
    since = now - timedelta(seconds=settings.lockout_window)
    recent = (PinFailure.at >= since, PinFailure.locked.is_(False))
    by_line = (
        await session.scalar(
            select(func.count()).where(
                PinFailure.project_id == project.id, PinFailure.line == line, *recent
            )
        )
        or 0
    )
    if by_line >= settings.lockout_failures:
        return True
    if card_id is None:
        return False
    by_card = (
        await session.scalar(select(func.count()).where(PinFailure.card_id == card_id, *recent))
        or 0
    )
    return by_card >= settings.lockout_failures


is_locked = _is_locked
"""The lockout check, for the login number's PINs too (``advisor_login``)."""


async def activate(
    db: Database,
    project_ref: str | int,
    line: str,
    pin: str,
    *,
    secret: bytes,
    now: datetime | None = None,
) -> ActivationResult:
    """Check a PIN typed from ``line``; bind the line to the card (moving it) when right.

    Lockout counts failures per line, and per card for the card the line is bound to, within the
    project's window. A locked attempt is logged and refused before the PIN is looked at.
    """
    moment = now or utcnow()
    line = to_e164(line)
    async with db.transaction() as session:
        project = await find_project(session, project_ref)
        bound = await _bound_card_id(session, project.id, line)
        if await _is_locked(session, project, line, bound, moment):
            session.add(
                PinFailure(project_id=project.id, line=line, card_id=bound, at=moment, locked=True)
            )
            return ActivationResult(Activation.LOCKED)
        check_secret(project, secret)
        card = None
        if pin.isascii() and pin.isdigit() and len(pin) == settings_of(project).pin_length:
            card = await session.scalar(
                select(Card).where(
                    Card.project_id == project.id,
                    Card.pin_hash == hash_pin(secret, project.id, pin),
                )
            )
        if card is None:
            session.add(PinFailure(project_id=project.id, line=line, card_id=bound, at=moment))
            return ActivationResult(Activation.INVALID)
        refusal = usable_refusal(card, moment)
        if refusal:
            return ActivationResult(refusal, card)
        moved_from = await _bind(session, project.id, line, card, moment)
        return ActivationResult(Activation.ACTIVATED, card, moved_from)


async def _bind(
    session: AsyncSession, project_id: int, line: str, card: Card, now: datetime
) -> str | None:
    previous = await session.scalar(select(LineBinding).where(LineBinding.card_id == card.id))
    moved_from = previous.line if previous and previous.line != line else None
    await session.execute(
        delete(LineBinding).where(
            (LineBinding.card_id == card.id)
            | ((LineBinding.project_id == project_id) & (LineBinding.line == line))
        )
    )
    await session.flush()
    session.add(LineBinding(project_id=project_id, line=line, card_id=card.id, bound_at=now))
    if card.status == CardStatus.NEW:
        card.status = CardStatus.ACTIVE
    await session.flush()
    return moved_from


async def card_for_line(
    db: Database, project_id: int, line: str, *, now: datetime | None = None
) -> Card | None:
    """The usable card bound to ``line`` in the project, or None."""
    moment = now or utcnow()
    async with db.read() as session:
        card_id = await _bound_card_id(session, project_id, to_e164(line))
        if card_id is None:
            return None
        card = await session.get_one(Card, card_id)
        return None if usable_refusal(card, moment) else card


async def line_of(db: Database, card_ref: str) -> str | None:
    async with db.read() as session:
        card = await find_card(session, card_ref)
        return await session.scalar(select(LineBinding.line).where(LineBinding.card_id == card.id))


@dataclass(frozen=True)
class LineMove:
    """What an operator's line move changed: the card's old and new line, and the card that
    held the new line before (it has no line now)."""

    old_line: str | None
    new_line: str
    displaced: str | None = None


async def move_line(
    db: Database,
    card_ref: str,
    new_line: str,
    *,
    force: bool = False,
    now: datetime | None = None,
    actor: str = "cardadmin",
    reason: str | None = None,
) -> LineMove:
    """Operator move (seed 003): bind the card to ``new_line``. A line bound to another card is
    taken from it only with ``force`` (that card then has no line)."""
    async with db.transaction() as session:
        card = await find_card(session, card_ref)
        if card.status == CardStatus.BLOCKED:
            raise InvalidInput(f"card {card.serial} is blocked")
        line = to_e164(new_line)
        holder = await session.scalar(
            select(Card.serial)
            .join(LineBinding, LineBinding.card_id == Card.id)
            .where(
                LineBinding.project_id == card.project_id,
                LineBinding.line == line,
                Card.id != card.id,
            )
        )
        if holder is not None and not force:
            raise Conflict(
                f"line {line} is bound to card {holder}: add --force to move it "
                f"(card {holder} would then have no line)"
            )
        old = await session.scalar(select(LineBinding.line).where(LineBinding.card_id == card.id))
        await _bind(session, card.project_id, line, card, now or utcnow())
        taken = f" (taken from card {holder})" if holder else ""
        await note(
            session, actor=actor, action="line_move", project_id=card.project_id, card=card,
            subject=f"line {old or 'none'} -> {line}{taken}", reason=reason,
        )  # fmt: skip
        return LineMove(old, line, holder)
