"""Settling never drops money: retry with backoff, then the local journal, replayed later."""

from __future__ import annotations

import asyncio
import logging
from collections import Counter
from collections.abc import Sequence

from cards.db import Database
from cards.journal import STORAGE_ERRORS, Journal
from cards.services.calls import Settlement, settle

log = logging.getLogger("minutecard.settle")

RETRY_DELAYS_S = (0.2, 0.5, 1.0, 2.0, 4.0)
REPLAY_EVERY_S = 5.0


class Settler:
    def __init__(
        self,
        db: Database,
        journal: Journal,
        *,
        delays: Sequence[float] = RETRY_DELAYS_S,
        replay_every_s: float = REPLAY_EVERY_S,
    ) -> None:
        self.db, self.journal = db, journal
        self.delays, self.replay_every_s = tuple(delays), replay_every_s
        self.retries = 0
        self.journaled = 0
        self.outcomes: Counter[str] = Counter()
        """Settled calls by the engine's word for how they ended (``advisor_busy``, ``hangup``…)."""
        self.billed_seconds = 0

    async def settle(self, settlement: Settlement) -> None:
        """Bill the call; on a database that stays away, journal it (the journal is the bill)."""
        for attempt, delay in enumerate((*self.delays, None)):
            try:
                record = await settle(self.db, settlement)
            except STORAGE_ERRORS as exc:
                if delay is None:
                    log.error(
                        "call %s: settle failed %d times (%s); kept in the journal %s",
                        settlement.call_id,
                        attempt + 1,
                        exc,
                        self.journal.path,
                    )
                    self.journal.append(settlement)
                    self.journaled += 1
                    return
                self.retries += 1
                log.warning(
                    "call %s: settle failed (%s), retry in %s s", settlement.call_id, exc, delay
                )
                await asyncio.sleep(delay)
            else:
                if attempt:
                    log.info("call %s: settled after %d retries", settlement.call_id, attempt)
                self.outcomes[(record.hangup_cause or "unknown").split(":", 1)[0]] += 1
                self.billed_seconds += record.billed_seconds
                return

    async def replay_forever(self) -> None:
        """Apply journaled settlements as soon as the database takes them again."""
        while True:
            if self.journal.path.exists():
                result = await self.journal.replay(self.db)
                if result.applied:
                    log.info(
                        "journal: %d settlements applied, %d left", result.applied, result.left
                    )
            await asyncio.sleep(self.replay_every_s)
