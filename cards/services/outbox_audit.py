"""The outbox's invariant for the strict audit: a top-up made while a webhook of its project was
subscribed to ``topup.credited`` has that webhook's event (written in the top-up's transaction)."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from cards.domain import EntryKind
from cards.models import Card, LedgerEntry, Webhook, WebhookDelivery
from cards.services.outbox import TOPUP_CREDITED

SETTLING = timedelta(minutes=1)


async def unannounced_topups(session: AsyncSession) -> list[tuple[str, str]]:
    """(webhook, entry) of each top-up missing its event. Sound because a webhook's events never
    change and its deliveries go only with it. Entries of its first minute are left out: a
    top-up stamps its time, then reads the subscribers a few statements later, so a webhook
    committed in between (PostgreSQL does not serialize the two) was rightly not yet its."""
    out: list[tuple[str, str]] = []
    for hook in (await session.scalars(select(Webhook).order_by(Webhook.id))).all():
        if TOPUP_CREDITED not in hook.events.split(","):
            continue
        entries = (
            await session.scalars(
                select(LedgerEntry.id)
                .join(Card, Card.id == LedgerEntry.card_id)
                .where(
                    Card.project_id == hook.project_id,
                    LedgerEntry.kind == EntryKind.TOPUP,
                    LedgerEntry.at >= hook.created_at + SETTLING,
                )
            )
        ).all()
        if not entries:
            continue
        payloads = (
            await session.scalars(
                select(WebhookDelivery.payload).where(
                    WebhookDelivery.webhook_id == hook.id,
                    WebhookDelivery.event_type == TOPUP_CREDITED,
                )
            )
        ).all()
        announced = {p["data"]["entry_id"] for p in payloads}
        out += [(f"webhook {hook.id}", f"top-up entry {e}") for e in entries if e not in announced]
    return out
