"""The audit trail of operator changes: each change's service writes one record in the change's
own transaction (who, what, on which card or project, why). ``reports.history`` reads it."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from cards import validate
from cards.clock import utcnow
from cards.models import Card, OperatorAction


async def note(
    session: AsyncSession,
    *,
    actor: str,
    action: str,
    project_id: int,
    subject: str,
    card: Card | None = None,
    reason: str | None = None,
    now: datetime | None = None,
) -> OperatorAction:
    record = OperatorAction(
        at=now or utcnow(),
        actor=validate.label(actor, "actor"),
        action=action,
        project_id=project_id,
        card_id=card.id if card else None,
        subject=subject[:200],
        reason=validate.reason(reason) if reason else None,
    )
    session.add(record)
    await session.flush()
    return record
