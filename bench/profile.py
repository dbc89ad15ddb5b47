"""A py-spy profile of a running process (sampled from outside, so it runs unchanged), cut to
the functions that cost most: own samples (the frame on top) and cumulative ones, and the share
of samples spent on the database (bench.capacity at the knee, bench.load --profile)."""

from __future__ import annotations

import asyncio
import sys
from collections import Counter
from pathlib import Path
from typing import Any

PY_SPY = Path(sys.executable).parent / "py-spy"
RATE_HZ = 100
TOP = 15
LOOP_CALL = "Handle._run (asyncio/events.py)"
DATABASE = frozenset({"cards", "sqlalchemy", "asyncpg", "aiosqlite", "sqlite3", "greenlet"})
"""Packages whose frames make a sample the database's: our services and the SQL stack under them
(SQLAlchemy's greenlets and aiosqlite's thread show as stacks of their own)."""


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
    same by top-level package. Idle samples (the loop waiting in epoll) are not in ``raw``;
    SQLAlchemy's greenlets show as stacks of their own."""
    stacks = []
    for line in raw.splitlines():
        stack, _, count = line.rpartition(" ")
        if stack and count.isdigit():
            stacks.append((stack.split(";"), int(count)))
    # The entry chain (cardengine, click, asyncio.run, run_forever, _run_once) sits under every
    # callback: cumulative counts start below it, at the callback the loop runs.
    entry = {f for frames, _ in stacks if LOOP_CALL in frames
             for f in frames[: frames.index(LOOP_CALL) + 1]}  # fmt: skip
    own: Counter[str] = Counter()
    below: Counter[str] = Counter()
    package_own: Counter[str] = Counter()
    package_below: Counter[str] = Counter()
    total = database = 0
    for frames, n in stacks:
        total += n
        if any(_package(f) in DATABASE for f in frames):
            database += n
        own[frames[-1]] += n
        package_own[_package(frames[-1])] += n
        inner = {f for f in frames if f not in entry}
        for frame in inner:
            below[frame] += n
        for package in {_package(f) for f in inner}:
            package_below[package] += n
    return {
        "busy_samples": total,
        "database_share_pct": (database * 200 + total) // (2 * max(total, 1)),
        "own": _shares(own, total),
        "cumulative": _shares(below, total),
        "cumulative_leaves_out": sorted(entry),
        "by_package_own": _shares(package_own, total, "package"),
        "by_package_cumulative": _shares(package_below, total, "package"),
    }


def _package(frame: str) -> str:
    """``Engine.run (pbx_engine/engine.py)`` → ``pbx_engine``, ``asyncio/events.py`` →
    ``asyncio`` (py-spy names files from their import root)."""
    _, _, where = frame.partition(" (")
    return where.rstrip(")").split("/")[0].removesuffix(".py")


def _shares(counts: Counter[str], total: int, key: str = "function") -> list[dict[str, Any]]:
    return [
        {key: name, "samples": n, "share_pct": (n * 200 + total) // (2 * max(total, 1))}
        for name, n in counts.most_common(TOP)
    ]
