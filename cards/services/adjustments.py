"""An operator's manual correction of a balance (±), audited (``cardadmin adjust``)."""

from __future__ import annotations

from datetime import datetime

from cards import validate
from cards.amounts import show_amount
from cards.db import Database
from cards.domain import EntryKind
from cards.errors import InvalidInput
from cards.models import Project
from cards.services import ledger
from cards.services.customers import after_charge
from cards.services.operator_log import note
from cards.validate import PG_INTEGER_MAX


async def adjust(
    db: Database,
    card_id: int,
    amount: int,
    *,
    actor: str,
    reason: str,
    key: str | None = None,
    now: datetime | None = None,
) -> ledger.TopUp:
    """An operator's manual correction (±), with its audit record (``history``)."""
    reason = validate.reason(reason)
    validate.whole(amount, "adjustment", low=-PG_INTEGER_MAX)
    if amount == 0:
        raise InvalidInput("an adjustment needs a non-zero amount")
    key = ledger.cli_key(key) if key is not None else None
    async with db.transaction() as session:
        card = await ledger.locked_card(session, card_id)
        kind = EntryKind.ADJUST
        if key is not None and (
            done := await ledger.replayed(session, key, kind, card_id, amount, reason)
        ):
            return ledger.TopUp(done, replayed=True)
        entry = await ledger.move_locked(
            session, card, kind, amount, actor=actor, reason=reason, key=key, now=now
        )
        if amount < 0:
            await after_charge(session, card, entry.at)  # a postpaid card may pass its threshold
        unit = (await session.get_one(Project, card.project_id)).unit
        await note(
            session, actor=actor, action="adjust", project_id=card.project_id, card=card,
            subject=f"adjusted by {'+' if amount > 0 else ''}{show_amount(amount, unit)}",
            reason=reason, now=entry.at,
        )  # fmt: skip
        return ledger.TopUp([entry])
