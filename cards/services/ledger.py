"""Ledger writes: the one function that changes a card's balance, and top-up / adjust on it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import cast

from sqlalchemy import ScalarSelect, Table, bindparam, func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm.attributes import set_committed_value

from cards import validate
from cards.amounts import show_amount
from cards.clock import aware, utcnow
from cards.credit import mark_changed
from cards.db import Database
from cards.domain import EntryKind, HoldState
from cards.errors import (
    BelowMinimum,
    DenominationNotAllowed,
    IdempotencyKeyReused,
    Insufficient,
    InvalidInput,
    NotFound,
)
from cards.models import Card, LedgerEntry, Project, Reservation
from cards.money_rules import Move, check_move
from cards.services.credit_line import spendable
from cards.services.holds import SHORTEN_NOTICE_S, floor_cost
from cards.settings import ProjectSettings

# Built once: the engine reads these on every call, and building a statement takes more CPU
# than SQLite takes to run it.
_LOCKED_CARD = (
    select(Card)
    .where(Card.id == bindparam("l_card"))
    .with_for_update()
    # A card this session read before the lock must be read again: its balance and status
    # may have changed while we waited (30 parallel debits all passed on a stale balance).
    .execution_options(populate_existing=True)
)
_HELD = select(func.coalesce(func.sum(Reservation.amount), 0)).where(
    Reservation.card_id == bindparam("held_card"), Reservation.state == HoldState.OPEN
)


async def locked_card(session: AsyncSession, card_id: int) -> Card:
    """The card row, locked for this transaction (row lock on PostgreSQL; SQLite holds the db)."""
    card = await session.scalar(_LOCKED_CARD, {"l_card": card_id})
    if card is None:
        raise NotFound(f"no card with id {card_id}")
    return card


async def held(session: AsyncSession, card_id: int) -> int:
    """What the card's open reservations hold: available = balance - held."""
    return int(await session.scalar(_HELD, {"held_card": card_id}) or 0)


HELD_COLUMN: ScalarSelect[int] = _HELD.scalar_subquery()
"""``held`` as a column of another read, for the card in the parameter ``held_card``. On
PostgreSQL, read it only in a statement after the card's lock is taken: a statement's snapshot
is taken when it starts, so one that waited for the lock would miss the hold of the transaction
it waited for."""


