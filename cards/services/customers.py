"""Customer accounts (seed 002): a card can belong to a customer, ``prepaid`` (cut off at zero)
or ``postpaid`` (its cards share one credit line, ``credit_line``; the open charges are billed
monthly, and early once they exceed the customer's threshold). Billing a card's open charges is
a ``settlement``: a ledger entry brings the balance back to zero and a settlement row keeps what
the customer owes until it pays (``pay``): the receivable is settlements less payments."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from cards import validate
from cards.amounts import show_amount
from cards.clock import utcnow
from cards.credit import mark_changed
from cards.db import Database
from cards.domain import CustomerKind, EntryKind, HoldState
from cards.errors import Conflict, IdempotencyKeyReused, InvalidInput, NotFound
from cards.models import (
    AccountSettlement,
    Card,
    Customer,
    CustomerPayment,
    Project,
    Reservation,
)
from cards.services.cardbatch import find_card
from cards.services.credit_line import receivable
from cards.services.ledger import append
from cards.services.operator_log import note
from cards.services.projects import find_project
from rating import Unit

DEFAULT_THRESHOLD_EUR = 200_000
"""20 EUR of open charges trigger an early settlement (money projects; seed 002)."""


async def find_customer(session: AsyncSession, project: Project, name: str) -> Customer:
    customer = await session.scalar(
        select(Customer).where(Customer.project_id == project.id, Customer.name == name.strip())
    )
    if customer is None:
        raise NotFound(f"no customer {name.strip()!r} in project {project.name}")
    return customer


def _check_terms(kind: CustomerKind, credit_limit: int, threshold: int) -> None:
    validate.whole(credit_limit, "credit limit")
    validate.whole(threshold, "threshold")
    if credit_limit < 0 or threshold < 0:
        raise InvalidInput("credit limit and threshold cannot be negative")
    if kind is CustomerKind.POSTPAID and credit_limit == 0:
        raise InvalidInput("a postpaid customer needs a credit limit above zero")


async def create(
    db: Database,
    project_ref: str,
    name: str,
    kind: CustomerKind,
    *,
    credit_limit: int = 0,
    threshold: int | None = None,
    actor: str = "cardadmin",
) -> Customer:
    name = validate.label(name, "customer name")
    async with db.transaction() as session:
        project = await find_project(session, project_ref)
        if threshold is None:
            threshold = DEFAULT_THRESHOLD_EUR if project.unit == Unit.MONEY else 0
        _check_terms(kind, credit_limit, threshold)
        taken = select(Customer.id).where(Customer.project_id == project.id, Customer.name == name)
        if await session.scalar(taken) is not None:
            raise Conflict(f"customer {name!r} exists in project {project.name}")
        customer = Customer(
            project_id=project.id, name=name, kind=kind.value,
            credit_limit=credit_limit if kind is CustomerKind.POSTPAID else 0,
            threshold=threshold, created_at=utcnow(),
        )  # fmt: skip
        session.add(customer)
        await session.flush()
        terms = (
            f", limit {show_amount(credit_limit, project.unit)}"
            if kind is CustomerKind.POSTPAID
            else ""
        )
        await note(
            session, actor=actor, action="customer", project_id=project.id,
            subject=f"customer {name} created, {kind}{terms}",
        )  # fmt: skip
        return customer


async def list_customers(db: Database, project_ref: str) -> tuple[list[Customer], str]:
    async with db.read() as session:
        project = await find_project(session, project_ref)
        query = select(Customer).where(Customer.project_id == project.id).order_by(Customer.name)
        return list((await session.scalars(query)).all()), project.unit


async def attach(db: Database, card_ref: str, name: str, *, actor: str = "cardadmin") -> Card:
    """The card belongs to the customer from now on (its credit line follows the customer)."""
    async with db.transaction() as session:
        card = await find_card(session, card_ref, lock=True)
        project = await session.get_one(Project, card.project_id)
        customer = await find_customer(session, project, name)
        if card.customer_id is not None and card.customer_id != customer.id:
            raise Conflict(f"card {card.serial} belongs to another customer")
        card.customer_id = customer.id
        await mark_changed(session, card.id)  # a live call of the card may use the limit now
        await note(
            session, actor=actor, action="customer_card", project_id=project.id, card=card,
            subject=f"card belongs to customer {customer.name} ({customer.kind})",
        )  # fmt: skip
        return card


async def settle_open(
    session: AsyncSession, card: Card, customer: Customer, cause: str, now: datetime
) -> AccountSettlement | None:
    """Bill a card's open charges (a balance below zero) to its customer."""
    if card.balance >= 0:
        return None
    amount = -card.balance
    await append(
        session, card, EntryKind.SETTLEMENT, amount, actor="billing",
        reason=f"billed to customer {customer.name} ({cause})", now=now,
    )  # fmt: skip
    bill = AccountSettlement(
        customer_id=customer.id, card_id=card.id, amount=amount, cause=cause, at=now
    )
    session.add(bill)
    await session.flush()
    return bill


