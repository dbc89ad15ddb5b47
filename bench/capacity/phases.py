"""The capacity bench's phases: one engine ramped through the steps (on to the knee if asked),
and two engines on one PostgreSQL ramped together."""

from __future__ import annotations

import asyncio
import random
import sys
from pathlib import Path
from typing import Any

from sqlalchemy import select

from bench.capacity.measure import LAG_KNEE_MS, past_knee, spread
from bench.capacity.run import BLOCK, Cards, Engine, Ramp, line, start_engine
from bench.capacity.steps import hold, step
from bench.profile import profile
from cards.clock import aware
from cards.db import Database
from cards.models import CallRecord
from pbx_engine.pressure import Pressure


def _show(figures: dict[str, Any]) -> None:
    shown = ("live_calls", "setups_per_s_in_hold", "refused_in_step", "event_loop_lag_ms",
             "engine_cpu_ms_per_s", "stasis_start_to_first_command_ms")  # fmt: skip
    for e in figures["engines"]:
        brief = {k: v for k, v in figures.items() if k not in ("engines", "live_calls")}
        print(brief | {k: e[k] for k in shown}, file=sys.stderr, flush=True)


def _within(figures: dict[str, Any]) -> bool:
    """Every engine reached the step (95 %) and kept its loop's lag p99 within the knee bound.
    Calls refused on the way (the engine shed a moment's lag spike) are counted, not judged."""
    return all(
        not past_knee(e["event_loop_lag_ms"]["p99"])
        and e["live_calls"] * 100 >= figures["target"] * 95
        for e in figures["engines"]
    )


async def one_engine(
    url: str, pg_url: str | None, work: Path, ramp: Ramp, knee_steps: list[int],
    profile_s: int, own: Pressure,
) -> dict[str, Any]:  # fmt: skip
    """``ramp.steps``, then ``knee_steps``; with knee steps, up to the first step past the knee
    (lag p99 over 20 ms or the step not reached): there the engine is profiled at that load."""
    whole = Ramp(ramp.steps + knee_steps, ramp.rate_per_s, ramp.hold_s, ramp.talk_mean_s,
                 ramp.credit_s, ramp.churn, ramp.seed)  # fmt: skip
    cards = Cards(url, ramp.credit_s)
    await cards.start()
    engine = await start_engine(url, work, cards)
    rng = random.Random(ramp.seed + 1)
    steps: list[dict[str, Any]] = []
    knee: dict[str, Any] | None = None
    note = f"no knee: lag p99 <= {LAG_KNEE_MS} ms at every step"
    if not knee_steps:
        note = "no knee search here (--knee-steps run on PostgreSQL only)"
    try:
        for target in whole.steps:
            figures = await step([engine], target, whole, rng, own, pg_url)
            _show(figures)
            steps.append(figures)
            if not knee_steps or _within(figures):
                continue
            if past_knee(figures["standin_loop_lag_ms"]["p99"]):
                note = (f"the stand-in's own loop lag p99 passed {LAG_KNEE_MS} ms at {target}: "
                        "the stand-in, not the engine, is the limit")  # fmt: skip
                break
            e = figures["engines"][0]
            if e["cards_left"] == 0:
                note = f"the cards ran out at {target}: no knee judged (a bench error)"
                break
            knee = {"live_calls": e["live_calls"], "event_loop_lag_ms_p99": e["event_loop_lag_ms"]
                    ["p99"], "refused_in_step": e["refused_in_step"]}  # fmt: skip
            note = "the first step past the knee bound; profiled there, at the same load"
            held, knee["profile"] = await _profiled(engine, whole, rng, profile_s, work)
            knee["profile"]["setups_while_profiled"] = held
            break
        else:
            if knee_steps and len(steps) == len(whole.steps):
                note += f" up to {whole.steps[-1]} live calls (the ceiling)"
    finally:
        await engine.stop()
    await judge_hangups(url, [engine], steps)
    flat = [_flat(s) for s in steps]
    within = [s for s in flat if _within({"target": s["target"], "engines": [s]})]
    return {
        "engine_rss_kib_at_start": engine.rss_start,
        "engine_exit": engine.proc.returncode,
        "steps": flat,
        "capacity_live_calls": max((s["live_calls"] for s in within), default=0),
        "cpu_split": cpu_split(within, ramp.rate_per_s) if ramp.churn else None,
        "knee": knee,
        "knee_note": note,
    }


