"""A postpaid customer's credit line (seed 002), shared by all its cards: the limit less what
the customer owes (billed and not paid: the receivable) less what its other cards already use
of it (open charges below zero, and holds beyond their balance). A card spends its balance and
what the line has left; a payment frees the line, a bill does not."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from cards.domain import CustomerKind, HoldState
from cards.models import AccountSettlement, Card, Customer, CustomerPayment, Reservation


async def receivable(session: AsyncSession, customer_id: int) -> int:
    """What the customer was billed and has not paid: settlements less payments."""
    billed = await session.scalar(
        select(func.coalesce(func.sum(AccountSettlement.amount), 0)).where(
            AccountSettlement.customer_id == customer_id
        )
    )
    paid = await session.scalar(
        select(func.coalesce(func.sum(CustomerPayment.amount), 0)).where(
            CustomerPayment.customer_id == customer_id
        )
    )
    return int(billed or 0) - int(paid or 0)


async def line_left(session: AsyncSession, card: Card, *, lock: bool = False) -> int:
    """What the card's customer's credit line leaves this card beyond its own balance (0 for a
    card of no postpaid customer). ``lock`` takes the customer's row first, so two cards of one
    customer never both spend the same room (PostgreSQL; SQLite writes one at a time)."""
    if card.customer_id is None:
        return 0
    query = select(Customer).where(Customer.id == card.customer_id)
    customer = await session.scalar(query.with_for_update() if lock else query)
    if customer is None or customer.kind != CustomerKind.POSTPAID:
        return 0
    holds = (
        select(Reservation.card_id, func.sum(Reservation.amount).label("held"))
        .where(Reservation.state == HoldState.OPEN)
        .group_by(Reservation.card_id)
        .subquery()
    )
    others = await session.execute(
        select(Card.balance, func.coalesce(holds.c.held, 0))
        .outerjoin(holds, holds.c.card_id == Card.id)
        .where(Card.customer_id == customer.id, Card.id != card.id)
    )
    used = sum(max(int(held) - int(balance), 0) for balance, held in others)
    return customer.credit_limit - await receivable(session, customer.id) - used


async def spendable(session: AsyncSession, card: Card, *, lock: bool = False) -> int:
    """Balance plus what the credit line leaves the card: what holds and debits may use up."""
    return card.balance + await line_left(session, card, lock=lock)
