"""The one-hop SQLite driver: rows, counts, new ids and errors as the stock adapter gives them,
each statement one job on aiosqlite's thread."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError

import cards.db
from cards.db import Database
from testbed.sqlite_jobs import counted_jobs


async def with_table(path: Path) -> Database:
    """A SQLite database at ``path`` with one table: t (id, v unique)."""
    database = Database(f"sqlite+aiosqlite:///{path}")
    async with database.transaction() as s:
        await s.execute(text("CREATE TABLE t (id INTEGER PRIMARY KEY, v INTEGER UNIQUE)"))
    return database


@pytest.fixture
async def db(tmp_path: Path) -> AsyncIterator[Database]:
    database = await with_table(tmp_path / "driver.sqlite3")
    yield database
    await database.close()


@pytest.fixture
def jobs() -> Iterator[list[str]]:
    with counted_jobs() as queued:
        yield queued


async def test_rows_counts_and_new_ids(db: Database) -> None:
    async with db.transaction() as s:
        first = await s.execute(text("INSERT INTO t (v) VALUES (10)"))
        assert first.lastrowid == 1
        await s.execute(text("INSERT INTO t (v) VALUES (:v)"), [{"v": 20}, {"v": 30}])
        moved = await s.execute(text("UPDATE t SET v = v + 1 WHERE v > 10 RETURNING v"))
        assert sorted(moved.scalars()) == [21, 31]
        assert moved.rowcount == 2
    async with db.read() as s:
        assert (await s.execute(text("SELECT v FROM t ORDER BY v"))).scalars().all() == [
            10,
            21,
            31,
        ]
        assert (await s.execute(text("UPDATE t SET v = v WHERE v < 0"))).rowcount == 0


async def test_an_error_is_sqlalchemys_and_rolls_back(db: Database) -> None:
    with pytest.raises(IntegrityError):
        async with db.transaction() as s:
            await s.execute(text("INSERT INTO t (v) VALUES (1)"))
            await s.execute(text("INSERT INTO t (v) VALUES (1)"))
    async with db.read() as s:
        assert (await s.execute(text("SELECT count(*) FROM t"))).scalar() == 0


async def test_one_job_per_statement(db: Database, jobs: list[str]) -> None:
    async with db.transaction() as s:
        await s.execute(text("INSERT INTO t (v) VALUES (5)"))
        await s.execute(text("SELECT v FROM t"))
    # BEGIN IMMEDIATE, INSERT, SELECT: one job each; the commit; the pool's reset after it
    # finds no transaction open and asks nothing.
    assert jobs == ["_run", "_run", "_run", "commit"]


async def test_a_read_without_snapshot_is_its_statements_alone(
    db: Database, jobs: list[str]
) -> None:
    async with db.transaction() as s:
        await s.execute(text("INSERT INTO t (v) VALUES (7)"))
    jobs.clear()
    async with db.read(snapshot=False) as s:
        assert (await s.execute(text("SELECT v FROM t"))).scalar() == 7
    assert jobs == ["_run"]  # no BEGIN, no COMMIT
    jobs.clear()
    async with db.read() as s:
        assert (await s.execute(text("SELECT v FROM t"))).scalar() == 7
    assert jobs == ["_run", "_run", "commit"]  # BEGIN, SELECT, COMMIT


async def test_a_write_cancelled_while_it_waits_for_the_lock_leaves_no_lock(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The cancelled write's clean-up waits for its BEGIN IMMEDIATE to give up: 1 s, not 30.
    monkeypatch.setattr(cards.db, "SQLITE_BUSY_TIMEOUT_MS", 1000)
    db = await with_table(tmp_path / "cancel.sqlite3")

    async def write(v: int) -> None:
        async with db.transaction() as s:
            await s.execute(text("INSERT INTO t (v) VALUES (:v)"), {"v": v})

    async with db.transaction() as s:
        await s.execute(text("INSERT INTO t (v) VALUES (1)"))
        waiting = asyncio.create_task(write(2))  # its BEGIN IMMEDIATE waits for our lock
        await asyncio.sleep(0.3)
        waiting.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await waiting
    # A rollback is skipped when sqlite3 says no transaction is open; a cancelled BEGIN
    # IMMEDIATE still runs on aiosqlite's thread and may take the lock after that answer. Its
    # connection must not go back to the pool holding the lock (SQLAlchemy closes it).
    await asyncio.wait_for(write(3), 5)
    async with db.read() as s:
        assert (await s.execute(text("SELECT v FROM t ORDER BY v"))).scalars().all() == [1, 3]
    await db.close()
