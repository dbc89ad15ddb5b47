"""python -m bench.load [--calls 1,100,150,200] [--seconds 20] [--modes …] [--max-calls N]
→ bench/results/load.json

Each mode places N concurrent calls of ``--seconds`` credit on one private Asterisk (SIPp caller
and advisor streaming 20 ms PCMU both ways); the modes run one after another per N. The Asterisk
is 22 unless ``MINUTECARD_ASTERISK=16``; the result names its exact version.
"""

from __future__ import annotations

import asyncio
import json
import platform
import shutil
import sys
import tempfile
from pathlib import Path

import click

from bench.load.run import RATE_PER_S, Bench, one_run
from bench.load.world import Databases, numbers_conf
from testbed.asterisk import PrivateAsterisk
from testbed.e2e_world import build_sounds

MODES = ("engine-sqlite", "engine-pg", "bare", "native")


async def bench(
    calls: list[int],
    seconds: int,
    modes: list[str],
    out: Path,
    keep: bool,
    profile: bool,
    note: str | None,
    max_calls: int,
) -> dict:
    root = Path(tempfile.mkdtemp(prefix="minutecard-load-"))
    sounds = build_sounds(root / "sounds")
    asterisk = PrivateAsterisk.prepare(
        numbers_conf(seconds * 1000), sounds / "minutecard", rtp_ports=4 * max(calls) + 200
    )
    databases = Databases(root)
    runs = []
    try:
        await asterisk.start()
        the_bench = Bench(root, asterisk, databases, seconds, profile, max_calls)
        for n in calls:
            for mode in modes:
                result = await one_run(the_bench, mode, n)
                print(json.dumps(result), file=sys.stderr, flush=True)
                runs.append(result)
    finally:
        asterisk.stop()
        databases.close()
        if keep:
            print(f"kept {root}", file=sys.stderr)
        else:
            shutil.rmtree(root, ignore_errors=True)
    result = {
        "command": " ".join(["python -m bench.load", *sys.argv[1:]]),
        "machine": f"{platform.machine()}, {len(__import__('os').sched_getaffinity(0))} cores",
        "asterisk": asterisk.version.describe(),
        "call_seconds": seconds,
        "new_calls_per_second": RATE_PER_S,
        "engine_max_calls": max_calls,
        "runs": runs,
    }
    if note:
        result["note"] = note
    out.write_text(json.dumps(result, indent=2) + "\n")
    return result


@click.command()
@click.option("--calls", default="1,100,150,200", help="concurrent calls per run, comma-separated")
@click.option("--seconds", default=20, type=click.IntRange(5, 600), help="credit per call")
@click.option("--modes", default=",".join(MODES), help="comma-separated: " + ", ".join(MODES))
@click.option("--out", default="bench/results/load.json", type=click.Path(path_type=Path))
@click.option(
    "--keep", is_flag=True, help="keep the work directory (SIPp logs, the engine's log, configs)"
)
@click.option(
    "--profile", is_flag=True, help="sample the app with py-spy: its CPU by package, database share"
)
@click.option("--note", help="a sentence kept in the result, e.g. what else ran on the box")
@click.option(
    "--max-calls", default=0, type=click.IntRange(0, 100_000), help="the engine's max_calls"
)
def main(
    calls: str,
    seconds: int,
    modes: str,
    out: Path,
    keep: bool,
    profile: bool,
    note: str | None,
    max_calls: int,
) -> None:
    counts = [int(c) for c in calls.split(",")]
    chosen = modes.split(",")
    unknown = set(chosen) - set(MODES)
    if unknown:
        raise click.BadParameter(f"unknown modes: {sorted(unknown)}")
    asyncio.run(bench(counts, seconds, chosen, out, keep, profile, note, max_calls))


if __name__ == "__main__":
    main()
