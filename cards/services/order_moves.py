"""The order's transitions (issue 24), each ONE transaction under the order's row lock, then the
card's: authorize, credit, capture, a failed capture, decline, void and the expiry sweep. A
repeat with the provider's same id answers the order as it is and moves nothing."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta

from sqlalchemy import and_, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from cards import validate
from cards.amounts import show_amount
from cards.clock import utcnow
from cards.db import Database
from cards.domain import EntryKind, OrderStatus
from cards.errors import Conflict, InvalidInput, NotFound
from cards.models import Card, Order, Project
from cards.money_rules import CardState, state_of
from cards.services.ledger import append, debit_room, locked_card, topup_locked
from cards.services.operator_log import note
from cards.services.order_states import Event, already, next_state
from cards.services.orders import OrderView, order_view, plausible, refusal_of, view_of

S = OrderStatus


def ledger_key(reference: str, part: str = "") -> str:
    """The key of an order's ledger entry: ``order:REF`` (the top-up; its bonus gets
    ``ledger.bonus_key``) and ``order:REF take-back``. No API or CLI key starts so."""
    return f"order:{reference}" + (f" {part}" if part else "")


async def _locked(session: AsyncSession, reference: str) -> tuple[Order, Project]:
    if not plausible(reference):
        raise NotFound(f"no order {reference[:20]!r}")
    order = await session.scalar(
        select(Order)
        .where(Order.reference == reference.strip().upper())
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    if order is None:
        raise NotFound(f"no order {reference[:20]!r}")
    return order, await session.get_one(Project, order.project_id)


def _void(order: Order, why: str, now: datetime) -> None:
    order.status = next_state(order.status, Event.VOID)
    order.note, order.closed_at = validate.reason(why), now


async def authorize(
    db: Database,
    reference: str,
    *,
    provider: str,
    authorization_id: str,
    actor: str,
    audit: bool = False,
    now: datetime | None = None,
) -> OrderView:
    """The provider reserved the amount. A card that can no longer take a top-up (expired or
    blocked since the order) voids the order instead: the caller's provider must release the
    reservation (``status`` says ``voided``). ``audit`` writes the operator's action with it."""
    moment = now or utcnow()
    async with db.transaction() as session:
        order, project = await _locked(session, reference)
        if order.provider != provider:
            raise NotFound(f"no {provider} order {order.reference}")
        card = await locked_card(session, order.card_id)
        if order.authorization_id is not None:
            if order.authorization_id != authorization_id:
                raise Conflict(f"order {order.reference} was authorized by another payment")
            # This authorization was taken: whatever followed (credit, capture, a void, a
            # failed capture), its repeat moves nothing and answers the order as it is.
            return view_of(order, card, project)
        order.status = next_state(order.status, Event.AUTHORIZE)
        order.authorization_id, order.authorized_at = authorization_id, moment
        refusal = refusal_of(card, moment)
        if refusal:
            _void(order, f"{refusal} when paid: the payment is to be released", moment)
        if audit:
            await note(
                session, actor=actor, action="order_paid", project_id=project.id,
                subject=f"order {order.reference} {show_amount(order.amount, project.unit)}",
                card=card, reason=order.note, now=moment,
            )  # fmt: skip
        return view_of(order, card, project)


async def credit(
    db: Database, reference: str, *, actor: str, now: datetime | None = None
) -> OrderView:
    """Book an authorized order's amount (and its bonus) on the card by the top-up path: the
    same rules, bonus and live-call signal as an API top-up."""
    moment = now or utcnow()
    async with db.transaction() as session:
        order, project = await _locked(session, reference)
        card = await locked_card(session, order.card_id)
        if already(order.status, Event.CREDIT):
            return view_of(order, card, project)
        next_state(order.status, Event.CREDIT)
        refusal = refusal_of(card, moment)
        if refusal:
            _void(order, f"{refusal} when credited: the payment is to be released", moment)
            return view_of(order, card, project)
        entries = await topup_locked(
            session, card, order.amount, actor=actor, key=ledger_key(order.reference),
            now=moment, reason=f"order {order.reference} ({order.provider})", sold_at_order=True,
        )  # fmt: skip
        order.status = next_state(order.status, Event.CREDIT)
        order.credited = sum(e.amount for e in entries)
        order.balance_after, order.credited_at = card.balance, moment
        return view_of(order, card, project)


async def capture(
    db: Database, reference: str, *, capture_id: str, actor: str, now: datetime | None = None
) -> OrderView:
    """The provider took the money of a credited order."""
    async with db.transaction() as session:
        order, project = await _locked(session, reference)
        card = await session.get_one(Card, order.card_id)
        if already(order.status, Event.CAPTURE):
            if order.capture_id != capture_id:
                raise Conflict(f"order {order.reference} was captured by another payment")
            return view_of(order, card, project)
        order.status = next_state(order.status, Event.CAPTURE)
        order.capture_id, order.captured_at = capture_id, now or utcnow()
        return view_of(order, card, project)


