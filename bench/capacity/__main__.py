"""python -m bench.capacity [--steps 250,500,1000,2000] [--rate 30] [--hold 30] [--dbs …]
→ bench/results/capacity.json

A real ``cardengine run`` against the stand-in ARI (bench/capacity/standin.py), live calls raised
step by step at ``--rate`` set-ups a second; each step is held ``--hold`` seconds and measured.
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
from pathlib import Path

import click

from bench.capacity.run import Ramp, ramp_run
from bench.load.world import Databases

CREDITS_S = (120, 300, 900, 1_800, 3_600)


async def bench(ramp: Ramp, dbs: list[str], out: Path, keep: bool) -> dict:
    root = Path(tempfile.mkdtemp(prefix="minutecard-capacity-"))
    databases = Databases(root)
    runs = []
    try:
        for kind in dbs:
            url = await databases.fresh(kind)
            work = root / kind
            work.mkdir()
            pg_url = url if kind == "postgresql" else None
            result = await ramp_run(url, pg_url, work, ramp)
            runs.append({"database": kind, **result})
    finally:
        databases.close()
        if keep:
            print(f"kept {root}", file=sys.stderr)
        else:
            shutil.rmtree(root, ignore_errors=True)
    result = {
        "command": " ".join(["python -m bench.capacity", *sys.argv[1:]]),
        "machine": f"{platform.machine()}, {len(os.sched_getaffinity(0))} cores",
        "steps": ramp.steps,
        "setups_per_s": ramp.rate_per_s,
        "hold_s": ramp.hold_s,
        "talk_mean_s": ramp.talk_mean_s,
        "card_credits_s": list(ramp.credit_s),
        "runs": runs,
    }
    out.write_text(json.dumps(result, indent=2) + "\n")
    return result


@click.command()
@click.option("--steps", default="250,500,1000,2000", help="live calls per step, comma-separated")
@click.option("--rate", default=30, type=click.IntRange(1, 500), help="call set-ups a second")
@click.option("--hold", default=30, type=click.IntRange(5, 3600), help="seconds each step is held")
@click.option("--talk-mean", default=600, type=click.IntRange(10, 7200), help="mean talk seconds")
@click.option("--dbs", default="postgresql,sqlite", help="comma-separated: postgresql, sqlite")
@click.option("--out", default="bench/results/capacity.json", type=click.Path(path_type=Path))
@click.option("--keep", is_flag=True, help="keep the work directory (the engine's log)")
def main(steps: str, rate: int, hold: int, talk_mean: int, dbs: str, out: Path, keep: bool) -> None:
    try:
        targets = [int(s) for s in steps.split(",")]
    except ValueError as exc:
        raise click.BadParameter(f"--steps: whole numbers, got {steps!r}") from exc
    chosen = dbs.split(",")
    unknown = set(chosen) - {"postgresql", "sqlite"}
    if unknown:
        raise click.BadParameter(f"unknown databases: {sorted(unknown)}")
    ramp = Ramp(targets, rate, hold, talk_mean, CREDITS_S)
    asyncio.run(bench(ramp, chosen, out, keep))


if __name__ == "__main__":
    main()
