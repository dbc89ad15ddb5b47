"""Top-up → new limit: how long until a running call's hold follows credit added elsewhere.

Run from the project root: .venv/bin/python -m bench.credit  (writes bench/results/credit.json)
One engine (fake ARI, the real CreditWatcher) holds one answered call; 30 top-ups of one minute
are committed, each by the same process (in-process notice), by another connection (SQLite:
``PRAGMA data_version`` seen every 250 ms; PostgreSQL: NOTIFY). The clock runs from the top-up's
commit to the moment the hold in the database covers it, read from outside the engine. A
random pause (0–250 ms, fixed seed) before each top-up keeps them out of step with the check.
"""

from __future__ import annotations

import asyncio
import random
import sys
import time
from pathlib import Path

from sqlalchemy import select

from bench.common import on_both_databases, write_result
from bench.timers import percentile
from cards.db import Database
from cards.models import Reservation
from cards.services import ledger
from testbed.engine_world import World, running_engine
from testbed.flows import activate, connect

TOPUPS = 30
MINUTE = 60


async def held(reader: Database) -> int:
    async with reader.read() as session:
        return int(await session.scalar(select(Reservation.amount)) or 0)


async def measure(world: World, writer: Database, reader: Database) -> dict[str, int]:
    """Milliseconds (to 0.1 ms) from each top-up's commit until the hold covers it."""
    lag_us: list[int] = []
    pause = random.Random(7)
    for i in range(TOPUPS):
        # Top-ups come at random moments, not in step with the watcher's 250 ms check.
        await asyncio.sleep(pause.randrange(0, 250) / 1000)
        target = await held(reader) + MINUTE
        await ledger.topup(
            writer, world.card.card_id, MINUTE, actor="bench", key=f"{id(writer)}-{i}"
        )
        start = time.perf_counter_ns()
        while await held(reader) < target:
            await asyncio.sleep(0.001)
        lag_us.append((time.perf_counter_ns() - start) // 1_000)
    return {
        "p50_us": percentile(lag_us, 50),
        "p95_us": percentile(lag_us, 95),
        "max_us": max(lag_us),
    }


async def both_paths(url: str, tmp: Path) -> dict[str, dict[str, int]]:
    async with running_engine(url, tmp) as world:
        await activate(world)
        await connect(world)
        other, reader = Database(url), Database(url)
        try:
            same = await measure(world, world.db, reader)
            elsewhere = await measure(world, other, reader)
        finally:
            await other.close()
            await reader.close()
    return {"same_process": same, "other_process": elsewhere}


async def main() -> None:
    sqlite, postgres = await on_both_databases("credit", both_paths)
    result = {
        "command": ".venv/bin/python -m bench.credit",
        "python": sys.version.split()[0],
        "topups_per_path": TOPUPS,
        "note": "commit of a one-minute top-up → the live call's hold covers it, read from "
        "another connection polling every 1 ms; SQLite other-process path checks "
        "PRAGMA data_version every 250 ms",
        "sqlite": sqlite,
        "postgresql": postgres,
    }
    write_result("credit", result)


if __name__ == "__main__":
    asyncio.run(main())
