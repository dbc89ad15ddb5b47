"""The balance API: top-ups per second, and API top-up → the running call's new limit.

Run from the project root: .venv/bin/python -m bench.api  (writes bench/results/api.json)
One engine (fake ARI) holds one answered call of a minute card; the API is served from the same
database handle (SQLite) or from another engine's pool (PostgreSQL). Latency runs from sending
the POST to the moment the hold in the database covers the new minute (30 top-ups, random
pauses); throughput is 200 top-ups of other cards, one client after another and 20 at once;
then 400 top-ups at 1, 10 and 50 concurrent clients (top-ups/s, p50/p95/p99), side by side with
a bare aiohttp handler on the same database that only writes one row (bench/bare.py).
"""

from __future__ import annotations

import asyncio
import os
import random
import sys
import time
from pathlib import Path
from typing import Any

import aiohttp

from bench.bare import serve_bare
from bench.common import on_both_databases, write_result
from bench.credit import held
from bench.timers import percentile
from cards.db import Database
from cards.journal import Journal
from cards.services import cardbatch, tokens
from pbx_engine.api.app import Api, Status, serve
from testbed.astro import SECRET
from testbed.engine_world import World, running_engine
from testbed.flows import activate, connect
from testbed.postgres import free_port

TOPUPS = 30
REQUESTS = 200
PARALLEL = 20
CLIENTS = (1, 10, 50)
PER_LEVEL = 400
"""Top-ups at each level of concurrent clients (keep-alive, one card each)."""
BOX_NOTE = (
    "2 cores; other developers' tests and benches ran on the box at the same time (the load "
    "average at the start is load_average_1_5_15)"
)


async def post(session: aiohttp.ClientSession, url: str, token: str, key: str, amount: int) -> None:
    headers = {"Authorization": f"Bearer {token}", "Idempotency-Key": key}
    async with session.post(url, json={"amount": amount}, headers=headers) as resp:
        if resp.status != 201:
            raise RuntimeError(f"{resp.status}: {await resp.text()}")


