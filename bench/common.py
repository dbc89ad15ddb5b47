"""What the database benches share: one run on a SQLite file and one on a private PostgreSQL,
and the results file with the command that made it."""

from __future__ import annotations

import json
import tempfile
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any, TypeVar

import asyncpg

from testbed.postgres import PrivatePostgres

T = TypeVar("T")


async def on_both_databases(name: str, measure: Callable[[str, Path], Awaitable[T]]) -> tuple[T, T]:
    """``measure(url, scratch directory)`` on SQLite, then on a fresh private PostgreSQL."""
    with tempfile.TemporaryDirectory() as tmp:
        sqlite = await measure(f"sqlite+aiosqlite:///{tmp}/{name}.sqlite3", Path(tmp))
    server = PrivatePostgres.start()
    try:
        conn = await asyncpg.connect(server.admin_url)
        await conn.execute(f"CREATE DATABASE {name}")
        await conn.close()
        with tempfile.TemporaryDirectory() as tmp:
            postgres = await measure(server.url(name), Path(tmp))
    finally:
        server.stop()
    return sqlite, postgres


def write_result(name: str, result: dict[str, Any]) -> None:
    """bench/results/<name>.json, and the same on stdout."""
    out = Path(__file__).parent / "results" / f"{name}.json"
    out.write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))
