"""``webhook``: the operator's own shop or payment provider confirms an order with a signed
callback. ``Minutecard-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256 of "t.body">`` with the
project's secret; a stale timestamp, a bad signature, an event id another order took, an unknown
order and a wrong amount are refused before anything moves; the same event sent again is answered
as it was, moving nothing."""

from __future__ import annotations

import hashlib
import hmac
import json
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from cards.clock import utcnow
from cards.db import Database
from cards.domain import OrderStatus
from cards.models import Order, PaymentEvent, Project
from cards.services import order_moves
from cards.services.orders import OrderView, order_view
from pbx_engine.payments.provider import NextStep, Redirect

HEADER = "Minutecard-Signature"
TOLERANCE_S = 300
EVENTS = ("authorized", "captured", "paid", "capture_failed", "declined")
ACTOR = "webhook"


class Refusal(Exception):
    """A callback refused: its HTTP status, a stable code and the reason (logged)."""

    def __init__(self, status: int, code: str, reason: str) -> None:
        super().__init__(reason)
        self.status, self.code, self.reason = status, code, reason


@dataclass(frozen=True)
class Webhook:
    checkout_url: str
    name: str = "webhook"

    async def begin(self, order: OrderView) -> NextStep:
        """To the operator's shop page, which takes the payment and calls back."""
        glue = "&" if "?" in self.checkout_url else "?"
        query = urlencode({"reference": order.reference, "amount": order.amount})
        return Redirect(f"{self.checkout_url}{glue}{query}")


def sign(secret: str, body: bytes, timestamp: int) -> str:
    """The header's value for ``body`` sent at ``timestamp`` (what the shop computes)."""
    mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
    return f"t={timestamp},v1={mac.hexdigest()}"


def verify(secret: str, header: str, body: bytes, now: int) -> None:
    """Refuse a callback whose signature is missing, stale (more than 300 s off either way) or
    wrong; compared in constant time."""
    parts = dict(p.strip().partition("=")[::2] for p in header.split(",") if "=" in p)
    stamp, given = parts.get("t", ""), parts.get("v1", "")
    if not (stamp.isascii() and stamp.isdigit() and len(stamp) < 12) or not given:
        raise Refusal(401, "bad_signature", f"no t=…,v1=… in the {HEADER} header")
    if abs(now - int(stamp)) > TOLERANCE_S:
        raise Refusal(401, "stale_timestamp", f"timestamp {stamp} is {now - int(stamp)} s off")
    expected = sign(secret, body, int(stamp)).partition(",v1=")[2]
    if not hmac.compare_digest(expected.encode(), given.encode("ascii", "replace")):
        raise Refusal(401, "bad_signature", "the signature does not match the body")


@dataclass(frozen=True)
class Event:
    id: str
    type: str
    reference: str
    amount: int
    payment_id: str
    reason: str


def _text(data: dict[str, Any], key: str, limit: int = 120) -> str:
    value = data.get(key)
    if not isinstance(value, str) or not value.strip() or len(value) > limit:
        raise Refusal(400, "bad_event", f"{key}: text of 1 to {limit} characters")
    if not value.isprintable():
        raise Refusal(400, "bad_event", f"{key}: printable text only")
    return value.strip()


def parse(body: bytes) -> Event:
    try:
        data = json.loads(body)
    except (ValueError, UnicodeDecodeError, RecursionError) as exc:
        raise Refusal(400, "bad_event", "the body is not JSON") from exc
    if not isinstance(data, dict):
        raise Refusal(400, "bad_event", "the body must be a JSON object")
    kind = data.get("type")
    if kind not in EVENTS:
        raise Refusal(400, "bad_event", f"type: one of {', '.join(EVENTS)}")
    amount = data.get("amount")
    if type(amount) is not int or amount <= 0:
        raise Refusal(400, "bad_event", "amount: whole 1/10,000 EUR above 0")
    reason = data.get("reason", kind)
    return Event(
        id=_text(data, "id"), type=kind, reference=_text(data, "order", 16).upper(),
        amount=amount, payment_id=_text(data, "payment_id"),
        reason=reason[:150] if isinstance(reason, str) and reason.isprintable() else kind,
    )  # fmt: skip


async def _seen(db: Database, project_id: int, event_id: str) -> str | None:
    """The reference of the order this event id was taken for, or None when it is new."""
    async with db.read() as session:
        return await session.scalar(
            select(Order.reference)
            .join(PaymentEvent, PaymentEvent.order_id == Order.id)
            .where(
                PaymentEvent.project_id == project_id,
                PaymentEvent.provider == "webhook",
                PaymentEvent.event_id == event_id,
            )
        )


async def _remember(db: Database, project_id: int, event: Event, reference: str) -> None:
    """After the moves: a crash before this line lets the shop's retry finish the work (every
    move is idempotent); a twin that got here first has recorded it already."""
    try:
        async with db.transaction() as session:
            order_id = (await session.execute(
                select(Order.id).where(Order.reference == reference)
            )).scalar_one()  # fmt: skip
            session.add(
                PaymentEvent(
                    project_id=project_id,
                    provider="webhook",
                    event_id=event.id,
                    order_id=order_id,
                    at=utcnow(),
                )
            )
    except IntegrityError:
        return


async def apply(db: Database, project: Project, event: Event) -> OrderView:
    """Check the event against its order, then run the order's transitions it stands for."""
    taken_for = await _seen(db, project.id, event.id)
    if taken_for is not None and taken_for != event.reference:
        raise Refusal(409, "replayed", f"event {event.id[:40]!r} was taken by another order")
    # The same event again (the shop's first answer was lost) runs the same moves again: each is
    # idempotent on the provider's ids, so it answers what was done and moves nothing twice.
    view = await order_view(db, event.reference)
    if view is None or view.project != project.name or view.provider != "webhook":
        raise Refusal(404, "unknown_order", f"no webhook order {event.reference!r} here")
    if event.amount != view.amount:
        raise Refusal(
            422, "wrong_amount", f"order {view.reference} is for {view.amount}, not {event.amount}"
        )
    view = await _moves(db, event)
    await _remember(db, project.id, event, view.reference)
    if view.status is OrderStatus.VOIDED:
        raise Refusal(422, "order_voided", f"order {view.reference} is void: {view.note}")
    return view


async def _moves(db: Database, event: Event) -> OrderView:
    ref, pid = event.reference, event.payment_id
    if event.type == "declined":
        return await order_moves.decline(db, ref, why=event.reason, actor=ACTOR)
    if event.type == "capture_failed":
        return await order_moves.capture_failed(db, ref, why=event.reason, actor=ACTOR)
    if event.type in ("authorized", "paid"):
        view = await order_moves.authorize(
            db, ref, provider="webhook", authorization_id=pid, actor=ACTOR
        )
    else:
        view = await _current(db, ref)
    if view.status is OrderStatus.AUTHORIZED:
        view = await order_moves.credit(db, ref, actor=ACTOR)
    if event.type in ("captured", "paid") and view.status is not OrderStatus.VOIDED:
        view = await order_moves.capture(db, ref, capture_id=pid, actor=ACTOR)
    return view


async def _current(db: Database, reference: str) -> OrderView:
    view = await order_view(db, reference)
    if view is None:  # checked by ``apply``; an order is never deleted
        raise Refusal(404, "unknown_order", f"no order {reference!r}")
    return view
