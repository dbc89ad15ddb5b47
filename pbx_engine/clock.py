"""The engine's clock: integer milliseconds, and sleeps that land within ~1 ms of a deadline."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import Protocol

FINAL_STEP_MS = 20


class Clock(Protocol):
    def now_ms(self) -> int: ...

    def wall_ms(self) -> int: ...

    async def sleep_until(self, at_ms: int) -> None: ...

    def call_at(self, at_ms: int, callback: Callable[[], None]) -> Callable[[], None]:
        """Run ``callback`` on the loop at ``at_ms`` (soon if that has passed); returns the
        function that cancels it."""
        ...


class RealClock:
    """Monotonic time for timers, wall time for records and Asterisk's event stamps."""

    def now_ms(self) -> int:
        return time.monotonic_ns() // 1_000_000

    def wall_ms(self) -> int:
        return time.time_ns() // 1_000_000

    async def sleep_until(self, at_ms: int) -> None:
        # Long epoll waits overshoot by up to 0.1 % (ASTERISK-NOTES "Timing"): sleep most of the
        # way, then re-arm close to the deadline so a 1 h timer still fires within ~1 ms.
        while (left := at_ms - self.now_ms()) > 0:
            step = left - left // 100 - 2 if left > FINAL_STEP_MS else left
            await asyncio.sleep(step / 1000)

    def call_at(self, at_ms: int, callback: Callable[[], None]) -> Callable[[], None]:
        # A loop handle, re-armed as sleep_until re-arms: a call's timers cost no task of
        # their own (a task per timer was ~5 % of the engine's CPU per call, bench.load).
        loop = asyncio.get_running_loop()
        handle: asyncio.Handle

        def arm() -> None:
            nonlocal handle
            left = at_ms - self.now_ms()
            if left <= 0:
                callback()
                return
            step = left - left // 100 - 2 if left > FINAL_STEP_MS else left
            handle = loop.call_later(step / 1000, arm)

        def cancel() -> None:
            handle.cancel()  # the handle armed last

        handle = loop.call_soon(arm)
        return cancel


def from_wall(clock: Clock, wall_ms: int | None) -> int:
    """An Asterisk wall-clock stamp on the engine's monotonic clock (never in the future)."""
    now = clock.now_ms()
    if wall_ms is None:
        return now
    return min(now, now - (clock.wall_ms() - wall_ms))


def to_wall(clock: Clock, at_ms: int) -> int:
    """An engine-clock instant as wall-clock epoch milliseconds."""
    return clock.wall_ms() - (clock.now_ms() - at_ms)
