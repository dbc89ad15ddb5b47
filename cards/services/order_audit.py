"""The strict audit's order invariants (issue 24): each order's credit, capture and take-back
reconcile with its ledger entries, and no ledger entry names an order that does not exist."""

from __future__ import annotations

from collections import defaultdict

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from cards.domain import EntryKind, OrderStatus
from cards.models import LedgerEntry, Order

Finding = tuple[str, str, str]
"""(invariant, subject, detail): ``strict_audit`` makes each a ``Breach``."""
S = OrderStatus
PREFIX = "order:"


def _check_entries(order: Order, entries: list[LedgerEntry]) -> list[Finding]:
    ref = order.reference
    out: list[Finding] = []
    for e in entries:
        if e.card_id != order.card_id:
            out.append(("an order's entries are on its card", ref, f"entry {e.id}"))
        if not e.actor or ref not in (e.reason or ""):
            out.append(("an order's entry has an actor and names the order", ref, f"entry {e.id}"))
    by_key = {e.idempotency_key: e for e in entries}
    topups = [e for e in entries if e.kind == EntryKind.TOPUP]
    credited = order.credited_at is not None
    if credited and (len(topups) != 1 or topups[0].amount != order.amount):
        detail = f"amount {order.amount}, top-ups {[e.amount for e in topups]}"
        out.append(("a credited order has one top-up of its amount", ref, detail))
    if not credited and entries:
        out.append(("an order not credited moved nothing", ref, f"{len(entries)} entries"))
    given = sum(e.amount for e in entries if e.kind in (EntryKind.TOPUP, EntryKind.BONUS))
    if given != order.credited:
        out.append(("an order's credit = its entries", ref, f"{order.credited} vs {given}"))
    back = by_key.get(f"{PREFIX}{ref} take-back")
    taken = -back.amount if back is not None else 0
    if taken != order.taken_back:
        out.append(("an order's take-back = its entry", ref, f"{order.taken_back} vs {taken}"))
    return out


def _check_states(order: Order) -> list[Finding]:
    ref, out = order.reference, []
    credited = order.credited_at is not None
    if order.status in (S.CREDITED, S.CAPTURED) and not credited:
        out.append(("a credited or captured order was credited", ref, order.status.value))
    if order.status is S.CAPTURED and (
        order.captured_at is None
        or order.credited_at is None
        or order.captured_at < order.credited_at
    ):
        out.append(("captured only after credited", ref, f"{order.captured_at}"))
    if order.status is S.FAILED and credited:
        if order.taken_back + order.receivable != order.credited or order.receivable < 0:
            detail = f"taken {order.taken_back} + owed {order.receivable} ≠ {order.credited}"
            out.append(("a failed capture's take-back + receivable = its credit", ref, detail))
    elif order.taken_back or order.receivable:
        out.append(("only a failed capture takes back or is owed", ref, order.status.value))
    if credited and order.status not in (S.CREDITED, S.CAPTURED, S.FAILED):
        out.append(("a credited order is settled by its capture", ref, order.status.value))
    return out


async def order_findings(session: AsyncSession) -> list[Finding]:
    entries: dict[str, list[LedgerEntry]] = defaultdict(list)
    query = select(LedgerEntry).where(LedgerEntry.idempotency_key.like(f"{PREFIX}%"))
    for e in (await session.scalars(query)).all():
        entries[str(e.idempotency_key)[len(PREFIX) :].split(" ")[0]].append(e)
    out: list[Finding] = []
    for order in (await session.scalars(select(Order))).all():
        out += _check_states(order)
        out += _check_entries(order, entries.pop(order.reference, []))
    out += [("every order entry has its order", ref, "no such order") for ref in entries]
    return out
