"""One capacity ramp: a real ``cardengine run`` against the stand-in ARI, live calls raised step by
step at a set-up rate, each step held and measured from outside (the stand-in's instants, the
engine's /proc and /metrics, PostgreSQL's statistics)."""

from __future__ import annotations

import asyncio
import os
import random
import signal
import sys
import time
from dataclasses import dataclass, field
from itertools import accumulate
from pathlib import Path
from typing import Any

import aiohttp
import asyncpg
from sqlalchemy import select

from bench.capacity.standin import StandIn, WallClock
from bench.load import procstat
from bench.load.world import callers
from bench.timers import percentile
from cards.clock import aware
from cards.db import Database
from cards.models import CallRecord
from cards.services import activation, cardbatch
from pbx_engine.clock import RealClock
from pbx_engine.pressure import LAG_BUCKETS_MS, Pressure, ShedLimits, probe_loop_lag
from testbed.astro import ADVISOR_NO, SECRET, astro_project
from testbed.fake_ari import PASSWORD, USER
from testbed.postgres import free_port

BIN = Path(sys.executable).parent


@dataclass
class Ramp:
    steps: list[int]
    rate_per_s: int
    hold_s: int
    talk_mean_s: int
    credit_s: tuple[int, ...]
    """Cards are made with these credits (seconds, in turn): calls that talk longer than their
    credit are ended by the engine, which is how its hang-up instants get judged."""
    seed: int = 7


@dataclass
class Live:
    standin: StandIn
    engine: asyncio.subprocess.Process
    metrics_url: str
    pg_url: str | None
    credit_of: dict[str, int]
    lines: list[str]
    started: int = 0
    enders: set[asyncio.Task[None]] = field(default_factory=set)
    own: Pressure = field(default_factory=lambda: Pressure(RealClock(), ShedLimits()))
    """The stand-in's own loop lag: its instants are only as good as its loop is on time."""


async def start_engine(
    standin: StandIn, url: str, work: Path, api_port: int
) -> asyncio.subprocess.Process:
    config = work / "engine.toml"
    config.write_text(
        f'[ari]\nurl = "{standin.url}"\nuser = "{USER}"\n\n'
        '[engine]\ndrain_seconds = 0\nlog_level = "WARNING"\n\n'
        f"[api]\nport = {api_port}\n"
    )
    env = {
        **os.environ,
        "MINUTECARD_DATABASE_URL": url,
        "MINUTECARD_ARI_PASSWORD": PASSWORD,
        "MINUTECARD_PIN_SECRET": SECRET.decode(),
        "MINUTECARD_JOURNAL": str(work / "journal.jsonl"),
    }
    log = (work / "engine.log").open("wb")
    proc = await asyncio.create_subprocess_exec(
        str(BIN / "cardengine"), "run", "--config", str(config), env=env, stderr=log
    )
    for _ in range(200):
        if standin.connects and standin.allowed is not None:
            return proc
        await asyncio.sleep(0.05)
    raise RuntimeError(f"cardengine did not connect to the stand-in (log: {work / 'engine.log'})")


async def cards(url: str, count: int, ramp: Ramp) -> dict[str, int]:
    """One card and bound line per call (project astro: 1 card unit a second); the credit of
    each call's card in seconds, by the caller's channel."""
    db = Database(url)
    credit_of: dict[str, int] = {}
    try:
        await astro_project(db, secret=SECRET, credit=ramp.credit_s[0])
        lines = callers(count)
        kinds = len(ramp.credit_s)
        for k, credit in enumerate(ramp.credit_s):
            mine = list(range(k, count, kinds))
            made = await cardbatch.create_cards(db, "astro", len(mine), credit, secret=SECRET)
            for i, card in zip(mine, made, strict=True):
                await activation.activate(db, "astro", lines[i], card.pin, secret=SECRET)
                credit_of[f"cap{i}"] = credit
    finally:
        await db.close()
    return credit_of


async def _lag_buckets(metrics_url: str) -> list[int]:
    async with aiohttp.ClientSession() as session, session.get(metrics_url) as resp:
        text = await resp.text()
    cumulative = []
    for bound in (*LAG_BUCKETS_MS, "+Inf"):
        marker = f'minutecard_event_loop_lag_ms_bucket{{le="{bound}"}} '
        line = next(ln for ln in text.splitlines() if ln.startswith(marker))
        cumulative.append(int(float(line.removeprefix(marker))))
    return cumulative


def _lag_pct(before: list[int], after: list[int], pct: int) -> int | str:
    """The bucket bound under which ``pct`` % of the probe's samples in the window fell."""
    counts = [b - a for a, b in zip(before, after, strict=True)]
    total = counts[-1]
    if total == 0:
        return 0
    for bound, seen in zip((*LAG_BUCKETS_MS, "+Inf"), counts, strict=True):
        if seen * 100 >= total * pct:
            return bound
    return "+Inf"


async def _pg_counters(pg_url: str | None) -> tuple[int, int]:
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


async def _call(live: Live, i: int, talk_s: int) -> None:
    channel = f"cap{i}"
    await live.standin.call_in(channel, ADVISOR_NO, live.lines[i])
    await asyncio.sleep(talk_s)
    await live.standin.caller_hangs_up(channel)


def _start_one(live: Live, rng: random.Random, ramp: Ramp) -> None:
    i = live.started
    live.started += 1
    talk_s = max(1, int(rng.expovariate(1 / ramp.talk_mean_s)))
    task = asyncio.create_task(_call(live, i, talk_s))
    live.enders.add(task)
    task.add_done_callback(live.enders.discard)


