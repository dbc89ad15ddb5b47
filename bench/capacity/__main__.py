"""python -m bench.capacity [--steps 500,1000,2000] [--knee-steps 3000,4000,5000,6000,8000]
[--engines 2] [--pair-steps 1000,2000,3000] [--rate 30] [--hold 20] [--dbs …]
→ bench/results/capacity.json

Real ``cardengine run`` processes against stand-ins for Asterisk's ARI (bench/capacity/standin.py),
live calls raised step by step at ``--rate`` set-ups a second; each step is held ``--hold``
seconds and measured. With churn (the default) a hold keeps set-ups at the rate: for every new
call the caller of a random talking call hangs up. Phases, one after another: one engine on each
of ``--dbs`` through ``--steps``; on PostgreSQL on through ``--knee-steps`` until the event
loop's lag p99 passes 20 ms (the knee, profiled with py-spy there); with ``--engines 2`` two
engines on one PostgreSQL database through ``--pair-steps`` each.
Talk times are drawn from an exponential distribution (``--talk-mean``, 600 s: no time scaling,
so a call brings as many checkpoints and timers as a real one); cards carry 2-60 min of credit
so the calls that talk longer are ended by the engine and its hang-up instants can be judged.
"""

from __future__ import annotations

import asyncio
import json
import os
import platform
import shutil
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import click

from bench.capacity.phases import one_engine, two_engines
from bench.capacity.run import Ramp, stand_in_lag
from bench.load.world import Databases
from pbx_engine.clock import RealClock
from pbx_engine.pressure import probe_loop_lag

CREDITS_S = (120, 300, 900, 1_800, 3_600)


async def bench(
    ramp: Ramp, dbs: list[str], knee_steps: list[int], pair: Ramp | None, profile_s: int,
    out: Path, keep: bool,
) -> dict[str, Any]:  # fmt: skip
    root = Path(tempfile.mkdtemp(prefix="minutecard-capacity-"))
    databases = Databases(root)
    own = stand_in_lag()
    probe = asyncio.create_task(probe_loop_lag(own, RealClock()))
    runs, two = [], None
    t0 = time.monotonic()
    try:
        for kind in dbs:
            url = await databases.fresh(kind)
            pg_url = url if kind == "postgresql" else None
            knee = knee_steps if kind == "postgresql" else []
            started = time.monotonic()
            result = await one_engine(url, pg_url, root / kind, ramp, knee, profile_s, own)
            runs.append({"database": kind, "took_s": int(time.monotonic() - started), **result})
        if pair is not None:
            url = await databases.fresh("postgresql")
            one = next((r["capacity_live_calls"] for r in runs if r["database"] == "postgresql"),
                       0)  # fmt: skip
            started = time.monotonic()
            two = await two_engines(url, root / "two", pair, own, one)
            two["took_s"] = int(time.monotonic() - started)
    finally:
        probe.cancel()
        databases.close()
        if keep:
            print(f"kept {root}", file=sys.stderr)
        else:
            shutil.rmtree(root, ignore_errors=True)
    result = {
        "command": " ".join(["python -m bench.capacity", *sys.argv[1:]]),
        "machine": f"{platform.machine()}, {len(os.sched_getaffinity(0))} cores",
        "took_s": int(time.monotonic() - t0),
        "steps": ramp.steps,
        "knee_steps": knee_steps,
        "setups_per_s": ramp.rate_per_s,
        "churn": ramp.churn,
        "hold_s": ramp.hold_s,
        "talk_mean_s": ramp.talk_mean_s,
        "card_credits_s": list(ramp.credit_s),
        "runs": runs,
        "two_engines": two,
    }
    out.write_text(json.dumps(result, indent=2) + "\n")
    return result


def _counts(option: str, text: str) -> list[int]:
    try:
        return [int(s) for s in text.split(",") if s]
    except ValueError as exc:
        raise click.BadParameter(f"{option}: whole numbers, got {text!r}") from exc


@click.command()
@click.option("--steps", default="500,1000,2000", help="live calls per step, comma-separated")
@click.option(
    "--knee-steps",
    default="3000,4000,5000,6000,8000",
    help="PostgreSQL only: further steps until lag p99 passes 20 ms ('' for none)",
)
@click.option(
    "--engines",
    default=2,
    type=click.IntRange(1, 2),
    help="2: also two engines on one PostgreSQL, each with its own stand-in",
)
@click.option("--pair-steps", default="1000,2000,3000", help="live calls per engine, two engines")
@click.option("--rate", default=30, type=click.IntRange(1, 500), help="call set-ups a second")
@click.option("--hold", default=20, type=click.IntRange(5, 3600), help="seconds each step is held")
@click.option(
    "--churn/--no-churn",
    default=True,
    help="in a hold, a caller hangs up for each new call (set-ups stay at the rate)",
)
@click.option("--talk-mean", default=600, type=click.IntRange(10, 7200), help="mean talk seconds")
@click.option(
    "--profile-seconds", default=15, type=click.IntRange(1, 600), help="py-spy sampling at the knee"
)
@click.option("--dbs", default="postgresql,sqlite", help="comma-separated: postgresql, sqlite")
@click.option("--out", default="bench/results/capacity.json", type=click.Path(path_type=Path))
@click.option("--keep", is_flag=True, help="keep the work directory (the engines' logs)")
def main(
    steps: str, knee_steps: str, engines: int, pair_steps: str, rate: int, hold: int,
    churn: bool, talk_mean: int, profile_seconds: int, dbs: str, out: Path, keep: bool,
) -> None:  # fmt: skip
    chosen = dbs.split(",")
    unknown = set(chosen) - {"postgresql", "sqlite"}
    if unknown:
        raise click.BadParameter(f"unknown databases: {sorted(unknown)}")
    ramp = Ramp(_counts("--steps", steps), rate, hold, talk_mean, CREDITS_S, churn)
    pair = None
    if engines == 2:
        pair = Ramp(_counts("--pair-steps", pair_steps), rate, hold, talk_mean, CREDITS_S, churn)
    knee = _counts("--knee-steps", knee_steps)
    asyncio.run(bench(ramp, chosen, knee, pair, profile_seconds, out, keep))


if __name__ == "__main__":
    main()
