"""Holds on a card's credit: what is available, closing a hold (settle or release), the call
record, and settling the holds of calls that died with an engine. Calls open them via ``calls``.

Available credit is the balance minus every open hold, computed under the card's lock, so two
calls on one card (on one engine or several sharing PostgreSQL) can never spend the same second.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, cast

from sqlalchemy import Select, Table, func, insert, select
from sqlalchemy.ext.asyncio import AsyncSession

from cards.clock import aware, utcnow
from cards.db import Database
from cards.domain import EntryKind, HoldState
from cards.errors import Conflict, NotFound
from cards.models import CallRecord, Card, Reservation
from cards.money_rules import CardState, state_of
from cards.services import outbox
from cards.services.credit_line import line_left, spendable
from cards.services.holds import rating_of
from cards.services.ledger import held, post
from rating import affordable_seconds, quote


@dataclass(frozen=True)
class CallOutcome:
    """What the engine knows at hang-up; becomes the call record (EVN)."""

    project_id: int
    caller: str
    dialed: str
    arrived_at: datetime
    ended_at: datetime
    used: int = 0
    billed_seconds: int = 0
    cost: int = 0
    tariff_id: int | None = None
    advisor: str | None = None
    answered_at: datetime | None = None
    charge_start_at: datetime | None = None
    quote: dict[str, Any] = field(default_factory=dict)
    hangup_cause: str | None = None
    hangup_side: str | None = None


async def available(db: Database, card_id: int) -> int:
    """Balance minus open holds, right now (a read: no row lock; authorize locks for itself);
    0 for a card that may not be used (blocked, expired)."""
    async with db.read() as session:
        card = await session.get(Card, card_id)
        if card is None:
            raise NotFound(f"no card with id {card_id}")
        return await available_now(session, card)


async def available_now(session: AsyncSession, card: Card) -> int:
    """``available`` inside the caller's read, for a card it has loaded."""
    if state_of(card, utcnow()) is not CardState.USABLE:
        return 0
    return await spendable(session, card) - await held(session, card.id)


async def available_many(db: Database, card_ids: list[int]) -> dict[int, int]:
    """Balance minus open holds for several cards in one read (the engine's credit re-check)."""
    if not card_ids:
        return {}
    async with db.read() as session:
        rows = (
            await session.execute(
                select(Card.id, Card.balance, Card.customer_id).where(Card.id.in_(card_ids))
            )
        ).all()
        balances = {card: balance for card, balance, _ in rows}
        # A postpaid customer's cards also spend what its credit line has left.
        for card_id, _, customer in rows:
            if customer is not None:
                balances[card_id] += await line_left(session, await session.get_one(Card, card_id))
        holds = await session.execute(
            select(Reservation.card_id, func.sum(Reservation.amount))
            .where(Reservation.card_id.in_(card_ids), Reservation.state == HoldState.OPEN)
            .group_by(Reservation.card_id)
        )
        held_by = {card: int(total or 0) for card, total in holds}
        return {card: balance - held_by.get(card, 0) for card, balance in balances.items()}


async def _open(session: AsyncSession, reservation_id: int) -> Reservation:
    reservation = await session.get(Reservation, reservation_id, with_for_update=True)
    if reservation is None:
        raise NotFound(f"no reservation {reservation_id}")
    if reservation.state != HoldState.OPEN:
        raise Conflict(f"reservation {reservation_id} is {reservation.state}")
    return reservation


async def charge_hold(
    session: AsyncSession, call_id: str, card_id: int, held_amount: int, outcome: CallOutcome
) -> tuple[CallRecord, int | None]:
    """Inside the caller's transaction, for a hold it has just closed: charge ``outcome.used``
    (never more than held) as one ledger entry and add the call record. Returns the record and
    the card's customer (postpaid cards are looked at after the charge)."""
    charge = min(max(outcome.used, 0), held_amount)
    _, customer = await post(
        session,
        card_id,
        EntryKind.CALL,
        -charge,
        actor="engine",
        reason=f"call {call_id} {outcome.billed_seconds}s",
        key=f"call:{call_id}",
        now=outcome.ended_at,
    )
    record = await add_record(session, call_id, outcome, card_id, charged=charge)
    return record, customer


