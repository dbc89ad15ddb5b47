"""Counting the jobs queued on aiosqlite's thread (each one a wake-up of the event loop)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from typing import Any

import aiosqlite


@contextmanager
def counted_jobs() -> Iterator[list[str]]:
    """The names of the functions queued on any aiosqlite connection's thread, in order."""
    queued: list[str] = []
    queue: Callable[..., Awaitable[Any]] = aiosqlite.Connection._execute

    async def counted(self: aiosqlite.Connection, fn: Any, *args: Any, **kw: Any) -> Any:
        queued.append(fn.__name__)
        return await queue(self, fn, *args, **kw)

    aiosqlite.Connection._execute = counted  # type: ignore[method-assign]
    try:
        yield queued
    finally:
        aiosqlite.Connection._execute = queue  # type: ignore[method-assign,assignment]
