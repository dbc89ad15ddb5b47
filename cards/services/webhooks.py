"""A project's webhooks (add, list, remove, audited) and their deliveries: what is due, each
attempt's outcome with the next try or the end, and a redelivery asked by an operator."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy import delete, select

from cards import validate
from cards.clock import utcnow
from cards.db import OUTBOX_ADDED, Database
from cards.errors import Conflict, InvalidInput, NotFound
from cards.models import Webhook, WebhookAttempt, WebhookDelivery
from cards.services.operator_log import note
from cards.services.outbox import DEAD, DELIVERED, EVENTS, LOW_BALANCE, PENDING
from cards.services.projects import find_project


@dataclass(frozen=True)
class NewWebhook:
    hook: Webhook
    secret: str
    """As given, or generated: shown once."""


def parse_events(text: str) -> list[str]:
    events = [e.strip() for e in text.split(",") if e.strip()]
    unknown = sorted(set(events) - set(EVENTS))
    if not events or unknown:
        raise InvalidInput(
            f"events: some of {', '.join(EVENTS)}"
            + (f" (not {', '.join(unknown)})" if unknown else "")
        )
    return events


async def add(
    db: Database, project_ref: str, url: str, events: list[str], *, actor: str,
    secret: str | None = None, low_balance: int | None = None,
) -> NewWebhook:  # fmt: skip
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname or len(url) > 500:
        raise InvalidInput("url: an http(s) URL with a host")
    if (LOW_BALANCE in events) != (low_balance is not None):
        raise InvalidInput(f"{LOW_BALANCE} and --low-balance go together (the threshold)")
    if low_balance is not None:
        validate.whole(low_balance, "low balance", low=1)
    secret = secret or f"whsec_{secrets.token_urlsafe(32)}"
    if not (16 <= len(secret) <= 200 and secret.isascii() and secret.isprintable()):
        raise InvalidInput("secret: 16 to 200 printable ASCII characters")
    async with db.transaction() as session:
        project = await find_project(session, project_ref)
        hook = Webhook(
            project_id=project.id, url=url, events=",".join(events), secret=secret,
            low_balance=low_balance, created_at=utcnow(),
        )  # fmt: skip
        session.add(hook)
        await session.flush()
        await note(
            session, actor=actor, action="webhook_add", project_id=project.id,
            subject=f"webhook {hook.id} {url[:120]} for {hook.events}",
        )  # fmt: skip
        return NewWebhook(hook, secret)


async def hooks_of(db: Database, project_ref: str) -> list[Webhook]:
    async with db.read() as session:
        project = await find_project(session, project_ref)
        rows = await session.scalars(
            select(Webhook).where(Webhook.project_id == project.id).order_by(Webhook.id)
        )
        return list(rows.all())


async def remove(db: Database, hook_id: int, *, actor: str) -> Webhook:
    """The webhook and its deliveries go (nothing more is sent to it)."""
    async with db.transaction() as session:
        hook = await session.get(Webhook, hook_id)
        if hook is None:
            raise NotFound(f"no webhook {hook_id}")
        mine = select(WebhookDelivery.id).where(WebhookDelivery.webhook_id == hook_id)
        await session.execute(delete(WebhookAttempt).where(WebhookAttempt.delivery_id.in_(mine)))
        await session.execute(delete(WebhookDelivery).where(WebhookDelivery.webhook_id == hook_id))
        await session.delete(hook)
        await note(
            session, actor=actor, action="webhook_remove", project_id=hook.project_id,
            subject=f"webhook {hook.id} {hook.url[:120]} removed",
        )  # fmt: skip
        return hook


async def deliveries(db: Database, hook_id: int, limit: int = 50) -> list[dict[str, Any]]:
    """The webhook's latest deliveries, newest first, each with its attempts."""
    async with db.read() as session:
        if await session.get(Webhook, hook_id) is None:
            raise NotFound(f"no webhook {hook_id}")
        rows = (
            await session.scalars(
                select(WebhookDelivery)
                .where(WebhookDelivery.webhook_id == hook_id)
                .order_by(WebhookDelivery.id.desc())
                .limit(limit)
            )
        ).all()
        out = []
        for row in rows:
            tries = (
                await session.scalars(
                    select(WebhookAttempt)
                    .where(WebhookAttempt.delivery_id == row.id)
                    .order_by(WebhookAttempt.id)
                )
            ).all()
            out.append(
                {
                    "id": row.id,
                    "event_id": row.event_id,
                    "type": row.event_type,
                    "state": row.state,
                    "attempts": row.attempts,
                    "next_at": row.next_at.isoformat() if row.state == PENDING else None,
                    "tries": [
                        {"at": t.at.isoformat(), "status": t.status, "ms": t.ms, "error": t.error}
                        for t in tries
                    ],
                }
            )
        return out


async def redeliver(db: Database, delivery_id: int, *, actor: str) -> WebhookDelivery:
    """Send a delivered or dead event again now, with a fresh count of attempts."""
    async with db.transaction() as session:
        row = await session.get(WebhookDelivery, delivery_id, with_for_update=True)
        if row is None:
            raise NotFound(f"no delivery {delivery_id}")
        if row.state == PENDING:
            raise Conflict(f"delivery {delivery_id} is pending already")
        row.state, row.attempts, row.next_at = PENDING, 0, utcnow()
        session.info[OUTBOX_ADDED] = True
        hook = await session.get_one(Webhook, row.webhook_id)
        await note(
            session, actor=actor, action="webhook_redeliver", project_id=hook.project_id,
            subject=f"delivery {row.id} ({row.event_type} {row.event_id}) sent again",
        )  # fmt: skip
        return row


@dataclass(frozen=True)
class Due:
    """A delivery the sender is to try now."""

    id: int
    url: str
    secret: str
    payload: dict[str, Any]
    attempts: int


DUE_BATCH = 20


async def due(db: Database, now: datetime, limit: int = DUE_BATCH) -> list[Due]:
    async with db.read() as session:
        rows = await session.execute(
            select(WebhookDelivery, Webhook.url, Webhook.secret)
            .join(Webhook, Webhook.id == WebhookDelivery.webhook_id)
            .where(WebhookDelivery.state == PENDING, WebhookDelivery.next_at <= now)
            .order_by(WebhookDelivery.next_at, WebhookDelivery.id)
            .limit(limit)
        )
        return [
            Due(d.id, url, secret, dict(d.payload), d.attempts) for d, url, secret in rows.all()
        ]


@dataclass(frozen=True)
class Attempt:
    status: int | None
    ms: int
    error: str | None
    at: datetime


async def record(
    db: Database, delivery_id: int, attempt: Attempt, *, retry_in: timedelta | None
) -> str:
    """The attempt, and the delivery's new state: delivered on a 2xx; else tried again in
    ``retry_in``, or dead when there is none. Returns the state."""
    async with db.transaction() as session:
        row = await session.get(WebhookDelivery, delivery_id, with_for_update=True)
        if row is None or row.state != PENDING:  # removed, or redelivered meanwhile
            return "gone"
        session.add(
            WebhookAttempt(
                delivery_id=delivery_id,
                at=attempt.at,
                status=attempt.status,
                ms=attempt.ms,
                error=attempt.error[:200] if attempt.error else None,
            )
        )
        row.attempts += 1
        if attempt.status is not None and 200 <= attempt.status < 300:
            row.state = DELIVERED
        elif retry_in is None:
            row.state = DEAD
        else:
            row.next_at = attempt.at + retry_in
        return row.state
