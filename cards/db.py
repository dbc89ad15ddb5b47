"""Database handle: engine from config/environment, SQLite pragmas, write transactions.

SQLite (the default, a file in the data directory) runs every write transaction as ``BEGIN
IMMEDIATE`` so that a read-then-write (reserve: read balance, insert hold) cannot interleave with
another writer, and reads as plain deferred transactions; PostgreSQL takes a row lock on the card
instead (``SELECT … FOR UPDATE``). After a commit that changed a card's credit, the listeners
registered with ``on_credit_change`` hear the card ids (cards/credit.py).
"""

from __future__ import annotations

import os
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import event, make_url
from sqlalchemy.exc import ArgumentError, InvalidatePoolError
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)

from cards.errors import InvalidInput
from cards.sqlite_driver import OneHopDbapi

DATABASE_URL_ENV = "MINUTECARD_DATABASE_URL"
DATA_DIR_ENV = "MINUTECARD_DATA_DIR"
SQLITE_BUSY_TIMEOUT_MS = 30_000
READ_ONLY_OPTION = "minutecard_read_only"
NO_SNAPSHOT = "no snapshot"
"""``READ_ONLY_OPTION`` value: on SQLite no BEGIN; each statement reads the newest commit."""
CREDIT_CHANGED = "minutecard_credit_changed"
"""Key in ``session.info``: the card ids whose credit this transaction changed."""
OUTBOX_ADDED = "minutecard_outbox_added"
"""Key in ``session.info``: this transaction queued webhook deliveries."""

PING_AFTER_IDLE_MS = 1_000
"""A pooled PostgreSQL connection idle longer than this is pinged before it is used (a server
restart leaves it dead); one used more recently is not (HikariCP's ``aliveBypassWindowMs``): the
ping is three round trips (BEGIN, ``;``, ROLLBACK) and a call's transactions come milliseconds
apart, so pinging every checkout cost a tenth of the engine's CPU per call (bench.load)."""
IDLE_SINCE = "minutecard_idle_since_ns"

CreditListener = Callable[[frozenset[int]], None]


def default_url() -> str:
    """``MINUTECARD_DATABASE_URL``, else a SQLite file in ``MINUTECARD_DATA_DIR`` (./data)."""
    url = os.environ.get(DATABASE_URL_ENV)
    if url:
        return url
    data_dir = Path(os.environ.get(DATA_DIR_ENV, "data"))
    return f"sqlite+aiosqlite:///{data_dir / 'minutecard.sqlite3'}"


DRIVERS = ("sqlite+aiosqlite", "postgresql+asyncpg")


def check_url(url: str) -> str:
    """Refuse a URL this project cannot use, naming the two it can."""
    try:
        driver = make_url(url).drivername
    except ArgumentError as exc:
        raise InvalidInput(f"database URL {url[:80]!r} is not a URL") from exc
    if driver not in DRIVERS:
        raise InvalidInput(
            f"database URL driver {driver!r}: use postgresql+asyncpg://user@host/db or "
            "sqlite+aiosqlite:///path/to/file.sqlite3"
        )
    return url


def sqlite_file(url: str) -> Path | None:
    """The file behind a SQLite URL; None for other databases and in-memory SQLite."""
    parsed = make_url(url)
    if not parsed.drivername.startswith("sqlite") or parsed.database in (None, "", ":memory:"):
        return None
    return Path(parsed.database)


def create_sqlite_file(path: Path) -> None:
    """A new database file, private: directory 0700, file 0600 (PIN hashes and money)."""
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    os.close(os.open(path, os.O_CREAT | os.O_WRONLY, 0o600))


def _sqlite_pragmas(engine: AsyncEngine) -> None:
    @event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Let us issue BEGIN ourselves: the driver's implicit deferred BEGIN would allow two
        # readers to both see the same free credit before either writes.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    @event.listens_for(engine.sync_engine, "begin")
    def _on_begin(conn: Any) -> None:
        read_only = conn.get_execution_options().get(READ_ONLY_OPTION)
        if read_only != NO_SNAPSHOT:
            conn.exec_driver_sql("BEGIN" if read_only else "BEGIN IMMEDIATE")


