"""A settlement as the engine hands it in: a call of project 1 that talked from ``start``."""

from __future__ import annotations

from datetime import datetime, timedelta

from cards.services import calls


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
