"""Ledger throughput: authorize+settle pairs per second on SQLite and on a private PostgreSQL.

Run from the project root: .venv/bin/python -m bench.ledger  (writes bench/results/ledger.json)
Sequential pairs on one card measure the latency-bound rate; 20 cards in parallel the
concurrent one. Each pair is two transactions: authorize (tariff choice and hold), then settle
with its ledger entry and call record.
"""

from __future__ import annotations

import asyncio
import sys
import time
from datetime import UTC, datetime

from bench.common import on_both_databases, write_result
from cards.db import Database
from cards.migrate import upgrade
from cards.services import calls, cardbatch, projects
from rating import Increments

PAIRS = 400
PARALLEL_CARDS = 20
SECRET = b"bench-secret-0123456789abcdef"
T0 = datetime(2026, 11, 1, tzinfo=UTC)
ADVISOR = "+498912345671"


async def prepare(db: Database) -> list[int]:
    await upgrade(db)
    await projects.create_project(db, "bench", "minutes")
    await projects.set_tariff(
        db, "bench", "standard", increments=Increments(1, 1), rates={"fixed": 1}
    )
    await projects.add_number(
        db, "bench", ADVISOR, "advisor", destination="PJSIP/advisor1", tariff="standard"
    )
    cards = await cardbatch.create_cards(db, "bench", PARALLEL_CARDS, 10**9, secret=SECRET)
    return [c.card_id for c in cards]


async def pair(db: Database, card_id: int, call_id: str) -> None:
    auth = await calls.authorize(
        db, card_id=card_id, dialed=ADVISOR, caller="+4930123456", call_id=call_id
    )
    await calls.settle(
        db,
        calls.Settlement(
            call_id=call_id,
            hold_id=auth.hold_id,
            talk_s=61,
            project_id=1,
            caller="+4930123456",
            dialed=ADVISOR,
            arrived_at=T0,
            ended_at=T0,
            hangup_cause="hangup",
            hangup_side="caller",
            card_id=card_id,
            charge_start_at=T0,
        ),
    )


def rate(count: int, elapsed_ns: int) -> int:
    return count * 1_000_000_000 // elapsed_ns


async def measure(url: str) -> dict[str, int]:
    db = Database(url)
    card_ids = await prepare(db)
    start = time.perf_counter_ns()
    for i in range(PAIRS):
        await pair(db, card_ids[0], f"seq-{i}")
    sequential = rate(PAIRS, time.perf_counter_ns() - start)
    per_card = PAIRS // PARALLEL_CARDS

    async def worker(card_id: int) -> None:
        for i in range(per_card):
            await pair(db, card_id, f"par-{card_id}-{i}")

    start = time.perf_counter_ns()
    await asyncio.gather(*(worker(c) for c in card_ids))
    parallel = rate(per_card * PARALLEL_CARDS, time.perf_counter_ns() - start)
    await db.close()
    return {
        "pairs_per_second_sequential": sequential,
        f"pairs_per_second_{PARALLEL_CARDS}_cards_parallel": parallel,
    }


async def main() -> None:
    sqlite, postgres = await on_both_databases("ledger", lambda url, _scratch: measure(url))
    result = {
        "command": ".venv/bin/python -m bench.ledger",
        "python": sys.version.split()[0],
        "pairs": PAIRS,
        "note": "SQLite file in WAL with synchronous=NORMAL; PostgreSQL 15 private cluster "
        "with fsync=off and synchronous_commit=off (a test cluster, not production)",
        "sqlite": sqlite,
        "postgresql": postgres,
    }
    write_result("ledger", result)


if __name__ == "__main__":
    asyncio.run(main())