async def step(live: Live, target: int, ramp: Ramp, rng: random.Random) -> dict[str, Any]:
    """Raise live calls to ``target`` at the set-up rate, then hold it for ``hold_s`` (calls that
    end are replaced at the same rate) and measure the hold."""
    gap = 1 / ramp.rate_per_s
    step_start_ms = live.standin.clock.now
    while live.standin.live() < target and live.started < len(live.credit_of):
        _start_one(live, rng, ramp)
        await asyncio.sleep(gap)
    pid = live.engine.pid
    lag0, cpu0 = await _lag_buckets(live.metrics_url), procstat.cpu_ms(pid)
    own0 = list(accumulate(live.own.lag_counts))
    pg0 = await _pg_counters(live.pg_url)
    t0, started0, live_ms = time.monotonic_ns(), live.started, 0
    window_start_ms = live.standin.clock.now
    for _ in range(ramp.hold_s * ramp.rate_per_s):
        if live.standin.live() < target and live.started < len(live.credit_of):
            _start_one(live, rng, ramp)
        await asyncio.sleep(gap)
        live_ms += live.standin.live() * 1000 // ramp.rate_per_s
    elapsed_ms = (time.monotonic_ns() - t0) // 1_000_000
    live_now = live.standin.live()
    cpu = procstat.cpu_ms(pid) - cpu0
    lag1 = await _lag_buckets(live.metrics_url)
    own1 = list(accumulate(live.own.lag_counts))
    pg1 = await _pg_counters(live.pg_url)
    window_end_ms = live.standin.clock.now
    first_cmd = [
        t.first_command_ms - t.started_ms
        for t in live.standin.times.values()
        if step_start_ms <= t.started_ms < window_end_ms and t.first_command_ms is not None
    ]
    seconds = max(elapsed_ms, 1) / 1000
    return {
        "live_calls": live_now,
        "setups_in_hold": live.started - started0,
        "hold_ms": elapsed_ms,
        "event_loop_lag_ms": {"p50": _lag_pct(lag0, lag1, 50), "p99": _lag_pct(lag0, lag1, 99)},
        "standin_loop_lag_ms": {"p50": _lag_pct(own0, own1, 50), "p99": _lag_pct(own0, own1, 99)},
        "stasis_start_to_first_command_ms": _spread(first_cmd),
        "ramp_ms": window_start_ms - step_start_ms,
        "window_ms": (window_start_ms, window_end_ms),
        "engine_cpu_ms_per_s": int(cpu / seconds),
        "engine_cpu_us_per_live_call_second": cpu * 1_000_000 // max(live_ms, 1),
        "engine_rss_kib": procstat.rss_kib(pid),
        "db_commits_per_s": int((pg1[0] - pg0[0]) / seconds) if live.pg_url else None,
        "checkpoint_row_updates_per_s": int((pg1[1] - pg0[1]) / seconds) if live.pg_url else None,
    }


def _spread(values: list[int]) -> dict[str, int] | None:
    if not values:
        return None
    return {
        "n": len(values),
        "p50": percentile(values, 50),
        "p99": percentile(values, 99),
        "max": max(values),
    }


async def ramp_run(url: str, pg_url: str | None, work: Path, ramp: Ramp) -> dict[str, Any]:
    count = max(ramp.steps) * 2
    credit_of = await cards(url, count, ramp)
    standin = StandIn(WallClock())  # type: ignore[arg-type]
    await standin.start()
    api_port = free_port()
    engine = await start_engine(standin, url, work, api_port)
    rss_start = procstat.rss_kib(engine.pid)
    live = Live(
        standin, engine, f"http://127.0.0.1:{api_port}/metrics", pg_url, credit_of,
        callers(count),
    )  # fmt: skip
    rng = random.Random(ramp.seed + 1)
    steps = []
    probe = asyncio.create_task(probe_loop_lag(live.own, RealClock()))
    try:
        for target in ramp.steps:
            figures = await step(live, target, ramp, rng)
            figures["engine_rss_kib_per_live_call"] = (
                figures["engine_rss_kib"] - rss_start
            ) // max(figures["live_calls"], 1)
            print({k: v for k, v in figures.items() if k != "window_ms"}, file=sys.stderr,
                  flush=True)  # fmt: skip
            steps.append(figures)
    finally:
        engine.send_signal(signal.SIGTERM)
        try:
            await asyncio.wait_for(engine.wait(), 60)
        except TimeoutError:
            engine.kill()
        probe.cancel()
        for task in list(live.enders):
            task.cancel()
        await standin.stop()
    await _judge_hangups(url, live, steps)
    return {"engine_rss_kib_at_start": rss_start, "engine_exit": engine.returncode, "steps": steps}


async def _judge_hangups(url: str, live: Live, steps: list[dict[str, Any]]) -> None:
    """The advisor's leg cut at the credit's end, against the instant charging started (the
    call record keeps Asterisk's — here the stand-in's — stamp) plus the card's credit: per
    step, the calls cut inside its hold window."""
    db = Database(url)
    try:
        async with db.read() as session:
            rows = (
                await session.execute(select(CallRecord.caller, CallRecord.charge_start_at))
            ).all()
    finally:
        await db.close()
    started = {caller: aware(at) for caller, at in rows if at is not None}
    channel_of = {line: f"cap{i}" for i, line in enumerate(live.lines)}
    for figures in steps:
        low, high = figures.pop("window_ms")
        late = []
        for line, charge_start in started.items():
            channel = channel_of.get(line)
            t = live.standin.times.get(channel or "")
            if t is None or t.advisor_cut_ms is None or t.ended_ms is not None:
                continue
            if low <= t.advisor_cut_ms < high and t.advisor_cut_wall_ms is not None:
                planned = int(charge_start.timestamp() * 1000) + live.credit_of[channel] * 1000
                late.append(t.advisor_cut_wall_ms - planned)
        figures["advisor_hangup_minus_charge_start_minus_credit_ms"] = _spread(late)
