"""Rating throughput on one core: quotes per second and affordable-seconds per second.

Run from the project root: .venv/bin/python -m bench.rating  (writes bench/results/rating.json;
run as a module so the file name does not shadow the rating package)
"""

from __future__ import annotations

import os
import platform
import sys
import time

from bench.common import write_result
from rating import CallerClass, Increments, Tariff, Unit, affordable_seconds, quote

N = 200_000
TARIFF = Tariff(
    Unit.MONEY,
    Increments(60, 6),
    prices={CallerClass.FIXED: 19_900, CallerClass.MOBILE: 29_900},
    connect_fee=1_000,
)


def per_second(fn) -> int:
    start = time.perf_counter_ns()
    for i in range(N):
        fn(i)
    elapsed = time.perf_counter_ns() - start
    return N * 1_000_000_000 // elapsed


def main() -> None:
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {0})
    result = {
        "command": ".venv/bin/python -m bench.rating",
        "python": sys.version.split()[0],
        "machine": platform.machine(),
        "cpus_used": 1,
        "iterations": N,
        "quotes_per_second": per_second(lambda i: quote(TARIFF, CallerClass.MOBILE, i % 7_200)),
        "affordable_per_second": per_second(
            lambda i: affordable_seconds(TARIFF, CallerClass.FIXED, i * 37)
        ),
    }
    write_result("rating", result)


if __name__ == "__main__":
    main()