async def after_charge(session: AsyncSession, card: Card, now: datetime) -> None:
    """A call was charged to ``card``: a postpaid customer whose open charges (all its cards
    below zero, not billed yet) exceed the threshold is billed now, not at the month's end
    (seed 002: early "wenn der Monatsbetrag 20 Euro übersteigt")."""
    if card.customer_id is None:
        return
    customer = await session.get_one(Customer, card.customer_id)
    if customer.kind != CustomerKind.POSTPAID or not customer.threshold:
        return
    # Cards another transaction holds are billed by the next charge or at the month's end:
    # waiting for them could deadlock two settles of one customer's cards.
    cards = (
        await session.scalars(
            select(Card)
            .where(Card.customer_id == customer.id, Card.balance < 0)
            .order_by(Card.id)
            .with_for_update(skip_locked=True)
        )
    ).all()
    if card not in cards and card.balance < 0:
        cards = [card, *cards]
    if sum(-c.balance for c in cards) > customer.threshold:
        for each in cards:
            await settle_open(session, each, customer, "threshold", now)


async def switch(
    db: Database,
    project_ref: str,
    name: str,
    kind: CustomerKind,
    *,
    credit_limit: int = 0,
    actor: str = "cardadmin",
    reason: str | None = None,
    now: datetime | None = None,
) -> list[AccountSettlement]:
    """Postpaid → prepaid bills what is open first and keeps the balance; prepaid → postpaid
    gives every card of the customer the credit limit."""
    moment = now or utcnow()
    async with db.transaction() as session:
        project = await find_project(session, project_ref)
        customer = await find_customer(session, project, name)
        if customer.kind == kind:
            raise Conflict(f"customer {customer.name} is {kind} already")
        _check_terms(kind, credit_limit, customer.threshold)
        cards = (
            await session.scalars(
                select(Card).where(Card.customer_id == customer.id).with_for_update()
            )
        ).all()
        if kind is CustomerKind.PREPAID and (
            busy := await session.scalar(
                select(Card.serial)
                .join(Reservation, Reservation.card_id == Card.id)
                .where(Card.customer_id == customer.id, Reservation.state == HoldState.OPEN)
            )
        ):
            # Its hold may use the credit line: the call's charge would land on a prepaid card.
            raise Conflict(f"card {busy} is in a call: switch when the call has ended")
        bills = []
        for card in cards:
            if kind is CustomerKind.PREPAID:
                bill = await settle_open(session, card, customer, "switch", moment)
                bills += [bill] if bill else []
            await mark_changed(session, card.id)
        customer.kind = kind
        customer.credit_limit = credit_limit if kind is CustomerKind.POSTPAID else 0
        await note(
            session, actor=actor, action="customer_switch", project_id=project.id,
            subject=f"customer {customer.name} switched to {kind}", reason=reason, now=moment,
        )  # fmt: skip
        return bills


async def month_end(db: Database, *, now: datetime | None = None) -> list[AccountSettlement]:
    """Bill every postpaid card's open charges (run on the first of the month, e.g. by cron)."""
    moment = now or utcnow()
    async with db.transaction() as session:
        rows = (
            await session.execute(
                select(Card, Customer)
                .join(Customer, Customer.id == Card.customer_id)
                .where(Customer.kind == CustomerKind.POSTPAID.value, Card.balance < 0)
                .with_for_update(of=Card)
            )
        ).all()
        bills = []
        for card, customer in rows:
            if bill := await settle_open(session, card, customer, "month", moment):
                bills.append(bill)
        return bills


async def pay(
    db: Database,
    project_ref: str,
    name: str,
    amount: int,
    *,
    reference: str,
    actor: str,
    now: datetime | None = None,
) -> CustomerPayment:
    """Record a payment against what the customer was billed: it frees its credit line again.
    The same reference with the same amount is the same payment (nothing new); never more than
    the customer owes."""
    validate.whole(amount, "payment")
    if amount <= 0:
        raise InvalidInput("a payment must be more than zero")
    reference = validate.label(reference, "reference")
    async with db.transaction() as session:
        project = await find_project(session, project_ref)
        customer = await find_customer(session, project, name)
        customer = await session.get_one(Customer, customer.id, with_for_update=True)
        done = await session.scalar(
            select(CustomerPayment).where(
                CustomerPayment.customer_id == customer.id, CustomerPayment.reference == reference
            )
        )
        if done is not None:
            if done.amount != amount:
                raise IdempotencyKeyReused(
                    f"payment {reference!r} was recorded with "
                    f"{show_amount(done.amount, project.unit)}"
                )
            return done
        owed = await receivable(session, customer.id)
        if amount > owed:
            raise InvalidInput(
                f"{customer.name} owes {show_amount(owed, project.unit)}: "
                f"a payment of {show_amount(amount, project.unit)} is more"
            )
        payment = CustomerPayment(
            customer_id=customer.id, amount=amount, reference=reference, actor=actor,
            at=now or utcnow(),
        )  # fmt: skip
        session.add(payment)
        for card_id in (
            await session.scalars(select(Card.id).where(Card.customer_id == customer.id))
        ).all():
            await mark_changed(session, card_id)  # a live call may use the freed line now
        await note(
            session, actor=actor, action="customer_pay", project_id=project.id,
            subject=f"{customer.name} paid {show_amount(amount, project.unit)}", reason=reference,
        )  # fmt: skip
        await session.flush()
        return payment


async def owed(db: Database, customers: list[Customer]) -> dict[int, int]:
    """Each customer's receivable: billed and not paid."""
    async with db.read() as session:
        return {c.id: await receivable(session, c.id) for c in customers}
