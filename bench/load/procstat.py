"""CPU seconds and resident memory of a process, read from /proc (Linux)."""

from __future__ import annotations

import os
from pathlib import Path

TICKS = os.sysconf("SC_CLK_TCK")


def cpu_ms(pid: int) -> int:
    """User + system CPU time of ``pid`` so far, in milliseconds."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    utime, stime = int(fields[11]), int(fields[12])
    return (utime + stime) * 1000 // TICKS


def rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


def host_ticks() -> tuple[int, int, int]:
    """The machine's CPU ticks so far (all CPUs): (total, idle, steal). Steal is what the
    hypervisor gave other guests while this one wanted the CPU."""
    fields = [int(f) for f in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:9]]
    return sum(fields), fields[3] + fields[4], fields[7]


def host_share(before: tuple[int, int, int], after: tuple[int, int, int]) -> dict[str, int]:
    """Idle and steal, in percent of the machine's CPU time between two ``host_ticks``."""
    total, idle, steal = (b - a for a, b in zip(before, after, strict=True))
    total = max(total, 1)
    return {"idle_pct": 100 * idle // total, "steal_pct": 100 * steal // total}
