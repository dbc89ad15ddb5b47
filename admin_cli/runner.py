"""Runs an async service call for a CLI command: opens the database, maps refusals to exit 2."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import TypeVar

from sqlalchemy.exc import SQLAlchemyError

from admin_cli.errors import OperatorError
from cards.db import Database, check_url, default_url, sqlite_file
from cards.errors import CardsError
from cards.pins import pin_secret

T = TypeVar("T")


MISSING_SCHEMA = ("no such table", "does not exist")


def run_with_db(action: Callable[[Database], Awaitable[T]], *, creates: bool = False) -> T:
    """Run ``action(db)`` on the configured database; refusals and database trouble become one
    line. Only ``creates`` (db upgrade) may make a SQLite file; others refuse a missing one."""
    try:
        url = check_url(default_url())
    except CardsError as exc:
        raise OperatorError(f"MINUTECARD_DATABASE_URL: {exc}") from exc
    path = sqlite_file(url)
    if path is not None and not creates and not path.exists():
        raise OperatorError(f"no database at {path}: run `cardadmin db upgrade` first")

    async def main() -> T:
        db = Database(url)
        try:
            return await action(db)
        finally:
            await db.close()

    try:
        return asyncio.run(main())
    except CardsError as exc:
        raise OperatorError(str(exc)) from exc
    except SQLAlchemyError as exc:
        first = str(exc.orig if hasattr(exc, "orig") and exc.orig else exc).splitlines()[0]
        missing = any(sign in first for sign in MISSING_SCHEMA)
        hint = " (did you run `cardadmin db upgrade`?)" if missing else ""
        raise OperatorError(f"database: {first}{hint}") from exc
    except OSError as exc:
        raise OperatorError(f"database: {exc.strerror or exc}") from exc


def secret() -> bytes:
    try:
        return pin_secret()
    except CardsError as exc:
        raise OperatorError(str(exc)) from exc
