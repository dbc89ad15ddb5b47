"""Failed authentications per client address: past a count within a window the address gets 429
with ``Retry-After`` until its oldest failure leaves the window; logged once as it starts."""

from __future__ import annotations

import logging
import time
from collections import deque
from collections.abc import Callable

log = logging.getLogger("minutecard.api")
MAX_ADDRESSES = 10_000
"""Addresses remembered at once; past it the stalest is forgotten (memory stays bounded)."""


def _monotonic_ms() -> int:
    return time.monotonic_ns() // 1_000_000


class AuthThrottle:
    def __init__(
        self, failures: int, window_seconds: int, now_ms: Callable[[], int] = _monotonic_ms
    ) -> None:
        self.failures, self.window_ms, self.now_ms = failures, window_seconds * 1000, now_ms
        self._seen: dict[str, deque[int]] = {}

    def _recent(self, address: str, now: int) -> deque[int]:
        stamps = self._seen.get(address, deque())
        while stamps and stamps[0] <= now - self.window_ms:
            stamps.popleft()
        return stamps

    def retry_after(self, address: str) -> int:
        """Whole seconds until ``address`` may try again; 0 when it may now."""
        now = self.now_ms()
        stamps = self._recent(address, now)
        if len(stamps) < self.failures:
            return 0
        return -(-(stamps[0] + self.window_ms - now) // 1000)

    def failed(self, address: str, route: str) -> None:
        now = self.now_ms()
        stamps = self._recent(address, now)
        if not stamps:
            log.warning("API: failed authentication from %s on %s", address, route)
        stamps.append(now)
        self._seen.pop(address, None)  # re-inserted last: the dict's order is staleness
        self._seen[address] = stamps
        if len(stamps) == self.failures:
            log.warning(
                "API: %d failed authentications from %s within %d s; it gets 429 for up to %d s",
                self.failures, address, self.window_ms // 1000, self.window_ms // 1000,
            )  # fmt: skip
        if len(self._seen) > MAX_ADDRESSES:
            del self._seen[next(iter(self._seen))]
