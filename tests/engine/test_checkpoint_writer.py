"""Checkpoints of live calls go to the database together: one transaction per flush (per chunk
of a large one), the latest seconds of each hold, and a failed write told to every call in it."""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from typing import Any

import pytest
from sqlalchemy import select

from cards.db import Database
from cards.models import Reservation
from cards.services import calls
from pbx_engine import checkpoints
from pbx_engine.call import commands as cmd
from pbx_engine.call import events as ev
from pbx_engine.checkpoints import FLUSH_MS, CheckpointWriter
from testbed.fake_ari import FakeClock
from tests.cards.helpers import project_with_cards

ADVISOR = "+498912345671"


class Harness:
    def __init__(self, db: Database) -> None:
        self.clock = FakeClock()
        self.heard: list[tuple[str, ev.Event]] = []
        self.tasks: list[asyncio.Task[None]] = []
        self.writer = CheckpointWriter(
            db, self.clock, lambda call, event: self.heard.append((call, event)), self.spawn
        )

    def spawn(self, job: Coroutine[Any, Any, None], _name: str) -> None:
        self.tasks.append(asyncio.create_task(job))

    async def flush(self) -> None:
        await asyncio.sleep(0)  # the flush task reaches its sleep
        assert self.clock.wake_next(self.clock.now + FLUSH_MS)
        await asyncio.gather(*self.tasks)
        self.tasks.clear()


async def _holds(db: Database, count: int) -> list[int]:
    cards = await project_with_cards(db, value=600, count=count)
    holds = []
    for i, card in enumerate(cards):
        auth = await calls.authorize(
            db, card_id=card.card_id, dialed=ADVISOR, caller=f"+49301234560{i}", call_id=f"c{i}"
        )
        assert auth.hold_id is not None
        holds.append(auth.hold_id)
    return holds


async def _used(db: Database) -> dict[int, int]:
    async with db.read() as session:
        rows = await session.execute(select(Reservation.id, Reservation.used_at_checkpoint))
        return {hold: used for hold, used in rows}


async def test_checkpoints_of_three_calls_are_one_write_of_each_holds_latest(db: Database) -> None:
    holds = await _holds(db, 3)
    h = Harness(db)
    for i, hold in enumerate(holds):
        h.writer.add(f"c{i}", cmd.Checkpoint(hold, 60 * (i + 1)))
    h.writer.add("c0", cmd.Checkpoint(holds[0], 90))  # a later one of the same hold wins
    assert await _used(db) == dict.fromkeys(holds, 0), "nothing written before the flush"
    await h.flush()
    # Minute cards at one unit a second (first block 60 s): 90, 120 and 180 s cost as much.
    assert await _used(db) == {holds[0]: 90, holds[1]: 120, holds[2]: 180}
    assert h.writer.writes == 1 and not h.heard
    h.writer.add("c1", cmd.Checkpoint(holds[1], 150))
    await h.flush()
    assert (await _used(db))[holds[1]] == 150 and h.writer.writes == 2


async def test_a_failed_write_is_told_to_every_call_in_it(db: Database) -> None:
    [hold] = await _holds(db, 1)
    h = Harness(db)
    h.writer.add("c0", cmd.Checkpoint(hold, 60))
    h.writer.add("gone", cmd.Checkpoint(hold + 1_000, 60))  # a hold the database never had
    await h.flush()
    assert sorted(call for call, _ in h.heard) == ["c0", "gone"]
    assert all(isinstance(e, ev.CommandFailed) and "no hold" in e.reason for _, e in h.heard)
    assert (await _used(db))[hold] == 0 and h.writer.writes == 0


async def test_a_large_flush_is_written_in_chunks_and_a_bad_chunk_fails_alone(
    db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(checkpoints, "CHUNK", 2)
    holds = await _holds(db, 5)
    h = Harness(db)
    for i, hold in enumerate(holds):
        h.writer.add(f"c{i}", cmd.Checkpoint(hold, 60 + i))
    h.writer.add("gone", cmd.Checkpoint(holds[-1] + 1_000, 60))  # in the third chunk
    await h.flush()
    used = await _used(db)
    assert [used[hold] for hold in holds[:4]] == [60, 61, 62, 63]
    assert used[holds[4]] == 0, "written with the unknown hold: rolled back with it"
    assert sorted(call for call, _ in h.heard) == ["c4", "gone"]
    assert h.writer.writes == 2
