"""``cardadmin audit --strict``: every invariant of the books, each a check that names what
breaks it. The test suite runs it on every database a test leaves behind."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from cards.db import Database
from cards.domain import CustomerKind, EntryKind, HoldState
from cards.models import (
    AccountSettlement,
    ApiReplay,
    CallRecord,
    Card,
    Customer,
    LedgerEntry,
    Project,
    Reservation,
)
from cards.services.credit_line import receivable
from cards.services.fee_report import month_usage
from cards.services.order_audit import order_findings
from cards.services.reports import audit

ALL_TIME = (datetime(1970, 1, 1, tzinfo=UTC), datetime(9999, 1, 1, tzinfo=UTC))


@dataclass(frozen=True)
class Breach:
    """One invariant that does not hold, and where."""

    invariant: str
    subject: str
    detail: str


async def strict_audit(db: Database) -> list[Breach]:
    """Balances equal their ledger; every closed hold has one ledger entry and one call record
        that agree; no hold is open past its call; API idempotency rows point at the entries they
        moved; each customer's bills equal its settlement entries, it never paid more than it was
        billed and never owes past its credit limit; only a postpaid card goes below zero; an expiry
        only takes; the fee report's seconds are the seconds the call records billed; every order's
    credit, capture and take-back reconcile with its entries (``order_audit``)."""
    _, problems = await audit(db)
    breaches = [
        Breach("balance = sum of ledger", p.serial, f"balance {p.balance}, ledger {p.ledger_sum}")
        for p in problems
    ]
    async with db.read() as session:
        breaches += await _holds_and_records(session)
        breaches += await _idempotency_rows(session)
        breaches += await _customer_bills(session)
        breaches += [Breach(*finding) for finding in await order_findings(session)]
        breaches += [
            Breach("an expiry only takes", str(e.card_id), f"entry {e.id}: {e.amount}")
            for e in (
                await session.scalars(
                    select(LedgerEntry).where(
                        LedgerEntry.kind == EntryKind.EXPIRY, LedgerEntry.amount > 0
                    )
                )
            ).all()
        ]
        projects = (await session.scalars(select(Project))).all()
        billed = dict(
            (
                await session.execute(
                    select(CallRecord.project_id, func.sum(CallRecord.billed_seconds)).group_by(
                        CallRecord.project_id
                    )
                )
            ).all()
        )
    for project in projects:
        usage = await month_usage(db, project, ALL_TIME[0], ALL_TIME[1])
        reported = usage.geographic_seconds + usage.freephone_seconds
        if reported != int(billed.get(project.id) or 0):
            breaches.append(
                Breach(
                    "fee report seconds = billed call seconds",
                    project.name,
                    f"report {reported}, records {int(billed.get(project.id) or 0)}",
                )
            )
    return breaches


async def _holds_and_records(session: AsyncSession) -> list[Breach]:
    out: list[Breach] = []
    records = {r.call_id: r for r in (await session.scalars(select(CallRecord))).all()}
    charges = {
        e.idempotency_key: e
        for e in (
            await session.scalars(select(LedgerEntry).where(LedgerEntry.kind == EntryKind.CALL))
        ).all()
    }
    for hold in (await session.scalars(select(Reservation))).all():
        record = records.get(hold.call_id)
        entry = charges.pop(f"call:{hold.call_id}", None)
        if hold.state == HoldState.OPEN:
            if record is not None:
                out.append(Breach("no hold open past its call", hold.call_id, "record written"))
            continue
        if record is None:
            out.append(Breach("a closed hold has a call record", hold.call_id, hold.state))
            continue
        charged = -entry.amount if entry is not None else 0
        if hold.state == HoldState.SETTLED and entry is None:
            out.append(Breach("a settled hold has one ledger entry", hold.call_id, "none"))
        if record.charged != charged:
            out.append(
                Breach(
                    "call record = ledger entry",
                    hold.call_id,
                    f"record charged {record.charged}, ledger {charged}",
                )
            )
        if record.charged and (record.billed_seconds <= 0 or record.charge_start_at is None):
            out.append(
                Breach(
                    "a charged call says what it billed",
                    hold.call_id,
                    f"billed_seconds {record.billed_seconds}, charge start "
                    f"{record.charge_start_at}",
                )
            )
    for key in charges:
        out.append(Breach("every call charge has its hold", str(key), "no hold"))
    return out


async def _idempotency_rows(session: AsyncSession) -> list[Breach]:
    out: list[Breach] = []
    keys = set(
        (
            await session.scalars(
                select(LedgerEntry.idempotency_key).where(LedgerEntry.idempotency_key.like("api:%"))
            )
        ).all()
    )
    for row in (await session.scalars(select(ApiReplay))).all():
        if row.status != 201 or f"api:{row.project_id}:{row.key}" not in keys:
            out.append(
                Breach(
                    "an idempotency row points at its entry",
                    f"project {row.project_id} key {row.key}",
                    f"status {row.status}",
                )
            )
    return out


async def _customer_bills(session: AsyncSession) -> list[Breach]:
    """What each customer was billed equals the ``settlement`` entries on its cards, and no
    customer paid more than it was billed (receivable = settlements − payments ≥ 0)."""
    out: list[Breach] = []
    open_by: dict[int, int] = defaultdict(int)
    for card in (await session.scalars(select(Card).where(Card.balance < 0))).all():
        if card.customer_id is None:
            out.append(
                Breach("only a postpaid card goes below zero", card.serial, str(card.balance))
            )
        else:
            open_by[card.customer_id] -= card.balance
    for customer in (await session.scalars(select(Customer))).all():
        if (owed := await receivable(session, customer.id)) < 0:
            out.append(Breach("receivable = settlements − payments ≥ 0", customer.name, str(owed)))
        open_charges = open_by.get(customer.id, 0)
        postpaid = customer.kind == CustomerKind.POSTPAID
        if (not postpaid and open_charges) or (
            postpaid and owed + open_charges > customer.credit_limit
        ):
            out.append(
                Breach(
                    "a customer owes at most its credit limit",
                    customer.name,
                    f"owed {owed} + open {open_charges}, "
                    f"limit {customer.credit_limit} ({customer.kind})",
                )
            )
    bills: dict[int, int] = defaultdict(int)
    for bill in (await session.scalars(select(AccountSettlement))).all():
        bills[bill.card_id] += bill.amount
    entries = (
        await session.execute(
            select(LedgerEntry.card_id, func.sum(LedgerEntry.amount))
            .where(LedgerEntry.kind == EntryKind.SETTLEMENT)
            .group_by(LedgerEntry.card_id)
        )
    ).all()
    booked = {card_id: int(total) for card_id, total in entries}
    for card_id in set(bills) | set(booked):
        if bills.get(card_id, 0) != booked.get(card_id, 0):
            serial = await session.scalar(select(Card.serial).where(Card.id == card_id))
            out.append(
                Breach(
                    "customer bills = settlement entries",
                    str(serial),
                    f"bills {bills.get(card_id, 0)}, entries {booked.get(card_id, 0)}",
                )
            )
    return out
