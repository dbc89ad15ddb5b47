"""SQLAlchemy's aiosqlite adapter with one thread hop per statement instead of four, and none
for a commit or rollback with no transaction open.

aiosqlite runs each cursor call (create, execute, fetch, close) as its own job on the
connection's thread, and every job is a wake-up of the event loop: under load these hops were
most of the engine's CPU on SQLite. Here a statement's cursor is made, executed, read and closed
in one job; the rows wait in memory for SQLAlchemy to fetch them. Built on the pinned
SQLAlchemy and aiosqlite versions' adapter classes (pyproject).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Awaitable, Callable, Iterable, Sequence
from typing import Any

import aiosqlite
from sqlalchemy.dialects.sqlite.aiosqlite import (
    AsyncAdapt_aiosqlite_connection,
    AsyncAdapt_aiosqlite_cursor,
    AsyncAdapt_aiosqlite_dbapi,
)

Outcome = tuple[Any, int, int | None, list[Any]]
"""A statement's description, rowcount, lastrowid and rows."""


def _run(db: sqlite3.Connection, sql: str, parameters: Sequence[Any]) -> Outcome:
    cursor = db.cursor()
    try:
        cursor.execute(sql, parameters)
        rows = cursor.fetchall() if cursor.description else []
        # rowcount is final only once every row of an UPDATE … RETURNING has been read.
        return cursor.description, cursor.rowcount, cursor.lastrowid, rows
    finally:
        cursor.close()


def _run_many(db: sqlite3.Connection, sql: str, rows: Iterable[Sequence[Any]]) -> Outcome:
    cursor = db.cursor()
    try:
        cursor.executemany(sql, rows)
        return None, cursor.rowcount, cursor.lastrowid, []
    finally:
        cursor.close()


class OneHopCursor:
    """What SQLAlchemy's adapter asks of an aiosqlite cursor, each statement one job."""

    arraysize = 1

    def __init__(self, connection: aiosqlite.Connection) -> None:
        self._connection = connection
        self.description: Any = None
        self.rowcount = -1
        self.lastrowid: int | None = None
        self._rows: list[Any] = []

    async def __aenter__(self) -> OneHopCursor:
        return self

    async def execute(self, sql: str, parameters: Sequence[Any] = ()) -> None:
        await self._job(_run, sql, parameters)

    async def executemany(self, sql: str, rows: Iterable[Sequence[Any]]) -> None:
        await self._job(_run_many, sql, rows)

    async def _job(self, run: Callable[..., Outcome], sql: str, parameters: Any) -> None:
        queue: Callable[..., Awaitable[Outcome]] = self._connection._execute  # untyped upstream
        outcome = await queue(run, self._connection._conn, sql, parameters)
        self.description, self.rowcount, self.lastrowid, self._rows = outcome

    async def fetchall(self) -> list[Any]:
        rows, self._rows = self._rows, []
        return rows

    async def close(self) -> None:
        self._rows = []


class _Cursor(AsyncAdapt_aiosqlite_cursor):
    __slots__ = ()

    def _make_new_cursor(self, connection: Any) -> Any:
        return OneHopCursor(connection)


class _Connection(AsyncAdapt_aiosqlite_connection):
    __slots__ = ()
    _cursor_cls = _Cursor

    # sqlite3 does nothing outside a transaction; not asking spares a hop (the pool rolls
    # back every connection it gets back, after each commit too).
    def rollback(self) -> None:
        if self._in_transaction():
            super().rollback()

    def commit(self) -> None:
        if self._in_transaction():
            super().commit()

    def _in_transaction(self) -> bool:
        db = self._connection._connection
        return db is not None and db.in_transaction


class OneHopDbapi(AsyncAdapt_aiosqlite_dbapi):
    """Pass as ``create_async_engine(url, module=OneHopDbapi())`` for sqlite+aiosqlite."""

    def __init__(self) -> None:
        super().__init__(aiosqlite, sqlite3)

    def connect(self, *arg: Any, **kw: Any) -> AsyncAdapt_aiosqlite_connection:
        plain = super().connect(*arg, **kw)
        return _Connection(self, plain._connection)
