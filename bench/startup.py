"""How fast cardadmin starts for commands that need no database: median of 20 runs each.

Run from the project root: .venv/bin/python -m bench.startup  (writes bench/results/startup.json)
"""

from __future__ import annotations

import statistics
import subprocess
import sys
import time
from pathlib import Path

from bench.common import write_result

CARDADMIN = str(Path(sys.executable).parent / "cardadmin")
COMMANDS = {
    "help": ["--help"],
    "quote": ["quote", "--price", "1.99", "--increments", "60/60", "--seconds", "61", "--json"],
    "prompts_text": ["prompts", "text", "remaining", "--minutes", "21", "--lang", "de"],
}
RUNS = 20


def median_ms(args: list[str]) -> int:
    times = []
    for _ in range(RUNS):
        start = time.perf_counter_ns()
        subprocess.run([CARDADMIN, *args], capture_output=True, check=True)
        times.append((time.perf_counter_ns() - start) // 1_000_000)
    return int(statistics.median(times))


def main() -> None:
    result = {
        "command": ".venv/bin/python -m bench.startup",
        "python": sys.version.split()[0],
        "runs_each": RUNS,
        "median_ms": {name: median_ms(args) for name, args in COMMANDS.items()},
    }
    write_result("startup", result)


if __name__ == "__main__":
    main()
