"""SQL statements per call: what one advisor call of 20 s costs the database, by statement.

Run from the project root: .venv/bin/python -m bench.statements  (writes
bench/results/statements.json). One engine (fake ARI) on SQLite and on PostgreSQL takes an
activated line's advisor call, talks 20 s (four checkpoints at the default 5 s) and is hung up
by the caller; a SQLAlchemy cursor listener counts every statement from the call's arrival to
its settlement. Each statement costs the engine ORM and driver work — the largest part of its
CPU per call (see docs/benchmarks.md, "Under load"). On SQLite it also counts the jobs queued on
aiosqlite's thread (each one a wake-up of the event loop; cards/sqlite_driver.py makes a
statement one job).
"""

from __future__ import annotations

import asyncio
from collections import Counter
from pathlib import Path
from typing import Any

from sqlalchemy import event

from bench.common import on_both_databases, write_result
from testbed.engine_world import eventually, running_engine
from testbed.flows import activate, connect
from testbed.sqlite_jobs import counted_jobs


def _kind(statement: str) -> str:
    """``SELECT cards``, ``UPDATE reservations``, ``INSERT ledger``, ``BEGIN IMMEDIATE``…"""
    words = statement.replace(",", " ").split()
    verb = words[0].upper() if words else "?"
    follows = {"SELECT": "FROM", "DELETE": "FROM", "INSERT": "INTO", "UPDATE": "UPDATE"}
    if verb not in follows:
        return " ".join(words[:2])
    upper = [w.upper() for w in words]
    at = upper.index(follows[verb]) + 1 if follows[verb] in upper else len(words)
    return f"{verb} {words[at].strip('()') if at < len(words) else '?'}"


async def one_call(url: str, tmp: Path) -> dict[str, Any]:
    async with running_engine(url, tmp) as world:
        await activate(world)
        counts: Counter[str] = Counter()

        def count(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
            counts[_kind(statement)] += 1

        event.listen(world.db.engine.sync_engine, "before_cursor_execute", count)
        try:
            with counted_jobs() as queued:
                await connect(world)
                await world.advance(20_000)
                await world.ari.hang_up("c1")
                await eventually(lambda: not world.engine.calls, what="call settled")
        finally:
            event.remove(world.db.engine.sync_engine, "before_cursor_execute", count)
        result = {"total": sum(counts.values()), "by_statement": dict(counts.most_common())}
        if world.db.is_sqlite:
            jobs = Counter(queued)
            result["aiosqlite_jobs"] = {"total": sum(jobs.values()), **dict(jobs.most_common())}
        return result


async def main() -> None:
    sqlite, postgres = await on_both_databases("statements", one_call)
    write_result(
        "statements",
        {
            "command": ".venv/bin/python -m bench.statements",
            "call": "advisor call from an activated line, 20 s talk, checkpoints every 5 s",
            "sqlite": sqlite,
            "postgresql": postgres,
        },
    )


if __name__ == "__main__":
    asyncio.run(main())