async def capture_failed(
    db: Database, reference: str, *, why: str, actor: str, now: datetime | None = None
) -> OrderView:
    """The provider would not take the money after the card was credited: what is still unused
    of the credit comes back off the card (never past what its live calls may have talked,
    never below zero); the rest stays on the order as ``receivable``, owed by the payer."""
    moment = now or utcnow()
    async with db.transaction() as session:
        order, project = await _locked(session, reference)
        card = await locked_card(session, order.card_id)
        if order.status is S.FAILED and order.credited_at is not None:
            return view_of(order, card, project)
        order.status = next_state(order.status, Event.CAPTURE_FAIL)
        room = 0
        if state_of(card, moment) is not CardState.EXPIRED:
            room = min(await debit_room(session, card, moment), card.balance)
        taken = max(0, min(order.credited, room))
        if taken:
            await append(
                session, card, EntryKind.ADJUST, -taken, actor=actor, now=moment,
                reason=f"order {order.reference}: capture failed, unused credit taken back",
                key=ledger_key(order.reference, "take-back"),
            )  # fmt: skip
        order.taken_back, order.receivable = taken, order.credited - taken
        order.note, order.closed_at = validate.reason(f"capture failed: {why}"), moment
        return view_of(order, card, project)


async def decline(
    db: Database, reference: str, *, why: str, actor: str, now: datetime | None = None
) -> OrderView:
    """The provider refused to reserve: the order fails, nothing moved."""
    async with db.transaction() as session:
        order, project = await _locked(session, reference)
        card = await session.get_one(Card, order.card_id)
        if order.status is S.FAILED and order.credited_at is None:
            return view_of(order, card, project)
        order.status = next_state(order.status, Event.DECLINE)
        order.note, order.closed_at = validate.reason(f"declined: {why}"), now or utcnow()
        return view_of(order, card, project)


async def void(
    db: Database,
    reference: str,
    *,
    why: str,
    actor: str,
    audit: bool = False,
    now: datetime | None = None,
) -> OrderView:
    """Call off an order not yet credited (the operator, or the payer cancelling)."""
    moment = now or utcnow()
    async with db.transaction() as session:
        order, project = await _locked(session, reference)
        card = await session.get_one(Card, order.card_id)
        if order.status is S.VOIDED:
            return view_of(order, card, project)
        _void(order, why, moment)
        if audit:
            await note(
                session, actor=actor, action="order_void", project_id=project.id,
                subject=f"order {order.reference}", card=card, reason=why, now=moment,
            )  # fmt: skip
        return view_of(order, card, project)


async def attach(db: Database, reference: str, *, provider_order_id: str) -> None:
    """Remember the provider's own id of a created order (PayPal's order id)."""
    async with db.transaction() as session:
        order, _ = await _locked(session, reference)
        if order.provider_order_id not in (None, provider_order_id):
            raise Conflict(f"order {order.reference} has a provider order already")
        order.provider_order_id = provider_order_id


async def mark_paid(db: Database, reference: str, *, actor: str, amount: int) -> OrderView:
    """A bank transfer of ``amount`` arrived (the operator says so, audited): authorize, credit
    and capture, each its own transition; repeating it moves nothing again. A transfer of
    another amount than the order's credits nothing: a partial payment is not the order."""
    found = await order_view(db, reference)
    if found is not None and found.amount != amount:
        raise InvalidInput(
            f"order {found.reference} is for {show_amount(found.amount, 'money')}, the transfer "
            f"brought {show_amount(amount, 'money')}: nothing credited (send it back, or have "
            "the caller make a new order)"
        )
    key = f"transfer:{reference.strip().upper()}"
    view = await authorize(
        db, reference, provider="transfer", authorization_id=key, actor=actor, audit=True
    )
    if view.status is S.AUTHORIZED:
        view = await credit(db, reference, actor=actor)
    if view.status is S.CREDITED:
        view = await capture(db, reference, capture_id=key, actor=actor)
    return view


async def expire_orders(
    db: Database, ttl_seconds: Mapping[str, int], *, now: datetime | None = None
) -> list[str]:
    """Orders still ``created`` past their provider's time to pay become ``expired``."""
    moment = now or utcnow()
    expired: list[str] = []
    for provider, ttl in ttl_seconds.items():
        async with db.read() as session:
            due = (
                await session.scalars(
                    select(Order.reference).where(
                        Order.status == S.CREATED,
                        Order.provider == provider,
                        Order.created_at < moment - timedelta(seconds=ttl),
                    )
                )
            ).all()
        for reference in due:
            async with db.transaction() as session:
                order, _ = await _locked(session, reference)
                if order.status is S.CREATED:  # paid while we looked: it stays
                    order.status = next_state(order.status, Event.EXPIRE)
                    order.closed_at = moment
                    expired.append(reference)
    return expired


async def stuck_orders(
    db: Database, *, older_than_s: int, now: datetime | None = None
) -> list[tuple[str, str, OrderStatus]]:
    """Orders a crash or an unreachable provider left half done: ``authorized`` (reserved,
    not yet on the card) and ``credited`` PayPal orders (on the card, not yet captured), their
    last step older than ``older_than_s``: (reference, provider, status), oldest first."""
    moment = now or utcnow()
    before = moment - timedelta(seconds=older_than_s)
    async with db.read() as session:
        rows = (
            await session.execute(
                select(Order.reference, Order.provider, Order.status)
                .where(
                    or_(
                        and_(Order.status == S.AUTHORIZED, Order.authorized_at < before),
                        and_(
                            Order.status == S.CREDITED,
                            Order.provider == "paypal",
                            Order.credited_at < before,
                        ),
                    )
                )
                .order_by(Order.id)
            )
        ).all()
    return [(reference, provider, status) for reference, provider, status in rows]
