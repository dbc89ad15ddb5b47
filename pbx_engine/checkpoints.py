"""Checkpoints of all live calls written together: one transaction a second, not one per call.

Every talking call checkpoints every few seconds; at 200 calls that was 40 write transactions
a second, each costing more than the UPDATE inside it. The writer gathers what arrives within
``FLUSH_MS`` (the latest seconds per hold) and writes it at once; a checkpoint therefore reaches
the database at most ``FLUSH_MS`` after its instant. A failed write comes back to each of its
calls as ``CommandFailed`` (the machine keeps talking; the next checkpoint tries again).
A large batch is written in chunks of ``CHUNK`` holds, one transaction each: rating and binding
1,100 holds at once held the event loop for tens of ms at 5,600 live calls (bench.capacity).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Coroutine
from typing import Any

from cards.db import Database
from cards.errors import CardsError
from cards.journal import STORAGE_ERRORS
from cards.services import calls
from pbx_engine.call import commands as cmd
from pbx_engine.call import events as ev
from pbx_engine.clock import Clock

log = logging.getLogger("minutecard.checkpoints")

FLUSH_MS = 1000
CHUNK = 250

Sink = Callable[[str, ev.Event], None]
Spawn = Callable[[Coroutine[Any, Any, None], str], None]


class CheckpointWriter:
    def __init__(self, db: Database, clock: Clock, sink: Sink, spawn: Spawn) -> None:
        self.db, self.clock, self.sink, self.spawn = db, clock, sink, spawn
        self._pending: dict[int, tuple[str, cmd.Checkpoint]] = {}
        self.writes = 0
        """Transactions written (a figure for tests and the load bench: far fewer than calls)."""

    def add(self, call_id: str, checkpoint: cmd.Checkpoint) -> None:
        """Queue a call's checkpoint; a later one of the same hold replaces it."""
        if not self._pending:
            self.spawn(self._flush_soon(), "checkpoints")
        self._pending[checkpoint.hold_id] = (call_id, checkpoint)

    async def _flush_soon(self) -> None:
        await self.clock.sleep_until(self.clock.now_ms() + FLUSH_MS)
        batch, self._pending = list(self._pending.items()), {}
        for start in range(0, len(batch), CHUNK):
            await self._write(dict(batch[start : start + CHUNK]))

    async def _write(self, chunk: dict[int, tuple[str, cmd.Checkpoint]]) -> None:
        try:
            await calls.checkpoint(self.db, {hold: c.talk_s for hold, (_, c) in chunk.items()})
        except (CardsError, *STORAGE_ERRORS) as exc:
            log.error("%d checkpoints not written: %s", len(chunk), exc)
            now = self.clock.now_ms()
            for call_id, c in chunk.values():
                self.sink(call_id, ev.CommandFailed(c, str(exc) or type(exc).__name__, now))
        else:
            self.writes += 1
