"""Runs an async service call for a CLI command: opens the database, maps refusals to exit 2."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import TypeVar

from sqlalchemy.exc import SQLAlchemyError

from admin_cli.errors import OperatorError
from cards.db import Database
from cards.errors import CardsError
from cards.pins import pin_secret

T = TypeVar("T")


def run_with_db(action: Callable[[Database], Awaitable[T]]) -> T:
    """Run ``action(db)`` on the configured database; domain refusals become one-line errors."""

    async def main() -> T:
        db = Database()
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
        raise OperatorError(f"database: {first} (did you run `cardadmin db upgrade`?)") from exc


def secret() -> bytes:
    try:
        return pin_secret()
    except CardsError as exc:
        raise OperatorError(str(exc)) from exc