_RECORDS = cast(Table, CallRecord.__table__)
_RECORD = insert(_RECORDS).returning(_RECORDS.c.id)


async def add_record(
    session: AsyncSession,
    call_id: str,
    outcome: CallOutcome,
    card_id: int | None,
    *,
    charged: int,
) -> CallRecord:
    """Add the call record (EVN) of ``outcome`` inside the caller's transaction (one Core
    INSERT: every call writes one)."""
    values = {
        "call_id": call_id,
        "project_id": outcome.project_id,
        "card_id": card_id,
        "tariff_id": outcome.tariff_id,
        "caller": outcome.caller,
        "dialed": outcome.dialed,
        "advisor": outcome.advisor,
        "arrived_at": outcome.arrived_at,
        "answered_at": outcome.answered_at,
        "charge_start_at": outcome.charge_start_at,
        "ended_at": outcome.ended_at,
        "billed_seconds": outcome.billed_seconds,
        "cost": outcome.cost,
        "charged": charged,
        "quote": outcome.quote,
        "hangup_cause": outcome.hangup_cause,
        "hangup_side": outcome.hangup_side,
    }
    record_id = (await session.execute(_RECORD, values)).scalar_one()
    await outbox.call_ended(session, values)  # in the settle's transaction, as the charge
    return CallRecord(id=record_id, **values)


async def recover_stale(
    db: Database,
    *,
    older_than: timedelta,
    now: datetime | None = None,
) -> list[CallRecord]:
    """Settle open holds of calls that died with an engine at their last checkpoint.

    ``older_than`` picks holds not checkpointed for that long (a live call checkpoints every
    few seconds). The record says ``hangup_cause=recovered``.
    """
    moment = now or utcnow()
    return await _recover(
        db,
        select(Reservation.id).where(
            Reservation.state == HoldState.OPEN, Reservation.checkpoint_at < moment - older_than
        ),
    )


async def recover_calls(db: Database, call_ids: set[str]) -> list[CallRecord]:
    """Settle now, at their last checkpoint, the open holds of these calls: a restarted engine
    found their channels orphaned in its Asterisk (and hung them up)."""
    if not call_ids:
        return []
    return await _recover(
        db,
        select(Reservation.id).where(
            Reservation.state == HoldState.OPEN, Reservation.call_id.in_(sorted(call_ids))
        ),
    )


async def _recover(db: Database, query: Select[int]) -> list[CallRecord]:
    records = []
    async with db.transaction() as session:
        for reservation_id in (await session.scalars(query)).all():
            reservation = await _open(session, reservation_id)
            info = reservation.info
            tariff, cls = rating_of(info)
            used = reservation.used_at_checkpoint
            # A hold checkpointed before talk seconds were kept: the seconds its cost buys.
            talk_s = reservation.talked_at_checkpoint or affordable_seconds(tariff, cls, used)
            billed = quote(tariff, cls, talk_s)
            ended = aware(reservation.checkpoint_at)
            outcome = CallOutcome(
                project_id=int(info.get("project_id", 0)),
                caller=str(info.get("caller", "")),
                dialed=str(info.get("dialed", "")),
                arrived_at=aware(reservation.created_at),
                ended_at=ended,
                used=used,
                billed_seconds=billed.billed_seconds if talk_s else 0,
                cost=used,
                tariff_id=info.get("tariff_id"),
                charge_start_at=ended - timedelta(seconds=talk_s) if talk_s else None,
                quote=billed.as_dict() if talk_s else {},
                hangup_cause="recovered",
                hangup_side="engine",
            )
            reservation.state = HoldState.SETTLED
            await session.flush()
            record, _ = await charge_hold(
                session, reservation.call_id, reservation.card_id, reservation.amount, outcome
            )
            records.append(record)
    return records
