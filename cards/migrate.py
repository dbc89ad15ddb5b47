"""Schema upgrades through Alembic, from the first table on."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory

from cards.db import Database, create_sqlite_file, sqlite_file

MIGRATIONS = Path(__file__).parent / "migrations"


def _config(connection: Any) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["connection"] = connection
    return config


async def upgrade(db: Database, revision: str = "head") -> None:
    """Bring the database to ``revision``; a SQLite file is made here (and only here), private."""
    path = sqlite_file(db.url)
    if path is not None and not path.exists():
        create_sqlite_file(path)
    async with db.engine.connect() as conn:
        await conn.run_sync(lambda sync_conn: command.upgrade(_config(sync_conn), revision))
        await conn.commit()


async def revision(db: Database, message: str) -> None:
    """Autogenerate a migration from the models (a developer tool)."""
    async with db.engine.connect() as conn:
        await conn.run_sync(
            lambda sync_conn: command.revision(_config(sync_conn), message, autogenerate=True)
        )


async def current_revision(db: Database) -> str | None:
    """The schema revision the database is at; None when it has no schema (never upgraded)."""
    async with db.engine.connect() as conn:
        return await conn.run_sync(
            lambda sync_conn: MigrationContext.configure(sync_conn).get_current_revision()
        )


def head_revision() -> str:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    head = ScriptDirectory.from_config(config).get_current_head()
    assert head is not None
    return head
