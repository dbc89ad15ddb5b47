"""A running engine against the fake ARI, real cards services, and the fake clock: the engine
tests' world, and the API and credit benches'."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cards.db import Database
from cards.journal import Journal
from cards.services.cardbatch import NewCard
from pbx_engine.ari.client import AriClient
from pbx_engine.credit_watch import CreditWatcher
from pbx_engine.engine import Engine, EngineConfig
from testbed.astro import SECRET, astro_project
from testbed.fake_ari import PASSWORD, USER, FakeAri, FakeClock

CALLER = "+4930123456"
MOBILE_CALLER = "+4915112345678"


async def eventually(check: Callable[[], object], *, what: str = "condition") -> None:
    """Wait for an asynchronous effect (an event over the loopback WebSocket) to show."""
    for _ in range(500):
        if check():
            return
        await asyncio.sleep(0.01)
    raise AssertionError(f"timed out waiting for {what}")


async def engine_idle(engine: Engine) -> None:
    """Let scheduled callbacks run, then wait until no event is being handled."""
    for _ in range(5):
        await asyncio.sleep(0)
    await eventually(lambda: engine.busy == 0, what="engine idle")


def engine_config(tmp_path: Path) -> EngineConfig:
    """Test settings: the journal in the test's directory, settle retries in milliseconds."""
    return EngineConfig(
        pin_secret=SECRET,
        journal=Journal(tmp_path / "journal.jsonl"),
        settle_delays_s=(0.01, 0.02),
    )


@dataclass
class World:
    db: Database
    ari: FakeAri
    clock: FakeClock
    engine: Engine
    card: NewCard

    async def quiet(self) -> None:
        await engine_idle(self.engine)

    async def advance(self, ms: int) -> None:
        """Move the fake clock, letting every timer due on the way fire at its instant."""
        target = self.clock.now + ms
        while self.clock.wake_next(target):
            await self.quiet()
        self.clock.now = target
        await self.quiet()

    def plays(self) -> list[str]:
        return [r.params["media"] for r in self.ari.made("POST", "/play/")]


@asynccontextmanager
async def running_engine(
    url: str,
    tmp_path: Path,
    *,
    credit: int = 600,
    unit: str = "minutes",
    settings: dict[str, Any] | None = None,
) -> AsyncIterator[World]:
    """The engine's tasks as ``cardengine run`` starts them (events, credit watch, journal
    replay every 50 ms), on a fresh astro project in ``url``."""
    db = Database(url)
    card = await astro_project(db, secret=SECRET, credit=credit, unit=unit, settings=settings)
    clock = FakeClock()
    fake = FakeAri(clock)
    await fake.start()
    async with AriClient(fake.url, USER, PASSWORD, "minutecard") as client:
        engine = Engine(client, db, clock, engine_config(tmp_path))
        engine.settler.replay_every_s = 0.05
        watcher = CreditWatcher(db, engine.credit_changed, engine.recheck_credit)
        tasks = [
            asyncio.create_task(engine.run()),
            asyncio.create_task(watcher.run()),
            asyncio.create_task(engine.settler.replay_forever()),
        ]
        # Connected once the event filter is set too (it is asked for after the WebSocket).
        await eventually(lambda: client.connected, what="events WebSocket and event filter")
        try:
            yield World(db, fake, clock, engine, card)
        finally:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
    await fake.stop()
    await db.close()
