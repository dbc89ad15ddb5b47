"""Per-token caps of the balance API: the most one move may be, and the most a token's moves
may add up to in a UTC day; checked in the move's transaction, the daily one with the token's
row locked, so two requests at once cannot both pass it."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from cards.clock import utcnow
from cards.db import Database
from cards.domain import EntryKind
from cards.errors import InvalidInput, NotFound, TokenCapPerDay, TokenCapPerRequest
from cards.models import ApiToken, LedgerEntry
from cards.validate import PG_INTEGER_MAX

CAPPED = (EntryKind.TOPUP, EntryKind.CREDIT, EntryKind.DEBIT, EntryKind.REFUND)
"""What the API moves on a token's word, refunds too (a top-up's bonus is the project's, not
counted)."""


def valid_cap(value: int | None, what: str) -> int | None:
    if value is not None and not 0 < value <= PG_INTEGER_MAX:
        raise InvalidInput(f"{what}: a whole number above 0 in the project's unit, or none")
    return value


async def set_caps(
    db: Database, token_id: int, max_amount: int | None, max_amount_per_day: int | None
) -> ApiToken:
    """Set both caps (None lifts one); in the project's unit, as the API's amounts."""
    async with db.transaction() as session:
        row = await session.get(ApiToken, token_id)
        if row is None:
            raise NotFound(f"no token {token_id}")
        row.max_amount = valid_cap(max_amount, "max amount")
        row.max_amount_per_day = valid_cap(max_amount_per_day, "max amount per day")
        return row


async def check(
    session: AsyncSession, token_id: int, actor: str, amount: int, now: datetime | None = None
) -> None:
    """Refuse ``amount`` past the token's caps. Only a token with a daily cap has its row locked
    to the commit (its moves queue one after another); others' moves stay parallel."""
    row = await session.get(ApiToken, token_id)
    if row is None:
        return  # a move not through a token (tests, tools) has no caps
    if row.max_amount is not None and amount > row.max_amount:
        raise TokenCapPerRequest(
            f"this token moves at most {row.max_amount} in one request; asked {amount}"
        )
    if row.max_amount_per_day is None:
        return
    locked = select(ApiToken).where(ApiToken.id == token_id).with_for_update()
    row = await session.scalar(locked.execution_options(populate_existing=True))
    if row is None or row.max_amount_per_day is None:
        return  # lifted between the two reads
    day = (now or utcnow()).replace(hour=0, minute=0, second=0, microsecond=0)
    moved = await session.scalar(
        select(func.coalesce(func.sum(func.abs(LedgerEntry.amount)), 0)).where(
            LedgerEntry.actor == actor, LedgerEntry.kind.in_(CAPPED), LedgerEntry.at >= day
        )
    )
    left = row.max_amount_per_day - int(moved or 0)
    if amount > left:
        raise TokenCapPerDay(
            f"this token moves at most {row.max_amount_per_day} a day (UTC); "
            f"{max(left, 0)} left today, asked {amount}"
        )