async def debit_room(session: AsyncSession, card: Card, now: datetime) -> int:
    """How much a debit may take now: the balance less, for each live call, what it can have
    talked since it was authorized (an upper bound) plus a notice; the engine lowers the holds."""
    holds = await session.scalars(
        select(Reservation).where(
            Reservation.card_id == card.id, Reservation.state == HoldState.OPEN
        )
    )
    keep = 0
    for hold in holds:
        since_ms = (aware(now) - aware(hold.created_at)) // timedelta(milliseconds=1)
        keep += floor_cost(hold, -(-max(since_ms, 0) // 1000) + SHORTEN_NOTICE_S)
    return await spendable(session, card, lock=True) - keep


async def check_debit(
    session: AsyncSession, card: Card, amount: int, now: datetime, what: str = "debited"
) -> None:
    """Refuse taking ``amount`` from the card past ``debit_room``, naming the most it can lose."""
    room = await debit_room(session, card, now)
    if room >= amount:
        return
    unit = (await session.get_one(Project, card.project_id)).unit
    total = await spendable(session, card)
    live = " (its live calls keep what they can have talked)" if room < total else ""
    raise Insufficient(
        f"the card can be {what} at most {show_amount(max(room, 0), unit)} now{live}"
    )


_CARDS = cast(Table, Card.__table__)
_LEDGER = cast(Table, LedgerEntry.__table__)
_MOVE = (
    update(_CARDS)
    .where(_CARDS.c.id == bindparam("b_card"))
    .values(balance=_CARDS.c.balance + bindparam("b_amount", type_=_CARDS.c.balance.type))
    .returning(_CARDS.c.balance, _CARDS.c.customer_id)
)
_ENTRY = insert(_LEDGER).returning(_LEDGER.c.id)
"""Built once, run as Core: every call's settle moves a balance, and the ORM's unit of work cost
more than the two statements."""


async def post(
    session: AsyncSession,
    card_id: int,
    kind: EntryKind,
    amount: int,
    *,
    actor: str,
    reason: str | None = None,
    key: str | None = None,
    now: datetime | None = None,
) -> tuple[LedgerEntry, int | None]:
    """Move the balance by ``amount`` and append its entry: the one place a balance changes.
    The caller holds the card's lock (or its hold's). Returns the entry and the card's customer."""
    balance, customer = (
        await session.execute(_MOVE, {"b_card": card_id, "b_amount": amount})
    ).one()
    values = {
        "card_id": card_id,
        "kind": kind.value,
        "amount": amount,
        "balance_after": balance,
        "at": now or utcnow(),
        "actor": actor,
        "reason": reason,
        "idempotency_key": key,
    }
    entry_id = (await session.execute(_ENTRY, values)).scalar_one()
    await mark_changed(session, card_id)
    return LedgerEntry(id=entry_id, **values), customer


async def append(
    session: AsyncSession,
    card: Card,
    kind: EntryKind,
    amount: int,
    *,
    actor: str,
    reason: str | None = None,
    key: str | None = None,
    now: datetime | None = None,
) -> LedgerEntry:
    """``post`` for a card the caller has loaded: its ``balance`` follows the new one."""
    if session.new or session.dirty:
        await session.flush()  # a card created or changed in this transaction is written first
    entry, _ = await post(
        session, card.id, kind, amount, actor=actor, reason=reason, key=key, now=now
    )
    set_committed_value(card, "balance", entry.balance_after)
    return entry


async def _existing(session: AsyncSession, key: str) -> LedgerEntry | None:
    return await session.scalar(select(LedgerEntry).where(LedgerEntry.idempotency_key == key))


async def replayed(
    session: AsyncSession,
    key: str,
    kind: EntryKind,
    card_id: int,
    amount: int,
    reason: str | None,
) -> list[LedgerEntry] | None:
    """The entries a key moved already, when it moved exactly this (kind, card, amount and
    reason); a key bound to anything else is ``idempotency_key_reused`` and moves nothing."""
    done = await _existing(session, key)
    if done is None:
        return None
    if (done.kind, done.card_id, done.amount, done.reason) != (kind.value, card_id, amount, reason):
        raise IdempotencyKeyReused(
            f"idempotency key {key[:60]!r} was used for another request "
            f"({done.kind} of {done.amount} on card id {done.card_id}): nothing moved"
        )
    bonus = await _existing(session, bonus_key(key))
    return [done] + ([bonus] if bonus else [])


def bonus_key(key: str) -> str:
    """The bonus entry's key: a blank never occurs in a key, so no key given can match it."""
    return f"{key} bonus"


def cli_key(key: str) -> str:
    """Keys given to ``cardadmin`` live apart from the API's (``api:…``) and the engine's
    (``call:…``): no key typed at the CLI can block, forge or replay another's entry."""
    return f"cli:{validate.idempotency_key(key)}"


@dataclass(frozen=True)
class TopUp:
    """The entries of a top-up; ``replayed`` when its idempotency key had credited already."""

    entries: list[LedgerEntry]
    replayed: bool = False


async def topup_locked(
    session: AsyncSession,
    card: Card,
    amount: int,
    *,
    actor: str,
    key: str | None = None,
    now: datetime | None = None,
    reason: str | None = None,
) -> list[LedgerEntry]:
    """Inside the caller's transaction, the card locked: the state rule, the project's
    denominations and minimum, then the top-up and its bonus as an entry of its own (``reason``
    prefixes the bonus's: an order's entries both name the order)."""
    moment = now or utcnow()
    check_move(card, Move.TOPUP, moment)
    project = await session.get_one(Project, card.project_id)
    settings = ProjectSettings.from_dict(project.settings)
    check_topup(settings, amount, project.unit)
    entries = [
        await append(
            session, card, EntryKind.TOPUP, amount, actor=actor, reason=reason, key=key, now=moment
        )
    ]
    bonus_amount = settings.bonus_for(amount)
    if bonus_amount:
        entries.append(
            await append(
                session,
                card,
                EntryKind.BONUS,
                bonus_amount,
                actor=actor,
                reason=(f"{reason}: " if reason else "")
                + f"bonus for a top-up of {show_amount(amount, project.unit)}",
                key=bonus_key(key) if key else None,
                now=moment,
            )
        )
    return entries


async def topup(
    db: Database,
    card_id: int,
    amount: int,
    *,
    actor: str,
    key: str | None = None,
    now: datetime | None = None,
) -> TopUp:
    """Credit ``amount`` (and its bonus as its own entry); a repeated key credits nothing again
    and answers what the first one did, however many arrive at once."""
    key = cli_key(key) if key is not None else None
    async with db.transaction() as session:
        card = await locked_card(session, card_id)
        # Under the card's lock: a twin that held it first has committed by now.
        if key is not None and (done := await replayed(session, key, EntryKind.TOPUP, card_id,
                                                       amount, None)):  # fmt: skip
            return TopUp(done, replayed=True)
        return TopUp(await topup_locked(session, card, amount, actor=actor, key=key, now=now))


def check_topup(settings: ProjectSettings, amount: int, unit: str) -> None:
    """Denominations (seed 001) and minimum (seed 002) of a top-up; credits skip them."""
    if amount <= 0:
        raise InvalidInput("a top-up must be more than zero")
    if settings.denominations and amount not in settings.denominations:
        allowed = ", ".join(show_amount(d, unit) for d in settings.denominations)
        raise DenominationNotAllowed(
            f"{show_amount(amount, unit)} is not an allowed amount; allowed: {allowed}"
        )
    if amount < settings.minimum_topup:
        raise BelowMinimum(f"the minimum top-up is {show_amount(settings.minimum_topup, unit)}")


async def move_locked(
    session: AsyncSession,
    card: Card,
    kind: EntryKind,
    amount: int,
    *,
    actor: str,
    reason: str,
    key: str | None = None,
    now: datetime | None = None,
) -> LedgerEntry:
    """Inside the caller's transaction, the card locked: a credit or debit of a shop
    (``credit``/``debit``) or an operator's correction (``adjust``), after the state rule. A
    take may shorten the card's live calls, never below what they can have talked
    (``debit_room``). Credits are not sales of credit: no denominations, minimum or bonus."""
    moment = now or utcnow()
    rule = {
        EntryKind.CREDIT: Move.CREDIT,
        EntryKind.DEBIT: Move.DEBIT,
        EntryKind.ADJUST: Move.ADJUST_IN if amount > 0 else Move.ADJUST_OUT,
    }[kind]
    check_move(card, rule, moment)
    if amount < 0:
        await check_debit(session, card, -amount, moment)
    return await append(
        session, card, kind, amount, actor=actor, reason=reason, key=key, now=moment
    )
