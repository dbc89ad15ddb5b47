"""One step of a ramp on one or more engines at once: raise each to the step's live calls at the
set-up rate, hold there (with churn: a caller hangs up for every new call), and measure the hold
per engine from outside."""

from __future__ import annotations

import asyncio
import random
from dataclasses import dataclass
from itertools import accumulate
from typing import Any

from bench.capacity.measure import lag_pct, pg_counters, scrape, spread
from bench.capacity.run import Engine, Ramp
from bench.load import procstat
from pbx_engine.pressure import Pressure


@dataclass
class Held:
    setups: int = 0
    churned: int = 0
    live_ms: int = 0
    """Live calls × milliseconds over the hold (the CPU per live call-second divides by it)."""


async def _at(t0: float, k: int, rate: int) -> None:
    """Sleep to tick ``k`` of a schedule fixed at ``t0``: late ticks do not push later ones."""
    loop = asyncio.get_running_loop()
    await asyncio.sleep(max(0.0, t0 + k / rate - loop.time()))


async def raise_to(engine: Engine, target: int, ramp: Ramp, rng: random.Random) -> None:
    """Set up calls at the rate until ``target`` are live; gives up after twice the time it
    should take (an engine that sheds or fails calls never gets there)."""
    loop = asyncio.get_running_loop()
    t0, k = loop.time(), 0
    missing = max(0, target - engine.standin.live_calls)
    give_up = t0 + 10 + 2 * missing / ramp.rate_per_s
    while engine.standin.live_calls < target and engine.has_cards() and loop.time() < give_up:
        engine.start_one(rng, ramp.talk_mean_s)
        k += 1
        await _at(t0, k, ramp.rate_per_s)


async def hold(engine: Engine, target: int, ramp: Ramp, rng: random.Random, seconds: int) -> Held:
    """``seconds`` at ``target`` live calls: a new call each tick of the rate (with churn, the
    caller of a random talking call hangs up first); without churn only ended calls are
    replaced."""
    t0 = asyncio.get_running_loop().time()
    held = Held()
    for k in range(1, seconds * ramp.rate_per_s + 1):
        full = engine.standin.live_calls >= target
        if full and ramp.churn and engine.end_random(rng):
            held.churned += 1
        if (ramp.churn or not full) and engine.has_cards():
            engine.start_one(rng, ramp.talk_mean_s)
            held.setups += 1
        await _at(t0, k, ramp.rate_per_s)
        held.live_ms += engine.standin.live_calls * 1000 // ramp.rate_per_s
    return held


@dataclass
class Before:
    lag: list[int]
    refused: int
    cpu_ms: int


async def _before(engine: Engine) -> Before:
    got = await scrape(engine.metrics_url)
    return Before(got.lag_cumulative, got.refused, procstat.cpu_ms(engine.proc.pid))


async def step(
    engines: list[Engine], target: int, ramp: Ramp, rng: random.Random, own: Pressure,
    pg_url: str | None,
) -> dict[str, Any]:  # fmt: skip
    """Every engine to ``target`` live calls and held there ``ramp.hold_s``; per engine the
    hold's figures, and the database's (shared) counters."""
    for e in engines:
        await e.ensure_cards(ramp.cards_for(target - e.standin.live_calls, ramp.hold_s))
    loop = asyncio.get_running_loop()
    ramp_t0 = loop.time()
    refused0 = [(await scrape(e.metrics_url)).refused for e in engines]
    starts = [e.standin.clock.now for e in engines]
    await asyncio.gather(*(raise_to(e, target, ramp, rng) for e in engines))
    ramp_ms = int((loop.time() - ramp_t0) * 1000)
    before = [await _before(e) for e in engines]
    own0 = list(accumulate(own.lag_counts))
    pg0 = await pg_counters(pg_url)
    t0 = loop.time()
    helds = await asyncio.gather(*(hold(e, target, ramp, rng, ramp.hold_s) for e in engines))
    hold_ms = max(int((loop.time() - t0) * 1000), 1)
    own1 = list(accumulate(own.lag_counts))
    pg1 = await pg_counters(pg_url)
    per_engine = []
    for e, b, held, start, refused in zip(engines, before, helds, starts, refused0, strict=True):
        after = await scrape(e.metrics_url)
        cpu = procstat.cpu_ms(e.proc.pid) - b.cpu_ms
        live_now = e.standin.live_calls
        rss = procstat.rss_kib(e.proc.pid)
        end = e.standin.clock.now
        first_cmd = [
            t.first_command_ms - t.started_ms
            for t in e.standin.times.values()
            if start <= t.started_ms < end and t.first_command_ms is not None
        ]
        per_engine.append({
            "live_calls": live_now,
            "setups_in_hold": held.setups,
            "setups_per_s_in_hold": held.setups * 1000 // hold_ms,
            "caller_hangups_in_hold": held.churned,
            "refused_in_step": after.refused - refused,
            "cards_left": e.cards_left(),
            "event_loop_lag_ms": {
                "p50": lag_pct(b.lag, after.lag_cumulative, 50),
                "p99": lag_pct(b.lag, after.lag_cumulative, 99),
            },
            "stasis_start_to_first_command_ms": spread(first_cmd),
            "engine_cpu_ms_per_s": cpu * 1000 // hold_ms,
            "engine_cpu_us_per_live_call_second": cpu * 1_000_000 // max(held.live_ms, 1),
            "engine_rss_kib": rss,
            "engine_rss_kib_per_live_call": (rss - e.rss_start) // max(live_now, 1),
            "window_ms": (start, end),
        })  # fmt: skip
    return {
        "target": target,
        "ramp_ms": ramp_ms,
        "hold_ms": hold_ms,
        "standin_loop_lag_ms": {"p50": lag_pct(own0, own1, 50), "p99": lag_pct(own0, own1, 99)},
        "db_commits_per_s": (pg1[0] - pg0[0]) * 1000 // hold_ms if pg_url else None,
        "checkpoint_row_updates_per_s": (pg1[1] - pg0[1]) * 1000 // hold_ms if pg_url else None,
        "engines": per_engine,
    }
