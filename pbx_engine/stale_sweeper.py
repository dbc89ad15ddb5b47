"""Holds of calls whose engine died — another engine on the same database, or this one before
a restart — settled at their last checkpoint once they have not been checkpointed for a while;
never while the database may have kept live calls from checkpointing."""

from __future__ import annotations

import asyncio
import logging
from datetime import timedelta

from cards.db import Database
from cards.journal import STORAGE_ERRORS
from cards.models import CallRecord
from cards.services import advisor_claims, reservations
from pbx_engine.clock import Clock

log = logging.getLogger("minutecard.stale")

STALE_HOLD_S = 90
"""A hold not checkpointed for this long (at least three checkpoint intervals) is a dead call's."""
SWEEP_S = 15


def stale_after_s(checkpoint_s: int) -> int:
    return max(STALE_HOLD_S, 3 * checkpoint_s)


class StaleSweeper:
    """Every ``SWEEP_S`` seconds: settle stale holds — but only when the database has answered
    every sweep for a whole stale window, so no live call was kept from checkpointing."""

    def __init__(self, db: Database, clock: Clock, checkpoint_s: int) -> None:
        self.db, self.clock = db, clock
        self.stale_s = stale_after_s(checkpoint_s)
        self.up_since_ms: int | None = None

    async def run(self) -> None:
        while True:
            await asyncio.sleep(SWEEP_S)
            await self.sweep()

    async def sweep(self) -> list[CallRecord]:
        now = self.clock.now_ms()
        trusted = self.up_since_ms is not None and now - self.up_since_ms >= self.stale_s * 1000
        try:
            if trusted:
                records = await reservations.recover_stale(
                    self.db, older_than=timedelta(seconds=self.stale_s)
                )
                for name in await advisor_claims.release_orphans(self.db):
                    log.warning("advisor %s was claimed by a call that is gone: free again", name)
            else:
                await reservations.available_many(self.db, [0])  # does the database answer?
                records = []
        except STORAGE_ERRORS as exc:
            if self.up_since_ms is not None:
                log.warning("stale holds: database away (%s); not swept until it is back", exc)
            self.up_since_ms = None
            return []
        if self.up_since_ms is None:
            self.up_since_ms = now
        for record in records:
            log.warning(
                "settled the hold of call %s at its last checkpoint: its engine is gone",
                record.call_id,
            )
        return records
