"""A py-spy profile of a running engine (sampled from outside, so the engine runs unchanged),
cut to the functions that cost most: own samples (the frame on top) and cumulative ones."""

from __future__ import annotations

import asyncio
import sys
from collections import Counter
from pathlib import Path
from typing import Any

PY_SPY = Path(sys.executable).parent / "py-spy"
RATE_HZ = 100
TOP = 15


async def profile(pid: int, seconds: int, out: Path) -> dict[str, Any]:
    """Sample ``pid`` for ``seconds``; py-spy needs ptrace (root, or ptrace_scope 0)."""
    if not PY_SPY.exists():
        return {"error": f"{PY_SPY} missing: install the test extras (pip install -e '.[test]')"}
    proc = await asyncio.create_subprocess_exec(
        str(PY_SPY), "record", "--pid", str(pid), "--duration", str(seconds),
        "--rate", str(RATE_HZ), "--format", "raw", "--nolineno", "--output", str(out),
        stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    _, err = await proc.communicate()
    if proc.returncode != 0 or not out.exists():
        said = err.decode(errors="replace").strip().splitlines()
        return {"error": f"py-spy exited {proc.returncode}: {said[-1] if said else ''}"}
    return {"tool": "py-spy 0.4.3", "seconds": seconds, "rate_hz": RATE_HZ,
            **top_functions(out.read_text())}  # fmt: skip


def top_functions(raw: str) -> dict[str, Any]:
    """From py-spy's raw (collapsed) stacks, ``frame;frame;… count`` with the innermost last:
    the functions with most own samples and with most samples anywhere in the stack, and the
    same by top-level package. Idle samples (the loop waiting in epoll) are not in ``raw``."""
    own: Counter[str] = Counter()
    anywhere: Counter[str] = Counter()
    packages: Counter[str] = Counter()
    total = 0
    for line in raw.splitlines():
        stack, _, count = line.rpartition(" ")
        if not stack or not count.isdigit():
            continue
        n = int(count)
        total += n
        frames = stack.split(";")
        own[frames[-1]] += n
        for frame in set(frames):
            anywhere[frame] += n
        for package in {_package(frame) for frame in frames}:
            packages[package] += n
    # The event loop's own frames (run_forever, _run_once, …) sit under nearly every sample.
    loop_frames = [f for f, n in anywhere.items() if n * 10 > total * 9]
    for frame in loop_frames:
        del anywhere[frame]
    return {
        "busy_samples": total,
        "own": _shares(own, total),
        "cumulative": _shares(anywhere, total),
        "cumulative_leaves_out": sorted(loop_frames),
        "by_package_cumulative": _shares(packages, total),
    }


def _package(frame: str) -> str:
    """``Engine.run (pbx_engine/engine.py)`` → ``pbx_engine``, ``asyncio/events.py`` →
    ``asyncio`` (py-spy names files from their import root)."""
    _, _, where = frame.partition(" (")
    return where.rstrip(")").split("/")[0].removesuffix(".py")


def _shares(counts: Counter[str], total: int) -> list[dict[str, Any]]:
    return [
        {"function": name, "samples": n, "share_pct": (n * 200 + total) // (2 * max(total, 1))}
        for name, n in counts.most_common(TOP)
    ]
