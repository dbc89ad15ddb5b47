"""Pooled PostgreSQL connections are pinged only after idling: dead ones are replaced unseen."""

from __future__ import annotations

import asyncpg
import pytest
from sqlalchemy import select
from sqlalchemy.exc import DBAPIError

from cards.db import Database


async def _kill_other_backends(url: str) -> int:
    """Terminate every other session on this test's database, as a server restart would."""
    plain = url.replace("+asyncpg", "")
    conn = await asyncpg.connect(plain)
    try:
        return int(
            await conn.fetchval(
                "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                "WHERE datname = current_database() AND pid <> pg_backend_pid()"
            )
        )
    finally:
        await conn.close()


async def _read_one(db: Database) -> int | None:
    async with db.read() as session:
        return await session.scalar(select(1))


# SQLite has no pooled server connections.
pytestmark = pytest.mark.parametrize("db_url", ["postgresql"], indirect=True)


async def test_a_connection_killed_while_idle_is_replaced_before_use(db_url: str) -> None:
    pg_url = db_url
    db = Database(pg_url, ping_after_idle_ms=0)
    try:
        assert await _read_one(db) == 1
        assert await _kill_other_backends(pg_url) == 1
        assert await _read_one(db) == 1
        assert db.pings == 1
    finally:
        await db.close()


async def test_inside_the_window_no_ping_so_a_killed_connection_fails_once(db_url: str) -> None:
    pg_url = db_url
    db = Database(pg_url, ping_after_idle_ms=600_000)
    try:
        for _ in range(5):
            assert await _read_one(db) == 1
        assert db.pings == 0
        assert await _kill_other_backends(pg_url) == 1
        with pytest.raises(DBAPIError):
            await _read_one(db)
        # The failure invalidated the connection: the next transaction gets a new one.
        assert await _read_one(db) == 1
    finally:
        await db.close()
