"""Credit pushed to live calls, not polled: in-process notices, PostgreSQL LISTEN across
engines, and on SQLite one cheap ``PRAGMA data_version`` check for other processes' writes."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable

import aiosqlite
import asyncpg
from sqlalchemy.engine import make_url

from cards.credit import CHANNEL
from cards.db import Database

log = logging.getLogger("minutecard.credit")

SQLITE_CHECK_MS = 250
RELISTEN_S = 1.0

CardsChanged = Callable[[frozenset[int]], None]
Recheck = Callable[[], Awaitable[None]]


class CreditWatcher:
    """Calls ``changed(card_ids)`` when cards' credit moved, ``recheck()`` when something in
    the database moved and the cards are not known (SQLite, or a LISTEN connection lost)."""

    def __init__(self, db: Database, changed: CardsChanged, recheck: Recheck) -> None:
        self.db, self.changed, self.recheck = db, changed, recheck

    async def run(self) -> None:
        remove = self.db.on_credit_change(self.changed)
        try:
            if self.db.is_sqlite:
                await self._watch_sqlite()
            else:
                await self._listen_postgres()
        finally:
            remove()

    async def _watch_sqlite(self) -> None:
        path = make_url(self.db.url).database
        if not path or path == ":memory:":
            await asyncio.Event().wait()  # one process, one connection: in-process notices only
            return
        async with aiosqlite.connect(path) as conn:
            seen = await _data_version(conn)
            while True:
                await asyncio.sleep(SQLITE_CHECK_MS / 1000)
                version = await _data_version(conn)
                if version != seen:
                    seen = version
                    await self.recheck()

    async def _listen_postgres(self) -> None:
        url = make_url(self.db.url).set(drivername="postgresql")
        dsn = url.render_as_string(hide_password=False)
        while True:
            try:
                conn = await asyncpg.connect(dsn)
            except (OSError, asyncpg.PostgresError) as exc:
                log.warning("credit LISTEN: database unreachable (%s); retrying", exc)
                await asyncio.sleep(RELISTEN_S)
                continue
            lost = asyncio.Event()
            conn.add_termination_listener(lambda _c, lost=lost: lost.set())
            await conn.add_listener(CHANNEL, self._notified)
            await self.recheck()  # what changed while we were not listening
            try:
                await lost.wait()
            finally:
                await conn.close()
            log.warning("credit LISTEN connection lost; reconnecting")

    def _notified(self, _conn: object, _pid: int, _channel: str, payload: str) -> None:
        if payload.isdigit():
            self.changed(frozenset({int(payload)}))


async def _data_version(conn: aiosqlite.Connection) -> int:
    async with conn.execute("PRAGMA data_version") as cursor:
        row = await cursor.fetchone()
    return int(row[0]) if row else 0
