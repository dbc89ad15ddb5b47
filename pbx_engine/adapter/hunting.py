"""The hunt's commands (issue 23) → the advisor state in the database, and back as events."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from cards.db import Database
from cards.services import advisor_claims
from pbx_engine.call import commands as cmd
from pbx_engine.call import events as ev


async def run(
    db: Database, call_id: str, c: cmd.Command, now_ms: int, when: Callable[[int], datetime]
) -> ev.Event | None:
    """Carry out a hunt command; ``when`` turns an engine instant into a wall-clock time."""
    match c:
        case cmd.ClaimAdvisors():
            offer = await advisor_claims.claim(
                db, call_id, c.dialed, c.tried, extension=c.extension, now=when(now_ms)
            )
            return ev.AdvisorsOffered(
                tuple(
                    ev.Offered(o.advisor_id, o.name, o.dial_string, o.tariff_id)
                    for o in offer.candidates
                ),
                offer.ring_timeout_s,
                offer.overall_timeout_s,
                offer.wrapup_s,
                now_ms,
                offer.extension_missed,
            )
        case cmd.AdvisorTalking():
            await advisor_claims.answered(db, call_id, c.advisor_id, now=when(now_ms))
        case cmd.ReleaseAdvisors():
            await advisor_claims.release(db, call_id, c.advisor_ids, now=when(now_ms))
        case cmd.RecordAttempts():
            rows = [
                advisor_claims.AttemptRow(
                    a.advisor_id, a.advisor, a.dial_string, a.outcome, when(a.started_ms), a.ring_ms
                )
                for a in c.attempts
            ]
            await advisor_claims.finish(
                db, call_id, rows, answered=c.answered, wrapup_s=c.wrapup_s, now=when(now_ms)
            )
    return None
