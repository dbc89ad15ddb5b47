"""In-memory state of the pages, each bounded so a flood cannot grow it: sliding-window rate
limits, and short-lived tokens (a top-up in progress, a signed-in caller)."""

from __future__ import annotations

import secrets
import time
from collections import OrderedDict, deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import Generic, TypeVar

T = TypeVar("T")
Clock = Callable[[], int]
"""Milliseconds on a monotonic clock."""


def monotonic_ms() -> int:
    return time.monotonic_ns() // 1_000_000


class RateLimit:
    """At most ``limit`` hits per key within ``window_ms``; the ``max_keys`` keys seen last are
    kept (the oldest is dropped first, which can only let its next hit through early)."""

    def __init__(
        self, limit: int, window_ms: int, *, max_keys: int = 10_000, clock: Clock = monotonic_ms
    ) -> None:
        self.limit, self.window_ms, self.max_keys, self.clock = limit, window_ms, max_keys, clock
        self.hits: OrderedDict[str, deque[int]] = OrderedDict()

    def hit(self, key: str) -> int | None:
        """Count a hit; None when allowed, else the whole seconds to wait (Retry-After)."""
        now = self.clock()
        times = self.hits.pop(key, None) or deque()
        while times and times[0] <= now - self.window_ms:
            times.popleft()
        self.hits[key] = times
        while len(self.hits) > self.max_keys:
            self.hits.popitem(last=False)
        if len(times) >= self.limit:
            oldest = times[0] if times else now
            return max(1, -(-(oldest + self.window_ms - now) // 1000))
        times.append(now)
        return None


@dataclass
class _Entry(Generic[T]):
    value: T
    until: int


class Tokens(Generic[T]):
    """Random tokens standing for server-side values, valid ``ttl_ms`` (renewed on use when
    ``sliding``); at most ``max_size``, the oldest dropped first."""

    def __init__(
        self,
        ttl_ms: int,
        *,
        max_size: int = 10_000,
        sliding: bool = False,
        clock: Clock = monotonic_ms,
    ) -> None:
        self.ttl_ms, self.max_size, self.sliding, self.clock = ttl_ms, max_size, sliding, clock
        self.entries: OrderedDict[str, _Entry[T]] = OrderedDict()

    def add(self, value: T) -> str:
        """``value`` under a new random token."""
        token = secrets.token_urlsafe(24)
        self.keep(token, value)
        return token

    def keep(self, key: str, value: T) -> None:
        """``value`` under a key the caller chose (an order's reference)."""
        self.entries[key] = _Entry(value, self.clock() + self.ttl_ms)
        self.entries.move_to_end(key)
        while len(self.entries) > self.max_size:
            self.entries.popitem(last=False)

    def get(self, token: str) -> T | None:
        entry = self.entries.get(token)
        now = self.clock()
        if entry is None or entry.until <= now:
            self.entries.pop(token, None)
            return None
        if self.sliding:
            entry.until = now + self.ttl_ms
            self.entries.move_to_end(token)
        return entry.value

    def drop(self, token: str) -> None:
        self.entries.pop(token, None)
