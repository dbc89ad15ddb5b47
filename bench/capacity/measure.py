"""What a capacity step reads from outside the engine: its /metrics (loop lag histogram, calls
refused), PostgreSQL's statistics, and the percentiles the result shows."""

from __future__ import annotations

from dataclasses import dataclass

import aiohttp
import asyncpg

from bench.timers import percentile
from pbx_engine.pressure import LAG_BUCKETS_MS

LAG_KNEE_MS = 20
"""The issue's bound on the event loop's lag p99: the first step past it is the knee."""


@dataclass(frozen=True)
class Scrape:
    lag_cumulative: list[int]
    """Probe samples at or under each bound of LAG_BUCKETS_MS, then all of them."""
    refused: int
    """New calls refused with congestion so far, every reason."""


async def scrape(metrics_url: str) -> Scrape:
    async with aiohttp.ClientSession() as session, session.get(metrics_url) as resp:
        text = await resp.text()
    lines = text.splitlines()
    cumulative = []
    for bound in (*LAG_BUCKETS_MS, "+Inf"):
        marker = f'minutecard_event_loop_lag_ms_bucket{{le="{bound}"}} '
        line = next(ln for ln in lines if ln.startswith(marker))
        cumulative.append(int(float(line.removeprefix(marker))))
    refused = sum(
        int(float(ln.rsplit(" ", 1)[1]))
        for ln in lines
        if ln.startswith("minutecard_calls_refused_total{")
    )
    return Scrape(cumulative, refused)


def lag_pct(before: list[int], after: list[int], pct: int) -> int | str:
    """The bucket bound under which ``pct`` % of the probe's samples in the window fell."""
    counts = [b - a for a, b in zip(before, after, strict=True)]
    total = counts[-1]
    if total == 0:
        return 0
    bounds: tuple[int | str, ...] = (*LAG_BUCKETS_MS, "+Inf")
    for bound, seen in zip(bounds, counts, strict=True):
        if seen * 100 >= total * pct:
            return bound
    return "+Inf"


def past_knee(p99: int | str) -> bool:
    """A lag p99 read as a bucket bound: "≤ 20" is within the bound, the next bucket is past."""
    return p99 == "+Inf" or int(p99) > LAG_KNEE_MS


async def pg_counters(pg_url: str | None) -> tuple[int, int]:
    """(transactions committed, rows updated in reservations): checkpoints update holds."""
    if pg_url is None:
        return 0, 0
    conn = await asyncpg.connect(pg_url.replace("+asyncpg", ""))
    try:
        commits = await conn.fetchval(
            "SELECT xact_commit FROM pg_stat_database WHERE datname = current_database()"
        )
        updates = await conn.fetchval(
            "SELECT n_tup_upd FROM pg_stat_user_tables WHERE relname = 'reservations'"
        )
    finally:
        await conn.close()
    return int(commits), int(updates or 0)


def spread(values: list[int]) -> dict[str, int] | None:
    if not values:
        return None
    return {
        "n": len(values),
        "p50": percentile(values, 50),
        "p99": percentile(values, 99),
        "max": max(values),
    }