class Database:
    """One engine and its session factory; ``transaction()`` is the unit of every money move."""

    def __init__(
        self,
        url: str | None = None,
        *,
        echo: bool = False,
        ping_after_idle_ms: int = PING_AFTER_IDLE_MS,
    ) -> None:
        self.url = check_url(url or default_url())
        self.is_sqlite = self.url.startswith("sqlite")
        kwargs: dict[str, Any] = {"echo": echo}
        if self.is_sqlite:
            kwargs["module"] = OneHopDbapi()
        else:
            kwargs.update(pool_size=10, max_overflow=20)
        self.engine = create_async_engine(self.url, **kwargs)
        self.pings = 0
        """Pings of idle pooled connections (PostgreSQL)."""
        if self.is_sqlite:
            _sqlite_pragmas(self.engine)
        else:
            self._ping_when_idle(ping_after_idle_ms)
        self.sessions = async_sessionmaker(self.engine, expire_on_commit=False)
        self._credit_listeners: list[CreditListener] = []
        self._outbox_listeners: list[Callable[[], None]] = []

    def _ping_when_idle(self, after_ms: int) -> None:
        pool = self.engine.sync_engine.pool

        @event.listens_for(pool, "checkin")
        def _checked_in(_dbapi_connection: Any, record: Any) -> None:
            record.info[IDLE_SINCE] = time.monotonic_ns()

        @event.listens_for(pool, "checkout")
        def _checked_out(dbapi_connection: Any, record: Any, _proxy: Any) -> None:
            since = record.info.get(IDLE_SINCE)
            if since is None or time.monotonic_ns() - since <= after_ms * 1_000_000:
                return
            self.pings += 1
            try:
                dbapi_connection.ping()
            except Exception as exc:
                # The pool drops this connection and every older one (a restart killed them
                # all) and checks out a new one, as pool_pre_ping does.
                raise InvalidatePoolError(f"pooled connection dead after idling: {exc}") from exc

    def on_credit_change(self, listener: CreditListener) -> Callable[[], None]:
        """Call ``listener`` after every commit in this process that changed cards' credit;
        returns the function that removes it."""
        self._credit_listeners.append(listener)
        return lambda: self._credit_listeners.remove(listener)

    def on_outbox(self, listener: Callable[[], None]) -> Callable[[], None]:
        """Call ``listener`` after every commit in this process that queued webhook deliveries
        (the sender sends them at once instead of at its next poll); returns its remover."""
        self._outbox_listeners.append(listener)
        return lambda: self._outbox_listeners.remove(listener)

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[AsyncSession]:
        """A session inside one transaction, committed on success, rolled back on error."""
        async with self.sessions() as session:
            async with session.begin():
                yield session
            changed = session.info.pop(CREDIT_CHANGED, None)
            queued = session.info.pop(OUTBOX_ADDED, False)
        if queued:
            for wake in list(self._outbox_listeners):
                wake()
        if changed:
            cards = frozenset(changed)
            for listener in list(self._credit_listeners):
                listener(cards)

    @asynccontextmanager
    async def read(self, *, snapshot: bool = True) -> AsyncIterator[AsyncSession]:
        """A read-only transaction: on SQLite a plain deferred BEGIN that takes no write lock.
        ``snapshot=False``, for reads whose statements need not agree (configuration), on
        SQLite runs each statement on its own: no BEGIN and no COMMIT, two thread hops less."""
        mode = True if snapshot else NO_SNAPSHOT
        async with self.sessions() as session, session.begin():
            await session.connection(execution_options={READ_ONLY_OPTION: mode})
            yield session

    async def close(self) -> None:
        await self.engine.dispose()
