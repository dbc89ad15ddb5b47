"""Shared fixtures: a migrated database on SQLite and on a private PostgreSQL, and a PIN secret."""

from __future__ import annotations

import asyncio
import os
import uuid
from collections.abc import AsyncIterator, Iterator

import asyncpg
import pytest

from cards.db import Database
from cards.migrate import upgrade
from testbed.postgres import PrivatePostgres

TEMPLATE = "minutecard_template"


@pytest.fixture(scope="session")
def postgres() -> Iterator[PrivatePostgres]:
    try:
        server = PrivatePostgres.start()
    except Exception as exc:
        message = f"cannot start a private PostgreSQL: {exc}"
        if os.environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip(message)
    try:

        async def make_template() -> None:
            conn = await asyncpg.connect(server.admin_url)
            await conn.execute(f"CREATE DATABASE {TEMPLATE}")
            await conn.close()
            db = Database(server.url(TEMPLATE))
            await upgrade(db)
            await db.close()

        asyncio.run(make_template())
        yield server
    finally:
        server.stop()


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request: pytest.FixtureRequest, tmp_path) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite+aiosqlite:///{tmp_path / 'cards.sqlite3'}"
        return
    server: PrivatePostgres = request.getfixturevalue("postgres")
    name = f"t_{uuid.uuid4().hex[:12]}"

    async def create() -> None:
        conn = await asyncpg.connect(server.admin_url)
        await conn.execute(f"CREATE DATABASE {name} TEMPLATE {TEMPLATE}")
        await conn.close()

    asyncio.run(create())
    yield server.url(name)


@pytest.fixture
async def db(db_url: str) -> AsyncIterator[Database]:
    database = Database(db_url)
    if database.is_sqlite:
        await upgrade(database)
    yield database
    await database.close()


@pytest.fixture
def own_postgres() -> Iterator[PrivatePostgres]:
    """A server of this test's own: stopping it must not touch the other tests' one."""
    try:
        server = PrivatePostgres.start()
    except Exception as exc:
        if os.environ.get("CI") == "true":
            pytest.fail(f"cannot start a private PostgreSQL: {exc}")
        pytest.skip(f"cannot start a private PostgreSQL: {exc}")
    yield server
    server.stop()
