"""How late the engine's timers fire: 100 concurrent timers per delay on the real clock.

Run from the project root: .venv/bin/python -m bench.timers  (writes bench/results/timers.json)
Lateness is measured with the monotonic clock in microseconds; p50/p95/max per delay.
"""

from __future__ import annotations

import asyncio
import sys
import time

from bench.common import write_result
from pbx_engine.clock import RealClock
from pbx_engine.timers import Timers

DELAYS_MS = (1_000, 10_000, 60_000)
TIMERS = 100


def percentile(values: list[int], pct: int) -> int:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, len(ordered) * pct // 100)]


async def measure(delay_ms: int) -> dict[str, int]:
    clock = RealClock()
    timers = Timers(clock)
    late_us: list[int] = []
    done = asyncio.Event()

    def fired(name: str, at_ms: int) -> None:
        late_us.append(time.monotonic_ns() // 1_000 - at_ms * 1_000)
        if len(late_us) == TIMERS:
            done.set()

    start = clock.now_ms()
    for i in range(TIMERS):
        timers.start("bench", f"t{i}", start + delay_ms + i, fired)
    await done.wait()
    return {
        "p50_us": percentile(late_us, 50),
        "p95_us": percentile(late_us, 95),
        "max_us": max(late_us),
    }


async def main() -> None:
    result = {
        "command": ".venv/bin/python -m bench.timers",
        "python": sys.version.split()[0],
        "timers_at_once": TIMERS,
        "lateness": {f"{d // 1000}s": await measure(d) for d in DELAYS_MS},
    }
    write_result("timers", result)


if __name__ == "__main__":
    asyncio.run(main())