def cpu_split(steps: list[dict[str, Any]], rate: int) -> dict[str, int] | None:
    """With set-ups held at the rate, CPU ms/s = a × live calls + b: a least-squares line through
    the steps gives the cost of a live call-second (a) and of a call's set-up and end (b / rate)."""
    points = [(s["live_calls"], s["engine_cpu_ms_per_s"]) for s in steps]
    n = len(points)
    sx, sy = sum(x for x, _ in points), sum(y for _, y in points)
    sxx, sxy = sum(x * x for x, _ in points), sum(x * y for x, y in points)
    if n < 2 or n * sxx == sx * sx:
        return None
    us_per_live_s = 1000 * (n * sxy - sx * sy) // (n * sxx - sx * sx)
    base_us_per_s = (1000 * sy - us_per_live_s * sx) // n
    return {
        "us_per_live_call_second": us_per_live_s,
        "us_per_setup_and_end": base_us_per_s // rate,
        "steps_fitted": n,
    }


async def _profiled(
    engine: Engine, ramp: Ramp, rng: random.Random, seconds: int, work: Path
) -> tuple[int, dict[str, Any]]:
    """Profile the engine while the step goes on being held (set-ups and churn as before)."""
    target = engine.standin.live_calls
    await engine.ensure_cards(ramp.cards_for(0, seconds))
    held, prof = await asyncio.gather(
        hold(engine, target, ramp, rng, seconds + 1),
        profile(engine.proc.pid, seconds, work / "knee-profile.txt"),
    )
    return held.setups, prof


def _flat(figures: dict[str, Any]) -> dict[str, Any]:
    """One engine's step: its figures beside the step's own (as the result always had them)."""
    (e,) = figures["engines"]
    mine: dict[str, Any] = e
    return {k: v for k, v in figures.items() if k != "engines"} | mine


async def two_engines(
    url: str, work: Path, ramp: Ramp, own: Pressure, one_engine_capacity: int
) -> dict[str, Any]:
    """Two engines, each with its own stand-in and cards, on one PostgreSQL database, ramped
    together to the same steps; the combined capacity is the highest step both keep within the
    knee bound, against twice one engine's (from the same run's one-engine phase)."""
    engines: list[Engine] = []
    rng = random.Random(ramp.seed + 2)
    steps: list[dict[str, Any]] = []
    try:
        for k in range(2):
            cards = Cards(url, ramp.credit_s, first=k * BLOCK)
            await cards.start()
            engines.append(await start_engine(url, work / f"engine{k + 1}", cards))
        for target in ramp.steps:
            figures = await step(engines, target, ramp, rng, own, url)
            figures["live_calls"] = sum(e["live_calls"] for e in figures["engines"])
            _show(figures)
            steps.append(figures)
            if not _within(figures):
                break
    finally:
        for engine in engines:
            await engine.stop()
    await judge_hangups(url, engines, steps)
    within = [s["live_calls"] for s in steps if _within(s)]
    combined = max(within, default=0)
    return {
        "engine_exits": [e.proc.returncode for e in engines],
        "steps": steps,
        "combined_capacity_live_calls": combined,
        "reached_knee": len(within) < len(steps),
        "one_engine_capacity_live_calls": one_engine_capacity,
        "combined_per_mille_of_twice_one": combined * 1000 // max(2 * one_engine_capacity, 1),
    }


async def judge_hangups(url: str, engines: list[Engine], steps: list[dict[str, Any]]) -> None:
    """The advisor's leg cut at the credit's end, against the instant charging started (the
    call record keeps Asterisk's — here the stand-in's — stamp) plus the card's credit: per
    step and engine, the calls cut inside its window."""
    db = Database(url)
    try:
        async with db.read() as session:
            rows = (
                await session.execute(select(CallRecord.caller, CallRecord.charge_start_at))
            ).all()
    finally:
        await db.close()
    started = {caller: aware(at) for caller, at in rows if at is not None}
    for k, engine in enumerate(engines):
        index_of = {line(i): i for i in range(engine.cards.first, engine.cards.made)}
        for figures in steps:
            mine = figures["engines"][k]
            low, high = mine.pop("window_ms")
            late = []
            for caller, charge_start in started.items():
                i = index_of.get(caller)
                t = engine.standin.times.get(f"cap{i}")
                if i is None or t is None or t.advisor_cut_ms is None:
                    continue
                if t.ended_ms is not None:
                    continue
                if low <= t.advisor_cut_ms < high and t.advisor_cut_wall_ms is not None:
                    planned = (
                        int(charge_start.timestamp() * 1000) + engine.cards.credit_of(i) * 1000
                    )
                    late.append(t.advisor_cut_wall_ms - planned)
            mine["advisor_hangup_minus_charge_start_minus_credit_ms"] = spread(late)
