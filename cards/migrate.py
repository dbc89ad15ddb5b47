"""Schema upgrades through Alembic, from the first table on."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config

from cards.db import Database

MIGRATIONS = Path(__file__).parent / "migrations"


def _config(connection: Any) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["connection"] = connection
    return config


async def upgrade(db: Database, revision: str = "head") -> None:
    """Bring the database to ``revision``."""
    async with db.engine.connect() as conn:
        await conn.run_sync(lambda sync_conn: command.upgrade(_config(sync_conn), revision))
        await conn.commit()


async def revision(db: Database, message: str) -> None:
    """Autogenerate a migration from the models (a developer tool)."""
    async with db.engine.connect() as conn:
        await conn.run_sync(
            lambda sync_conn: command.revision(_config(sync_conn), message, autogenerate=True)
        )
