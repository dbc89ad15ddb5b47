"""Credit-change signals: a transaction that moves a card's credit says so, in process and to
other processes (PostgreSQL ``NOTIFY``; SQLite readers watch ``PRAGMA data_version``)."""

from __future__ import annotations

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from cards.db import CREDIT_CHANGED

CHANNEL = "minutecard_credit"
"""The PostgreSQL LISTEN/NOTIFY channel; the payload is the card id."""
_NOTIFY = text("SELECT pg_notify(:c, :p)")


async def mark_changed(session: AsyncSession, card_id: int) -> None:
    """Record that this transaction changed ``card_id``'s credit; heard after the commit."""
    changed: set[int] = session.info.setdefault(CREDIT_CHANGED, set())
    if card_id in changed:
        return
    changed.add(card_id)
    if session.bind is not None and session.bind.dialect.name == "postgresql":
        # NOTIFY is transactional: delivered at commit, dropped on rollback.
        await session.execute(_NOTIFY, {"c": CHANNEL, "p": str(card_id)})
