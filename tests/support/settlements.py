"""A settlement as the engine hands it in: a call of project 1 that talked from ``start``."""

from __future__ import annotations

from datetime import datetime, timedelta

from cards.clock import utcnow
from cards.db import Database
from cards.services import calls, cardbatch


def talked(
    call_id: str,
    hold_id: int | None,
    talk_s: int,
    *,
    card_id: int,
    caller: str,
    dialed: str,
    start: datetime,
) -> calls.Settlement:
    """The caller hung up ``talk_s`` seconds after both legs were bridged at ``start``."""
    return calls.Settlement(
        call_id=call_id,
        hold_id=hold_id,
        talk_s=talk_s,
        project_id=1,
        caller=caller,
        dialed=dialed,
        arrived_at=start,
        ended_at=start + timedelta(seconds=talk_s),
        hangup_cause="hangup",
        hangup_side="caller",
        card_id=card_id,
        answered_at=start,
        charge_start_at=start,
    )


async def bill_call(
    db: Database,
    serial: str,
    call_id: str,
    seconds: int,
    *,
    dialed: str,
    start: datetime | None = None,
    caller: str = "+4930123456",
) -> calls.Authorization:
    """Authorize a call on the card and, when it got a hold, settle ``seconds`` of talk from
    ``start`` (now by default), as the engine does; the authorization."""
    card_id = (await cardbatch.get_card(db, serial)).id
    start = start or utcnow()
    auth = await calls.authorize(
        db, card_id=card_id, dialed=dialed, caller=caller, call_id=call_id, now=start
    )
    if auth.hold_id is not None:
        done = talked(call_id, auth.hold_id, seconds, card_id=card_id, caller=caller,
                      dialed=dialed, start=start)  # fmt: skip
        await calls.settle(db, done)
    return auth
