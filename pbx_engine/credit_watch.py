"""Credit pushed to live calls, not polled: in-process notices, PostgreSQL LISTEN across
engines, and on SQLite one cheap ``PRAGMA data_version`` check, then the cards of the ledger
entries and operator actions written since (other processes' top-ups, debits, credit lines)."""

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
        self.listening = asyncio.Event()
        """Set while changes made elsewhere are heard (LISTEN up, or SQLite's marks read)."""

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
            self.listening.set()
            await asyncio.Event().wait()  # one process, one connection: in-process notices only
            return
        async with aiosqlite.connect(path) as conn:
            seen = await _data_version(conn)
            marks = await _newest(conn)
            self.listening.set()
            while True:
                await asyncio.sleep(SQLITE_CHECK_MS / 1000)
                version = await _data_version(conn)
                if version == seen:
                    continue
                seen = version
                cards, marks = await _moved_since(conn, marks)
                if cards is None:
                    await self.recheck()
                elif cards:
                    self.changed(cards)

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
            self.listening.set()
            await self.recheck()  # what changed while we were not listening
            try:
                await lost.wait()
            finally:
                self.listening.clear()
                await conn.close()
            log.warning("credit LISTEN connection lost; reconnecting")

    def _notified(self, _conn: object, _pid: int, _channel: str, payload: str) -> None:
        if payload.isdigit():
            self.changed(frozenset({int(payload)}))


Marks = tuple[int, int]
"""The newest ledger entry and operator action seen."""


async def _newest(conn: aiosqlite.Connection) -> Marks:
    ledger = await _one(conn, "SELECT coalesce(max(id), 0) FROM ledger")
    actions = await _one(conn, "SELECT coalesce(max(id), 0) FROM operator_actions")
    return ledger, actions


async def _moved_since(
    conn: aiosqlite.Connection, marks: Marks
) -> tuple[frozenset[int] | None, Marks]:
    """The cards whose credit moved since ``marks``: every move is a ledger entry, every change
    of a credit line an operator action. None when an action names no card (a customer switched:
    all its cards) — then every live card is read. Writes of any connection wake the check (our
    own checkpoints too), so it reads what moved instead of every live card's credit."""
    ledger, actions = marks
    cards: set[int] = set()
    whole = False
    for source, row_id, card in await conn.execute_fetchall(_MOVED, (ledger, actions)):
        if source == "ledger":
            ledger = max(ledger, row_id)
        else:
            actions = max(actions, row_id)
            whole = whole or card is None
        if card is not None:
            cards.add(int(card))
    return (None if whole else frozenset(cards)), (ledger, actions)


_MOVED = (
    "SELECT 'ledger', id, card_id FROM ledger WHERE id > ? "
    "UNION ALL SELECT 'action', id, card_id FROM operator_actions WHERE id > ?"
)


async def _one(conn: aiosqlite.Connection, sql: str) -> int:
    # One job on aiosqlite's thread (a cursor's execute, fetch and close would be three).
    rows = list(await conn.execute_fetchall(sql))
    return int(rows[0][0]) if rows else 0


async def _data_version(conn: aiosqlite.Connection) -> int:
    return await _one(conn, "PRAGMA data_version")
