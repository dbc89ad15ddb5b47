"""The webhook outbox: an event is written inside the transaction of the money move that caused
it, one delivery per subscribed webhook, so a rolled-back move sends none and a crash loses none."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import Table, bindparam, insert, select
from sqlalchemy.ext.asyncio import AsyncSession

from cards.clock import aware, utcnow
from cards.db import OUTBOX_ADDED
from cards.models import Card, Webhook, WebhookDelivery

TOPUP_CREDITED = "topup.credited"
LOW_BALANCE = "card.low_balance"
EXHAUSTED = "card.exhausted"
CALL_ENDED = "call.ended"
EVENTS = (TOPUP_CREDITED, LOW_BALANCE, EXHAUSTED, CALL_ENDED)
PENDING, DELIVERED, DEAD = "pending", "delivered", "dead"

_SUBSCRIBERS = select(Webhook.id, Webhook.events, Webhook.low_balance).where(
    Webhook.project_id == bindparam("w_project")
)
HOOKS = "minutecard.webhooks"
"""``session.info`` key of the subscribers this transaction read."""
_DELIVERIES: Table = WebhookDelivery.__table__  # type: ignore[assignment]
_ADD = insert(_DELIVERIES)


async def _subscribers(session: AsyncSession, project_id: int) -> list[tuple[int, str, int | None]]:
    """Read once per transaction and project: a settle asks for the charge and the record."""
    known: dict[int, list[tuple[int, str, int | None]]] = session.info.setdefault(HOOKS, {})
    if project_id not in known:
        rows = await session.execute(_SUBSCRIBERS, {"w_project": project_id})
        known[project_id] = [(hook_id, events, low) for hook_id, events, low in rows.all()]
    return known[project_id]


async def _add(
    session: AsyncSession, hooks: list[int], kind: str, data: dict[str, Any], now: datetime
) -> None:
    """One event (one id for its receivers to deduplicate by) for each webhook in ``hooks``."""
    if not hooks:
        return
    event_id = f"evt_{uuid.uuid4().hex}"
    payload = {"id": event_id, "type": kind, "created_at": aware(now).isoformat(), "data": data}
    row = {
        "event_id": event_id, "event_type": kind, "payload": payload, "state": PENDING,
        "attempts": 0, "next_at": now, "created_at": now,
    }  # fmt: skip
    await session.execute(_ADD, [{**row, "webhook_id": hook} for hook in hooks])
    session.info[OUTBOX_ADDED] = True


async def emit(
    session: AsyncSession, project_id: int, kind: str, data: dict[str, Any],
    now: datetime | None = None,
) -> None:  # fmt: skip
    """``kind`` to every webhook of the project that subscribed to it."""
    hooks = [h for h, events, _ in await _subscribers(session, project_id) if kind in events]
    await _add(session, hooks, kind, data, now or utcnow())


async def balance_moved(
    session: AsyncSession, project_id: int, serial: str, before: int, after: int,
    now: datetime | None = None,
) -> None:  # fmt: skip
    """A balance went down from ``before`` to ``after``: ``card.low_balance`` to each webhook
    whose threshold it crossed (once per crossing: only a move from at or above it to below it),
    ``card.exhausted`` when it reached zero or less (nothing left a call could use)."""
    if after >= before:
        return
    hooks = await _subscribers(session, project_id)
    moment = now or utcnow()
    low = [
        h for h, events, threshold in hooks
        if LOW_BALANCE in events and threshold is not None and before >= threshold > after
    ]  # fmt: skip
    data = {"serial": serial, "balance": after}
    for hook in low:  # each its own threshold, so each its own event
        threshold = next(t for h, _, t in hooks if h == hook)
        await _add(session, [hook], LOW_BALANCE, {**data, "threshold": threshold}, moment)
    if before > 0 >= after:
        await _add(session, [h for h, events, _ in hooks if EXHAUSTED in events], EXHAUSTED,
                   data, moment)  # fmt: skip


async def call_ended(session: AsyncSession, record: dict[str, Any]) -> None:
    """``call.ended`` with what the call record says it billed (its values as inserted)."""
    hooks = [
        h for h, events, _ in await _subscribers(session, record["project_id"])
        if CALL_ENDED in events
    ]  # fmt: skip
    if not hooks:
        return
    card_id = record["card_id"]
    serial = (
        await session.scalar(select(Card.serial).where(Card.id == card_id)) if card_id else None
    )
    data = {
        "call_id": record["call_id"], "serial": serial, "caller": record["caller"],
        "dialed": record["dialed"], "billed_seconds": record["billed_seconds"],
        "charge": record["charged"], "ended_at": aware(record["ended_at"]).isoformat(),
    }  # fmt: skip
    await _add(session, hooks, CALL_ENDED, data, utcnow())
