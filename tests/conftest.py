"""Shared fixtures: a migrated database on SQLite and on a private PostgreSQL, and a PIN secret."""

from __future__ import annotations

import asyncio
import os
import uuid
from collections.abc import AsyncIterator, Iterator

import asyncpg
import pytest

from cards.db import Database
from cards.migrate import current_revision, head_revision, upgrade
from cards.services.strict_audit import Breach, strict_audit
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
    """A new database; at teardown the strict audit must hold on whatever the test left (a
    test that breaks the books on purpose says so with ``@pytest.mark.books_broken``)."""
    if request.param == "sqlite":
        path = tmp_path / "cards.sqlite3"
        yield f"sqlite+aiosqlite:///{path}"
        if path.exists():
            _audit_books(request, f"sqlite+aiosqlite:///{path}")
        return
    server: PrivatePostgres = request.getfixturevalue("postgres")
    name = f"t_{uuid.uuid4().hex[:12]}"

    async def create() -> None:
        conn = await asyncpg.connect(server.admin_url)
        await conn.execute(f"CREATE DATABASE {name} TEMPLATE {TEMPLATE}")
        await conn.close()

    asyncio.run(create())
    yield server.url(name)
    _audit_books(request, server.url(name))


def _audit_books(request: pytest.FixtureRequest, url: str) -> None:
    if request.node.get_closest_marker("books_broken"):
        return

    async def run() -> list[Breach]:
        database = Database(url)
        try:
            if await current_revision(database) != head_revision():
                return []
            return await strict_audit(database)
        finally:
            await database.close()

    breaches = asyncio.run(run())
    assert not breaches, "the strict audit fails on the books this test left:\n" + "\n".join(
        f"  {b.invariant}: {b.subject}: {b.detail}" for b in breaches
    )


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