async def latency(world: World, base: str, token: str, reader: Database) -> dict[str, int]:
    lag_us: list[int] = []
    pause = random.Random(7)
    url = f"{base}/v1/cards/{world.card.serial}/topups"
    async with aiohttp.ClientSession() as session:
        for i in range(TOPUPS):
            await asyncio.sleep(pause.randrange(0, 250) / 1000)
            target = await held(reader) + 60
            start = time.perf_counter_ns()
            await post(session, url, token, f"lat-{i}", 60)
            while await held(reader) < target:
                await asyncio.sleep(0.001)
            lag_us.append((time.perf_counter_ns() - start) // 1_000)
    return {"p50_us": percentile(lag_us, 50), "p95_us": percentile(lag_us, 95),
            "max_us": max(lag_us)}  # fmt: skip


async def throughput(base: str, token: str, serials: list[str]) -> dict[str, int]:
    async with aiohttp.ClientSession() as session:
        start = time.perf_counter_ns()
        for i in range(REQUESTS):
            url = f"{base}/v1/cards/{serials[i % len(serials)]}/topups"
            await post(session, url, token, f"seq-{i}", 60)
        sequential = REQUESTS * 1_000_000_000 // (time.perf_counter_ns() - start)

        async def client(c: int) -> None:
            for i in range(REQUESTS // PARALLEL):
                url = f"{base}/v1/cards/{serials[c % len(serials)]}/topups"
                await post(session, url, token, f"par-{c}-{i}", 60)

        start = time.perf_counter_ns()
        await asyncio.gather(*(client(c) for c in range(PARALLEL)))
        parallel = REQUESTS * 1_000_000_000 // (time.perf_counter_ns() - start)
    return {"topups_per_second_one_client": sequential,
            f"topups_per_second_{PARALLEL}_clients": parallel}  # fmt: skip


async def one_level(
    base: str, token: str, serials: list[str], tag: str, clients: int
) -> dict[str, int]:
    """Top-ups/s and per-request latency (p50/p95/p99, µs) with ``clients`` at once."""
    took_us: list[int] = []
    connector = aiohttp.TCPConnector(limit=clients)
    async with aiohttp.ClientSession(connector=connector) as session:

        async def client(c: int) -> None:
            url = f"{base}/v1/cards/{serials[c]}/topups"
            for i in range(PER_LEVEL // clients):
                start = time.perf_counter_ns()
                await post(session, url, token, f"{tag}-{clients}-{c}-{i}", 60)
                took_us.append((time.perf_counter_ns() - start) // 1_000)

        start = time.perf_counter_ns()
        await asyncio.gather(*(client(c) for c in range(clients)))
        elapsed_ns = time.perf_counter_ns() - start
    return {
        "topups_per_second": len(took_us) * 1_000_000_000 // elapsed_ns,
        **{f"p{p}_us": percentile(took_us, p) for p in (50, 95, 99)},
    }


async def at_levels(base: str, token: str, serials: list[str], tag: str) -> dict[str, Any]:
    return {
        f"{clients}_clients": await one_level(base, token, serials, tag, clients)
        for clients in CLIENTS
    }


def ratios(api: dict[str, Any], bare: dict[str, Any]) -> dict[str, Any]:
    """The bare handler's top-ups/s over the API's (how many times the API costs), per level."""
    return {
        level: round(bare[level]["topups_per_second"] / max(1, api[level]["topups_per_second"]), 2)
        for level in api
    }


async def side_by_side(api_db: Database, base: str, token: str) -> dict[str, Any]:
    cards = await cardbatch.create_cards(api_db, "astro", max(CLIENTS), 600, secret=SECRET)
    serials = [c.serial for c in cards]
    api = await at_levels(base, token, serials, "lvl")
    port = free_port()
    runner = await serve_bare(api_db, port)
    try:
        bare = await at_levels(f"http://127.0.0.1:{port}", token, serials, "bare")
    finally:
        await runner.cleanup()
    return {"api": api, "bare_one_row": bare, "bare_over_api": ratios(api, bare)}


async def run(url: str, tmp: Path) -> dict[str, Any]:
    other_pool = not url.startswith("sqlite")  # PostgreSQL: the API is another engine's
    async with running_engine(url, tmp) as world:
        await activate(world)
        await connect(world)
        api_db = Database(url) if other_pool else world.db
        reader = Database(url)
        cards = await cardbatch.create_cards(api_db, "astro", PARALLEL, 600, secret=SECRET)
        token, _ = await tokens.create(api_db, "astro", "write")
        status = Status(bool, int, int, Journal(tmp / "api-journal.jsonl"))
        port = free_port()
        runner = await serve(Api(api_db, status), "127.0.0.1", port)
        base = f"http://127.0.0.1:{port}"
        try:
            result = {
                "api_topup_to_new_limit": await latency(world, base, token, reader),
                **await throughput(base, token, [c.serial for c in cards]),
                "concurrent_clients": await side_by_side(api_db, base, token),
            }
        finally:
            await runner.cleanup()
            await reader.close()
            if other_pool:
                await api_db.close()
    return result


async def main() -> None:
    sqlite, postgres = await on_both_databases("api", run)
    result = {
        "command": ".venv/bin/python -m bench.api",
        "python": sys.version.split()[0],
        "note": "SQLite: the API on the engine's own database handle; PostgreSQL: the API on "
        "another pool (another engine), the call hears it by NOTIFY. concurrent_clients: "
        "bare_over_api is how many times the bare one-row handler's rate the API's is below",
        "box": BOX_NOTE,
        "load_average_1_5_15": [round(x, 2) for x in os.getloadavg()],
        "sqlite": sqlite,
        "postgresql": postgres,
    }
    write_result("api", result)


if __name__ == "__main__":
    asyncio.run(main())
